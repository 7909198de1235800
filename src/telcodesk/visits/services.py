"""Every write to a visit: book, reschedule, cancel, complete.

Each service takes ``actor`` first (keyword-only) and checks, in this order: the
permission ("ticket.work"), the organization (a ticket, visit or technician the actor
may not see is NotFound), then the rules (ValidationFailed whose translated message
says why and what to do): the ticket is open and not covered by an active outage, the
slot is inside business hours, within the SLA window, the technician covers the
customer's zone and has room that day.

Visits follow their ticket: a ticket resolved or closed cancels its active visits
(``visits_on_ticket_status``, a ticket status handler), and recording a visit's outcome
moves a "visit scheduled" ticket on ("in progress" after a done visit, "waiting for the
customer" after a no-show; see ``visit_complete``).

Concurrency: one transaction per call. The ticket's row is locked first (as every
ticket write does), then the day rows (``TechnicianDay``) of every technician the call
may use, in one ``SELECT ... FOR UPDATE`` ordered by (technician, date) so that two
calls never wait on each other in a circle. The day's visits are counted only after
that lock: of two agents booking a technician's last slot, the second one waits, then
sees the first one's visit and is refused. On SQLite the write transaction serializes
the calls by itself.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext_noop, ngettext
from django.utils.translation import gettext as _

from telcodesk.accounts.roles import Role
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.tickets.hooks import TicketStatusEvent
from telcodesk.tickets.models import OPEN_STATUSES, Ticket, TicketStatus
from telcodesk.tickets.permissions import WORK_PERMISSION
from telcodesk.tickets.services import ticket_charge_add, ticket_status_set
from telcodesk.tickets.services.common import text_clean, ticket_locked, ticket_timeline
from telcodesk.visits.models import (
    ACTIVE_STATUSES,
    PartOfDay,
    Technician,
    TechnicianDay,
    Visit,
    VisitEvent,
    VisitEventKind,
    VisitStatus,
    Zone,
)
from telcodesk.visits.notify import visit_date_text, visit_notify, visit_when
from telcodesk.visits.rules import (
    Window,
    overlaps,
    slot_in_business_hours,
    slot_is_aligned,
)
from telcodesk.visits.selectors import (
    Placement,
    Policy,
    address_text,
    visit_placement,
    visit_policy,
    visit_window_for,
    visits_per_day,
    zone_technicians,
)

REASON_MAX = 1_000
NOTE_MAX = 500

TIMELINE_MESSAGES: dict[str, str] = {
    "booked": gettext_noop("Technical visit for ticket %(number)s booked: %(when)s"),
    "rescheduled": gettext_noop("Technical visit for ticket %(number)s moved to %(when)s"),
    "cancelled": gettext_noop("Technical visit for ticket %(number)s cancelled: %(reason)s"),
    "done": gettext_noop("Technical visit for ticket %(number)s done"),
    "no_show": gettext_noop("Technical visit for ticket %(number)s: nobody at home"),
}


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: [message]})


# --- the rules of a booking ----------------------------------------------------------------


def _check_ticket_bookable(ticket: Ticket) -> None:
    """An open ticket, not explained by an active outage."""
    if ticket.status not in OPEN_STATUSES:
        raise _refuse(
            "ticket",
            _(
                "Ticket %(number)s is “%(status)s”: a visit is booked only for an open "
                "ticket. Reopen it, or open a new ticket for the customer."
            )
            % {"number": ticket.display_number, "status": ticket.get_status_display()},
        )
    # The outage link lands on Ticket in another change; getattr keeps this working
    # before and after it.
    outage_id = getattr(ticket, "outage_id", None)
    if outage_id:
        from telcodesk.network.models import Outage

        outage = Outage.objects.filter(pk=outage_id, ended_at__isnull=True).first()
        if outage is not None:
            raise _refuse(
                "ticket",
                _(
                    "Ticket %(number)s is caused by the outage “%(outage)s”, which is still "
                    "open: the network team fixes it and no visit is needed. Tell the "
                    "customer, and book a visit only if the problem remains after the "
                    "outage is closed."
                )
                % {"number": ticket.display_number, "outage": outage.description[:120]},
            )


def _local(at: datetime, time_zone: str) -> str:
    return f"{at.astimezone(ZoneInfo(time_zone)):%Y-%m-%d %H:%M}"


def _check_slot(policy: Policy, window: Window, starts_at: datetime) -> datetime:
    """The end of the slot that starts at ``starts_at``; refused outside business hours,
    off the slot grid, or outside the window."""
    if timezone.is_naive(starts_at):
        raise _refuse(
            "starts_at", _("Give the time with its time zone, e.g. 2026-12-03T09:00-06:00.")
        )
    ends_at = starts_at + policy.slot
    tz = policy.time_zone
    if not slot_in_business_hours(policy.spec, starts_at, ends_at):
        raise _refuse(
            "starts_at",
            _(
                "%(start)s–%(end)s is outside business hours: a visit fits inside the hours "
                "the organization works. Choose one of the listed slots."
            )
            % {"start": _local(starts_at, tz), "end": f"{ends_at.astimezone(ZoneInfo(tz)):%H:%M}"},
        )
    if not slot_is_aligned(policy.spec, starts_at, policy.slot):
        raise _refuse(
            "starts_at",
            _("%(start)s is not the start of a slot. Choose one of the listed slots.")
            % {"start": _local(starts_at, tz)},
        )
    if starts_at < window.earliest or ends_at > window.latest:
        raise _refuse(
            "starts_at",
            _(
                "%(start)s is outside the visit window: visits are booked between "
                "%(earliest)s and %(latest)s (%(min)s to %(max)s business hours after the "
                "ticket was opened). Choose one of the listed slots."
            )
            % {
                "start": _local(starts_at, tz),
                "earliest": _local(window.earliest, tz),
                "latest": _local(window.latest, tz),
                "min": policy.min_hours,
                "max": policy.max_hours,
            },
        )
    return ends_at


def _technician_of_zone(actor: Actor, zone: Zone, technician_id: int) -> Technician:
    technician = Technician.objects.filter(
        pk=technician_id, organization=actor.organization
    ).first()
    if technician is None:
        raise NotFound(_("No such technician. Choose one of the technicians listed."))
    if not technician.is_active or technician.daily_capacity == 0:
        raise _refuse(
            "technician_id",
            _("%(name)s does not take visits now. Choose another technician.")
            % {"name": technician.name},
        )
    if not technician.zones.filter(pk=zone.pk).exists():
        raise _refuse(
            "technician_id",
            _(
                "%(name)s does not cover the zone %(zone)s of the customer's address. Choose "
                "one of the zone's technicians."
            )
            % {"name": technician.name, "zone": zone.name},
        )
    return technician


def _lock_days(pairs: list[tuple[int, date]]) -> None:
    """Lock the day rows of (technician id, date) pairs, creating missing ones, always in
    the same order (see the module's docstring)."""
    ordered = sorted(set(pairs))
    TechnicianDay.objects.bulk_create(
        [TechnicianDay(technician_id=t, date=d) for t, d in ordered], ignore_conflicts=True
    )
    match = Q(pk__in=[])
    for technician_id, day in ordered:
        match |= Q(technician_id=technician_id, date=day)
    list(
        TechnicianDay.objects.select_for_update()
        .filter(match)
        .order_by("technician_id", "date")
        .values_list("pk", flat=True)
    )


def _room_refusal(
    technician: Technician,
    visits: list[Visit],
    starts_at: datetime,
    ends_at: datetime,
    policy: Policy,
    language_day: str,
) -> str | None:
    """Why ``technician`` cannot take the slot (their day's ``visits`` given), or None."""
    if len(visits) >= technician.daily_capacity:
        return ngettext(
            "%(name)s already has %(count)s visit on %(day)s, the most they take in a day. "
            "Choose another slot or technician.",
            "%(name)s already has %(count)s visits on %(day)s, the most they take in a day. "
            "Choose another slot or technician.",
            len(visits),
        ) % {"name": technician.name, "count": len(visits), "day": language_day}
    if any(overlaps((starts_at, ends_at), (v.starts_at, v.ends_at)) for v in visits):
        return _("%(name)s already has a visit at %(time)s. Choose another slot or technician.") % {
            "name": technician.name,
            "time": _local(starts_at, policy.time_zone),
        }
    return None


def _assign_technician(
    *,
    actor: Actor,
    placement: Placement,
    policy: Policy,
    starts_at: datetime,
    ends_at: datetime,
    technician_id: int | None,
    moving: Visit | None = None,
) -> tuple[Technician, date]:
    """The technician who takes the slot, holding their day's lock; refused when the
    chosen one (or, without a choice, every technician of the zone) has no room."""
    day = starts_at.astimezone(ZoneInfo(policy.time_zone)).date()
    if technician_id is not None:
        candidates = [_technician_of_zone(actor, placement.zone, technician_id)]
    else:
        candidates = zone_technicians(placement.zone)
        if not candidates:
            raise _refuse(
                "technician_id",
                _(
                    "No technician covers the zone %(zone)s yet. Ask an administrator to add "
                    "one in the pack."
                )
                % {"zone": placement.zone.name},
            )
    pairs = [(technician.pk, day) for technician in candidates]
    if moving is not None:
        pairs.append((moving.technician_id, moving.local_date))
    _lock_days(pairs)
    day_text = visit_date_text(
        starts_at, time_zone=policy.time_zone, language=get_language() or "en"
    )
    refusals: list[str] = []
    loads: list[tuple[int, str, Technician]] = []
    for technician in candidates:
        visits = visits_per_day(
            technician=technician, day=day, exclude=moving.pk if moving else None
        )
        refusal = _room_refusal(technician, visits, starts_at, ends_at, policy, day_text)
        if refusal is None:
            loads.append((len(visits), technician.name.casefold(), technician))
        else:
            refusals.append(refusal)
    if not loads:
        if technician_id is None:
            message = _(
                "Every technician of the zone %(zone)s is full at %(time)s. Choose another slot."
            ) % {"zone": placement.zone.name, "time": _local(starts_at, policy.time_zone)}
        else:
            message = refusals[0]
        raise _refuse("starts_at", message)
    loads.sort(key=lambda row: (row[0], row[1], row[2].pk))
    return loads[0][2], day


def _event(
    *,
    actor: Actor,
    visit: Visit,
    kind: str,
    at: datetime,
    reason: str = "",
    from_starts_at: datetime | None = None,
    from_technician: Technician | None = None,
) -> VisitEvent:
    return VisitEvent.objects.create(
        visit=visit,
        kind=kind,
        from_starts_at=from_starts_at,
        to_starts_at=visit.starts_at if kind in ("booked", "rescheduled") else None,
        from_technician=from_technician,
        to_technician=visit.technician if kind in ("booked", "rescheduled") else None,
        reason=reason,
        actor=actor.user,
        actor_label=actor.display,
        at=at,
    )


def _timeline(
    *, actor: Actor, visit: Visit, kind: str, policy: Policy, at: datetime, reason: str = ""
) -> None:
    ticket_timeline(
        actor=actor,
        ticket=visit.ticket,
        message=TIMELINE_MESSAGES[kind],
        params={
            "when": visit_when(
                visit.starts_at,
                visit.ends_at,
                time_zone=policy.time_zone,
                language=visit.ticket.organization.default_language or "es",
            ),
            "reason": reason[:200],
        },
        data={"visit": visit.pk},
        at=at,
    )


def _availability_fields(part_of_day: str, note: str) -> tuple[str, str]:
    if part_of_day not in PartOfDay.values:
        raise _refuse("part_of_day", _("Choose any time, mornings or afternoons."))
    return part_of_day, text_clean(
        note, field="availability_note", label=_("Customer's availability"), max_length=NOTE_MAX
    )


# --- the services ----------------------------------------------------------------------------


def visit_book(
    *,
    actor: Actor,
    ticket: Ticket,
    starts_at: datetime,
    technician_id: int | None = None,
    part_of_day: str = PartOfDay.ANY,
    availability_note: str = "",
    adult_present: bool = False,
    extra_cost: Decimal | str | None = None,
    extra_cost_kind: str = "internal_damage",
    extra_cost_reason: str = "",
    now: datetime | None = None,
) -> Visit:
    """Book a visit of ``ticket`` in the slot starting at ``starts_at``.

    Without ``technician_id`` the least busy technician of the customer's zone with room
    that day takes it. The ticket moves to "visit scheduled"; an ``extra_cost`` becomes a
    proposed charge on the ticket (``extra_cost_kind``, ``extra_cost_reason``); the
    customer is told by a public reply on the ticket (see visits.notify).
    """
    actor.require(WORK_PERMISSION)
    part_of_day, note = _availability_fields(part_of_day, availability_note)
    now = now or timezone.now()
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        _check_ticket_bookable(locked)
        policy = visit_policy(locked.organization)
        if policy.adult_required and not adult_present:
            raise _refuse(
                "adult_present",
                _(
                    "Confirm with the customer that an adult (18 or older) will be at home "
                    "to receive the technician."
                ),
            )
        current = Visit.objects.filter(ticket=locked, status__in=ACTIVE_STATUSES).first()
        if current is not None:
            raise _refuse(
                "ticket",
                _(
                    "Ticket %(number)s already has a visit on %(when)s. Reschedule or cancel "
                    "it instead."
                )
                % {
                    "number": locked.display_number,
                    "when": _local(current.starts_at, policy.time_zone),
                },
            )
        placement = visit_placement(locked)
        window = visit_window_for(locked, policy, now)
        ends_at = _check_slot(policy, window, starts_at)
        technician, day = _assign_technician(
            actor=actor,
            placement=placement,
            policy=policy,
            starts_at=starts_at,
            ends_at=ends_at,
            technician_id=technician_id,
        )
        charge = None
        cost_note = ""
        if extra_cost not in (None, ""):
            reason = extra_cost_reason or _("Technical visit")
            charge = ticket_charge_add(
                actor=actor, ticket=locked, kind=extra_cost_kind, amount=extra_cost, reason=reason
            )
            cost_note = f"{charge.amount} {charge.currency}: {charge.reason}"[:NOTE_MAX]
        visit = Visit.objects.create(
            organization=locked.organization,
            ticket=locked,
            customer=locked.customer,
            subscription=locked.subscription,
            address=placement.address,
            address_text=address_text(placement.address)[:500],
            address_reference=placement.address.reference,
            zone=placement.zone,
            technician=technician,
            starts_at=starts_at,
            ends_at=ends_at,
            local_date=day,
            status=VisitStatus.BOOKED,
            part_of_day=part_of_day,
            availability_note=note,
            adult_present=adult_present,
            extra_cost_note=cost_note,
            charge=charge,
            booked_by=actor.user,
            booked_by_label=actor.display,
        )
        _event(actor=actor, visit=visit, kind=VisitEventKind.BOOKED, at=now)
        ticket_status_set(
            actor=actor,
            ticket=locked,
            status=TicketStatus.VISIT_SCHEDULED,
            note=_("Visit booked: %(when)s, %(technician)s")
            % {"when": _local(starts_at, policy.time_zone), "technician": technician.name},
            now=now,
        )
        visit.ticket = locked
        _timeline(actor=actor, visit=visit, kind="booked", policy=policy, at=now)
        visit_notify(
            actor=actor,
            visit=visit,
            event="booked",
            time_zone=policy.time_zone,
            templates=policy.templates,
        )
    return visit


def _visit_locked(actor: Actor, visit: Visit) -> tuple[Ticket, Visit]:
    """The visit's ticket and the visit, both locked (NotFound when not visible)."""
    locked_ticket = ticket_locked(actor=actor, ticket=visit.ticket)
    row = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("technician", "zone", "customer")
        .filter(pk=visit.pk, ticket=locked_ticket, organization=actor.organization)
        .first()
    )
    if row is None:
        raise NotFound(_("No such visit. It may belong to another organization."))
    row.ticket = locked_ticket
    return locked_ticket, row


