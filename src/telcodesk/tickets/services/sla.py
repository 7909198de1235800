"""SLA clocks in business time: start, pause, resume, meet, warn, breach and escalate.

A ticket gets a clock per metric of the policy that matched when it was opened
(tickets.rules.sla_policy_match): "first_response" (met by the first public reply that
goes out, or by an agent moving the ticket away from "new") and "resolution" (met at
"resolved"; a reopen resumes it with what was left). "Waiting for the customer" pauses
every running clock: the business time used so far is kept in ``consumed`` and leaving
the status resumes with the rest of the budget, from that moment (``business_add``).

When the ticket's category, subcategory or priority changes, the policy is matched
again (``sla_on_ticket_change``): the clocks still counting take the new policy's
targets and keep the time they have used, a metric the new policy lacks is "cancelled"
(it stops counting, kept as history), one it adds gets a clock counted from the
ticket's opening; met and breached clocks stay as they are.

Pending work lives in the database: each run of a clock has a warning timer and a
breach timer (``tickets.sla_warn``, ``tickets.sla_breach`` of the automation app),
scheduled in the transaction that starts or resumes the clock, cancelled when it
pauses, is met or is cancelled. Their dedupe keys carry the clock's ``generation``,
which changes at every resume and re-target, so a resumed clock gets fresh timers and
a timer of an older run that a worker had already claimed is recognised as stale by
the handler and does nothing.

Every function here is called inside the caller's transaction, with the ticket row
locked (the ticket services and the timer handlers lock it first).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from telcodesk.accounts.models import AuditLog, Membership, Team
from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import audit_record
from telcodesk.automation.models import Timer
from telcodesk.automation.services import timer_cancel, timer_schedule
from telcodesk.core.business_time import CalendarSpec, business_add, business_between
from telcodesk.core.calendar_selectors import organization_calendar
from telcodesk.core.tenancy import Actor
from telcodesk.tickets.models import (
    SendStatus,
    SlaClock,
    SlaClockState,
    SlaEventKind,
    SlaMetric,
    SlaPolicy,
    Ticket,
    TicketComment,
    TicketSlaEvent,
    TicketStatus,
)
from telcodesk.tickets.rules import SlaPolicyCandidate, sla_policy_match
from telcodesk.tickets.sla_clock import ClockSpecs, clock_sla_spec, clock_used

WARN_KIND = "tickets.sla_warn"
BREACH_KIND = "tickets.sla_breach"
TARGET_TYPE = "tickets.slaclock"
SYSTEM_LABEL = "SLA"

RUNNING = SlaClockState.RUNNING
PAUSED = SlaClockState.PAUSED
MET = SlaClockState.MET
BREACHED = SlaClockState.BREACHED
CANCELLED = SlaClockState.CANCELLED


def _hours(value: Decimal) -> timedelta:
    # Decimal hours to an exact duration: 1.25 h is 4500 s, no float rounding.
    return timedelta(seconds=int(value * 3600))


def system_actor(ticket: Ticket) -> Actor:
    """Who the SLA acts as (notes, the audit log): the ticket's organization itself."""
    return Actor(organization=ticket.organization, role=Role.ADMIN, label=SYSTEM_LABEL)


# --- the runs and their timers ------------------------------------------------------------------


def _run_from(clock: SlaClock, spec: CalendarSpec, at: datetime) -> None:
    """Start a run at ``at`` with what is left of the budget; schedule its timers."""
    clock.state = RUNNING
    clock.running_since = at
    clock.paused_at = None
    clock.due_at = business_add(spec, at, max(clock.budget - clock.consumed, timedelta(0)))
    clock.warn_at = None
    if clock.warn_after is not None:
        clock.warn_at = business_add(spec, at, max(clock.warn_after - clock.consumed, timedelta(0)))
    payload = {"generation": clock.generation, "ticket": clock.ticket_id}
    prefix = f"sla:{clock.pk}:{clock.generation}"
    if clock.warn_at is not None and clock.warned_at is None and clock.warn_at < clock.due_at:
        timer_schedule(
            organization=clock.ticket.organization,
            kind=WARN_KIND,
            target_type=TARGET_TYPE,
            target_id=clock.pk,
            due_at=clock.warn_at,
            payload=payload,
            dedupe_key=f"{prefix}:warn",
        )
    timer_schedule(
        organization=clock.ticket.organization,
        kind=BREACH_KIND,
        target_type=TARGET_TYPE,
        target_id=clock.pk,
        due_at=clock.due_at,
        payload=payload,
        dedupe_key=f"{prefix}:breach",
    )


