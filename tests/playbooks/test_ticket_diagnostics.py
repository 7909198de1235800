"""The four validations of Process 2 (view the ONU, optical power, ping, traffic) run by
the ``run_diagnostics`` playbook action against a real SNMP agent (snmpsim serving the
demo Huawei OLT's data) and real ICMP to 127.0.0.1, and where their facts send the call:
"intermittent and no fault found" to the advice, a fault to the visit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from telcodesk.network.demo.agent import SnmpSimulator, free_udp_port
from telcodesk.network.models import Cpe, DiagnosticRun, Olt, PonPort
from telcodesk.network.outages import outage_declare
from telcodesk.playbooks.models import PlaybookRun, RunAction
from tests.conftest import World
from tests.network.conftest import FAST_DIAGNOSTICS, HUAWEI_PON, attach_onu, make_olt, make_plan
from tests.playbooks.test_ticket_actions import Call, call_setup, make_service

pytestmark = pytest.mark.django_db

GOOD_ONU = 1  # online, -19.5 dBm, counters growing (demo MA5800, 0/1/0)
DEAD_ONU = 3  # offline: no light reaches it


@pytest.fixture(scope="module")
def olt_agent() -> Iterator[SnmpSimulator]:
    with SnmpSimulator() as simulator:
        yield simulator


@pytest.fixture
def call(world: World) -> Call:
    return call_setup(world)


@pytest.fixture(autouse=True)
def _fast_diagnostics(settings: Any) -> None:
    settings.TELCODESK_NETWORK_DIAGNOSTICS = dict(FAST_DIAGNOSTICS)


def on_the_olt(call: Call, agent: SnmpSimulator, onu_id: int = GOOD_ONU) -> Olt:
    """Juana's FTTH-1001 on ONU ``onu_id`` of the demo Huawei, her router at 127.0.0.1."""
    operator = call.world.operator
    olt = make_olt(operator, "OLT-HW-CENTRO", "huawei", agent.port)
    port = PonPort.objects.create(
        organization=operator, olt=olt, frame=0, slot=1, port=0, if_index=HUAWEI_PON
    )
    call.subscription.plan = make_plan(operator)
    call.subscription.save(update_fields=["plan"])
    attach_onu(call.subscription, port, onu_id, traffic_if_index=1001)
    Cpe.objects.create(
        organization=operator, subscription=call.subscription, ip_address="127.0.0.1"
    )
    return olt


def diagnose(call: Call, run: PlaybookRun) -> RunAction:
    record = call.act(run, "run_diagnostics")
    call.complete(run)
    return record


def step_of(run: PlaybookRun) -> str:
    run.refresh_from_db()
    assert run.current_step is not None
    return run.current_step.step_key


def stored(record: RunAction) -> list[tuple[str, str, str, int | None]]:
    runs = DiagnosticRun.objects.filter(pk__in=record.data["diagnostic_run_ids"]).order_by("id")
    return [(r.kind, r.status, r.verdict, r.ticket_id) for r in runs]


def test_intermittent_with_no_fault_found_goes_to_the_advice_step(
    call: Call, olt_agent: SnmpSimulator
) -> None:
    on_the_olt(call, olt_agent)
    run = call.start()
    ticket = call.to_validations(run, comes_and_goes="sí")

    record = diagnose(call, run)

    assert (record.status, record.message) == (
        "ok",
        "Diagnostics done, no fault found: ONU status: Online; Optical power: Good; Ping to "
        "the customer's equipment: Stable; Traffic against the plan: Below the plan's speed.",
    )
    assert stored(record) == [
        ("onu_status", "ok", "online", ticket.pk),
        ("optical_power", "ok", "good", ticket.pk),
        ("ping", "ok", "stable", ticket.pk),
        ("traffic", "ok", "normal", ticket.pk),
    ]
    run.refresh_from_db()
    assert run.facts == {
        "customer_found": True,
        "contact_confirmed": True,
        "fault_found": False,
        "intermittent": True,
        "outage": False,
        "all_ok": False,
    }
    assert step_of(run) == "advice"
    assert record.data["subscription_id"] == call.subscription.pk
    assert record.data["ticket_id"] == ticket.pk


