"""diagnostics_run against the real snmpsim agent and real ICMP to 127.0.0.1.

Every verdict the demo OLTs can produce, every way a diagnostic fails (stored as a
result, never raised), and who may run them. Unreachable and unroutable CPE addresses
need an isolated network namespace: see test_isolated_ping.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from telcodesk.accounts.roles import ROLE_PERMISSIONS, Role
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.customers.models import Subscription
from telcodesk.network.adapters import HuaweiAdapter, base, register_vendor_adapter
from telcodesk.network.demo.agent import SnmpSimulator, free_udp_port
from telcodesk.network.diagnostics import diagnostics_run
from telcodesk.network.models import DiagnosticRun, Olt, PonPort
from telcodesk.network.selectors import diagnostic_runs_of
from tests.network.conftest import HUAWEI_PON, ZTE_PON, Net, attach_onu, make_olt, make_subscription

pytestmark = pytest.mark.django_db

ALL = ["ping", "onu_status", "optical_power", "traffic"]


def run(net: Net, name: str, kinds: list[str], **options: Any) -> dict[str, DiagnosticRun]:
    actor = net.world.actor(net.world.back_office)
    runs = diagnostics_run(actor=actor, subscription=net[name], kinds=kinds, **options)
    assert [r.kind for r in runs] == list(dict.fromkeys(kinds))
    return {r.kind: r for r in runs}


def summary(result: DiagnosticRun) -> tuple[str, str, str]:
    return (result.status, result.verdict, result.recommendation)


def test_a_good_huawei_line_passes_all_four_checks_run_at_once(net: Net) -> None:
    runs = run(net, "hw-good", ALL)

    assert {kind: summary(r) for kind, r in runs.items()} == {
        "ping": ("ok", "stable", "ping_stable"),
        "onu_status": ("ok", "online", "onu_online"),
        "optical_power": ("ok", "good", "optical_good"),
        "traffic": ("ok", "normal", "traffic_normal"),
    }
    assert {kind: r.target for kind, r in runs.items()} == {
        "ping": "127.0.0.1",
        "onu_status": "OLT-HW-CENTRO 0/1/0 ONU 1",
        "optical_power": "OLT-HW-CENTRO 0/1/0 ONU 1",
        "traffic": "OLT-HW-CENTRO ifIndex 1001",
    }
    # The four ran concurrently: every one had started before the first one finished.
    assert max(r.started_at for r in runs.values()) < min(r.finished_at for r in runs.values())
    stored = DiagnosticRun.objects.filter(subscription=net["hw-good"])
    assert stored.count() == 4
    assert {r.requested_by_id for r in stored} == {net.world.back_office.pk}
    assert {r.organization_id for r in stored} == {net.world.operator.pk}


def test_the_ping_result_keeps_loss_and_round_trip_figures(net: Net) -> None:
    ping = run(net, "hw-good", ["ping"])["ping"]

    assert {key: ping.raw[key] for key in ("address", "sent", "received", "loss_percent")} == {
        "address": "127.0.0.1",
        "sent": 10,
        "received": 10,
        "loss_percent": 0.0,
    }
    assert ping.raw["socket"] == "raw"  # the tests run as root: privileged ICMP sockets
    assert len(ping.raw["rtts_ms"]) == 10
    assert 0 < ping.raw["min_ms"] <= ping.raw["avg_ms"] <= ping.raw["max_ms"] < 50
    assert ping.error == ""


def test_the_optical_result_keeps_every_level_and_the_snmp_values(net: Net) -> None:
    optical = run(net, "hw-good", ["optical_power"])["optical_power"]

    assert {key: value for key, value in optical.raw.items() if key != "snmp"} == {
        "onu_rx_dbm": -18.5,
        "onu_tx_dbm": 2.18,
        "olt_rx_dbm": -23.1,
        "temperature_c": 41.0,
        "voltage_v": 3.29,
        "bias_ma": 11.0,
        "window_dbm": [-27.0, -8.0],
    }
    assert optical.raw["snmp"][f"1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.{HUAWEI_PON}.1"] == -1850


def test_the_traffic_result_is_in_mbps_against_the_plan(net: Net) -> None:
    traffic = run(net, "hw-good", ["traffic"])["traffic"]

    assert traffic.raw["download_mbps"] == pytest.approx(10.0, rel=0.03)
    assert traffic.raw["upload_mbps"] == pytest.approx(2.0, rel=0.03)
    assert traffic.raw["download_share"] == pytest.approx(0.10, abs=0.005)
    assert (traffic.raw["plan_download_mbps"], traffic.raw["plan_upload_mbps"]) == (100.0, 10.0)
    assert traffic.raw["clock"] == "agent"
    first, second = traffic.raw["samples"]
    assert second["if_hc_out_octets"] > first["if_hc_out_octets"]


@pytest.mark.parametrize(
    ("name", "optical", "rx_dbm"),
    [
        ("hw-marginal", ("ok", "marginal", "optical_marginal"), -26.1),
        ("hw-high", ("ok", "marginal", "optical_marginal"), -9.2),
        ("hw-weak", ("ok", "fault", "visit"), -28.75),
        ("hw-dead", ("ok", "fault", "visit"), None),
        ("hw-powered-off", ("ok", "fault", "visit"), None),
        ("zte-good", ("ok", "good", "optical_good"), -19.5),
        ("zte-marginal", ("ok", "marginal", "optical_marginal"), -26.0),
        ("zte-dead", ("ok", "fault", "visit"), None),
        ("zte-hot", ("ok", "fault", "visit"), -6.0),
    ],
)
def test_every_optical_verdict_of_the_demo_olts(
    net: Net, name: str, optical: tuple[str, str, str], rx_dbm: float | None
) -> None:
    result = run(net, name, ["optical_power"])["optical_power"]

    assert summary(result) == optical
    assert result.raw["onu_rx_dbm"] == rx_dbm
    assert result.raw.get("no_reading", False) is (rx_dbm is None)


@pytest.mark.parametrize(
    ("name", "expected", "detail"),
    [
        ("hw-dead", ("ok", "offline", "onu_fiber"), "LOSi"),
        ("hw-powered-off", ("ok", "offline", "onu_power"), "dying-gasp"),
        ("zte-good", ("ok", "online", "onu_online"), "working"),
        ("zte-dead", ("ok", "offline", "onu_fiber"), "los"),
        ("zte-powered-off", ("ok", "offline", "onu_power"), "dyingGasp"),
    ],
)
def test_every_onu_status_verdict_of_the_demo_olts(
    net: Net, name: str, expected: tuple[str, str, str], detail: str
) -> None:
    result = run(net, name, ["onu_status"])["onu_status"]

    assert summary(result) == expected
    assert result.raw["detail"] == detail


@pytest.mark.parametrize(
    ("name", "expected", "download_mbps"),
    [
        ("hw-marginal", ("ok", "saturated", "traffic_saturated"), 95.0),
        ("hw-high", ("ok", "idle", "traffic_idle"), 0.0),
        ("zte-good", ("ok", "normal", "traffic_normal"), 25.0),
    ],
)
def test_every_traffic_verdict_of_the_demo_olts(
    net: Net, name: str, expected: tuple[str, str, str], download_mbps: float
) -> None:
    result = run(net, name, ["traffic"])["traffic"]

    assert summary(result) == expected
    assert result.raw["download_mbps"] == pytest.approx(download_mbps, rel=0.03, abs=0.01)


@pytest.mark.parametrize("name", ["hw-missing", "zte-missing"])
def test_an_onu_the_olt_does_not_have_is_an_error_no_such_onu(net: Net, name: str) -> None:
    runs = run(net, name, ["onu_status", "optical_power"])
    if_index = HUAWEI_PON if name.startswith("hw") else ZTE_PON
    onu_id = 9 if name.startswith("hw") else 8

    for result in runs.values():
        assert summary(result) == ("error", "", "check_inventory")
        assert result.error == (
            f"no such ONU: the OLT has no ONU {onu_id} on the port with ifIndex {if_index}"
        )


def test_a_traffic_interface_the_olt_does_not_have_is_an_error(net: Net) -> None:
    traffic = run(net, "hw-missing", ["traffic"])["traffic"]

    assert summary(traffic) == ("error", "", "check_inventory")
    assert traffic.error == "no such interface: ifIndex 4242 has no ifHCInOctets/ifHCOutOctets"


def test_an_olt_answering_garbage_is_an_error_with_the_value(net: Net) -> None:
    runs = run(net, "hw-garbage", ["onu_status", "optical_power"])

    assert summary(runs["optical_power"]) == ("error", "", "olt_unexpected")
    assert runs["optical_power"].error == (
        f"unexpected value at 1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4.{HUAWEI_PON}.7: "
        "'N/A' where an integer belongs"
    )
    assert runs["onu_status"].error == (
        f"unexpected value at 1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15.{HUAWEI_PON}.7: "
        "'online' where an integer belongs"
    )


def test_an_olt_that_does_not_answer_is_unreachable_and_every_result_is_stored(
    net: Net,
) -> None:
    port = free_udp_port()
    Olt.objects.filter(pk=net.huawei.pk).update(snmp_port=port)

    runs = run(net, "hw-good", ALL)

    assert {kind: summary(r) for kind, r in runs.items()} == {
        "ping": ("ok", "stable", "ping_stable"),
        "onu_status": ("unreachable", "", "olt_unreachable"),
        "optical_power": ("unreachable", "", "olt_unreachable"),
        "traffic": ("unreachable", "", "olt_unreachable"),
    }
    assert runs["optical_power"].error == (
        f"no SNMP answer from 127.0.0.1:{port} within 1 s and 0 retries"
    )
    assert DiagnosticRun.objects.filter(subscription=net["hw-good"]).count() == 4


@pytest.fixture
def slow_agent() -> Iterator[SnmpSimulator]:
    with SnmpSimulator([Path(__file__).resolve().parent / "snmpsim"]) as simulator:
        yield simulator


def test_an_olt_slower_than_the_deadline_is_a_timeout(
    net: Net, slow_agent: SnmpSimulator, settings: Any
) -> None:
    # The slow agent answers ONT 1's receive power after 800 ms, within the OLT's SNMP
    # timeout (2 s) but after the diagnostic's deadline.
    settings.TELCODESK_NETWORK_DIAGNOSTICS = {"deadline": 0.5}
    Olt.objects.filter(pk=net.huawei.pk).update(
        snmp_port=slow_agent.port, snmp_community="slow", timeout_seconds=Decimal("2")
    )

    optical = run(net, "hw-good", ["optical_power"])["optical_power"]

    assert summary(optical) == ("timeout", "", "retry_later")
    assert optical.error == "the diagnostic did not finish within 0.5 s"
    assert 500 <= optical.duration_ms < 800


def test_a_service_without_equipment_on_file_says_what_is_missing(net: Net) -> None:
    runs = run(net, "no-equipment", ALL)

    assert {kind: (r.status, r.recommendation, r.error) for kind, r in runs.items()} == {
        "ping": ("error", "complete_inventory", "no CPE IP address on file for this service"),
        "onu_status": ("error", "complete_inventory", "no ONU on file for this service"),
        "optical_power": ("error", "complete_inventory", "no ONU on file for this service"),
        "traffic": ("error", "complete_inventory", "no ONU on file for this service"),
    }


def test_an_onu_without_a_traffic_interface_says_so(net: Net) -> None:
    traffic = run(net, "hw-dead", ["traffic"])["traffic"]

    assert (traffic.status, traffic.error) == (
        "error",
        "no traffic interface (ifIndex) on file for this ONU",
    )


def test_the_subscription_cpe_ip_is_pinged_when_no_cpe_is_registered(net: Net) -> None:
    subscription = make_subscription(net.world.operator, "SRV-950", cpe_ip="127.0.0.1")
    net.subscriptions["cpe-field"] = subscription

    ping = run(net, "cpe-field", ["ping"])["ping"]

    assert (summary(ping), ping.target) == (("ok", "stable", "ping_stable"), "127.0.0.1")


def test_an_olt_of_a_vendor_without_adapter_is_an_error(net: Net) -> None:
    Olt.objects.filter(pk=net.zte.pk).update(vendor="nokia")

    optical = run(net, "zte-good", ["optical_power"])["optical_power"]

    assert (optical.status, optical.error) == (
        "error",
        "no diagnostics adapter for OLT vendor 'nokia'",
    )


def test_a_registered_adapter_serves_its_vendor(net: Net, monkeypatch: Any) -> None:
    class RebrandedHuawei(HuaweiAdapter):
        vendor = "acme"

    monkeypatch.setattr(base, "_ADAPTERS", dict(base._ADAPTERS))
    register_vendor_adapter(RebrandedHuawei())
    acme = make_olt(net.world.operator, "OLT-ACME", "acme", net.agent.port)
    Olt.objects.filter(pk=acme.pk).update(snmp_community="huawei")
    port = PonPort.objects.create(
        organization=net.world.operator, olt=acme, slot=1, port=0, if_index=HUAWEI_PON
    )
    subscription = make_subscription(net.world.operator, "SRV-960")
    attach_onu(subscription, port, 2)
    net.subscriptions["acme"] = subscription

    optical = run(net, "acme", ["optical_power"])["optical_power"]

    assert summary(optical) == ("ok", "marginal", "optical_marginal")
    assert optical.raw["onu_rx_dbm"] == -26.1


# --- bad input and who may run them --------------------------------------------------------


def test_an_unknown_kind_is_refused_and_nothing_is_stored(net: Net) -> None:
    actor = net.world.actor(net.world.back_office)

    with pytest.raises(ValidationFailed) as raised:
        diagnostics_run(actor=actor, subscription=net["hw-good"], kinds=["ping", "speedtest"])

    assert raised.value.message == (
        "Unknown diagnostic speedtest: choose from ping, onu_status, optical_power, traffic."
    )
    assert DiagnosticRun.objects.count() == 0


def test_no_kind_is_refused(net: Net) -> None:
    actor = net.world.actor(net.world.back_office)

    with pytest.raises(ValidationFailed) as raised:
        diagnostics_run(actor=actor, subscription=net["hw-good"], kinds=[])

    assert raised.value.message == "Choose at least one diagnostic to run."
    assert DiagnosticRun.objects.count() == 0


def test_a_repeated_kind_runs_once(net: Net) -> None:
    runs = run(net, "hw-good", ["onu_status", "onu_status"])

    assert list(runs) == ["onu_status"]
    assert DiagnosticRun.objects.count() == 1


def test_an_agent_without_the_permission_runs_nothing(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_diagnose = ROLE_PERMISSIONS[Role.AGENT] - {"network.diagnose"}
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.AGENT, without_diagnose)
    with pytest.raises(PermissionDenied):
        diagnostics_run(
            actor=net.world.actor(net.world.agent), subscription=net["hw-good"], kinds=ALL
        )
    assert DiagnosticRun.objects.count() == 0


def test_an_outsider_cannot_run_diagnostics_on_the_operators_service(net: Net) -> None:
    with pytest.raises(NotFound):
        diagnostics_run(
            actor=net.world.actor(net.world.outsider), subscription=net["hw-good"], kinds=ALL
        )
    assert DiagnosticRun.objects.count() == 0


def test_the_outsider_runs_diagnostics_on_its_own_service_only(net: Net) -> None:
    assert isinstance(net.outsider_subscription, Subscription)
    runs = diagnostics_run(
        actor=net.world.actor(net.world.outsider),
        subscription=net.outsider_subscription,
        kinds=["optical_power"],
    )

    assert [(r.organization_id, r.verdict) for r in runs] == [(net.world.other_operator.pk, "good")]
    assert DiagnosticRun.objects.filter(organization=net.world.operator).count() == 0


def test_results_list_the_newest_round_first_each_in_the_order_asked(net: Net) -> None:
    first = run(net, "zte-good", ["optical_power", "onu_status"])
    second = run(net, "zte-good", ["onu_status", "optical_power"])

    _subscription, listed = diagnostic_runs_of(
        actor=net.world.actor(net.world.agent), subscription_id=net["zte-good"].pk
    )

    assert [r.pk for r in listed] == [
        second["onu_status"].pk,
        second["optical_power"].pk,
        first["optical_power"].pk,
        first["onu_status"].pk,
    ]
    assert len({r.batch for r in listed}) == 2
