"""The board, my queue, the supervisor's count and the rules run on a lead's data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from telcodesk.core.errors import NotFound, PermissionDenied
from telcodesk.customers.models import Customer, IdentityDocument, Invoice
from telcodesk.pipelines.models import Lead, LeadTask
from telcodesk.pipelines.selectors import (
    LeadFilters,
    lead_get,
    lead_rule_decisions,
    leads_by_stage,
    loss_reasons_for,
    my_queue,
)
from telcodesk.pipelines.services import (
    lead_close_automatically,
    lead_move_automatically,
    lead_update_data,
)
from tests.pipelines.conftest import Claro

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.get_fixed_timezone(-180))


def put(claro: Claro, lead: Lead, stage: str, at: datetime) -> None:
    lead_move_automatically(
        lead=lead, to_stage=claro.stage(lead.pipeline.name, stage), note="", now=at
    )


def test_my_queue_puts_replies_first_then_calls_due_then_follow_ups(claro: Claro) -> None:
    phones = iter(f"11 2345-67{n:02d}" for n in range(20))
    # Replied to an offer: two of them, the older answer first.
    replied_late = claro.lead(phone=next(phones))
    put(claro, replied_late, "Respondió oferta", NOW - timedelta(minutes=5))
    replied_early = claro.lead(phone=next(phones))
    put(claro, replied_early, "Respondió oferta", NOW - timedelta(minutes=50))
    # Awaiting data: 16 minutes without a reply (call now), 15 exactly (call now),
    # 14 minutes (not yet), and 30 minutes but it answered (not in the queue).
    waiting_16 = claro.lead(phone=next(phones))
    put(claro, waiting_16, "Aguardando datos", NOW - timedelta(minutes=16))
    waiting_15 = claro.lead("PORTA", phone=next(phones))
    put(claro, waiting_15, "Aguardando datos", NOW - timedelta(minutes=15))
    waiting_14 = claro.lead(phone=next(phones))
    put(claro, waiting_14, "Aguardando datos", NOW - timedelta(minutes=14))
    answered = claro.lead(phone=next(phones))
    put(claro, answered, "Aguardando datos", NOW - timedelta(minutes=30))
    Lead.objects.filter(pk=answered.pk).update(last_inbound_at=NOW - timedelta(minutes=20))
    # Follow-ups: one due, one due tomorrow.
    follow_due = claro.lead("TECHSTORE CHATS", phone=next(phones))
    put(claro, follow_due, "Seguimiento", NOW - timedelta(hours=2))
    follow_later = claro.lead(phone=next(phones))
    put(claro, follow_later, "Seguimiento", NOW - timedelta(hours=2))
    Lead.objects.filter(pk=follow_later.pk).update(follow_up_at=NOW + timedelta(days=1))
    # Not in my queue: another agent's reply, a lead in a stage without a queue role.
    theirs = claro.lead(phone=next(phones), owner=claro.other_agent)
    put(claro, theirs, "Respondió oferta", NOW - timedelta(hours=1))
    claro.lead(phone=next(phones))

    queue = my_queue(actor=claro.actor(claro.agent), now=NOW)

    assert [(item.lead.pk, item.priority) for item in queue] == [
        (replied_early.pk, 1),
        (replied_late.pk, 1),
        (waiting_16.pk, 2),
        (waiting_15.pk, 2),
        (follow_due.pk, 3),
    ]
    assert [item.reason for item in queue] == [
        'Replied to the offer ("Respondió oferta"): answer first.',
        'Replied to the offer ("Respondió oferta"): answer first.',
        "No reply for 16 minutes since the data was asked for: call the customer now.",
        "No reply for 15 minutes since the data was asked for: call the customer now.",
        'Follow-up due ("Seguimiento").',
    ]
    assert [item.lead.pk for item in my_queue(actor=claro.actor(claro.other_agent), now=NOW)] == [
        theirs.pk
    ]
    assert my_queue(actor=claro.actor(claro.outsider), now=NOW) == []


def test_a_due_call_task_puts_the_lead_in_call_now(claro: Claro) -> None:
    # A task made by a timer (its clock may run ahead of the stage's own 15 minutes),
    # one not due yet, one done, and one of another agent.
    called = claro.lead(phone="11 2345-6001")
    LeadTask.objects.create(
        organization=claro.reseller,
        lead=called,
        kind=LeadTask.Kind.CALL_CUSTOMER,
        title="Llamalo ahora",
        priority=LeadTask.Priority.HIGH,
        due_at=NOW - timedelta(minutes=1),
        assigned_to=claro.agent,
    )
    later = claro.lead(phone="11 2345-6002")
    done = claro.lead(phone="11 2345-6003")
    theirs = claro.lead(phone="11 2345-6004", owner=claro.other_agent)
    for lead, due, done_at, user in (
        (later, NOW + timedelta(minutes=5), None, claro.agent),
        (done, NOW - timedelta(minutes=5), NOW, claro.agent),
        (theirs, NOW - timedelta(minutes=5), None, claro.other_agent),
    ):
        LeadTask.objects.create(
            organization=claro.reseller,
            lead=lead,
            kind=LeadTask.Kind.CALL_CUSTOMER,
            title="Llamalo",
            due_at=due,
            done_at=done_at,
            assigned_to=user,
        )

    queue = my_queue(actor=claro.actor(claro.agent), now=NOW)

    assert [(item.lead.pk, item.priority, item.reason) for item in queue] == [
        (called.pk, 2, "Llamalo ahora")
    ]


def test_a_closed_lead_leaves_the_queue(claro: Claro) -> None:
    lead = claro.lead()
    put(claro, lead, "Respondió oferta", NOW - timedelta(minutes=5))

    lead_close_automatically(lead=lead, note="")

    assert my_queue(actor=claro.actor(claro.agent), now=NOW) == []


def test_the_board_has_a_column_per_stage_with_counts_and_value(claro: Claro) -> None:
    claro.lead(phone="11 2345-6701", value=Decimal("27000"))
    second = claro.lead(phone="11 2345-6702", value=Decimal("33000.50"), owner=claro.other_agent)
    put(claro, second, "Deuda", NOW)
    claro.lead("PORTA", phone="11 2345-6703")

    columns = leads_by_stage(actor=claro.actor(claro.supervisor), pipeline=claro.pipeline("FIBRA"))
    mine = leads_by_stage(
        actor=claro.actor(claro.agent),
        pipeline=claro.pipeline("FIBRA"),
        filters=LeadFilters(owner_id=claro.agent.pk),
    )

    assert [(c.stage.name, c.count, c.value) for c in columns] == [
        ("Leads entrantes", 1, Decimal("27000.00")),
        ("Con Cobertura", 0, Decimal("0")),
        ("Respondió oferta", 0, Decimal("0")),
        ("Seguimiento", 0, Decimal("0")),
        ("Aguardando datos", 0, Decimal("0")),
        ("Deuda", 1, Decimal("33000.50")),
        ("Pedido Acometida", 0, Decimal("0")),
        ("Ganados", 0, Decimal("0")),
        ("Perdidos", 0, Decimal("0")),
    ]
    assert [c.leads for c in columns][5] == [second]
    assert [(c.stage.name, c.count) for c in mine if c.count] == [("Leads entrantes", 1)]


def test_an_outsider_sees_no_board_no_lead_and_no_reasons(claro: Claro) -> None:
    lead = claro.lead()
    outsider = claro.actor(claro.outsider)

    with pytest.raises(NotFound):
        leads_by_stage(actor=outsider, pipeline=claro.pipeline("FIBRA"))
    with pytest.raises(NotFound):
        lead_get(actor=outsider, lead_id=lead.pk)
    with pytest.raises(NotFound):
        loss_reasons_for(actor=outsider, pipeline=claro.pipeline("FIBRA"))
    with pytest.raises(PermissionDenied):
        lead_get(actor=claro.actor(claro.viewer_less), lead_id=lead.pk)


def test_an_agent_chooses_among_the_reasons_without_the_system_one(claro: Claro) -> None:
    reasons = loss_reasons_for(actor=claro.actor(claro.agent), pipeline=claro.pipeline("FIBRA"))

    assert [r.name for r in reasons] == [
        "Ya tiene Claro servicio",
        "Fuera de cobertura",
        "Hecha desde otro agente",
        "Abandono gestión",
        "No realizó el pago",
    ]
    assert reasons[0].counter.startswith("Aprovechá el contacto")


def _invoice(claro: Claro, customer: Customer, number: str, due_on: date, paid: str) -> None:
    Invoice.objects.create(
        organization=claro.operator,
        customer=customer,
        number=number,
        period_start=due_on - timedelta(days=40),
        period_end=due_on - timedelta(days=10),
        amount=Decimal("12500.00"),
        currency="ARS",
        issued_on=due_on - timedelta(days=10),
        due_on=due_on,
        paid_amount=Decimal(paid),
    )


def test_the_rules_of_a_fibra_lead_use_its_tabs_and_the_invoices_under_its_document(
    claro: Claro,
) -> None:
    today = date(2026, 3, 2)
    customer = Customer.objects.create(organization=claro.operator, first_name="Lucía")
    IdentityDocument.objects.create(
        organization=claro.operator, customer=customer, kind="ar_dni", number="30111222"
    )
    _invoice(claro, customer, "A-0001", today - timedelta(days=12), "0")  # overdue
    _invoice(claro, customer, "A-0002", today - timedelta(days=40), "12500.00")  # paid
    _invoice(claro, customer, "A-0003", today + timedelta(days=5), "0")  # open, not due
    lead = claro.lead(document="30.111.222")
    lead_update_data(
        actor=claro.actor(claro.agent),
        lead=lead,
        data={"has_box": False, "floors": 5, "apartments": 7},
    )

    decisions = lead_rule_decisions(actor=claro.actor(claro.agent), lead=lead, today=today)

    assert sorted(decisions) == ["debt", "riser"]
    assert (decisions["riser"].allowed, decisions["riser"].outcome) == (False, "Pedido Acometida")
    assert (decisions["debt"].allowed, decisions["debt"].outcome) == (False, "Deuda")
    assert decisions["debt"].reasons[0] == (
        "Invoice A-0001 is 12 days overdue: 12500.00 ARS outstanding."
    )
    assert len(decisions["debt"].reasons) == 2


def test_a_carrier_without_an_offer_is_named_by_its_label(claro: Claro) -> None:
    lead = claro.lead("PORTA", data={"current_carrier": "other", "line_type": "postpaid"})

    decision = lead_rule_decisions(actor=claro.actor(claro.agent), lead=lead)["carrier_offer"]

    assert (decision.allowed, decision.outcome, decision.reasons) == (
        False,
        "Revisar intención",
        ["There is no offer for carrier Otra; review the customer's intention."],
    )


def test_the_rules_of_a_porta_lead_give_the_offer_and_the_permanence(claro: Claro) -> None:
    lead = claro.lead("PORTA", data={"current_carrier": "personal", "days_with_carrier": 59})

    decisions = lead_rule_decisions(actor=claro.actor(claro.agent), lead=lead)

    assert sorted(decisions) == ["carrier_offer", "debt", "permanence"]
    assert decisions["carrier_offer"].outcome == "Oferta 40%"
    # The carrier as the pack's Porta tab labels it, not the stored "personal".
    assert decisions["carrier_offer"].reasons == ["The customer's current carrier is Personal."]
    assert (decisions["permanence"].allowed, decisions["permanence"].outcome) == (
        False,
        "Sin permanencia",
    )
    assert decisions["debt"].allowed is False  # no document yet: ask for it
    assert decisions["debt"].outcome == ""
