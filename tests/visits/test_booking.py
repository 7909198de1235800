"""Booking, rescheduling, cancelling and completing visits through the services, with
every refusal the agent can meet, and the customer told on their channel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.customers.models import TimelineEvent
from telcodesk.messaging.models import Message, Template
from telcodesk.network.models import Outage
from telcodesk.tickets.models import ChargeStatus, SendStatus, Ticket, TicketComment, TicketStatus
from telcodesk.tickets.services import ticket_status_set
from telcodesk.visits.models import Visit, VisitEvent, VisitStatus
from telcodesk.visits.services import visit_book, visit_cancel, visit_complete, visit_reschedule
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_conversation, make_template, recent

from .conftest import NOW, SLOTS, Isp, local

pytestmark = pytest.mark.django_db

THURSDAY_9 = local(2026, 12, 10, 9)
THURSDAY_11 = local(2026, 12, 10, 11)


def _book(isp: Isp, ticket: Ticket | None = None, **fields: object) -> Visit:
    values: dict[str, object] = {"starts_at": THURSDAY_9, "adult_present": True, "now": NOW}
    values.update(fields)
    return visit_book(actor=isp.actor(), ticket=ticket or isp.ticket(), **values)  # type: ignore[arg-type]


def _refusal(isp: Isp, **fields: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        _book(isp, **fields)
    return refused.value


class TestBooking:
    def test_a_booking_takes_the_least_busy_technician_and_schedules_the_ticket(
        self, isp: Isp
    ) -> None:
        ticket = isp.ticket()

        visit = _book(isp, ticket, availability_note="Después de las 9", part_of_day="morning")

        visit.refresh_from_db()
        ticket.refresh_from_db()
        assert (visit.technician.name, visit.zone.key, visit.status) == (
            "Luis Pérez",
            "centro",
            VisitStatus.BOOKED,
        )
        assert (visit.starts_at, visit.ends_at, visit.local_date.isoformat()) == (
            THURSDAY_9,
            THURSDAY_11,
            "2026-12-10",
        )
        assert visit.address_text.startswith("Av. Hidalgo 120")
        assert visit.address_reference == "Portón verde junto a la farmacia"
        assert (visit.customer, visit.subscription) == (isp.customer, isp.subscription)
        assert (visit.part_of_day, visit.availability_note, visit.adult_present) == (
            "morning",
            "Después de las 9",
            True,
        )
        assert (visit.booked_by, visit.booked_by_label) == (isp.agent, "Rosa Lima")
        assert ticket.status == TicketStatus.VISIT_SCHEDULED
        assert list(visit.events.values_list("kind", "to_starts_at")) == [("booked", THURSDAY_9)]
        assert (
            TimelineEvent.objects.filter(
                customer=isp.customer,
                summary__startswith=f"Technical visit for ticket {ticket.display_number} booked",
            ).count()
            == 1
        )

    def test_without_a_way_to_reach_the_customer_the_notice_is_kept_as_not_sent(
        self, isp: Isp
    ) -> None:
        ticket = isp.ticket()

        _book(isp, ticket)

        reply = TicketComment.objects.get(ticket=ticket, is_public=True)
        assert (reply.send_status, reply.refusal_reason) == (SendStatus.REFUSED, "no_channel")
        assert "está agendada para el" in reply.body  # the customer's language: es

    def test_inside_the_whatsapp_window_the_customer_gets_the_date_and_time_in_their_language(
        self, isp: Isp
    ) -> None:
        isp.customer.preferred_language = "en"
        isp.customer.save(update_fields=["preferred_language"])
        channel = make_channel(isp.organization)
        make_conversation(
            channel, wa_id="527225550101", customer=isp.customer, last_inbound_at=recent()
        )
        ticket = isp.ticket()

        _book(isp, ticket)

        message = Message.objects.get()
        assert message.kind == Message.Kind.TEXT
        assert message.body == (
            f"Hello Juana, the technical visit for your ticket {ticket.display_number} is booked "
            "for Thursday, December 10, 2026, 09:00–11:00 at "
            f"{Visit.objects.get().address_text}. An adult (18 or older) must be at home to "
            "receive the technician."
        )

    def test_outside_the_window_the_pack_s_template_goes_with_the_visit_fields(
        self, isp: Isp
    ) -> None:
        isp.customer.preferred_language = "en"
        isp.customer.save(update_fields=["preferred_language"])
        channel = make_channel(isp.organization)
        make_conversation(
            channel, wa_id="527225550101", customer=isp.customer, last_inbound_at=None
        )
        make_template(
            channel,
            name="visita_agendada",
            language="en",
            body="Hi {{1}}, ticket {{2}}: technician {{3}} on {{4}}.",
            param_fields=[
                "customer.first_name",
                "ticket.display_number",
                "visit.technician",
                "visit.when",
            ],
            buttons=[],
        )
        ticket = isp.ticket()

        _book(isp, ticket)

        message = Message.objects.get()
        assert message.kind == Message.Kind.TEMPLATE
        assert message.body == (
            f"Hi Juana, ticket {ticket.display_number}: technician Luis Pérez on "
            "Thursday, December 10, 2026, 09:00–11:00."
        )
        reply = TicketComment.objects.get(ticket=ticket, is_public=True)
        assert (reply.send_status, reply.sent_via) == (SendStatus.SENT, "whatsapp")

    def test_outside_the_window_without_a_template_the_notice_waits_for_one(self, isp: Isp) -> None:
        channel = make_channel(isp.organization)
        make_conversation(
            channel, wa_id="527225550101", customer=isp.customer, last_inbound_at=None
        )
        Template.objects.all().delete()
        ticket = isp.ticket()

        _book(isp, ticket)

        reply = TicketComment.objects.get(ticket=ticket, is_public=True)
        assert (reply.send_status, reply.refusal_reason) == (SendStatus.REFUSED, "needs_template")
        assert Message.objects.count() == 0

    def test_an_extra_cost_becomes_a_proposed_charge_on_the_ticket(self, isp: Isp) -> None:
        ticket = isp.ticket()

        visit = _book(
            isp,
            ticket,
            extra_cost="350.00",
            extra_cost_kind="manipulation",
            extra_cost_reason="Cliente movió la antena",
        )

        charge = ticket.charges.get()
        assert (charge.kind, charge.amount, charge.currency, charge.status) == (
            "manipulation",
            Decimal("350.00"),
            "MXN",
            ChargeStatus.PROPOSED,
        )
        assert visit.charge == charge
        assert visit.extra_cost_note == "350.00 MXN: Cliente movió la antena"


class TestRefusals:
    def test_a_slot_outside_business_hours_is_refused(self, isp: Isp) -> None:
        refusal = _refusal(isp, starts_at=local(2026, 12, 10, 17))

        assert refusal.message == (
            "2026-12-10 17:00–19:00 is outside business hours: a visit fits inside the hours "
            "the organization works. Choose one of the listed slots."
        )
        assert refusal.details == {"starts_at": [refusal.message]}
        assert Visit.objects.count() == 0

    def test_a_sunday_is_outside_business_hours(self, isp: Isp) -> None:
        refusal = _refusal(isp, starts_at=local(2026, 12, 13, 9))

        assert refusal.message.startswith("2026-12-13 09:00–11:00 is outside business hours")

    def test_a_time_off_the_slot_grid_is_refused(self, isp: Isp) -> None:
        refusal = _refusal(isp, starts_at=local(2026, 12, 10, 10))

        assert refusal.message == (
            "2026-12-10 10:00 is not the start of a slot. Choose one of the listed slots."
        )

    def test_a_slot_before_the_window_is_refused_with_the_window(self, isp: Isp) -> None:
        refusal = _refusal(isp, starts_at=local(2026, 12, 9, 9))

        assert refusal.message == (
            "2026-12-09 09:00 is outside the visit window: visits are booked between "
            "2026-12-09 15:00 and 2026-12-12 12:00 (24 to 48 business hours after the ticket "
            "was opened). Choose one of the listed slots."
        )

    def test_a_slot_ending_after_the_window_is_refused(self, isp: Isp) -> None:
        refusal = _refusal(isp, starts_at=local(2026, 12, 12, 11))

        assert refusal.message.startswith("2026-12-12 11:00 is outside the visit window")

    def test_a_technician_past_their_daily_capacity_is_refused(self, isp: Isp) -> None:
        marta = isp.technician("Marta Gómez")
        _book(isp, technician_id=marta.pk)

        refusal = _refusal(isp, starts_at=THURSDAY_11, technician_id=marta.pk)

        assert refusal.message == (
            "Marta Gómez already has 1 visit on Thursday, December 10, 2026, the most they "
            "take in a day. Choose another slot or technician."
        )
        assert Visit.objects.count() == 1

    def test_a_technician_already_busy_at_that_time_is_refused(self, isp: Isp) -> None:
        luis = isp.technician("Luis Pérez")
        _book(isp, technician_id=luis.pk)

        refusal = _refusal(isp, technician_id=luis.pk)

        assert refusal.message == (
            "Luis Pérez already has a visit at 2026-12-10 09:00. Choose another slot or technician."
        )

    def test_when_every_technician_is_full_the_slot_is_refused(self, isp: Isp) -> None:
        _book(isp)
        _book(isp)

        refusal = _refusal(isp)

        assert refusal.message == (
            "Every technician of the zone Centro is full at 2026-12-10 09:00. Choose another slot."
        )
        assert Visit.objects.count() == 2

    def test_a_technician_of_another_zone_is_refused(self, isp: Isp) -> None:
        refusal = _refusal(isp, technician_id=isp.technician("Nadia Ruiz").pk)

        assert refusal.message == (
            "Nadia Ruiz does not cover the zone Centro of the customer's address. Choose one "
            "of the zone's technicians."
        )

    def test_a_resolved_ticket_takes_no_visit(self, isp: Isp) -> None:
        ticket = isp.ticket()
        ticket_status_set(actor=isp.actor(), ticket=ticket, status=TicketStatus.RESOLVED)

        refusal = _refusal(isp, ticket=ticket)

        assert refusal.message == (
            f"Ticket {ticket.display_number} is “Resolved”: a visit is booked only for an open "
            "ticket. Reopen it, or open a new ticket for the customer."
        )

    def test_a_ticket_of_an_open_outage_skips_the_visit(self, isp: Isp) -> None:
        ticket = isp.ticket()
        outage = Outage.objects.create(
            organization=isp.organization,
            scope="zone",
            zone="Centro",
            city="Toluca",
            description="Corte de fibra troncal en Centro",
            starts_at=timezone.now(),
        )
        Ticket.objects.filter(pk=ticket.pk).update(outage=outage)

        refusal = _refusal(isp, ticket=ticket)

        assert refusal.message.startswith(
            f"Ticket {ticket.display_number} is caused by the outage “Corte de fibra troncal "
            "en Centro”, which is still open"
        )
        outage.ended_at = timezone.now()
        outage.save(update_fields=["ended_at"])
        assert _book(isp, ticket=ticket).status == VisitStatus.BOOKED

    def test_the_adult_at_home_must_be_confirmed(self, isp: Isp) -> None:
        refusal = _refusal(isp, adult_present=False)

        assert refusal.details == {
            "adult_present": [
                "Confirm with the customer that an adult (18 or older) will be at home to "
                "receive the technician."
            ]
        }

    def test_a_second_visit_for_the_same_ticket_is_refused(self, isp: Isp) -> None:
        ticket = isp.ticket()
        _book(isp, ticket)

        refusal = _refusal(isp, ticket=ticket, starts_at=THURSDAY_11)

        assert refusal.message == (
            f"Ticket {ticket.display_number} already has a visit on 2026-12-10 09:00. "
            "Reschedule or cancel it instead."
        )

    def test_an_outsider_gets_not_found_and_nothing_changes(self, isp: Isp) -> None:
        ticket = isp.ticket()

        with pytest.raises(NotFound):
            visit_book(
                actor=isp.world.actor(isp.world.outsider),
                ticket=ticket,
                starts_at=THURSDAY_9,
                adult_present=True,
                now=NOW,
            )

        ticket.refresh_from_db()
        assert (Visit.objects.count(), ticket.status) == (0, TicketStatus.NEW)

    def test_a_role_without_ticket_work_is_refused(self, isp: Isp) -> None:
        from telcodesk.core.tenancy import Actor

        reader = Actor(organization=isp.organization, role="integration", label="key")

        with pytest.raises(PermissionDenied):
            visit_book(actor=reader, ticket=isp.ticket(), starts_at=THURSDAY_9, now=NOW)


class TestChanges:
    def test_a_reschedule_moves_the_visit_and_keeps_the_history(self, isp: Isp) -> None:
        visit = _book(isp)
        marta = isp.technician("Marta Gómez")

        moved = visit_reschedule(
            actor=isp.actor(),
            visit=visit,
            starts_at=local(2026, 12, 11, 15),
            technician_id=marta.pk,
            reason="El cliente trabaja el jueves",
            now=NOW,
        )

        moved.refresh_from_db()
        assert (moved.status, moved.technician, moved.starts_at, moved.local_date.day) == (
            VisitStatus.RESCHEDULED,
            marta,
            local(2026, 12, 11, 15),
            11,
        )
        event = moved.events.get(kind="rescheduled")
        assert (event.from_starts_at, event.to_starts_at, event.from_technician.name) == (
            THURSDAY_9,
            local(2026, 12, 11, 15),
            "Luis Pérez",
        )
        assert event.reason == "El cliente trabaja el jueves"
        # The old slot is free again: two more bookings fit on Thursday 09:00.
        _book(isp)
        _book(isp)

    def test_a_reschedule_within_the_same_technician_s_full_day_does_not_count_itself(
        self, isp: Isp
    ) -> None:
        marta = isp.technician("Marta Gómez")
        visit = _book(isp, technician_id=marta.pk)

        moved = visit_reschedule(
            actor=isp.actor(),
            visit=visit,
            starts_at=THURSDAY_11,
            technician_id=marta.pk,
            reason="Prefiere más tarde",
            now=NOW,
        )

        assert (moved.starts_at, moved.technician) == (THURSDAY_11, marta)

    def test_a_reschedule_needs_a_reason_and_follows_the_booking_rules(self, isp: Isp) -> None:
        visit = _book(isp)

        with pytest.raises(ValidationFailed) as no_reason:
            visit_reschedule(
                actor=isp.actor(), visit=visit, starts_at=THURSDAY_11, reason=" ", now=NOW
            )
        with pytest.raises(ValidationFailed) as sunday:
            visit_reschedule(
                actor=isp.actor(),
                visit=visit,
                starts_at=local(2026, 12, 13, 11),
                reason="domingo",
                now=NOW,
            )

        assert no_reason.value.details == {"reason": ["Reason: this field is required."]}
        assert sunday.value.message.startswith("2026-12-13 11:00–13:00 is outside business hours")
        visit.refresh_from_db()
        assert (visit.starts_at, visit.status) == (THURSDAY_9, VisitStatus.BOOKED)

    def test_a_cancellation_frees_the_slot_and_moves_the_ticket_back(self, isp: Isp) -> None:
        ticket = isp.ticket()
        visit = _book(isp, ticket)

        cancelled = visit_cancel(actor=isp.actor(), visit=visit, reason="Ya funciona", now=NOW)

        ticket.refresh_from_db()
        assert (cancelled.status, ticket.status) == (
            VisitStatus.CANCELLED,
            TicketStatus.IN_PROGRESS,
        )
        assert cancelled.events.get(kind="cancelled").reason == "Ya funciona"
        assert ticket.status_history.order_by("-id").first().note == "Visit cancelled: Ya funciona"
        replies = list(ticket.comments.filter(is_public=True).values_list("body", flat=True))
        assert len(replies) == 2
        assert "se canceló la visita técnica" in replies[1]
        with pytest.raises(ValidationFailed) as again:
            visit_cancel(actor=isp.actor(), visit=cancelled, reason="otra vez", now=NOW)
        assert again.value.message == (
            "This visit is “Cancelled” and cannot change any more; book a new one if needed."
        )
        # The ticket may get a new visit.
        assert _book(isp, ticket).status == VisitStatus.BOOKED

    def test_a_visit_is_completed_only_once_its_slot_started(self, isp: Isp) -> None:
        visit = _book(isp)

        with pytest.raises(ValidationFailed) as early:
            visit_complete(actor=isp.actor(), visit=visit, outcome="done", now=NOW)
        done = visit_complete(
            actor=isp.actor(),
            visit=visit,
            outcome="done",
            note="Conector cambiado",
            now=local(2026, 12, 10, 10, 30),
        )

        assert early.value.message == (
            "This visit starts at 2026-12-10 09:00; record how it went after the technician went."
        )
        assert (done.status, done.outcome_note, done.finished_at) == (
            VisitStatus.DONE,
            "Conector cambiado",
            local(2026, 12, 10, 10, 30),
        )
        assert list(VisitEvent.objects.filter(visit=done).values_list("kind", flat=True)) == [
            "booked",
            "done",
        ]

    def test_a_no_show_frees_nothing_twice_and_an_unknown_outcome_is_refused(
        self, isp: Isp
    ) -> None:
        visit = _book(isp)

        with pytest.raises(ValidationFailed) as unknown:
            visit_complete(actor=isp.actor(), visit=visit, outcome="maybe", now=SLOTS[-1])
        no_show = visit_complete(actor=isp.actor(), visit=visit, outcome="no_show", now=SLOTS[-1])

        assert unknown.value.message == "Choose done or nobody at home."
        assert no_show.status == VisitStatus.NO_SHOW

    def test_an_outsider_cannot_change_a_visit(self, isp: Isp) -> None:
        visit = _book(isp)
        outsider = isp.world.actor(isp.world.outsider)

        with pytest.raises(NotFound):
            visit_cancel(actor=outsider, visit=visit, reason="x", now=NOW)
        with pytest.raises(NotFound):
            visit_reschedule(
                actor=outsider, visit=visit, starts_at=THURSDAY_11, reason="x", now=NOW
            )
        with pytest.raises(NotFound):
            visit_complete(actor=outsider, visit=visit, outcome="done", now=SLOTS[-1])

        visit.refresh_from_db()
        assert (visit.status, visit.starts_at, visit.events.count()) == (
            VisitStatus.BOOKED,
            THURSDAY_9,
            1,
        )
