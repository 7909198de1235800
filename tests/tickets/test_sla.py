"""SLA clocks in business time: which policy applies, due moments across nights,
weekends and holidays, pause and resume keeping the remaining budget exactly, the
warning and breach timers firing once through the automation tick, escalation, the
SLA queues, and another organization seeing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telcodesk.accounts.models import Membership, Team
from telcodesk.automation.models import Timer
from telcodesk.automation.tick import tick
from telcodesk.core.business_time import business_between
from telcodesk.core.errors import NotFound
from telcodesk.tickets.models import (
    SlaClock,
    SlaPolicy,
    Ticket,
    TicketComment,
    TicketSlaEvent,
    TicketSubcategory,
)
from telcodesk.tickets.rules import SlaPolicyCandidate, sla_policy_match
from telcodesk.tickets.selectors import (
    TicketFilters,
    ticket_get,
    ticket_sla_clocks,
    tickets_queue,
)
from telcodesk.tickets.services import ticket_reopen, ticket_reply, ticket_status_set
from telcodesk.tickets.services.sla import sla_breach_fire
from telcodesk.tickets.sla_clock import clock_remaining, clock_sla_spec
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_conversation, recent

from .conftest import Desk
from .sla_helpers import local, sla_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(desk: Desk) -> Team:
    # The SLA's notes are written in the organization's language: English here.
    desk.world.operator.default_language = "en"
    desk.world.operator.save(update_fields=["default_language"])
    return sla_setup(desk.world.operator)


def team_of(desk: Desk) -> int | None:
    return Membership.objects.get(user=desk.world.agent).team_id


def clocks(ticket: Ticket) -> dict[str, SlaClock]:
    return {clock.metric: clock for clock in SlaClock.objects.filter(ticket=ticket)}


def timers(ticket: Ticket) -> list[tuple[str, str, str, object]]:
    ids = list(SlaClock.objects.filter(ticket=ticket).values_list("pk", flat=True))
    return list(
        Timer.objects.filter(target_type="tickets.slaclock", target_id__in=ids)
        .order_by("id")
        .values_list("kind", "state", "dedupe_key", "due_at")
    )


def notes(ticket: Ticket) -> list[str]:
    return list(
        TicketComment.objects.filter(ticket=ticket, is_public=False)
        .order_by("id")
        .values_list("body", flat=True)
    )


# --- which policy ---------------------------------------------------------------------------


def test_the_most_specific_policy_wins_and_the_packs_first_breaks_ties() -> None:
    candidates = [
        SlaPolicyCandidate(1, "technical", None, "", 0),
        SlaPolicyCandidate(2, "technical", None, "urgent", 1),
        SlaPolicyCandidate(3, "technical", 7, "", 2),
        SlaPolicyCandidate(4, "technical", 7, "urgent", 3),
        SlaPolicyCandidate(5, "technical", None, "", 4),
        SlaPolicyCandidate(6, "billing", None, "", 5),
    ]

    def match(subcategory: int | None, priority: str, category: str = "technical") -> int | None:
        return sla_policy_match(
            candidates, category=category, subcategory_id=subcategory, priority=priority
        )

    assert match(None, "normal") == 1
    assert match(None, "urgent") == 2
    assert match(7, "normal") == 3
    assert match(7, "urgent") == 4
    assert match(8, "high") == 1
    assert match(None, "low", "billing") == 6
    assert match(None, "low", "commercial") is None


def test_a_new_ticket_gets_the_clocks_of_its_matching_policy(desk: Desk, team: Team) -> None:
    sin_servicio = TicketSubcategory.objects.get(key="sin-servicio")
    normal = desk.ticket(now=local(18, 9))
    urgent = desk.ticket(priority="urgent", now=local(18, 9))
    outage_like = desk.ticket(subcategory=sin_servicio, priority="urgent", now=local(18, 9))
    commercial = desk.ticket(category="commercial", now=local(18, 9))

    assert [t.sla_policy.key if t.sla_policy else None for t in (normal, urgent, outage_like)] == [
        "tecnico",
        "tecnico-urgente",
        "sin-servicio",
    ]
    assert sorted(clocks(normal)) == ["first_response", "resolution"]
    assert sorted(clocks(outage_like)) == ["resolution"]
    assert (commercial.sla_policy, clocks(commercial), commercial.sla_due_at) == (None, {}, None)
    assert clocks(urgent)["first_response"].due_at == local(18, 9, 30)
    assert clocks(outage_like)["resolution"].due_at == local(20, 15)  # 9 + 9 + 6 hours


# --- due moments -------------------------------------------------------------------------------


def test_due_moments_skip_the_night_the_weekend_and_a_public_holiday(
    desk: Desk, team: Team
) -> None:
    # Friday 14 March 17:00; Sunday is closed and Monday 17 March is a holiday in Mexico.
    ticket = desk.ticket(now=local(14, 17))
    first, resolution = clocks(ticket)["first_response"], clocks(ticket)["resolution"]

    # 2 h: Friday 17–18, Saturday 09–10.
    assert (first.started_at, first.due_at, first.state) == (
        local(14, 17),
        local(15, 10),
        "running",
    )
    assert first.warn_at == local(15, 9, 36)  # 80 % of 2 h = 1 h 36 min
    # 8 h: Friday 1 h, Saturday 09–14 5 h, Tuesday 09–11.
    assert resolution.due_at == local(18, 11)
    assert resolution.warn_at == local(18, 9, 24)  # 80 % of 8 h = 6 h 24 min
    assert resolution.budget == timedelta(hours=8)
    ticket.refresh_from_db()
    assert (ticket.sla_due_at, ticket.sla_warn_at, ticket.sla_breached_at) == (
        local(15, 10),
        local(15, 9, 36),
        None,
    )


def test_a_ticket_opened_after_closing_time_starts_counting_at_the_next_opening(
    desk: Desk, team: Team
) -> None:
    ticket = desk.ticket(now=local(19, 20))  # Wednesday 20:00
    assert clocks(ticket)["first_response"].due_at == local(20, 11)


def test_each_run_has_a_warning_and_a_breach_timer_with_its_generation(
    desk: Desk, team: Team
) -> None:
    ticket = desk.ticket(now=local(18, 9))
    ids = clocks(ticket)
    first, resolution = ids["first_response"].pk, ids["resolution"].pk
    assert timers(ticket) == [
        ("tickets.sla_warn", "pending", f"sla:{first}:1:warn", local(18, 10, 36)),
        ("tickets.sla_breach", "pending", f"sla:{first}:1:breach", local(18, 11)),
        ("tickets.sla_warn", "pending", f"sla:{resolution}:1:warn", local(18, 15, 24)),
        ("tickets.sla_breach", "pending", f"sla:{resolution}:1:breach", local(18, 17)),
    ]


# --- pause and resume ----------------------------------------------------------------------------


def test_waiting_for_the_customer_pauses_and_leaving_it_resumes_with_the_exact_rest(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))  # Tuesday 09:00: resolution due 17:00
    ticket_status_set(actor=agent, ticket=ticket, status="waiting_customer", now=local(18, 10, 30))

    paused = clocks(ticket)["resolution"]
    assert (paused.state, paused.paused_at, paused.consumed, paused.due_at) == (
        "paused",
        local(18, 10, 30),
        timedelta(hours=1, minutes=30),
        None,
    )
    # Moving on from "new" was the agent's first response.
    first = clocks(ticket)["first_response"]
    assert (first.state, first.met_at) == ("met", local(18, 10, 30))
    assert {(kind, state) for kind, state, _key, _due in timers(ticket)} == {
        ("tickets.sla_warn", "cancelled"),
        ("tickets.sla_breach", "cancelled"),
    }
    ticket.refresh_from_db()
    assert (ticket.sla_due_at, ticket.sla_warn_at) == (None, None)

    # The customer answers on Wednesday 16:00: 6 h 30 min left.
    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(19, 16))

    resumed = clocks(ticket)["resolution"]
    spec = clock_sla_spec(resumed)
    assert (resumed.state, resumed.generation, resumed.paused_at) == ("running", 2, None)
    assert clock_remaining(resumed, spec, local(19, 16)) == timedelta(hours=6, minutes=30)
    # Wednesday 16–18, Thursday 09:00 + 4 h 30 min.
    assert resumed.due_at == local(20, 13, 30)
    assert business_between(spec, local(19, 16), resumed.due_at) == timedelta(hours=6, minutes=30)
    # The warning keeps its place in the budget: 6 h 24 min used, 4 h 54 min after resuming.
    assert resumed.warn_at == local(20, 11, 54)
    fresh = [row for row in timers(ticket) if row[1] == "pending"]
    assert fresh == [
        ("tickets.sla_warn", "pending", f"sla:{resumed.pk}:2:warn", local(20, 11, 54)),
        ("tickets.sla_breach", "pending", f"sla:{resumed.pk}:2:breach", local(20, 13, 30)),
    ]
    ticket.refresh_from_db()
    assert ticket.sla_due_at == local(20, 13, 30)


def test_a_timer_of_a_paused_run_does_nothing_even_when_a_worker_holds_it(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(category="billing", now=local(18, 9))
    [old_breach] = Timer.objects.filter(kind="tickets.sla_breach")
    ticket_status_set(actor=agent, ticket=ticket, status="waiting_customer", now=local(18, 10))
    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(18, 11))

    sla_breach_fire(old_breach)  # as if claimed before the pause cancelled it

    clock = clocks(ticket)["resolution"]
    assert (clock.state, clock.breached_at, clock.generation) == ("running", None, 2)
    assert TicketSlaEvent.objects.count() == 0
    # At the old due moment only the new run's warning fires (15 h from 11:00: Wed 17:00).
    assert tick(now=old_breach.due_at).fired == 1
    assert list(TicketSlaEvent.objects.values_list("kind", "at")) == [("warned", local(19, 15))]
    old_breach.refresh_from_db()
    assert old_breach.state == "cancelled"


def test_resolving_meets_the_clock_and_a_reopen_resumes_it_with_what_was_left(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(category="billing", now=local(18, 9))  # 16 h
    ticket_status_set(actor=agent, ticket=ticket, status="resolved", now=local(18, 11))

    met = clocks(ticket)["resolution"]
    assert (met.state, met.met_at, met.consumed) == ("met", local(18, 11), timedelta(hours=2))
    assert [state for _kind, state, _key, _due in timers(ticket)] == ["cancelled", "cancelled"]

    ticket_reopen(actor=agent, ticket=ticket, note="Volvió a fallar", now=local(19, 9))

    reopened = clocks(ticket)["resolution"]
    # 14 h left from Wednesday 09:00: 9 h on Wednesday, 5 h on Thursday.
    assert (reopened.state, reopened.met_at, reopened.generation, reopened.due_at) == (
        "running",
        None,
        2,
        local(20, 14),
    )


def test_the_first_public_reply_that_goes_out_meets_the_first_response(
    desk: Desk, team: Team
) -> None:
    make_conversation(
        make_channel(desk.world.operator),
        wa_id="59171234567",
        customer=desk.customer,
        last_inbound_at=recent(),
    )
    ticket = desk.ticket()
    reply = ticket_reply(
        actor=desk.world.actor(desk.world.agent), ticket=ticket, body="Ya lo revisamos."
    )

    first, resolution = clocks(ticket)["first_response"], clocks(ticket)["resolution"]
    assert reply.send_status == "sent"
    assert (first.state, first.met_at) == ("met", reply.sent_at)
    assert resolution.state == "running"


# --- the timers ------------------------------------------------------------------------------


def test_the_warning_and_the_breach_fire_once_and_escalate_to_the_policys_team(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(18, 9, 30))

    assert tick(now=local(18, 15, 23)).fired == 0
    assert tick(now=local(18, 15, 24)).fired == 1
    assert tick(now=local(18, 16, 59)).fired == 0

    warned = clocks(ticket)["resolution"]
    assert (warned.state, warned.warned_at) == ("running", local(18, 15, 24))
    assert list(TicketSlaEvent.objects.values_list("kind", "user", "team", "at")) == [
        ("warned", desk.world.agent.pk, ticket.assigned_team_id, local(18, 15, 24))
    ]
    assert notes(ticket) == ["SLA warning (Resolution) on T-000001: due at 2025-03-18 17:00."]

    assert tick(now=local(18, 17)).fired == 1
    assert tick(now=local(18, 18)).fired == 0

    breached = clocks(ticket)["resolution"]
    assert (breached.state, breached.breached_at) == ("breached", local(18, 17))
    ticket.refresh_from_db()
    assert (ticket.assigned_user, ticket.assigned_team) == (desk.world.agent, team)
    assert (ticket.sla_breached_at, ticket.sla_due_at) == (local(18, 17), None)
    assert list(TicketSlaEvent.objects.order_by("id").values_list("kind", "team")) == [
        ("warned", team_of(desk)),
        ("breached", team_of(desk)),
        ("escalated", team.pk),
    ]
    assert notes(ticket)[1:] == [
        "SLA breached (Resolution) on T-000001: escalated to the team Soporte N2."
    ]


def test_a_breach_without_a_team_escalates_to_the_supervisors(desk: Desk, team: Team) -> None:
    ticket = desk.ticket(category="billing", now=local(18, 9))  # due Wednesday 16:00

    assert tick(now=local(19, 16)).fired == 2  # the warning at 14:00 and the breach

    assert list(TicketSlaEvent.objects.filter(kind="escalated").values_list("user", "team")) == [
        (desk.world.supervisor.pk, None)
    ]
    ticket.refresh_from_db()
    assert ticket.assigned_team != team
    assert notes(ticket)[-1] == (
        "SLA breached (Resolution) on T-000001: escalated to the supervisors."
    )


def test_met_after_the_due_moment_but_before_the_timer_counts_as_breached(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(category="billing", now=local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="resolved", now=local(19, 17))

    clock = clocks(ticket)["resolution"]
    assert (clock.state, clock.breached_at, clock.met_at) == (
        "breached",
        local(19, 16),
        local(19, 17),
    )
    assert tick(now=local(19, 18)).fired == 0


# --- queues ----------------------------------------------------------------------------------


def test_the_sla_queues_hold_exactly_the_tickets_breaching_soon_and_breached(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    soon = desk.ticket(category="billing", subject="soon", now=local(18, 9))  # warn Wed 14:00
    calm = desk.ticket(category="billing", subject="calm", now=local(18, 12))  # warn Wed 17:00
    fired = desk.ticket(category="billing", subject="fired", now=local(10, 9))
    late = desk.ticket(category="billing", subject="late and resolved", now=local(10, 9))
    assert tick(now=local(11, 16)).fired == 4  # their warnings and breaches (Tue 16:00)
    ticket_status_set(actor=agent, ticket=late, status="resolved", now=local(12, 9))
    # Overdue too, but its breach timer has not fired yet.
    overdue = desk.ticket(category="billing", subject="overdue", now=local(10, 9))
    paused = desk.ticket(category="billing", subject="paused", now=local(18, 9))
    ticket_status_set(actor=agent, ticket=paused, status="waiting_customer", now=local(18, 10))
    desk.ticket(category="commercial", subject="no policy", now=local(18, 9))

    def queue(sla: str) -> list[str]:
        rows = tickets_queue(
            actor=agent, filters=TicketFilters(scope="mine", sla=sla), now=local(19, 15)
        )
        return [t.subject for t in rows]

    assert queue("breaching_soon") == [soon.subject]
    assert queue("breached") == [overdue.subject, fired.subject]
    assert calm.subject not in queue("breached") + queue("breaching_soon")


# --- another organization ----------------------------------------------------------------------


def test_another_organization_sees_no_clock_and_no_sla_queue_of_ours(
    desk: Desk, team: Team
) -> None:
    ticket = desk.ticket(category="billing", now=local(10, 9))
    outsider = desk.world.actor(desk.world.outsider)
    before = list(SlaClock.objects.values())

    with pytest.raises(NotFound):
        ticket_get(actor=outsider, ticket_id=ticket.pk)
    breached = tickets_queue(
        actor=outsider, filters=TicketFilters(scope="all", sla="breached"), now=local(19, 15)
    )
    assert list(breached) == []
    theirs = desk.ticket(desk.world.outsider, customer=desk.outsider_customer, category="billing")
    assert (theirs.sla_policy, clocks(theirs)) == (None, {})
    assert SlaPolicy.objects.filter(organization=desk.world.other_operator).count() == 0
    assert list(SlaClock.objects.exclude(ticket=theirs).values()) == before


def test_the_ticket_page_reads_each_clock_with_its_time_left(desk: Desk, team: Team) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(category="billing", now=local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="waiting_customer", now=local(18, 10))

    [view] = ticket_sla_clocks(ticket=ticket, now=local(25, 9))
    assert (view.clock.metric, view.clock.state, view.remaining) == (
        "resolution",
        "paused",
        timedelta(hours=15),
    )