def test_a_good_line_that_does_not_cut_out_is_all_ok_and_goes_to_the_closing(
    call: Call, olt_agent: SnmpSimulator
) -> None:
    on_the_olt(call, olt_agent)
    run = call.start()
    call.to_validations(run, comes_and_goes="no")

    record = diagnose(call, run)

    assert record.message.startswith("Diagnostics done, everything is fine: ONU status: Online;")
    run.refresh_from_db()
    assert {name: run.facts[name] for name in ("fault_found", "intermittent", "all_ok")} == {
        "fault_found": False,
        "intermittent": False,
        "all_ok": True,
    }
    assert step_of(run) == "closing"


def test_an_onu_without_light_is_a_fault_and_goes_to_the_visit(
    call: Call, olt_agent: SnmpSimulator
) -> None:
    on_the_olt(call, olt_agent, onu_id=DEAD_ONU)
    run = call.start()
    ticket = call.to_validations(run, comes_and_goes="sí")

    record = diagnose(call, run)

    assert record.status == "ok"
    assert record.message.startswith("Diagnostics done, a fault was found: ONU status: Offline;")
    assert [(kind, status, verdict) for kind, status, verdict, _t in stored(record)][:2] == [
        ("onu_status", "ok", "offline"),
        ("optical_power", "ok", "fault"),
    ]
    assert record.data["results"]["onu_status"]["recommendation"] == "onu_fiber"
    run.refresh_from_db()
    assert (run.facts["fault_found"], run.facts["all_ok"]) == (True, False)
    assert step_of(run) == "visit"
    assert DiagnosticRun.objects.filter(ticket=ticket).count() == 4


def test_an_olt_that_does_not_answer_is_stored_unreachable_and_the_ticket_is_kept(
    call: Call, olt_agent: SnmpSimulator
) -> None:
    olt = on_the_olt(call, olt_agent)
    Olt.objects.filter(pk=olt.pk).update(snmp_port=free_udp_port())
    run = call.start()
    ticket = call.to_validations(run, comes_and_goes="no")

    record = diagnose(call, run)

    assert record.status == "ok"
    assert record.message.startswith(
        "A device did not answer: the results were stored as unreachable (ONU status: "
        "Device did not answer ("
    )
    assert record.message.endswith("Check for an outage or tell the network operations centre.")
    assert stored(record) == [
        ("onu_status", "unreachable", "", ticket.pk),
        ("optical_power", "unreachable", "", ticket.pk),
        ("ping", "ok", "stable", ticket.pk),
        ("traffic", "unreachable", "", ticket.pk),
    ]
    unreachable = DiagnosticRun.objects.filter(ticket=ticket, status="unreachable")
    assert all(result.error for result in unreachable)
    assert {r.recommendation for r in unreachable} == {"olt_unreachable"}
    run.refresh_from_db()
    assert (run.facts["fault_found"], run.facts["all_ok"]) == (True, False)
    assert step_of(run) == "visit"
    ticket.refresh_from_db()
    assert ticket.display_number == "T-000001"


def test_an_outage_on_the_olt_is_reported_as_a_fact(call: Call, olt_agent: SnmpSimulator) -> None:
    olt = on_the_olt(call, olt_agent)
    outage_declare(
        actor=call.world.actor(call.world.supervisor),
        scope="olt",
        olt_id=olt.pk,
        description="Corte de energía en el nodo Centro",
    )
    run = call.start()
    call.to_validations(run, comes_and_goes="no")

    record = diagnose(call, run)

    assert record.message.startswith("An outage covers this service: ONU status: Online;")
    run.refresh_from_db()
    assert (run.facts["outage"], run.facts["all_ok"]) == (True, False)


def test_diagnostics_without_a_single_active_service_ask_which_one(
    call: Call, olt_agent: SnmpSimulator
) -> None:
    make_service(call.customer, "FTTH-1002")
    run = call.start()
    call.to_validations(run)

    record = call.act(run, "run_diagnostics")

    assert (record.status, record.message) == (
        "failed",
        "Juana Mamani has no single active service to check: ask which service fails and "
        "write its service ID.",
    )
    assert not DiagnosticRun.objects.exists()
