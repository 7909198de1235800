"""Current throughput of one interface: IF-MIB 64-bit octet counters read twice.

IF-MIB (RFC 2863) ifXTable: ifHCInOctets 1.3.6.1.2.1.31.1.1.1.6 and ifHCOutOctets
1.3.6.1.2.1.31.1.1.1.10, indexed by ifIndex, read together with sysUpTime.0
(1.3.6.1.2.1.1.3.0, hundredths of a second) in the same GET. The elapsed time is the
agent's own sysUpTime difference (modulo 2^32), which is what the counters moved against;
when the agent's uptime does not advance, or jumps (a reboot), the local clock is used.

On an OLT interface facing the customer, "out" is what goes to the customer (download)
and "in" what comes from them (upload).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from telcodesk.network.adapters.base import UnexpectedValue, integer_or_garbage
from telcodesk.network.snmp import MISSING, SnmpFailure, SnmpSession, SnmpTarget

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
COUNTER64_MODULO = 2**64
TIMETICKS_MODULO = 2**32
# More than this between two samples means the counters were reset, not traffic.
MAX_PLAUSIBLE_MBPS = 400_000.0


class NoSuchInterface(SnmpFailure):
    status = "error"


@dataclass(frozen=True)
class TrafficSample:
    uptime_ticks: int | None
    in_octets: int
    out_octets: int
    monotonic: float


@dataclass(frozen=True)
class TrafficMeasurement:
    if_index: int
    first: TrafficSample
    second: TrafficSample
    elapsed_s: float
    clock: str  # "agent" (sysUpTime) or "local"

    @property
    def download_mbps(self) -> float:
        return _mbps(self.first.out_octets, self.second.out_octets, self.elapsed_s)

    @property
    def upload_mbps(self) -> float:
        return _mbps(self.first.in_octets, self.second.in_octets, self.elapsed_s)

    def as_raw(self) -> dict[str, object]:
        return {
            "if_index": self.if_index,
            "elapsed_s": round(self.elapsed_s, 3),
            "clock": self.clock,
            "download_mbps": round(self.download_mbps, 2),
            "upload_mbps": round(self.upload_mbps, 2),
            "samples": [
                {
                    "sys_uptime": sample.uptime_ticks,
                    "if_hc_in_octets": sample.in_octets,
                    "if_hc_out_octets": sample.out_octets,
                }
                for sample in (self.first, self.second)
            ],
        }


def _mbps(first: int, second: int, elapsed_s: float) -> float:
    delta = (second - first) % COUNTER64_MODULO
    return delta * 8 / elapsed_s / 1_000_000


async def _sample(session: SnmpSession, target: SnmpTarget, if_index: int) -> TrafficSample:
    in_oid = f"{IF_HC_IN_OCTETS}.{if_index}"
    out_oid = f"{IF_HC_OUT_OCTETS}.{if_index}"
    values = await session.get(target, [SYS_UPTIME, in_oid, out_oid])
    if values[in_oid] is MISSING or values[out_oid] is MISSING:
        raise NoSuchInterface(
            f"no such interface: ifIndex {if_index} has no ifHCInOctets/ifHCOutOctets"
        )
    uptime = values[SYS_UPTIME]
    return TrafficSample(
        uptime_ticks=None if uptime is MISSING else integer_or_garbage(SYS_UPTIME, uptime),
        in_octets=integer_or_garbage(in_oid, values[in_oid]),
        out_octets=integer_or_garbage(out_oid, values[out_oid]),
        monotonic=time.monotonic(),
    )


async def traffic_probe(
    session: SnmpSession, target: SnmpTarget, *, if_index: int, interval: float
) -> TrafficMeasurement:
    """Two samples ``interval`` seconds apart, turned into Mbps each way."""
    first = await _sample(session, target, if_index)
    await asyncio.sleep(interval)
    second = await _sample(session, target, if_index)
    elapsed, clock = second.monotonic - first.monotonic, "local"
    if first.uptime_ticks is not None and second.uptime_ticks is not None:
        ticks = (second.uptime_ticks - first.uptime_ticks) % TIMETICKS_MODULO
        # An uptime that did not move, or moved far more than the local clock (a reboot
        # in between), is not a clock to divide by.
        if 0 < ticks <= elapsed * 200 + 100:
            elapsed, clock = ticks / 100, "agent"
    if elapsed <= 0:
        raise UnexpectedValue("the two traffic samples were taken at the same instant")
    measurement = TrafficMeasurement(
        if_index=if_index, first=first, second=second, elapsed_s=elapsed, clock=clock
    )
    if max(measurement.download_mbps, measurement.upload_mbps) > MAX_PLAUSIBLE_MBPS:
        raise UnexpectedValue(
            f"the counters of ifIndex {if_index} went back between the samples "
            "(reset or wrapped): run the check again"
        )
    return measurement
