"""A real SNMP agent on loopback for the demo, the tests and the benchmark: snmpsim.

``SnmpSimulator`` starts snmpsim's command responder (``snmpsim.commands.responder``)
in a child process on 127.0.0.1, serving ``.snmprec`` files. Each file is one simulated
agent: with SNMP v2c its community is the file name without ``.snmprec`` (``huawei``,
``zte``), with v3 its context name. The demo files in ``snmprec/`` describe a Huawei
MA5800 and a ZTE C320 with good, marginal, dead and missing ONUs, and interface
counters that grow at a fixed rate (snmpsim's ``numeric`` variation module), so two
reads a few seconds apart give a known throughput.

Two snmpsim 1.2.2 quirks are handled here:

- its utils module imports ``pysmi`` only to print version numbers, but does not
  declare it as a dependency; when pysmi is not installed a stand-in module with
  ``__version__`` is registered before the responder is imported;
- as root it insists on dropping privileges, which fails when the Python interpreter
  lives in a directory only root can read; the simulator listens on loopback only, so
  it is allowed to keep running as root (``SNMPSIM_ALLOW_ROOT``).

Run the demo agent in the foreground: ``python -m telcodesk.network.demo.agent --port 1161``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterable
from pathlib import Path
from typing import IO

DEMO_DATA_DIR = Path(__file__).resolve().parent / "snmprec"
LOOPBACK = "127.0.0.1"


def free_udp_port(host: str = LOOPBACK) -> int:
    """A UDP port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _responder_main(argv: list[str]) -> int:
    try:
        import pysmi  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("pysmi")
        stand_in.__version__ = "not installed"  # type: ignore[attr-defined]
        sys.modules["pysmi"] = stand_in
    from snmpsim.commands.responder import main as responder

    sys.argv = ["snmpsim-command-responder", *argv]
    return int(responder() or 0)


class SnmpSimulator:
    """snmpsim serving ``.snmprec`` files on 127.0.0.1:``port``; a context manager."""

    def __init__(
        self,
        data_dirs: Iterable[Path] = (DEMO_DATA_DIR,),
        *,
        port: int | None = None,
        v3_user: str = "",
        v3_auth_key: str = "",
        v3_priv_key: str = "",
    ) -> None:
        self.data_dirs = [Path(path) for path in data_dirs]
        self.port = port or free_udp_port()
        self.v3_user = v3_user
        self.v3_auth_key = v3_auth_key
        self.v3_priv_key = v3_priv_key
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._run_dir: Path | None = None

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def communities(self) -> list[str]:
        return sorted(
            path.stem for directory in self.data_dirs for path in directory.glob("*.snmprec")
        )

    def _arguments(self, run_dir: Path) -> list[str]:
        arguments = [
            f"--data-dir={run_dir / 'data'}",
            f"--cache-dir={run_dir / 'cache'}",
            f"--agent-udpv4-endpoint={LOOPBACK}:{self.port}",
            f"--logging-method=file:{run_dir / 'snmpsim.log'}",
            "--log-level=error",
        ]
        if self.v3_user:
            arguments += [
                f"--v3-user={self.v3_user}",
                f"--v3-auth-key={self.v3_auth_key}",
                "--v3-auth-proto=SHA",
                f"--v3-priv-key={self.v3_priv_key}",
                "--v3-priv-proto=AES",
            ]
        return arguments

    def start(self, *, ready_within: float = 30.0) -> SnmpSimulator:
        run_dir = Path(tempfile.mkdtemp(prefix="telcodesk-snmpsim-"))
        (run_dir / "data").mkdir()
        (run_dir / "cache").mkdir()
        for directory in self.data_dirs:
            for path in directory.glob("*.snmprec"):
                shutil.copy(path, run_dir / "data" / path.name)
        environment = dict(os.environ)
        if os.geteuid() == 0:
            environment["SNMPSIM_ALLOW_ROOT"] = "true"
        self._run_dir = run_dir
        self._stderr = (run_dir / "stderr.log").open("wb")
        # Our own interpreter and module, with arguments built here: nothing untrusted.
        self._process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "telcodesk.network.demo.agent",
                "--responder",
                *self._arguments(run_dir),
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        try:
            self._wait_ready(ready_within)
        except Exception:
            self.stop()
            raise
        return self

    def _wait_ready(self, within: float) -> None:
        from telcodesk.core.aio import run_sync
        from telcodesk.network.snmp import SnmpFailure, SnmpSession, SnmpTarget

        community = self.communities[0] if self.communities else "public"
        target = SnmpTarget(
            host=LOOPBACK, port=self.port, community=community, timeout=0.3, retries=0
        )

        async def answers() -> bool:
            async with SnmpSession() as session:
                try:
                    await session.get(target, ["1.3.6.1.2.1.1.3.0"])
                except SnmpFailure:
                    return False
                return True

        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"snmpsim exited at start-up: {self.log_tail()}")
            if run_sync(answers()):
                return
        raise RuntimeError(f"snmpsim did not answer within {within:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        if self._run_dir is None:
            return ""
        text = ""
        for name in ("stderr.log", "snmpsim.log"):
            path = self._run_dir / name
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=5)
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None

    def __enter__(self) -> SnmpSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--responder"]:
        return _responder_main(argv[1:])
    parser = argparse.ArgumentParser(description="Serve the demo OLTs over SNMP on loopback.")
    parser.add_argument("--port", type=int, default=1161, help="UDP port on 127.0.0.1")
    parser.add_argument("--data-dir", type=Path, default=DEMO_DATA_DIR)
    options = parser.parse_args(argv)
    simulator = SnmpSimulator([options.data_dir], port=options.port).start()
    print(
        f"snmpsim on udp://{LOOPBACK}:{simulator.port}, communities: "
        f"{', '.join(simulator.communities)} (Ctrl-C stops it)",
        flush=True,
    )
    try:
        while simulator._process is not None and simulator._process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
