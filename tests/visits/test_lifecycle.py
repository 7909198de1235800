"""Visits follow their ticket: resolving or closing it cancels its active visit, the
outcome of a visit moves a "visit scheduled" ticket on, a reopen revives nothing.

The organization works in English here, so that the new texts (the cancellation reason,
the status notes) are asserted in their source language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import transaction

from telcodesk.customers.models import TimelineEvent
from telcodesk.messaging.models import Message
from telcodesk.tickets.hooks import TicketStatusEvent, ticket_status_handlers
from telcodesk.tickets.models import SlaClock, Ticket, TicketComment, TicketStatus
from telcodesk.tickets.pack_sync import tickets_apply
from telcodesk.tickets.services import ticket_reopen, ticket_status_set
from telcodesk.visits.models import Visit, VisitStatus
from telcodesk.visits.services import (
    visit_book,
    visit_complete,
    visits_on_ticket_status,
)
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_conversation, recent
from tests.tickets.sla_helpers import pack_of

from .conftest import NOW, OPENED, Isp, local

pytestmark = pytest.mark.django_db

THURSDAY_9 = local(2026, 12, 10, 9)
THURSDAY_10_30 = local(2026, 12, 10, 10, 30)
FRIDAY_9 = local(2026, 12, 11, 9)
RESOLVED_AT = local(2026, 12, 8, 12)

CANCELLED_TEXT = (
    "Hello Juana, the technical visit for your ticket {number} on Thursday, December 10, "
    "2026, 09:00–11:00 was cancelled. Write to us if you still need it."
)


@pytest.fixture
def english(isp: Isp) -> Isp:
    isp.organization.default_language = "en"
    isp.organization.save(update_fields=["default_language"])
    return isp


def _book(isp: Isp, ticket: Ticket, **fields: object) -> Visit:
    values: dict[str, object] = {"starts_at": THURSDAY_9, "adult_present": True, "now": NOW}
    values.update(fields)
    return visit_book(actor=isp.actor(), ticket=ticket, **values)  # type: ignore[arg-type]


def _whatsapp(isp: Isp) -> None:
    """The customer wrote a few minutes ago: a reply goes out as a free text."""
    channel = make_channel(isp.organization)
    make_conversation(
        channel, wa_id="527225550101", customer=isp.customer, last_inbound_at=recent()
    )


def _history(ticket: Ticket) -> list[tuple[str, str, str]]:
    return list(
        ticket.status_history.order_by("id").values_list("from_status", "to_status", "note")
    )


def _summaries(isp: Isp, ticket: Ticket, word: str) -> list[str]:
    return list(
        TimelineEvent.objects.filter(
            customer=isp.customer,
            summary__startswith=f"Technical visit for ticket {ticket.display_number} {word}",
        )
        .order_by("id")
        .values_list("summary", flat=True)
    )


class TestResolvedOrClosed:
    def test_resolving_cancels_the_visit_frees_its_slot_and_tells_the_customer(
        self, english: Isp
    ) -> None:
        isp = english
        _whatsapp(isp)
        marta = isp.technician("Marta Gómez")  # one visit a day
        ticket = isp.ticket()
        visit = _book(isp, ticket, technician_id=marta.pk)

        ticket_status_set(
            actor=isp.actor(), ticket=ticket, status=TicketStatus.RESOLVED, now=RESOLVED_AT
        )

        visit.refresh_from_db()
        ticket.refresh_from_db()
        assert (visit.status, visit.finished_at) == (VisitStatus.CANCELLED, RESOLVED_AT)
        assert ticket.status == TicketStatus.RESOLVED
        assert list(visit.events.values_list("kind", "reason", "actor", "actor_label", "at")) == [
            ("booked", "", isp.agent.pk, "Rosa Lima", NOW),
            ("cancelled", "The ticket was resolved.", isp.agent.pk, "Rosa Lima", RESOLVED_AT),
        ]
        assert _summaries(isp, ticket, "cancelled") == [
            f"Technical visit for ticket {ticket.display_number} cancelled: "
            "The ticket was resolved."
        ]
        # One status change only: the handler did not move the ticket again.
        assert [(f, t) for f, t, _note in _history(ticket)] == [
            ("", TicketStatus.NEW),
            (TicketStatus.NEW, TicketStatus.VISIT_SCHEDULED),
            (TicketStatus.VISIT_SCHEDULED, TicketStatus.RESOLVED),
        ]
        # The customer is told: the booking's message, then the cancellation's, queued.
        messages = list(Message.objects.order_by("id").values_list("body", "status"))
        assert len(messages) == 2
        assert messages[1] == (
            CANCELLED_TEXT.format(number=ticket.display_number),
            Message.Status.QUEUED,
        )
        # Marta's only slot of Thursday is free again.
        other = isp.ticket()
        again = _book(isp, other, technician_id=marta.pk)
        assert (again.technician, again.starts_at, again.status) == (
            marta,
            THURSDAY_9,
            VisitStatus.BOOKED,
        )

    def test_a_visit_whose_slot_has_begun_is_cancelled_without_telling_the_customer(
        self, english: Isp
    ) -> None:
        """Nobody recorded how Thursday's visit went; the ticket is resolved on Friday:
        the visit is cancelled, but no "your visit was cancelled" for a past date."""
        isp = english
        _whatsapp(isp)
        ticket = isp.ticket()
        visit = _book(isp, ticket)
        resolved_at = FRIDAY_9

        ticket_status_set(
            actor=isp.actor(), ticket=ticket, status=TicketStatus.RESOLVED, now=resolved_at
        )

        visit.refresh_from_db()
        assert (visit.status, visit.finished_at) == (VisitStatus.CANCELLED, resolved_at)
        assert list(visit.events.values_list("kind", "reason")) == [
            ("booked", ""),
            ("cancelled", "The ticket was resolved."),
        ]
        # Only the booking's message: nothing about the cancellation.
        assert Message.objects.count() == 1
        assert CANCELLED_TEXT.format(number=ticket.display_number) not in set(
            Message.objects.values_list("body", flat=True)
        )

    def test_closing_cancels_a_visit_left_on_a_resolved_ticket_without_a_message(
        self, english: Isp
    ) -> None:
        isp = english
        _whatsapp(isp)
        ticket = isp.ticket()
        visit = _book(isp, ticket)
        # Resolved before visits followed their ticket: its visit is still booked.
        Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.RESOLVED)
        closed_at = RESOLVED_AT + timedelta(days=1)

        ticket_status_set(
            actor=isp.actor(), ticket=ticket, status=TicketStatus.CLOSED, now=closed_at
        )

        visit.refresh_from_db()
        ticket.refresh_from_db()
        assert (visit.status, visit.finished_at, ticket.status) == (
            VisitStatus.CANCELLED,
            closed_at,
            TicketStatus.CLOSED,
        )
        assert visit.events.get(kind="cancelled").reason == "The ticket was closed."
        assert _summaries(isp, ticket, "cancelled") == [
            f"Technical visit for ticket {ticket.display_number} cancelled: The ticket was closed."
        ]
        # Only the booking's reply and message: a closed ticket takes no reply.
        assert TicketComment.objects.filter(ticket=ticket, is_public=True).count() == 1
        assert Message.objects.count() == 1

    def test_the_system_resolving_a_ticket_cancels_its_visit_too(self, english: Isp) -> None:
        isp = english
        ticket = isp.ticket()
        visit = _book(isp, ticket)

        # What tickets' status change does with no actor (a timer, an automation).
        with transaction.atomic():
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            locked.status, locked.status_changed_at = TicketStatus.RESOLVED, RESOLVED_AT
            locked.save(update_fields=["status", "status_changed_at"])
            visits_on_ticket_status(
                TicketStatusEvent(
                    actor=None,
                    ticket=locked,
                    from_status=TicketStatus.VISIT_SCHEDULED,
                    to_status=TicketStatus.RESOLVED,
                )
            )

        visit.refresh_from_db()
        cancelled = visit.events.get(kind="cancelled")
        assert (visit.status, visit.finished_at) == (VisitStatus.CANCELLED, RESOLVED_AT)
        assert (cancelled.reason, cancelled.actor, cancelled.actor_label) == (
            "The ticket was resolved.",
            None,
            "System",
        )
        # The customer is told (no way to reach them here: kept as "not sent").
        replies = list(
            TicketComment.objects.filter(ticket=ticket, is_public=True)
            .order_by("id")
            .values_list("body", "author_label", "refusal_reason")
        )
        assert replies[1:] == [
            (CANCELLED_TEXT.format(number=ticket.display_number), "System", "no_channel")
        ]

    def test_other_status_changes_leave_the_visit_booked(self, english: Isp) -> None:
        isp = english
        ticket = isp.ticket()
        visit = _book(isp, ticket)

        ticket_status_set(actor=isp.actor(), ticket=ticket, status=TicketStatus.IN_PROGRESS)
        ticket_status_set(actor=isp.actor(), ticket=ticket, status=TicketStatus.WAITING_CUSTOMER)

        visit.refresh_from_db()
        assert (visit.status, visit.events.count()) == (VisitStatus.BOOKED, 1)

    def test_resolving_cancels_only_the_active_one_of_two_visits(self, english: Isp) -> None:
        isp = english
        ticket = isp.ticket()
        first = _book(isp, ticket)
        visit_complete(actor=isp.actor(), visit=first, outcome="no_show", now=THURSDAY_10_30)
        second = _book(isp, ticket, starts_at=FRIDAY_9, now=THURSDAY_10_30)
        resolved_at = local(2026, 12, 10, 12)

        ticket_status_set(
            actor=isp.actor(), ticket=ticket, status=TicketStatus.RESOLVED, now=resolved_at
        )

        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, first.finished_at) == (VisitStatus.NO_SHOW, THURSDAY_10_30)
        assert list(first.events.values_list("kind", flat=True)) == ["booked", "no_show"]
        assert (second.status, second.finished_at) == (VisitStatus.CANCELLED, resolved_at)
        assert len(_summaries(isp, ticket, "cancelled")) == 1

    def test_reopening_does_not_revive_the_cancelled_visit(self, english: Isp) -> None:
        isp = english
        ticket = isp.ticket()
        visit = _book(isp, ticket)
        ticket_status_set(
            actor=isp.actor(), ticket=ticket, status=TicketStatus.RESOLVED, now=RESOLVED_AT
        )

        reopened = ticket_reopen(
            actor=isp.actor(),
            ticket=ticket,
            note="The line fails again",
            now=RESOLVED_AT + timedelta(hours=1),
        )

        visit.refresh_from_db()
        assert reopened.status == TicketStatus.IN_PROGRESS
        assert (visit.status, visit.finished_at) == (VisitStatus.CANCELLED, RESOLVED_AT)
        assert list(visit.events.values_list("kind", flat=True)) == ["booked", "cancelled"]
        assert not Visit.objects.filter(ticket=ticket, status__in=["booked", "rescheduled"])
        # The agent books a new visit when one is needed.
        new = _book(isp, ticket, now=RESOLVED_AT + timedelta(hours=2))
        assert (new.status, new.pk != visit.pk) == (VisitStatus.BOOKED, True)

    def test_the_handler_is_registered_once(self) -> None:
        def ours() -> list[object]:
            return [h for h in ticket_status_handlers() if h is visits_on_ticket_status]

        assert len(ours()) == 1
        apps.get_app_config("visits").ready()
        assert len(ours()) == 1


class TestOutcome:
    def test_a_done_visit_moves_the_ticket_to_in_progress_with_the_note(self, english: Isp) -> None:
        isp = english
        ticket = isp.ticket()
        visit = _book(isp, ticket)

        done = visit_complete(
            actor=isp.actor(),
            visit=visit,
            outcome="done",
            note="Conector cambiado",
            now=THURSDAY_10_30,
        )

        ticket.refresh_from_db()
        assert done.status == VisitStatus.DONE
        assert (ticket.status, ticket.status_changed_at) == (
            TicketStatus.IN_PROGRESS,
            THURSDAY_10_30,
        )
        assert _history(ticket)[-1] == (
            TicketStatus.VISIT_SCHEDULED,
            TicketStatus.IN_PROGRESS,
            "Visit done: Conector cambiado",
        )
        assert done.ticket.status == TicketStatus.IN_PROGRESS

    def test_a_done_visit_without_a_note_says_so(self, english: Isp) -> None:
        isp = english
        ticket = isp.ticket()

        visit_complete(
            actor=isp.actor(), visit=_book(isp, ticket), outcome="done", now=THURSDAY_10_30
        )

        assert _history(ticket)[-1][1:] == (TicketStatus.IN_PROGRESS, "Visit done.")

    def test_a_no_show_waits_for_the_customer_and_pauses_the_sla(self, english: Isp) -> None:
        isp = english
        tickets_apply(
            pack_of(
                isp.organization,
                {
                    "sla_policies": [
                        {
                            "key": "visita",
                            "name": "Visita",
                            "category": "technical",
                            "resolution_hours": 80,
                        }
                    ]
                },
            ),
            {isp.organization.slug: isp.organization},
        )
        ticket = isp.ticket(now=OPENED)
        clock = SlaClock.objects.get(ticket=ticket, metric="resolution")
        assert clock.state == "running"
        visit = _book(isp, ticket)

        visit_complete(
            actor=isp.actor(),
            visit=visit,
            outcome="no_show",
            note="Nadie abrió",
            now=THURSDAY_10_30,
        )

        ticket.refresh_from_db()
        clock.refresh_from_db()
        assert ticket.status == TicketStatus.WAITING_CUSTOMER
        assert _history(ticket)[-1] == (
            TicketStatus.VISIT_SCHEDULED,
            TicketStatus.WAITING_CUSTOMER,
            "Nobody at home at the visit: Nadie abrió",
        )
        # Monday 09:00 to Thursday 10:30 in business hours: 9 + 9 + 9 + 1.5 hours.
        assert (clock.state, clock.paused_at, clock.consumed, clock.due_at) == (
            "paused",
            THURSDAY_10_30,
            timedelta(hours=28, minutes=30),
            None,
        )

    def test_after_a_no_show_the_next_visit_schedules_the_ticket_and_its_outcome_moves_it(
        self, english: Isp
    ) -> None:
        isp = english
        ticket = isp.ticket()
        first = _book(isp, ticket)
        visit_complete(actor=isp.actor(), visit=first, outcome="no_show", now=THURSDAY_10_30)
        second = _book(isp, ticket, starts_at=FRIDAY_9, now=THURSDAY_10_30)
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.VISIT_SCHEDULED

        visit_complete(actor=isp.actor(), visit=second, outcome="done", now=local(2026, 12, 11, 10))

        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.IN_PROGRESS
        assert [(f, t) for f, t, _note in _history(ticket)][1:] == [
            (TicketStatus.NEW, TicketStatus.VISIT_SCHEDULED),
            (TicketStatus.VISIT_SCHEDULED, TicketStatus.WAITING_CUSTOMER),
            (TicketStatus.WAITING_CUSTOMER, TicketStatus.VISIT_SCHEDULED),
            (TicketStatus.VISIT_SCHEDULED, TicketStatus.IN_PROGRESS),
        ]

    def test_a_ticket_the_agent_moved_meanwhile_keeps_its_status(self, english: Isp) -> None:
        isp = english
        ticket = isp.ticket()
        visit = _book(isp, ticket)
        ticket_status_set(
            actor=isp.actor(), ticket=ticket, status=TicketStatus.WAITING_CUSTOMER, now=NOW
        )
        changes = ticket.status_history.count()

        visit_complete(actor=isp.actor(), visit=visit, outcome="done", now=THURSDAY_10_30)

        ticket.refresh_from_db()
        assert (ticket.status, ticket.status_changed_at, ticket.status_history.count()) == (
            TicketStatus.WAITING_CUSTOMER,
            NOW,
            changes,
        )
