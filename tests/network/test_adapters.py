"""The Huawei and ZTE adapters against a real SNMP agent (snmpsim on loopback)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from telcodesk.core.aio import run_sync
from telcodesk.network.adapters import (
    NoSuchOnu,
    OnuLocation,
    OnuState,
    OpticalReading,
    UnexpectedValue,
    registered_vendors,
    vendor_adapter,
)
from telcodesk.network.demo.agent import SnmpSimulator
from telcodesk.network.probes.traffic import NoSuchInterface, traffic_probe
from telcodesk.network.snmp import SnmpSession, SnmpTarget
from tests.network.conftest import HUAWEI_PON, ZTE_PON

T = TypeVar("T")


def target(agent: SnmpSimulator, community: str) -> SnmpTarget:
    return SnmpTarget(host=agent.host, port=agent.port, community=community, timeout=1, retries=0)


def run(call: Callable[[SnmpSession], Awaitable[T]]) -> T:
    async def main() -> T:
        async with SnmpSession() as session:
            return await call(session)

    return run_sync(main())


def optical(agent: SnmpSimulator, vendor: str, if_index: int, onu_id: int) -> OpticalReading:
    adapter = vendor_adapter(vendor)
    assert adapter is not None
    return run(
        lambda session: adapter.optical_power(
            session, target(agent, vendor), OnuLocation(if_index, onu_id)
        )
    )


def status(agent: SnmpSimulator, vendor: str, if_index: int, onu_id: int) -> OnuState:
    adapter = vendor_adapter(vendor)
    assert adapter is not None
    return run(
        lambda session: adapter.onu_status(
            session, target(agent, vendor), OnuLocation(if_index, onu_id)
        )
    )


def levels(reading: OpticalReading) -> dict[str, Any]:
    return {
        "onu_rx_dbm": reading.onu_rx_dbm,
        "onu_tx_dbm": reading.onu_tx_dbm,
        "olt_rx_dbm": reading.olt_rx_dbm,
        "temperature_c": reading.temperature_c,
        "voltage_v": reading.voltage_v,
        "bias_ma": reading.bias_ma,
    }


def test_both_vendors_are_registered() -> None:
    assert registered_vendors() == ["huawei", "zte"]
    assert vendor_adapter("nokia") is None


def test_huawei_reads_the_ddm_table_in_hundredths_of_dbm(olt_agent: SnmpSimulator) -> None:
    reading = optical(olt_agent, "huawei", HUAWEI_PON, 1)

    assert levels(reading) == {
        "onu_rx_dbm": -18.5,
        "onu_tx_dbm": 2.18,
        "olt_rx_dbm": -23.1,
        "temperature_c": 41.0,
        "voltage_v": 3.29,
        "bias_ma": 11.0,
    }
    assert reading.raw[f"1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.{HUAWEI_PON}.1"] == -1850
    assert reading.raw[f"1.3.6.1.4.1.2011.6.128.1.1.2.51.1.6.{HUAWEI_PON}.1"] == 7690


def test_huawei_2147483647_is_no_reading(olt_agent: SnmpSimulator) -> None:
    reading = optical(olt_agent, "huawei", HUAWEI_PON, 3)

    assert levels(reading) == dict.fromkeys(levels(reading))
    assert reading.raw[f"1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.{HUAWEI_PON}.3"] == 2147483647


def test_huawei_a_missing_ont_is_no_such_onu(olt_agent: SnmpSimulator) -> None:
    with pytest.raises(NoSuchOnu) as raised:
        optical(olt_agent, "huawei", HUAWEI_PON, 9)
    assert raised.value.message == (
        f"no such ONU: the OLT has no ONU 9 on the port with ifIndex {HUAWEI_PON}"
    )
    with pytest.raises(NoSuchOnu):
        status(olt_agent, "huawei", HUAWEI_PON, 9)


def test_huawei_strings_where_the_mib_has_integers_are_garbage(olt_agent: SnmpSimulator) -> None:
    with pytest.raises(UnexpectedValue) as raised:
        optical(olt_agent, "huawei", HUAWEI_PON, 7)
    assert raised.value.message == (
        f"unexpected value at 1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.{HUAWEI_PON}.7: "
        "'N/A' where an integer belongs"
    )


@pytest.mark.parametrize(
    ("onu_id", "online", "cause", "detail"),
    [(1, True, "", ""), (3, False, "fiber", "LOSi"), (5, False, "power", "dying-gasp")],
)
def test_huawei_run_status_and_last_down_cause(
    olt_agent: SnmpSimulator, onu_id: int, online: bool, cause: str, detail: str
) -> None:
    state = status(olt_agent, "huawei", HUAWEI_PON, onu_id)

    assert (state.online, state.cause, state.detail) == (online, cause, detail)
    assert state.raw["last_up_at"] == "2025-11-28T08:15:03+00:00"
    assert state.raw["last_down_at"] == "2025-11-28T08:12:41+00:00"


@pytest.mark.parametrize(
    ("onu_id", "rx_dbm"), [(1, -19.5), (2, -26.0), (3, None), (4, None), (5, -6.0)]
)
def test_zte_receive_levels(olt_agent: SnmpSimulator, onu_id: int, rx_dbm: float | None) -> None:
    assert optical(olt_agent, "zte", ZTE_PON, onu_id).onu_rx_dbm == rx_dbm


@pytest.mark.parametrize(
    ("onu_id", "online", "cause", "detail"),
    [(1, True, "", "working"), (3, False, "fiber", "los"), (4, False, "power", "dyingGasp")],
)
def test_zte_phase_states(
    olt_agent: SnmpSimulator, onu_id: int, online: bool, cause: str, detail: str
) -> None:
    state = status(olt_agent, "zte", ZTE_PON, onu_id)

    assert (state.online, state.cause, state.detail) == (online, cause, detail)


def test_zte_a_missing_onu_is_no_such_onu(olt_agent: SnmpSimulator) -> None:
    with pytest.raises(NoSuchOnu):
        optical(olt_agent, "zte", ZTE_PON, 8)
    with pytest.raises(NoSuchOnu):
        status(olt_agent, "zte", ZTE_PON, 8)


def test_traffic_counters_read_twice_give_the_rate_they_grow_at(
    olt_agent: SnmpSimulator,
) -> None:
    # ifIndex 1001 grows 1,250,000 octets/s out (10 Mbps) and 250,000 in (2 Mbps).
    measurement = run(
        lambda session: traffic_probe(
            session, target(olt_agent, "huawei"), if_index=1001, interval=1.0
        )
    )

    assert measurement.clock == "agent"
    assert measurement.second.out_octets > measurement.first.out_octets
    assert measurement.download_mbps == pytest.approx(10.0, rel=0.03)
    assert measurement.upload_mbps == pytest.approx(2.0, rel=0.03)


def test_traffic_of_an_interface_the_olt_does_not_have(olt_agent: SnmpSimulator) -> None:
    with pytest.raises(NoSuchInterface) as raised:
        run(
            lambda session: traffic_probe(
                session, target(olt_agent, "huawei"), if_index=4242, interval=0.1
            )
        )
    assert raised.value.message == (
        "no such interface: ifIndex 4242 has no ifHCInOctets/ifHCOutOctets"
    )
