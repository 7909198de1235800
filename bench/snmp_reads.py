"""ONU optical-power reads against a real SNMP agent: concurrent vs one after another.

Starts snmpsim on a free loopback port with the demo OLT data (a Huawei MA5800 and a
ZTE C320, src/telcodesk/network/demo/snmprec), then reads the optical power of N ONUs
(default 200, cycling over the demo's answering ONUs of both vendors) through the
diagnostics' vendor adapters and one SNMP session:

- baseline: the N reads one after another, each awaited before the next;
- the same N reads started together (``asyncio.gather``; at most ``--concurrency`` by
  the caller, default all of them) through a session with no per-agent limit;
- the same again through a session keeping ``--in-flight`` requests per agent (the
  default of ``SnmpSession``, 8), the way the diagnostics run.

Prints, for both, the wall time, reads/s and the per-read latency p50/p95/max, the
speed-up of the concurrent run over the baseline, and one JSON line. Every read must
succeed (a failed read is counted and printed); nothing is asserted.

snmpsim answers one request at a time, so the concurrent figure measures how well the
client overlaps its requests against a single-threaded agent, not what an OLT's CPU
can serve.

    .venv/bin/python bench/snmp_reads.py
    .venv/bin/python bench/snmp_reads.py --reads 1000 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from telcodesk.network.adapters import OnuLocation, vendor_adapter  # noqa: E402
from telcodesk.network.demo.agent import SnmpSimulator  # noqa: E402
from telcodesk.network.snmp import (  # noqa: E402
    DEFAULT_MAX_IN_FLIGHT,
    SnmpFailure,
    SnmpSession,
    SnmpTarget,
)

HUAWEI_PON = 4_194_312_192
ZTE_PON = 268_566_784
# (vendor, PON ifIndex, ONU id): the demo ONUs that answer with a number or no-reading.
ONUS = [("huawei", HUAWEI_PON, onu) for onu in range(1, 7)] + [
    ("zte", ZTE_PON, onu) for onu in range(1, 6)
]


@dataclass
class Result:
    label: str
    wall_s: float
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
        return ordered[index]

    def figures(self) -> dict[str, float | int]:
        return {
            "reads": len(self.latencies_ms),
            "failures": len(self.failures),
            "wall_s": round(self.wall_s, 3),
            "reads_per_s": round(len(self.latencies_ms) / self.wall_s, 1) if self.wall_s else 0,
            "p50_ms": round(statistics.median(self.latencies_ms), 2) if self.latencies_ms else 0,
            "p95_ms": round(self.percentile(0.95), 2),
            "max_ms": round(max(self.latencies_ms), 2) if self.latencies_ms else 0,
        }


async def _read(
    session: SnmpSession, targets: dict[str, SnmpTarget], spec: tuple[str, int, int]
) -> tuple[float, str]:
    vendor, if_index, onu_id = spec
    adapter = vendor_adapter(vendor)
    assert adapter is not None
    started = time.perf_counter()
    error = ""
    try:
        await adapter.optical_power(session, targets[vendor], OnuLocation(if_index, onu_id))
    except SnmpFailure as exc:
        error = f"{vendor} {onu_id}: {exc.message}"
    return (time.perf_counter() - started) * 1000, error


async def _sweep(
    session: SnmpSession,
    targets: dict[str, SnmpTarget],
    specs: list[tuple[str, int, int]],
    label: str,
    concurrency: int,
) -> Result:
    """All reads started together, at most ``concurrency`` of them by the caller's gate."""
    gate = asyncio.Semaphore(concurrency)

    async def gated(spec: tuple[str, int, int]) -> tuple[float, str]:
        async with gate:
            return await _read(session, targets, spec)

    result = Result(label, 0.0)
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(gated(spec) for spec in specs))
    result.wall_s = time.perf_counter() - started
    for latency, error in outcomes:
        result.latencies_ms.append(latency)
        if error:
            result.failures.append(error)
    return result


async def _run(
    targets: dict[str, SnmpTarget],
    specs: list[tuple[str, int, int]],
    concurrency: int,
    in_flight: int,
) -> list[Result]:
    """The baseline, then the same reads started together through a session without a
    per-agent limit (``max_in_flight`` as large as the sweep) and through one with it."""
    results: list[Result] = []
    async with SnmpSession(max_in_flight=len(specs)) as session:
        await _read(session, targets, specs[0])  # warm up: engine, transport, v2c setup
        baseline = Result("one after another", 0.0)
        started = time.perf_counter()
        for spec in specs:
            latency, error = await _read(session, targets, spec)
            baseline.latencies_ms.append(latency)
            if error:
                baseline.failures.append(error)
        baseline.wall_s = time.perf_counter() - started
        results.append(baseline)
        results.append(
            await _sweep(session, targets, specs, f"{concurrency} at once, no limit", concurrency)
        )
    async with SnmpSession(max_in_flight=in_flight) as session:
        await _read(session, targets, specs[0])
        results.append(
            await _sweep(
                session,
                targets,
                specs,
                f"{concurrency} at once, {in_flight} per agent",
                concurrency,
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=0, help="0: all reads at once")
    parser.add_argument("--timeout", type=float, default=5.0, help="SNMP timeout, seconds")
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument(
        "--in-flight",
        type=int,
        default=DEFAULT_MAX_IN_FLIGHT,
        help="the session's per-agent limit for the last run",
    )
    options = parser.parse_args(argv)
    concurrency = options.concurrency or options.reads
    specs = [ONUS[index % len(ONUS)] for index in range(options.reads)]

    with SnmpSimulator() as agent:
        targets = {
            vendor: SnmpTarget(
                host=agent.host,
                port=agent.port,
                community=vendor,
                timeout=options.timeout,
                retries=options.retries,
            )
            for vendor in ("huawei", "zte")
        }
        results = asyncio.run(_run(targets, specs, concurrency, options.in_flight))
    baseline, unlimited, limited = results

    print(f"ONU optical-power reads against snmpsim on 127.0.0.1 ({options.reads} reads)")
    print(f"python {platform.python_version()}, {platform.machine()}")
    for result in results:
        figures = result.figures()
        print(
            f"  {result.label:<36} wall {figures['wall_s']:>8.3f} s  "
            f"{figures['reads_per_s']:>8} reads/s  p50 {figures['p50_ms']:>8.2f} ms  "
            f"p95 {figures['p95_ms']:>8.2f} ms  max {figures['max_ms']:>8.2f} ms  "
            f"failures {figures['failures']}"
        )
        for failure in result.failures[:5]:
            print(f"    failed: {failure}")

    def ratio(result: Result) -> float:
        return baseline.wall_s / result.wall_s if result.wall_s else float("nan")

    print(
        f"  wall time against one after another: {ratio(unlimited):.2f}x without a limit, "
        f"{ratio(limited):.2f}x with {options.in_flight} per agent"
    )
    print(
        json.dumps(
            {
                "benchmark": "snmp_onu_optical_reads",
                "reads": options.reads,
                "concurrency": concurrency,
                "in_flight": options.in_flight,
                "baseline": baseline.figures(),
                "unlimited": unlimited.figures(),
                "limited": limited.figures(),
                "speedup_unlimited": round(ratio(unlimited), 2),
                "speedup_limited": round(ratio(limited), 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