def _timers_cancel(clock: SlaClock) -> None:
    timer_cancel(
        organization=clock.ticket.organization, target_type=TARGET_TYPE, target_id=clock.pk
    )


def ticket_sla_sync(ticket: Ticket, clocks: list[SlaClock] | None = None) -> None:
    """Copy the clocks' nearest moments onto the ticket (the queues' indexed columns)."""
    rows = clocks if clocks is not None else list(ticket.sla_clocks.all())
    running = [c for c in rows if c.state == RUNNING and c.due_at is not None]
    due = min((c.due_at for c in running if c.due_at), default=None)
    warn = min((c.warn_at for c in running if c.warn_at), default=None)
    breached = min((c.breached_at for c in rows if c.breached_at), default=None)
    values = {"sla_due_at": due, "sla_warn_at": warn, "sla_breached_at": breached}
    changed = [name for name, value in values.items() if getattr(ticket, name) != value]
    for name in changed:
        setattr(ticket, name, values[name])
    if changed:
        ticket.save(update_fields=[*changed, "updated_at"])


def _clocks(ticket: Ticket) -> list[SlaClock]:
    # Locked: a timer handler and a status change of the same ticket take turns.
    clocks = list(SlaClock.objects.select_for_update().filter(ticket=ticket).order_by("metric"))
    for clock in clocks:
        clock.ticket = ticket
    return clocks


# --- start ---------------------------------------------------------------------------------------


def sla_policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The most specific active policy of the ticket's organization for it, or None."""
    policies = {
        p.pk: p
        for p in SlaPolicy.objects.filter(
            organization_id=ticket.organization_id, is_active=True, category=ticket.category
        )
    }
    chosen = sla_policy_match(
        [
            SlaPolicyCandidate(p.pk, p.category, p.subcategory_id, p.priority, p.position)
            for p in policies.values()
        ],
        category=ticket.category,
        subcategory_id=ticket.subcategory_id,
        priority=ticket.priority,
    )
    return policies[chosen] if chosen is not None else None


def _warn_after(policy: SlaPolicy, budget: timedelta) -> timedelta | None:
    if policy.warn_before_percent is not None:
        return timedelta(seconds=int(budget.total_seconds() * policy.warn_before_percent / 100))
    if policy.warn_before_minutes is not None:
        return max(budget - timedelta(minutes=policy.warn_before_minutes), timedelta(0))
    return None


def _policy_calendar_id(policy: SlaPolicy, ticket: Ticket) -> int | None:
    """The calendar the policy counts in: its own, else the organization's default
    (None: round the clock)."""
    if policy.calendar_id is not None:
        return policy.calendar_id
    default = organization_calendar(ticket.organization)
    return default.pk if default else None


def _policy_budgets(policy: SlaPolicy | None) -> dict[str, timedelta]:
    """The policy's targets by metric (first response, then resolution)."""
    if policy is None:
        return {}
    budgets: dict[str, timedelta] = {}
    for metric, hours in (
        (SlaMetric.FIRST_RESPONSE, policy.first_response_hours),
        (SlaMetric.RESOLUTION, policy.resolution_hours),
    ):
        if hours is not None:
            budgets[metric] = _hours(hours)
    return budgets


