"""How the SNMP client fails, on loopback: nobody there, garbage, slow agents, SNMP v3."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from telcodesk.core.aio import run_sync
from telcodesk.network.demo.agent import DEMO_DATA_DIR, SnmpSimulator, free_udp_port
from telcodesk.network.snmp import (
    SnmpRefused,
    SnmpSession,
    SnmpTarget,
    SnmpUnreachable,
    SnmpValue,
)
from tests.network.conftest import HUAWEI_PON

SLOW_DATA = Path(__file__).resolve().parent / "snmpsim"
RX_ONT_1 = f"1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.{HUAWEI_PON}.1"
RX_ONT_2 = f"1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.{HUAWEI_PON}.2"


def get(target: SnmpTarget, oids: list[str]) -> dict[str, SnmpValue]:
    async def main() -> dict[str, SnmpValue]:
        async with SnmpSession() as session:
            return await session.get(target, oids)

    return run_sync(main())


class GarbageResponder:
    """A UDP server on loopback that answers every datagram with bytes that are not SNMP."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                _data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            self.received += 1
            self.sock.sendto(b"\x30\x0bHELLO? 42\xff\x00", peer)

    def __enter__(self) -> GarbageResponder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def slow_agent() -> Iterator[SnmpSimulator]:
    # A fresh agent per test: snmpsim's delay module blocks the whole agent while it waits.
    with SnmpSimulator([SLOW_DATA]) as simulator:
        yield simulator


def test_an_address_where_nothing_listens_is_unreachable() -> None:
    port = free_udp_port()
    target = SnmpTarget(host="127.0.0.1", port=port, community="huawei", timeout=0.5, retries=1)
    started = time.monotonic()

    with pytest.raises(SnmpUnreachable) as raised:
        get(target, [RX_ONT_1])

    assert raised.value.message == (
        f"no SNMP answer from 127.0.0.1:{port} within 0.5 s and 1 retries"
    )
    assert raised.value.status == "unreachable"
    assert time.monotonic() - started >= 1.0  # the request and its one retry


def test_an_agent_answering_garbage_is_unreachable() -> None:
    with GarbageResponder() as responder:
        target = SnmpTarget(
            host="127.0.0.1", port=responder.port, community="huawei", timeout=0.5, retries=0
        )
        with pytest.raises(SnmpUnreachable):
            get(target, [RX_ONT_1])

    assert responder.received == 1  # it was asked, and answered nonsense


def test_a_wrong_community_is_unreachable(olt_agent: SnmpSimulator) -> None:
    target = SnmpTarget(
        host=olt_agent.host, port=olt_agent.port, community="private", timeout=0.5, retries=0
    )

    with pytest.raises(SnmpUnreachable):
        get(target, [RX_ONT_1])


def test_a_slow_answer_within_the_timeout_is_read(slow_agent: SnmpSimulator) -> None:
    target = SnmpTarget(
        host=slow_agent.host, port=slow_agent.port, community="slow", timeout=2, retries=0
    )
    started = time.monotonic()

    assert get(target, [RX_ONT_1]) == {RX_ONT_1: -1850}
    assert time.monotonic() - started >= 0.8


def test_an_answer_slower_than_the_timeout_is_unreachable(slow_agent: SnmpSimulator) -> None:
    target = SnmpTarget(
        host=slow_agent.host, port=slow_agent.port, community="slow", timeout=1, retries=0
    )

    with pytest.raises(SnmpUnreachable):
        get(target, [RX_ONT_2])


@pytest.fixture(scope="module")
def v3_agent() -> Iterator[SnmpSimulator]:
    with SnmpSimulator(
        [DEMO_DATA_DIR],
        v3_user="telcodesk",
        v3_auth_key="auth-key-2025",
        v3_priv_key="priv-key-2025",
    ) as simulator:
        yield simulator


def v3_target(agent: SnmpSimulator, **changes: str) -> SnmpTarget:
    fields = {
        "user": "telcodesk",
        "auth_key": "auth-key-2025",
        "priv_key": "priv-key-2025",
        **changes,
    }
    return SnmpTarget(
        host=agent.host,
        port=agent.port,
        version="3",
        auth_protocol="sha",
        priv_protocol="aes128",
        context="huawei",
        timeout=1,
        retries=0,
        **fields,
    )


def test_snmp_v3_with_authentication_and_encryption_reads(v3_agent: SnmpSimulator) -> None:
    assert get(v3_target(v3_agent), [RX_ONT_1]) == {RX_ONT_1: -1850}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"auth_key": "wrong-key-000"}, "Wrong SNMP PDU digest"),
        ({"user": "nobody"}, "Unknown USM user"),
    ],
)
def test_snmp_v3_credentials_the_agent_refuses(
    v3_agent: SnmpSimulator, changes: dict[str, str], message: str
) -> None:
    with pytest.raises(SnmpRefused) as raised:
        get(v3_target(v3_agent, **changes), [RX_ONT_1])

    assert raised.value.message == f"127.0.0.1:{v3_agent.port}: {message}"
    assert raised.value.status == "error"