def _check_active(visit: Visit) -> None:
    if visit.status not in ACTIVE_STATUSES:
        raise _refuse(
            "status",
            _("This visit is “%(status)s” and cannot change any more; book a new one if needed.")
            % {"status": visit.get_status_display()},
        )


def _reason(reason: str) -> str:
    return text_clean(
        reason, field="reason", label=_("Reason"), max_length=REASON_MAX, required=True
    )


def visit_reschedule(
    *,
    actor: Actor,
    visit: Visit,
    starts_at: datetime,
    reason: str,
    technician_id: int | None = None,
    now: datetime | None = None,
) -> Visit:
    """Move an active visit to another slot (and maybe technician); ``reason`` says why.
    The same rules as booking apply; the move is kept in the visit's history and the
    customer is told."""
    actor.require(WORK_PERMISSION)
    why = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        ticket, row = _visit_locked(actor, visit)
        _check_active(row)
        _check_ticket_bookable(ticket)
        policy = visit_policy(ticket.organization)
        placement = visit_placement(ticket)
        window = visit_window_for(ticket, policy, now)
        ends_at = _check_slot(policy, window, starts_at)
        if starts_at == row.starts_at and technician_id in (None, row.technician_id):
            raise _refuse("starts_at", _("The visit is already at that time. Choose another slot."))
        technician, day = _assign_technician(
            actor=actor,
            placement=placement,
            policy=policy,
            starts_at=starts_at,
            ends_at=ends_at,
            technician_id=technician_id,
            moving=row,
        )
        from_starts_at, from_technician = row.starts_at, row.technician
        row.starts_at, row.ends_at, row.local_date = starts_at, ends_at, day
        row.technician, row.zone = technician, placement.zone
        row.status = VisitStatus.RESCHEDULED
        row.save(
            update_fields=[
                "starts_at",
                "ends_at",
                "local_date",
                "technician",
                "zone",
                "status",
                "updated_at",
            ]
        )
        _event(
            actor=actor,
            visit=row,
            kind=VisitEventKind.RESCHEDULED,
            at=now,
            reason=why,
            from_starts_at=from_starts_at,
            from_technician=from_technician,
        )
        _timeline(actor=actor, visit=row, kind="rescheduled", policy=policy, at=now)
        visit_notify(
            actor=actor,
            visit=row,
            event="rescheduled",
            time_zone=policy.time_zone,
            templates=policy.templates,
        )
    return row