def sla_clocks_start(*, ticket: Ticket, at: datetime) -> list[SlaClock]:
    """Give a new ticket the clocks of its policy, running from ``at`` (none without one)."""
    policy = sla_policy_for(ticket)
    if policy is None:
        return []
    calendar_id = _policy_calendar_id(policy, ticket)
    specs = ClockSpecs()
    clocks: list[SlaClock] = []
    for metric, budget in _policy_budgets(policy).items():
        clock = SlaClock(
            organization_id=ticket.organization_id,
            ticket=ticket,
            metric=metric,
            policy=policy,
            calendar_id=calendar_id,
            budget=budget,
            warn_after=_warn_after(policy, budget),
            started_at=at,
        )
        clock.save()
        _run_from(clock, specs.of(clock), at)
        clock.save()
        clocks.append(clock)
    ticket.sla_policy = policy
    ticket.save(update_fields=["sla_policy", "updated_at"])
    ticket_sla_sync(ticket, clocks)
    return clocks


# --- stop, pause, resume -------------------------------------------------------------------------


def _meet(clock: SlaClock, spec: CalendarSpec, at: datetime) -> None:
    """The metric is met at ``at``. Met after the due moment, before the breach timer
    fired, it is recorded as breached at the due moment (no escalation: it is done)."""
    clock.consumed = clock_used(clock, spec, at)
    clock.running_since = None
    clock.met_at = at
    if clock.state == RUNNING and clock.due_at is not None and at > clock.due_at:
        clock.state = BREACHED
        clock.breached_at = clock.due_at
        TicketSlaEvent.objects.create(
            ticket=clock.ticket,
            clock=clock,
            kind=SlaEventKind.BREACHED,
            user=clock.ticket.assigned_user,
            team=clock.ticket.assigned_team,
            at=clock.due_at,
            generation=clock.generation,
        )
    elif clock.state != BREACHED:
        clock.state = MET
    _timers_cancel(clock)
    clock.save()


def _stop_counting(
    clock: SlaClock, spec: CalendarSpec, at: datetime, *, state: str, paused_at: datetime | None
) -> None:
    """The clock keeps the business time used up to ``at`` and stops running (paused or
    cancelled): no due moment, no timers."""
    clock.consumed = clock_used(clock, spec, at)
    clock.running_since = None
    clock.paused_at = paused_at
    clock.state = state
    clock.due_at = None
    clock.warn_at = None
    _timers_cancel(clock)
    clock.save()


def _pause(clock: SlaClock, spec: CalendarSpec, at: datetime) -> None:
    if clock.due_at is not None and at >= clock.due_at:
        # Overdue already (its breach timer has not fired yet): it breached, no pause.
        _breach(clock, clock.due_at)
        return
    _stop_counting(clock, spec, at, state=PAUSED, paused_at=at)


def _resume(clock: SlaClock, spec: CalendarSpec, at: datetime) -> None:
    clock.generation += 1
    clock.met_at = None
    _run_from(clock, spec, at)
    clock.save()


def sla_first_response_met(*, ticket: Ticket, at: datetime) -> None:
    """The customer got a first answer (a public reply went out): stop that clock."""
    clocks = _clocks(ticket)
    specs = ClockSpecs()
    for clock in clocks:
        if clock.metric == SlaMetric.FIRST_RESPONSE and clock.state in (RUNNING, PAUSED):
            _meet(clock, specs.of(clock), at)
    ticket_sla_sync(ticket, clocks)


