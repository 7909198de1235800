"""The per-agent in-flight limit of SnmpSession, against the real snmpsim agent."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from telcodesk.core.aio import run_sync
from telcodesk.network.adapters import OnuLocation, vendor_adapter
from telcodesk.network.conf import diagnostics_config
from telcodesk.network.demo.agent import SnmpSimulator
from telcodesk.network.snmp import (
    DEFAULT_MAX_IN_FLIGHT,
    SnmpSession,
    SnmpTarget,
    SnmpUnreachable,
)
from tests.network.conftest import HUAWEI_PON, ZTE_PON

READS = 30
# The Rx levels of Huawei ONUs 1..6 in the demo data (2147483647: no reading).
LEVELS = [-18.5, -26.1, None, -9.2, None, -28.75]


def _target(agent: SnmpSimulator, community: str) -> SnmpTarget:
    return SnmpTarget(host=agent.host, port=agent.port, community=community, timeout=5, retries=0)


def _sweep(agent: SnmpSimulator, **session_options: Any) -> tuple[list[float | None], int, int]:
    """READS optical reads of Huawei ONU 1..6 started at once; the Rx levels read, and the
    peak in flight seen by the session for the Huawei and the ZTE community's target."""
    huawei = vendor_adapter("huawei")
    assert huawei is not None
    target = _target(agent, "huawei")
    other = _target(agent, "zte")

    async def main() -> tuple[list[float | None], int, int]:
        async with SnmpSession(**session_options) as session:
            readings = await asyncio.gather(
                *(
                    huawei.optical_power(session, target, OnuLocation(HUAWEI_PON, 1 + n % 6))
                    for n in range(READS)
                )
            )
            return (
                [r.onu_rx_dbm for r in readings],
                session.peak_in_flight(target),
                session.peak_in_flight(other),
            )

    return run_sync(main())


def test_reads_started_together_wait_their_turn_and_all_succeed(olt_agent: SnmpSimulator) -> None:
    levels, peak, other = _sweep(olt_agent, max_in_flight=3)

    # Every read answered, in the order asked, with never more than three outstanding
    # (snmpsim answers fast: the first ones may be back before the last ones queue).
    alone, alone_peak, _ = _sweep(olt_agent, max_in_flight=1)
    assert levels == alone
    assert len(levels) == READS
    assert levels[:6] == LEVELS
    assert 1 <= peak <= 3
    assert alone_peak == 1
    assert other == peak  # the same agent under another community: the key is host and port


@pytest.fixture
def silent_agent() -> Iterator[socket.socket]:
    """A UDP port that receives SNMP requests and never answers (a busy or dead OLT)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


def _received(sock: socket.socket) -> int:
    sock.setblocking(False)
    count = 0
    while True:
        try:
            sock.recvfrom(65535)
        except BlockingIOError:
            return count
        count += 1


@pytest.mark.parametrize(("limit", "reads"), [(3, 9), (DEFAULT_MAX_IN_FLIGHT, 16)])
def test_requests_beyond_the_limit_are_not_sent_until_a_slot_frees(
    silent_agent: socket.socket, limit: int, reads: int
) -> None:
    """Against an agent that never answers, exactly ``limit`` requests are outstanding at
    the peak, and each request is sent once: the waiting ones did not use up their
    timeout and retries in a queue."""
    host, port = silent_agent.getsockname()
    target = SnmpTarget(host=host, port=port, community="huawei", timeout=0.2, retries=0)

    async def main() -> tuple[list[BaseException | None], int]:
        async with SnmpSession(max_in_flight=limit) as session:
            outcomes = await asyncio.gather(
                *(session.get(target, ["1.3.6.1.2.1.1.3.0"]) for _ in range(reads)),
                return_exceptions=True,
            )
            return [o if isinstance(o, BaseException) else None for o in outcomes], (
                session.peak_in_flight(target)
            )

    failures, peak = run_sync(main())

    assert all(isinstance(failure, SnmpUnreachable) for failure in failures)
    assert peak == limit
    assert _received(silent_agent) == reads


def test_the_limit_is_per_agent_not_per_session(olt_agent: SnmpSimulator) -> None:
    """Two agents on two ports: each gets its own allowance."""
    huawei, zte = vendor_adapter("huawei"), vendor_adapter("zte")
    assert huawei is not None and zte is not None
    with SnmpSimulator() as second:
        first_target, second_target = _target(olt_agent, "huawei"), _target(second, "zte")

        async def main() -> tuple[int, int]:
            async with SnmpSession(max_in_flight=2) as session:
                await asyncio.gather(
                    *(
                        huawei.optical_power(session, first_target, OnuLocation(HUAWEI_PON, 1))
                        for _ in range(10)
                    ),
                    *(
                        zte.optical_power(session, second_target, OnuLocation(ZTE_PON, 1))
                        for _ in range(10)
                    ),
                )
                return session.peak_in_flight(first_target), session.peak_in_flight(second_target)

        assert run_sync(main()) == (2, 2)


def test_a_session_needs_room_for_one_request() -> None:
    with pytest.raises(ValueError, match="max_in_flight must be at least 1"):
        SnmpSession(max_in_flight=0)


def test_the_diagnostics_take_the_limit_from_the_settings(settings: Any) -> None:
    settings.TELCODESK_NETWORK_DIAGNOSTICS = {"snmp_max_in_flight": 2}
    assert diagnostics_config().snmp_max_in_flight == 2
    settings.TELCODESK_NETWORK_DIAGNOSTICS = {}
    assert diagnostics_config().snmp_max_in_flight == DEFAULT_MAX_IN_FLIGHT