def _cancel_active(
    *,
    actor: Actor,
    ticket: Ticket,
    row: Visit,
    reason: str,
    policy: Policy,
    now: datetime,
    notify: bool = True,
) -> None:
    """Cancel ``row`` (active, locked, its ``ticket`` locked): what every cancellation
    does, by an agent (``visit_cancel``) or because the ticket was resolved or closed
    (``visits_on_ticket_status``).

    The slot and the day's capacity are free again as soon as the status is no longer
    active: the day's count and the unique constraints look at active visits only. The
    history and the customer's timeline say why (``reason``). The customer is told, unless
    the ticket is closed: a closed ticket is final and takes no reply
    (``ticket_reply`` refuses it), and a ticket is closed only once it was resolved, when
    the customer was already told; nor with ``notify`` False. The ticket's status is the
    caller's business.
    """
    row.status = VisitStatus.CANCELLED
    row.finished_at = now
    row.save(update_fields=["status", "finished_at", "updated_at"])
    _event(actor=actor, visit=row, kind=VisitEventKind.CANCELLED, at=now, reason=reason)
    _timeline(actor=actor, visit=row, kind="cancelled", policy=policy, at=now, reason=reason)
    if notify and not ticket.is_closed:
        visit_notify(
            actor=actor,
            visit=row,
            event="cancelled",
            time_zone=policy.time_zone,
            templates=policy.templates,
        )