def sla_on_status_change(
    *, actor: Actor | None, ticket: Ticket, from_status: str, to_status: str, at: datetime
) -> None:
    """Move the clocks with a status change of ``ticket`` (locked, already saved).

    Leaving "waiting for the customer" resumes the paused clocks first, so a move from
    it to "resolved" meets the resolution clock with the time used before the pause.
    """
    clocks = _clocks(ticket)
    if not clocks:
        return
    specs = ClockSpecs()
    if from_status == TicketStatus.WAITING_CUSTOMER:
        for clock in clocks:
            if clock.state == PAUSED:
                _resume(clock, specs.of(clock), at)
    for clock in clocks:
        spec = specs.of(clock)
        if to_status == TicketStatus.WAITING_CUSTOMER and clock.state == RUNNING:
            answered = actor is not None and from_status == TicketStatus.NEW
            if clock.metric == SlaMetric.FIRST_RESPONSE and answered:
                _meet(clock, spec, at)  # an agent answered by moving it on: met
            else:
                _pause(clock, spec, at)
        elif to_status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            if clock.state in (RUNNING, PAUSED):
                _meet(clock, spec, at)
        elif from_status == TicketStatus.RESOLVED and to_status in (
            TicketStatus.IN_PROGRESS,
            TicketStatus.WAITING_CUSTOMER,
            TicketStatus.VISIT_SCHEDULED,
        ):
            # Reopened: the resolution clock goes on with what it had left.
            if clock.metric == SlaMetric.RESOLUTION and clock.state == MET:
                _resume(clock, spec, at)
        elif (
            clock.metric == SlaMetric.FIRST_RESPONSE
            and from_status == TicketStatus.NEW
            and actor is not None
            and clock.state == RUNNING
        ):
            _meet(clock, spec, at)
    ticket_sla_sync(ticket, clocks)


# --- the timers' effects -------------------------------------------------------------------


def _note(ticket: Ticket, text: str) -> None:
    TicketComment.objects.create(
        ticket=ticket, is_public=False, body=text, author=None, author_label=SYSTEM_LABEL
    )


def _metric_label(clock: SlaClock) -> str:
    return str(SlaMetric(clock.metric).label)


def _breach(clock: SlaClock, at: datetime) -> None:
    """Mark ``clock`` breached at ``at`` (its due moment) and escalate the ticket: to the
    policy's team (the agent keeps it), or to the organization's supervisors."""
    ticket = clock.ticket
    clock.state = BREACHED
    clock.breached_at = at
    _timers_cancel(clock)
    clock.save()
    TicketSlaEvent.objects.create(
        ticket=ticket,
        clock=clock,
        kind=SlaEventKind.BREACHED,
        user=ticket.assigned_user,
        team=ticket.assigned_team,
        at=at,
        generation=clock.generation,
    )
    wanted = clock.policy.escalate_to_team if clock.policy else ""
    team = (
        Team.objects.filter(organization_id=ticket.organization_id, name__iexact=wanted).first()
        if wanted
        else None
    )
    with translation.override(ticket.organization.default_language):
        number = ticket.display_number
        if team is not None:
            previous = ticket.assigned_team_id
            if previous != team.pk:
                ticket.assigned_team = team
                ticket.save(update_fields=["assigned_team", "updated_at"])
                audit_record(
                    actor=system_actor(ticket),
                    action=AuditLog.Action.UPDATE,
                    object_type="tickets.ticket",
                    object_id=ticket.pk,
                    changes={"assigned_team": [previous, team.pk], "reason": "sla_breach"},
                )
            TicketSlaEvent.objects.create(
                ticket=ticket,
                clock=clock,
                kind=SlaEventKind.ESCALATED,
                team=team,
                at=at,
                generation=clock.generation,
            )
            _note(
                ticket,
                _("SLA breached (%(metric)s) on %(number)s: escalated to the team %(team)s.")
                % {"metric": _metric_label(clock), "number": number, "team": team.name},
            )
            return
        supervisors = list(
            Membership.objects.filter(
                organization_id=ticket.organization_id, role=Role.SUPERVISOR, user__is_active=True
            )
            .select_related("user")
            .order_by("user_id")
        )
        for membership in supervisors:
            TicketSlaEvent.objects.create(
                ticket=ticket,
                clock=clock,
                kind=SlaEventKind.ESCALATED,
                user=membership.user,
                at=at,
                generation=clock.generation,
            )
        if wanted:
            text = _(
                "SLA breached (%(metric)s) on %(number)s: there is no team “%(team)s”, so it "
                "was escalated to the supervisors."
            ) % {"metric": _metric_label(clock), "number": number, "team": wanted}
        else:
            text = _("SLA breached (%(metric)s) on %(number)s: escalated to the supervisors.") % {
                "metric": _metric_label(clock),
                "number": number,
            }
        _note(ticket, text)


