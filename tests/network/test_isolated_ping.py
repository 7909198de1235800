"""Real ICMP to addresses that do not answer, in a network namespace made for the test.

On this kind of machine every address outside 127.0.0.0/8 is routed to a real gateway,
and Linux answers every 127.x address itself, so "an address that does not answer" can
only be tested where no packet can leave: a fresh network namespace (``unshare --net``,
root only) with just the loopback interface. This test runs tests/network/netns/ with
pytest inside one and checks that all of it passed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INNER = Path(__file__).resolve().parent / "netns"
INNER_TESTS = 3


def _tools() -> tuple[str, str]:
    unshare = shutil.which("unshare")
    ip = shutil.which("ip") or next(
        (path for path in ("/usr/sbin/ip", "/sbin/ip") if os.access(path, os.X_OK)), None
    )
    if os.geteuid() != 0 or unshare is None or ip is None:
        pytest.skip("needs root, unshare(1) and ip(8) to make an isolated network namespace")
    probe = subprocess.run([unshare, "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.strip()}")
    return unshare, ip


def test_pings_to_silent_and_unroutable_addresses_pass_in_an_isolated_namespace() -> None:
    unshare, ip = _tools()
    setup = f'{ip} link set lo up && {ip} route add 198.18.0.0/24 dev lo && exec "$@"'
    environment = {
        key: value
        for key, value in os.environ.items()
        # The namespace cannot reach servers of the host: the inner run uses SQLite.
        if key not in {"DATABASE_URL", "TELCODESK_BROKER_URL", "PYTEST_ADDOPTS"}
    }
    environment["TELCODESK_ISOLATED_NET"] = "1"
    command = [
        unshare, "--net", "sh", "-c", setup, "sh",
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
        "-o", "python_files=netns_*.py", str(INNER),
    ]  # fmt: skip

    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{INNER_TESTS} passed" in output.splitlines()[-1], output