def visit_cancel(*, actor: Actor, visit: Visit, reason: str, now: datetime | None = None) -> Visit:
    """Cancel an active visit (``reason`` says why); the slot is free again, the ticket
    goes back to "in progress" and the customer is told."""
    actor.require(WORK_PERMISSION)
    why = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        ticket, row = _visit_locked(actor, visit)
        _check_active(row)
        policy = visit_policy(ticket.organization)
        _cancel_active(actor=actor, ticket=ticket, row=row, reason=why, policy=policy, now=now)
        if ticket.status == TicketStatus.VISIT_SCHEDULED:
            row.ticket = ticket_status_set(
                actor=actor,
                ticket=ticket,
                status=TicketStatus.IN_PROGRESS,
                note=_("Visit cancelled: %(reason)s") % {"reason": why[:200]},
                now=now,
            )
    return row


# Where a "visit scheduled" ticket goes when its visit is recorded (see visit_complete).
_STATUS_AFTER: dict[str, str] = {
    VisitStatus.DONE: TicketStatus.IN_PROGRESS,
    VisitStatus.NO_SHOW: TicketStatus.WAITING_CUSTOMER,
}


def _outcome_note(outcome: str, text: str) -> str:
    """The ticket's status note for a visit's ``outcome`` (with the technician's note)."""
    if outcome == VisitStatus.DONE:
        if text:
            return _("Visit done: %(note)s") % {"note": text[:200]}
        return _("Visit done.")
    if text:
        return _("Nobody at home at the visit: %(note)s") % {"note": text[:200]}
    return _("Nobody at home at the visit.")