def _clock_for_timer(timer: Timer) -> SlaClock | None:
    """The timer's clock, if this timer belongs to the clock's current run and it still
    runs; the ticket row locked first (the order every ticket service uses)."""
    clock = (
        SlaClock.objects.filter(pk=timer.target_id, organization_id=timer.organization_id)
        .only("ticket_id")
        .first()
    )
    if clock is None:
        return None
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("organization", "assigned_user", "assigned_team")
        .get(pk=clock.ticket_id)
    )
    clock = (
        SlaClock.objects.select_for_update(of=("self",)).select_related("policy").get(pk=clock.pk)
    )
    clock.ticket = ticket
    if clock.state != RUNNING or timer.payload.get("generation") != clock.generation:
        return None
    return clock


def sla_warn_fire(timer: Timer) -> None:
    """The warning point of a running clock: tell the assignee, note it on the ticket."""
    clock = _clock_for_timer(timer)
    if clock is None or clock.warned_at is not None:
        return
    ticket = clock.ticket
    clock.warned_at = timer.due_at
    clock.save()
    TicketSlaEvent.objects.create(
        ticket=ticket,
        clock=clock,
        kind=SlaEventKind.WARNED,
        user=ticket.assigned_user,
        team=ticket.assigned_team,
        at=timer.due_at,
        generation=clock.generation,
    )
    with translation.override(ticket.organization.default_language):
        # In the calendar's time zone: the hours the policy counts in.
        zone = ZoneInfo(clock_sla_spec(clock).time_zone)
        due = timezone.localtime(clock.due_at, timezone=zone) if clock.due_at else None
        _note(
            ticket,
            _("SLA warning (%(metric)s) on %(number)s: due at %(due)s.")
            % {
                "metric": _metric_label(clock),
                "number": ticket.display_number,
                "due": due.strftime("%Y-%m-%d %H:%M") if due else "—",
            },
        )


def sla_breach_fire(timer: Timer) -> None:
    """The due moment of a running clock passed: breached, escalate."""
    clock = _clock_for_timer(timer)
    if clock is None:
        return
    _breach(clock, clock.due_at or timer.due_at)
    ticket_sla_sync(clock.ticket)


def sla_clocks_of(ticket: Ticket) -> list[SlaClock]:
    """The ticket's clocks (first response, then resolution)."""
    return list(
        SlaClock.objects.filter(ticket=ticket)
        .select_related("calendar", "policy")
        .order_by("metric")  # "first_response" before "resolution"
    )


# --- the ticket changed --------------------------------------------------------------------


def _first_response_pending(ticket: Ticket) -> bool:
    """The customer has had no first answer: the ticket is still "new" and no public
    reply went out."""
    return (
        ticket.status == TicketStatus.NEW
        and not TicketComment.objects.filter(
            ticket=ticket, is_public=True, send_status=SendStatus.SENT
        ).exists()
    )


def _metric_pending(ticket: Ticket, metric: str) -> bool:
    """Whether a metric is still to be reached, for a clock the ticket does not have yet."""
    if metric == SlaMetric.FIRST_RESPONSE:
        return _first_response_pending(ticket)
    return ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def _cancel(clock: SlaClock, spec: CalendarSpec, at: datetime) -> None:
    """The clock stops counting at ``at``: its metric has no target any more."""
    _stop_counting(clock, spec, at, state=CANCELLED, paused_at=None)


def _target(clock: SlaClock, policy: SlaPolicy, calendar_id: int | None, budget: timedelta) -> None:
    clock.policy = policy
    clock.calendar_id = calendar_id
    clock.budget = budget
    clock.warn_after = _warn_after(policy, budget)


def _count_on(clock: SlaClock, spec: CalendarSpec, at: datetime) -> bool:
    """Go on from ``at`` with the clock's (new) budget and ``consumed``: a paused clock
    stays paused; a running one gets a run with what is left. True when a running clock
    has nothing left: the caller breaches it at ``at``."""
    if clock.state == PAUSED:
        clock.due_at = None
        clock.warn_at = None
        clock.save()
        return False
    if clock.consumed >= clock.budget:
        clock.due_at = at
        clock.warn_at = None
        clock.save()
        return True
    _run_from(clock, spec, at)
    clock.save()
    return False


