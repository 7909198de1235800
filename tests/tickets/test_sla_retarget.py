"""Matching the SLA policy again when a ticket's category, subcategory or priority
changes: running clocks keep the business time they used and take the new budget,
paused ones stay paused, a metric the new policy lacks is cancelled, one it adds is
counted from the opening, met clocks stay as they were, and a timer of the old run does
nothing when it fires.

The calendar is Mexico City's (sla_helpers); the organization's time zone, in which the
note gives due moments, is America/La_Paz: two hours ahead."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from telcodesk.accounts.models import AuditLog, Team
from telcodesk.automation.models import Timer
from telcodesk.automation.tick import tick
from telcodesk.tickets.models import (
    SlaClock,
    SlaPolicy,
    Ticket,
    TicketComment,
    TicketSlaEvent,
    TicketSubcategory,
)
from telcodesk.tickets.selectors import TicketFilters, tickets_queue
from telcodesk.tickets.services import ticket_status_set, ticket_update
from telcodesk.tickets.services.sla import sla_breach_fire, sla_warn_fire

from .conftest import Desk, signed_in
from .sla_helpers import local, sla_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(desk: Desk) -> Team:
    # The SLA's notes are written in the organization's language: English here.
    desk.world.operator.default_language = "en"
    desk.world.operator.save(update_fields=["default_language"])
    return sla_setup(desk.world.operator)


def policy(key: str) -> SlaPolicy:
    return SlaPolicy.objects.get(key=key)


def clocks(ticket: Ticket) -> dict[str, SlaClock]:
    return {clock.metric: clock for clock in SlaClock.objects.filter(ticket=ticket)}


def timers(ticket: Ticket) -> list[tuple[str, str, str, object]]:
    ids = list(SlaClock.objects.filter(ticket=ticket).values_list("pk", flat=True))
    return list(
        Timer.objects.filter(target_type="tickets.slaclock", target_id__in=ids)
        .order_by("id")
        .values_list("kind", "state", "dedupe_key", "due_at")
    )


def pending(ticket: Ticket) -> list[tuple[str, str, object]]:
    return [(kind, key, due) for kind, state, key, due in timers(ticket) if state == "pending"]


def notes(ticket: Ticket) -> list[str]:
    return list(
        TicketComment.objects.filter(ticket=ticket, is_public=False)
        .order_by("id")
        .values_list("body", flat=True)
    )


def events(ticket: Ticket) -> list[tuple[str, str, Any, Any, object, int]]:
    return list(
        TicketSlaEvent.objects.filter(ticket=ticket)
        .order_by("id")
        .values_list("kind", "clock__metric", "user", "team", "at", "generation")
    )


def policy_audits(ticket: Ticket) -> list[tuple[Any, list[Any]]]:
    rows = AuditLog.objects.filter(object_type="tickets.ticket", object_id=str(ticket.pk))
    return [
        (row.actor_id, row.changes["sla_policy"])
        for row in rows.order_by("id")
        if "sla_policy" in row.changes
    ]


def sla_columns(ticket: Ticket) -> tuple[object, object, object]:
    ticket.refresh_from_db()
    return ticket.sla_due_at, ticket.sla_warn_at, ticket.sla_breached_at


def opened_at(ticket: Ticket, moment: object) -> None:
    # ``created_at`` is the insert's wall clock; the tests open tickets at fixed moments.
    Ticket.objects.filter(pk=ticket.pk).update(created_at=moment)


# --- re-targeted ----------------------------------------------------------------------------


def test_raising_the_priority_gives_the_shorter_budget_minus_the_time_used(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))  # "Técnico": resolution 8 h, due 17:00
    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(18, 9, 10))
    first = clocks(ticket)["first_response"]
    met_before = SlaClock.objects.filter(pk=first.pk).values().get()

    ticket_update(actor=agent, ticket=ticket, priority="urgent", now=local(18, 10))

    resolution = clocks(ticket)["resolution"]
    # "Técnico urgente": 4 h, 1 h used, warn 30 min before the due moment.
    assert (
        resolution.policy_id,
        resolution.state,
        resolution.budget,
        resolution.warn_after,
        resolution.consumed,
        resolution.running_since,
        resolution.generation,
        resolution.due_at,
        resolution.warn_at,
        resolution.started_at,
    ) == (
        policy("tecnico-urgente").pk,
        "running",
        timedelta(hours=4),
        timedelta(hours=3, minutes=30),
        timedelta(hours=1),
        local(18, 10),
        2,
        local(18, 13),
        local(18, 12, 30),
        local(18, 9),
    )
    # The first response was met: history, untouched.
    assert SlaClock.objects.filter(pk=first.pk).values().get() == met_before
    assert timers(ticket) == [
        ("tickets.sla_warn", "cancelled", f"sla:{first.pk}:1:warn", local(18, 10, 36)),
        ("tickets.sla_breach", "cancelled", f"sla:{first.pk}:1:breach", local(18, 11)),
        ("tickets.sla_warn", "cancelled", f"sla:{resolution.pk}:1:warn", local(18, 15, 24)),
        ("tickets.sla_breach", "cancelled", f"sla:{resolution.pk}:1:breach", local(18, 17)),
        ("tickets.sla_warn", "pending", f"sla:{resolution.pk}:2:warn", local(18, 12, 30)),
        ("tickets.sla_breach", "pending", f"sla:{resolution.pk}:2:breach", local(18, 13)),
    ]
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == policy("tecnico-urgente").pk
    assert sla_columns(ticket) == (local(18, 13), local(18, 12, 30), None)
    assert events(ticket) == [("retargeted", "resolution", None, None, local(18, 10), 2)]
    assert notes(ticket) == [
        "The SLA policy of T-000001 changed from “Técnico” to “Técnico urgente”: "
        "Resolution due at 2025-03-18 15:00."
    ]
    assert policy_audits(ticket) == [(desk.world.agent.pk, ["Técnico", "Técnico urgente"])]


def test_raised_after_more_time_than_the_new_budget_it_breaches_now_and_escalates(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(18, 9, 10))
    assigned_team = Ticket.objects.get(pk=ticket.pk).assigned_team_id

    # 5 h used at 14:00; "Técnico urgente" gives 4 h and escalates to the supervisors.
    ticket_update(actor=agent, ticket=ticket, priority="urgent", now=local(18, 14))

    resolution = clocks(ticket)["resolution"]
    assert (
        resolution.state,
        resolution.breached_at,
        resolution.due_at,
        resolution.consumed,
        resolution.budget,
        resolution.generation,
    ) == ("breached", local(18, 14), local(18, 14), timedelta(hours=5), timedelta(hours=4), 2)
    assert pending(ticket) == []
    assert events(ticket) == [
        ("retargeted", "resolution", None, None, local(18, 14), 2),
        ("breached", "resolution", desk.world.agent.pk, assigned_team, local(18, 14), 2),
        ("escalated", "resolution", desk.world.supervisor.pk, None, local(18, 14), 2),
    ]
    assert sla_columns(ticket) == (None, None, local(18, 14))
    assert notes(ticket) == [
        "The SLA policy of T-000001 changed from “Técnico” to “Técnico urgente”: "
        "Resolution has no time left: breached.",
        "SLA breached (Resolution) on T-000001: escalated to the supervisors.",
    ]
    assert tick(now=local(18, 18)).fired == 0


def test_a_clock_already_overdue_breaches_at_its_due_moment_under_the_old_policy(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))  # first response due 11:00
    agent_team = Ticket.objects.get(pk=ticket.pk).assigned_team_id
    sin_servicio = TicketSubcategory.objects.get(key="sin-servicio")

    # At 12:00 its breach timer has not fired yet; "Sin servicio" has no first response.
    ticket_update(actor=agent, ticket=ticket, subcategory=sin_servicio, now=local(18, 12))

    first, resolution = clocks(ticket)["first_response"], clocks(ticket)["resolution"]
    assert (first.state, first.breached_at, first.policy_id, first.generation) == (
        "breached",
        local(18, 11),
        policy("tecnico").pk,
        1,
    )
    # 21 h left from Tuesday 12:00: 6 h Tuesday, 9 h Wednesday, 6 h Thursday.
    assert (resolution.state, resolution.consumed, resolution.due_at) == (
        "running",
        timedelta(hours=3),
        local(20, 15),
    )
    # "Técnico" escalates to Soporte N2.
    assert events(ticket) == [
        ("breached", "first_response", desk.world.agent.pk, agent_team, local(18, 11), 1),
        ("escalated", "first_response", None, team.pk, local(18, 11), 1),
        ("retargeted", "resolution", None, None, local(18, 12), 2),
    ]
    assert sla_columns(ticket) == (local(20, 15), None, local(18, 11))
    assert notes(ticket) == [
        "SLA breached (First response) on T-000001: escalated to the team Soporte N2.",
        "The SLA policy of T-000001 changed from “Técnico” to “Sin servicio”: "
        "Resolution due at 2025-03-20 17:00.",
    ]


def test_a_paused_clock_takes_the_new_budget_and_stays_paused(desk: Desk, team: Team) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="waiting_customer", now=local(18, 10, 30))

    ticket_update(actor=agent, ticket=ticket, priority="urgent", now=local(19, 10))

    paused = clocks(ticket)["resolution"]
    assert (
        paused.state,
        paused.paused_at,
        paused.consumed,
        paused.budget,
        paused.generation,
        paused.due_at,
        paused.warn_at,
    ) == (
        "paused",
        local(18, 10, 30),
        timedelta(hours=1, minutes=30),
        timedelta(hours=4),
        2,
        None,
        None,
    )
    assert pending(ticket) == []
    assert sla_columns(ticket) == (None, None, None)
    assert notes(ticket) == [
        "The SLA policy of T-000001 changed from “Técnico” to “Técnico urgente”: "
        "Resolution paused while waiting for the customer."
    ]

    # The customer answers at 11:00: 2 h 30 min left of the new 4 h.
    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(19, 11))

    resumed = clocks(ticket)["resolution"]
    assert (resumed.state, resumed.generation, resumed.due_at, resumed.warn_at) == (
        "running",
        3,
        local(19, 13, 30),
        local(19, 13),
    )
    assert pending(ticket) == [
        ("tickets.sla_warn", f"sla:{resumed.pk}:3:warn", local(19, 13)),
        ("tickets.sla_breach", f"sla:{resumed.pk}:3:breach", local(19, 13, 30)),
    ]


def test_a_timer_of_the_run_before_the_retarget_does_nothing_when_it_fires(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(18, 9, 10))
    resolution_id = clocks(ticket)["resolution"].pk
    old_warn = Timer.objects.get(dedupe_key=f"sla:{resolution_id}:1:warn")
    old_breach = Timer.objects.get(dedupe_key=f"sla:{resolution_id}:1:breach")
    ticket_update(actor=agent, ticket=ticket, priority="urgent", now=local(18, 10))

    # As if a worker had claimed them before the re-target cancelled them.
    sla_warn_fire(old_warn)
    sla_breach_fire(old_breach)

    clock = clocks(ticket)["resolution"]
    assert (clock.state, clock.warned_at, clock.breached_at, clock.generation) == (
        "running",
        None,
        None,
        2,
    )
    assert [kind for kind, *_rest in events(ticket)] == ["retargeted"]
    # The new run's timers fire at their moments: the warning at 12:30, the breach at 13:00.
    assert tick(now=local(18, 13)).fired == 2
    assert [(kind, at, generation) for kind, _m, _u, _t, at, generation in events(ticket)] == [
        ("retargeted", local(18, 10), 2),
        ("warned", local(18, 12, 30), 2),
        ("breached", local(18, 13), 2),
        ("escalated", local(18, 13), 2),
    ]


# --- cancelled ----------------------------------------------------------------------------


def test_a_metric_the_new_policy_lacks_is_cancelled_and_leaves_the_queues(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))  # first response due 11:00
    sin_servicio = TicketSubcategory.objects.get(key="sin-servicio")

    # "Sin servicio": resolution only, 24 h, no warning.
    ticket_update(actor=agent, ticket=ticket, subcategory=sin_servicio, now=local(18, 10))

    first, resolution = clocks(ticket)["first_response"], clocks(ticket)["resolution"]
    assert (
        first.state,
        first.consumed,
        first.running_since,
        first.due_at,
        first.warn_at,
        first.generation,
        first.policy_id,
    ) == ("cancelled", timedelta(hours=1), None, None, None, 1, policy("tecnico").pk)
    # 23 h left from Tuesday 10:00: 8 h Tuesday, 9 h Wednesday, 6 h Thursday.
    assert (resolution.state, resolution.due_at, resolution.warn_at, resolution.generation) == (
        "running",
        local(20, 15),
        None,
        2,
    )
    assert pending(ticket) == [
        ("tickets.sla_breach", f"sla:{resolution.pk}:2:breach", local(20, 15)),
    ]
    assert sla_columns(ticket) == (local(20, 15), None, None)
    assert events(ticket) == [
        ("cancelled", "first_response", None, None, local(18, 10), 1),
        ("retargeted", "resolution", None, None, local(18, 10), 2),
    ]
    assert notes(ticket) == [
        "The SLA policy of T-000001 changed from “Técnico” to “Sin servicio”: "
        "First response no longer applies; Resolution due at 2025-03-20 17:00."
    ]

    # Past the old first-response due moment nothing fires and the ticket is not breached.
    assert tick(now=local(18, 12)).fired == 0
    breached = tickets_queue(
        actor=agent, filters=TicketFilters(scope="mine", sla="breached"), now=local(18, 12)
    )
    assert list(breached) == []

    page = signed_in(desk.world.agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-sla-metric="first_response" data-sla-state="cancelled"' in page
    assert 'data-sla-metric="resolution" data-sla-state="running"' in page
    assert 'data-sla-event="cancelled"' in page
    assert 'data-sla-event="retargeted"' in page


def test_when_no_policy_matches_any_more_the_counting_clocks_are_cancelled(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))

    ticket_update(actor=agent, ticket=ticket, category="commercial", now=local(18, 10))

    assert {metric: (c.state, c.consumed) for metric, c in clocks(ticket).items()} == {
        "first_response": ("cancelled", timedelta(hours=1)),
        "resolution": ("cancelled", timedelta(hours=1)),
    }
    ticket.refresh_from_db()
    assert ticket.sla_policy is None
    assert sla_columns(ticket) == (None, None, None)
    assert pending(ticket) == []
    assert notes(ticket) == [
        "No SLA policy applies to T-000001 any more (it was “Técnico”): "
        "First response no longer applies; Resolution no longer applies."
    ]
    assert policy_audits(ticket) == [(desk.world.agent.pk, ["Técnico", None])]

    # Resolving it later meets nothing: the cancelled clocks are history.
    ticket_status_set(actor=agent, ticket=ticket, status="resolved", now=local(18, 11))
    assert {c.state for c in clocks(ticket).values()} == {"cancelled"}
    assert {c.met_at for c in clocks(ticket).values()} == {None}

    page = signed_in(desk.world.agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert page.count('data-sla-state="cancelled"') == 2


# --- created --------------------------------------------------------------------------------


def test_a_ticket_without_a_policy_gets_clocks_counted_from_its_opening(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(category="commercial", now=local(18, 9))
    opened_at(ticket, local(18, 9))
    assert clocks(ticket) == {}

    ticket_update(actor=agent, ticket=ticket, category="technical", now=local(18, 10))

    made = clocks(ticket)
    assert {
        metric: (
            c.policy_id,
            c.state,
            c.started_at,
            c.consumed,
            c.running_since,
            c.due_at,
            c.warn_at,
            c.generation,
        )
        for metric, c in made.items()
    } == {
        # 2 h and 8 h, 1 h used since the opening: as if opened under "Técnico".
        "first_response": (
            policy("tecnico").pk,
            "running",
            local(18, 9),
            timedelta(hours=1),
            local(18, 10),
            local(18, 11),
            local(18, 10, 36),
            1,
        ),
        "resolution": (
            policy("tecnico").pk,
            "running",
            local(18, 9),
            timedelta(hours=1),
            local(18, 10),
            local(18, 17),
            local(18, 15, 24),
            1,
        ),
    }
    first, resolution = made["first_response"].pk, made["resolution"].pk
    assert pending(ticket) == [
        ("tickets.sla_warn", f"sla:{first}:1:warn", local(18, 10, 36)),
        ("tickets.sla_breach", f"sla:{first}:1:breach", local(18, 11)),
        ("tickets.sla_warn", f"sla:{resolution}:1:warn", local(18, 15, 24)),
        ("tickets.sla_breach", f"sla:{resolution}:1:breach", local(18, 17)),
    ]
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == policy("tecnico").pk
    assert sla_columns(ticket) == (local(18, 11), local(18, 10, 36), None)
    assert [(kind, metric) for kind, metric, *_rest in events(ticket)] == [
        ("retargeted", "first_response"),
        ("retargeted", "resolution"),
    ]
    assert notes(ticket) == [
        "The SLA policy of T-000001 is now “Técnico”: "
        "First response due at 2025-03-18 13:00; Resolution due at 2025-03-18 19:00."
    ]
    assert policy_audits(ticket) == [(desk.world.agent.pk, [None, "Técnico"])]


def test_waiting_for_the_customer_the_new_resolution_clock_starts_paused(
    desk: Desk, team: Team
) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(category="commercial", now=local(18, 9))
    opened_at(ticket, local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="waiting_customer", now=local(18, 9, 30))

    ticket_update(actor=agent, ticket=ticket, category="technical", now=local(18, 10))

    # The customer was answered (it left "new"): no first-response clock. The waiting
    # half hour counts: the ticket had no clock to pause then.
    [(metric, clock)] = clocks(ticket).items()
    assert (metric, clock.state, clock.paused_at, clock.consumed, clock.due_at) == (
        "resolution",
        "paused",
        local(18, 10),
        timedelta(hours=1),
        None,
    )
    assert pending(ticket) == []

    ticket_status_set(actor=agent, ticket=ticket, status="in_progress", now=local(18, 11))

    resumed = clocks(ticket)["resolution"]
    assert (resumed.state, resumed.generation, resumed.due_at) == ("running", 2, local(18, 18))


# --- unchanged ------------------------------------------------------------------------------


def test_met_clocks_stay_as_they_were_when_the_policy_changes(desk: Desk, team: Team) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))
    ticket_status_set(actor=agent, ticket=ticket, status="resolved", now=local(18, 11))
    before = list(SlaClock.objects.filter(ticket=ticket).order_by("id").values())
    timers_before = timers(ticket)

    ticket_update(actor=agent, ticket=ticket, priority="urgent", now=local(18, 12))

    assert list(SlaClock.objects.filter(ticket=ticket).order_by("id").values()) == before
    assert timers(ticket) == timers_before
    assert events(ticket) == []
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == policy("tecnico-urgente").pk
    assert notes(ticket) == [
        "The SLA policy of T-000001 changed from “Técnico” to “Técnico urgente”."
    ]


def test_the_same_policy_still_matching_changes_nothing(desk: Desk, team: Team) -> None:
    agent = desk.world.actor(desk.world.agent)
    ticket = desk.ticket(now=local(18, 9))
    before = list(SlaClock.objects.filter(ticket=ticket).order_by("id").values())
    timers_before = timers(ticket)
    columns_before = sla_columns(ticket)

    # "Técnico" names no priority: a high ticket is still under it.
    updated = ticket_update(actor=agent, ticket=ticket, priority="high", now=local(18, 10))

    assert updated.priority == "high"
    assert list(SlaClock.objects.filter(ticket=ticket).order_by("id").values()) == before
    assert timers(ticket) == timers_before
    assert sla_columns(ticket) == columns_before
    assert (events(ticket), notes(ticket), policy_audits(ticket)) == ([], [], [])