def visit_complete(
    *,
    actor: Actor,
    visit: Visit,
    outcome: str,
    note: str = "",
    now: datetime | None = None,
) -> Visit:
    """Record how an active visit went: ``outcome`` "done" or "no_show" (nobody at
    home). Only once its slot has started.

    A ticket in "visit scheduled" moves on, with a note saying how the visit went:

    - "done": to "in progress". The visit is not proof that the fault is gone: the agent
      confirms it with the customer and resolves the ticket;
    - "no_show": to "waiting for the customer", which pauses the SLA clocks until the
      customer gives a new availability and the agent books again.

    A ticket in another status (the agent moved it meanwhile) keeps it, and so does a
    ticket that still has another active visit (it is still "visit scheduled")."""
    actor.require(WORK_PERMISSION)
    if outcome not in (VisitStatus.DONE, VisitStatus.NO_SHOW):
        raise _refuse("outcome", _("Choose done or nobody at home."))
    text = text_clean(note, field="note", label=_("Note"), max_length=REASON_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        ticket, row = _visit_locked(actor, visit)
        _check_active(row)
        policy = visit_policy(ticket.organization)
        if now < row.starts_at:
            raise _refuse(
                "outcome",
                _("This visit starts at %(start)s; record how it went after the technician went.")
                % {"start": _local(row.starts_at, policy.time_zone)},
            )
        row.status = outcome
        row.finished_at = now
        row.outcome_note = text
        row.save(update_fields=["status", "finished_at", "outcome_note", "updated_at"])
        _event(actor=actor, visit=row, kind=outcome, at=now, reason=text)
        _timeline(actor=actor, visit=row, kind=outcome, policy=policy, at=now)
        # The constraint "visit_one_active_per_ticket" allows one active visit per
        # ticket today; the check keeps the status right if that ever changes.
        if (
            ticket.status == TicketStatus.VISIT_SCHEDULED
            and not Visit.objects.filter(ticket=ticket, status__in=ACTIVE_STATUSES).exists()
        ):
            row.ticket = ticket_status_set(
                actor=actor,
                ticket=ticket,
                status=_STATUS_AFTER[outcome],
                note=_outcome_note(outcome, text),
                now=now,
            )
    return row


# --- the ticket's lifecycle ----------------------------------------------------------------

# Who cancels the visits of a ticket the system resolved or closed (a timer, an automation).
SYSTEM_LABEL = "System"

# The statuses that end a ticket's visits: the visit is no longer needed.
ENDING_STATUSES: tuple[str, ...] = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def visits_on_ticket_status(event: TicketStatusEvent) -> None:
    """A ticket resolved or closed (by anyone, the system too): cancel its active visits.

    Registered by ``VisitsConfig.ready`` with tickets.hooks.register_ticket_status_handler;
    runs inside the status change's transaction, with the ticket's row locked and already
    in its new status. Each visit is cancelled as ``visit_cancel`` cancels one (the slot is
    free again, the history and the timeline say the ticket was resolved or closed), but
    the ticket's status is not touched: it is already moving to resolved or closed, so
    this never calls ``ticket_status_set`` (no recursion).

    The customer is told the visit is cancelled when the ticket was resolved, not when it
    was closed: a closed ticket is final and takes no reply (``visit_cancel`` skips the
    notice on a closed ticket for the same reason), and a ticket is closed only after it
    was resolved, when its visits were cancelled and the customer told. Nor for a visit
    whose slot has already begun (its outcome was never recorded). A cancellation
    that fails rolls the status change back: a resolved ticket must not keep a technician
    on the way (a notice that cannot be sent is kept as "not sent", it does not fail).
    """
    if event.to_status not in ENDING_STATUSES:
        return
    ticket = event.ticket
    rows = list(
        Visit.objects.select_for_update(of=("self",))
        .select_related("technician", "zone", "customer")
        .filter(ticket=ticket, status__in=ACTIVE_STATUSES)
        .order_by("pk")
    )
    if not rows:
        return
    actor = event.actor or Actor(
        organization=ticket.organization, role=Role.ADMIN, label=SYSTEM_LABEL
    )
    policy = visit_policy(ticket.organization)
    # The status change's own moment (ticket_status_set's ``now``).
    now = ticket.status_changed_at or timezone.now()
    # Kept on the visit's history, read by everyone in the organization.
    with translation.override(ticket.organization.default_language or "es"):
        if event.to_status == TicketStatus.RESOLVED:
            reason = _("The ticket was resolved.")
        else:
            reason = _("The ticket was closed.")
    for row in rows:
        row.ticket = ticket
        # A visit whose slot has begun (the technician went, nobody recorded how it went)
        # is cancelled without telling the customer of a cancellation in the past.
        _cancel_active(
            actor=actor,
            ticket=ticket,
            row=row,
            reason=reason,
            policy=policy,
            now=now,
            notify=row.starts_at > now,
        )


__all__: list[str] = [
    "visit_book",
    "visit_cancel",
    "visit_complete",
    "visit_reschedule",
    "visits_on_ticket_status",
]