def _retarget(
    clock: SlaClock,
    specs: ClockSpecs,
    policy: SlaPolicy,
    calendar_id: int | None,
    budget: timedelta,
    at: datetime,
) -> bool:
    """A running or paused clock takes ``policy``'s target, keeping the business time it
    has used (counted in its old calendar); True when it breaches now (``_count_on``)."""
    used = clock_used(clock, specs.of(clock), at)
    _timers_cancel(clock)
    clock.generation += 1  # the old run's timers are stale
    _target(clock, policy, calendar_id, budget)
    clock.consumed = used
    clock.running_since = None
    if clock.warned_at is not None and (clock.warn_after is None or used < clock.warn_after):
        clock.warned_at = None  # the new warning point is still ahead: it warns there
    return _count_on(clock, specs.of(clock), at)


def _start_late(
    ticket: Ticket,
    clock: SlaClock | None,
    metric: str,
    specs: ClockSpecs,
    policy: SlaPolicy,
    calendar_id: int | None,
    budget: timedelta,
    at: datetime,
) -> tuple[SlaClock, bool]:
    """A clock for a metric the ticket had none for (or a cancelled one), counted from
    the ticket's opening; True when it breaches now (``_count_on``)."""
    if clock is None:
        clock = SlaClock(organization_id=ticket.organization_id, ticket=ticket, metric=metric)
    else:
        clock.generation += 1
    _target(clock, policy, calendar_id, budget)
    clock.started_at = ticket.created_at
    clock.running_since = None
    clock.warned_at = clock.breached_at = clock.met_at = None
    # Everything since the opening counts, the time spent waiting for the customer too:
    # the ticket had no clock to pause then.
    clock.consumed = max(business_between(specs.of(clock), ticket.created_at, at), timedelta(0))
    if ticket.status == TicketStatus.WAITING_CUSTOMER:
        clock.state, clock.paused_at = PAUSED, at
    else:
        clock.state, clock.paused_at = RUNNING, None
    clock.save()  # the timers' keys name its id
    return clock, _count_on(clock, specs.of(clock), at)


def _retarget_note(
    ticket: Ticket, old: SlaPolicy | None, new: SlaPolicy | None, changed: list[SlaClock]
) -> None:
    """The internal note of a policy change: which policy applies, and what each clock
    it touched does now (due moments in the organization's time zone)."""
    with translation.override(ticket.organization.default_language):
        number = ticket.display_number
        if new is None:
            change = _("No SLA policy applies to %(number)s any more (it was “%(old)s”)") % {
                "number": number,
                "old": old.name if old else "—",
            }
        elif old is None:
            change = _("The SLA policy of %(number)s is now “%(new)s”") % {
                "number": number,
                "new": new.name,
            }
        else:
            change = _("The SLA policy of %(number)s changed from “%(old)s” to “%(new)s”") % {
                "number": number,
                "old": old.name,
                "new": new.name,
            }
        zone = ZoneInfo(ticket.organization.time_zone)
        parts = []
        for clock in changed:
            metric = _metric_label(clock)
            if clock.state == CANCELLED:
                parts.append(_("%(metric)s no longer applies") % {"metric": metric})
            elif clock.state == PAUSED:
                parts.append(
                    _("%(metric)s paused while waiting for the customer") % {"metric": metric}
                )
            elif clock.running_since is None:
                parts.append(_("%(metric)s has no time left: breached") % {"metric": metric})
            elif clock.due_at is not None:
                due = timezone.localtime(clock.due_at, timezone=zone)
                parts.append(
                    _("%(metric)s due at %(due)s")
                    % {"metric": metric, "due": due.strftime("%Y-%m-%d %H:%M")}
                )
        if parts:
            text = _("%(change)s: %(clocks)s.") % {"change": change, "clocks": "; ".join(parts)}
        else:
            text = _("%(change)s.") % {"change": change}
        _note(ticket, text)


