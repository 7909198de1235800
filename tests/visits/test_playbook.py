"""The ``schedule_visit`` playbook action on a real run: it books the first free slot the
customer's answer allows, reports ``eta`` and ``visit_booked``, and links the visit; a
run without a ticket, or without an adult at home, gets what to do instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from telcodesk.playbooks import targets as targets_module
from telcodesk.playbooks.actions import playbook_action
from telcodesk.playbooks.models import Playbook, RunAction
from telcodesk.playbooks.pack_spec import PlaybookSpec
from telcodesk.playbooks.pack_sync import playbooks_sync
from telcodesk.playbooks.services.runs import (
    RunTarget,
    playbook_run_start,
    run_action,
    run_answer,
)
from telcodesk.playbooks.targets import playbook_target, register_playbook_target
from telcodesk.tickets.models import TicketStatus
from telcodesk.tickets.selectors import tickets_visible
from telcodesk.visits.models import Visit

from .conftest import NOW, Isp, local

pytestmark = pytest.mark.django_db

PLAYBOOK: dict[str, Any] = {
    "key": "visita",
    "name": "Agendar visita",
    "version": "1.0.0",
    "steps": [
        {
            "key": "visit",
            "title": "Agendar visita",
            "questions": [
                {
                    "key": "franja",
                    "text": "¿Cuándo puede recibir al técnico?",
                    "type": "choice",
                    "choices": [
                        {"value": "morning", "label": "Por la mañana"},
                        {"value": "afternoon", "label": "Por la tarde"},
                        {"value": "any", "label": "Cualquier hora"},
                    ],
                },
                {"key": "adulto", "text": "¿Habrá un adulto en casa?", "type": "yes_no"},
            ],
            "actions": [
                {
                    "action": "schedule_visit",
                    "required": True,
                    "params": {"availability_question": "franja", "adult_question": "adulto"},
                }
            ],
            "end": True,
        }
    ],
}


@pytest.fixture(autouse=True)
def _clock_and_ticket_target(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The action books "now": the clock is the agent's Monday 10:00 of the conftest.
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    monkeypatch.setattr(targets_module, "_TARGETS", dict(targets_module._TARGETS))
    if playbook_target("ticket") is None:  # the tickets app registers it once it lands
        register_playbook_target(
            "ticket",
            visible=lambda actor, pk: tickets_visible(actor=actor).filter(pk=pk).exists(),
        )
    yield


def _playbook(isp: Isp) -> Playbook:
    playbooks_sync(
        organization=isp.organization,
        pack_name="visits-test",
        specs=[PlaybookSpec.model_validate(PLAYBOOK)],
    )
    return Playbook.objects.get(organization=isp.organization, key="visita")


def test_the_action_and_the_target_are_registered() -> None:
    registered = playbook_action("schedule_visit")

    assert registered is not None
    assert registered.facts == frozenset({"visit_booked"})
    assert playbook_target("visit") is not None


def test_schedule_visit_books_the_first_afternoon_slot_and_reports_the_eta(isp: Isp) -> None:
    ticket = isp.ticket()
    run = playbook_run_start(
        actor=isp.actor(),
        playbook=_playbook(isp),
        customer=isp.customer,
        target=RunTarget("ticket", ticket.pk),
    )
    run_answer(actor=isp.actor(), run=run, question_key="franja", raw_value="afternoon")
    run_answer(actor=isp.actor(), run=run, question_key="adulto", raw_value="yes")

    record = run_action(actor=isp.actor(), run=run, action_key="schedule_visit")

    visit = Visit.objects.get()
    run.refresh_from_db()
    ticket.refresh_from_db()
    assert (record.status, record.data) == ("ok", {"visit_id": visit.pk})
    assert (visit.starts_at, visit.technician.name, visit.part_of_day) == (
        local(2026, 12, 9, 15),
        "Luis Pérez",
        "afternoon",
    )
    # Juana has no preferred language: the organization's (es).
    assert run.variables["eta"] == "miércoles, 9 de diciembre de 2026, 15:00–17:00"
    assert run.facts["visit_booked"] is True
    assert ticket.status == TicketStatus.VISIT_SCHEDULED


def test_without_an_adult_at_home_the_action_says_what_to_ask(isp: Isp) -> None:
    ticket = isp.ticket()
    run = playbook_run_start(
        actor=isp.actor(),
        playbook=_playbook(isp),
        customer=isp.customer,
        target=RunTarget("ticket", ticket.pk),
    )
    run_answer(actor=isp.actor(), run=run, question_key="adulto", raw_value="no")

    record = run_action(actor=isp.actor(), run=run, action_key="schedule_visit")

    assert (record.status, record.message) == (
        "failed",
        "Ask the customer whether an adult (18 or older) will be at home to receive the "
        "technician; a visit needs one.",
    )
    assert Visit.objects.count() == 0


def test_without_a_ticket_the_action_asks_for_one_first(isp: Isp) -> None:
    run = playbook_run_start(actor=isp.actor(), playbook=_playbook(isp), customer=isp.customer)

    record = run_action(actor=isp.actor(), run=run, action_key="schedule_visit")

    assert (record.status, record.message) == (
        "failed",
        "There is no ticket yet: create the ticket first, then book the visit.",
    )
    assert RunAction.objects.count() == 1


def test_a_customer_outside_every_zone_gets_the_reason(isp: Isp) -> None:
    from telcodesk.customers.services import address_add, customer_create

    far = customer_create(
        actor=isp.actor(),
        first_name="Lejos",
        last_name="Mucho",
        phones=[{"raw": "+52 722 555 0404"}],
    )
    address_add(
        actor=isp.actor(),
        customer=far,
        purpose="installation",
        street="Camino Real",
        number="9",
        city="Metepec",
    )
    ticket = isp.ticket(customer=far)
    run = playbook_run_start(
        actor=isp.actor(),
        playbook=_playbook(isp),
        customer=far,
        target=RunTarget("ticket", ticket.pk),
    )
    run_answer(actor=isp.actor(), run=run, question_key="adulto", raw_value="yes")

    record = run_action(actor=isp.actor(), run=run, action_key="schedule_visit")

    assert record.status == "failed"
    assert record.message.startswith("No technician zone covers Camino Real 9")