def sla_on_ticket_change(*, actor: Actor | None, ticket: Ticket, at: datetime) -> None:
    """Match the SLA policy again after ``ticket``'s category, subcategory or priority
    changed (``ticket`` locked and already saved with the new values).

    Nothing happens when the same policy still matches. Otherwise, at ``at``:

    - a running or paused clock takes the new policy's budget and warning for its
      metric and keeps the business time it has used (``consumed`` plus its current
      run, counted in its old calendar; the rest counts in the new policy's calendar).
      Its generation changes and its timers are cancelled; a running clock gets a new
      run with what is left (none left: it breaches now, escalated as the new policy
      says), a paused one stays paused with the new budget;
    - a running or paused clock whose metric the new policy has no target for (or every
      one, when no policy matches any more) stops counting: "cancelled";
    - a metric the new policy has and the ticket has no clock for (or a cancelled one)
      gets a clock counting business time from the ticket's opening
      (``ticket.created_at``) to ``at``, minus nothing: time spent waiting for the
      customer counts too, the ticket had no clock to pause then. First response only
      while the customer has had no answer (status "new", no public reply went out);
      resolution unless the ticket is resolved. Waiting for the customer, it starts
      paused;
    - met and breached clocks are history: unchanged. So is a running clock already past
      its due moment (its breach timer has not fired yet): it breaches at that moment,
      escalated as the old policy says, as its timer would have done.

    ``ticket.sla_policy`` is updated and the ticket's SLA columns synced; each clock
    touched gets a "retargeted" or "cancelled" event, the ticket an internal note and
    the audit log the change (``{"sla_policy": [old name, new name]}``).
    """
    new = sla_policy_for(ticket)
    if (new.pk if new else None) == ticket.sla_policy_id:
        return
    old = ticket.sla_policy
    clocks = _clocks(ticket)
    by_metric = {clock.metric: clock for clock in clocks}
    budgets = _policy_budgets(new)
    calendar_id = _policy_calendar_id(new, ticket) if new is not None else None
    specs = ClockSpecs()
    changed: list[SlaClock] = []
    overdue: list[SlaClock] = []
    for metric in SlaMetric.values:
        clock = by_metric.get(metric)
        budget = budgets.get(metric)
        late = False
        if (
            clock is not None
            and clock.state == RUNNING
            and clock.due_at is not None
            and at >= clock.due_at
        ):
            # Overdue already (its breach timer has not fired yet): it breached under
            # the old policy, and that is history.
            _breach(clock, clock.due_at)
            continue
        if clock is not None and clock.state in (RUNNING, PAUSED):
            if new is None or budget is None:
                _cancel(clock, specs.of(clock), at)
            else:
                late = _retarget(clock, specs, new, calendar_id, budget, at)
        elif (
            new is not None
            and budget is not None
            and (clock is None or clock.state == CANCELLED)
            and _metric_pending(ticket, metric)
        ):
            clock, late = _start_late(ticket, clock, metric, specs, new, calendar_id, budget, at)
            if metric not in by_metric:
                clocks.append(clock)
        else:
            continue
        changed.append(clock)
        if late:
            overdue.append(clock)
        TicketSlaEvent.objects.create(
            ticket=ticket,
            clock=clock,
            kind=SlaEventKind.CANCELLED if clock.state == CANCELLED else SlaEventKind.RETARGETED,
            at=at,
            generation=clock.generation,
        )
    ticket.sla_policy = new
    ticket.save(update_fields=["sla_policy", "updated_at"])
    _retarget_note(ticket, old, new, changed)
    audit_record(
        actor=actor or system_actor(ticket),
        action=AuditLog.Action.UPDATE,
        object_type="tickets.ticket",
        object_id=ticket.pk,
        changes={"sla_policy": [old.name if old else None, new.name if new else None]},
    )
    for clock in overdue:
        _breach(clock, at)
    ticket_sla_sync(ticket, clocks)
