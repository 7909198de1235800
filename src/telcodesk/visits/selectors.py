"""Reads of visits, always scoped to the actor's organization: the free slots of a
ticket, a ticket's visits, one visit, the technicians and their day board.

A visit belongs to the organization that works its ticket; a visit of a ticket the
actor may not see is "not found" (a reseller stops seeing a customer's visits when the
customer is no longer assigned to it, as with the tickets).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization
from telcodesk.core.business_time import CalendarSpec
from telcodesk.core.calendar_selectors import calendar_spec, organization_calendar_spec
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.models import BusinessCalendar
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Address
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.permissions import ASSIGN_PERMISSION, VIEW_PERMISSION
from telcodesk.tickets.selectors import ticket_get, tickets_visible
from telcodesk.visits.models import (
    ACTIVE_STATUSES,
    Technician,
    Visit,
    VisitPolicy,
    Zone,
)
from telcodesk.visits.rules import (
    AddressFacts,
    Availability,
    Window,
    ZoneRules,
    overlaps,
    slot_times,
    visit_window,
    zone_for_address,
)

# --- the organization's policy --------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The visit policy in force: the pack's row or the defaults, with its calendar."""

    slot: timedelta
    min_hours: int
    max_hours: int
    spec: CalendarSpec
    adult_required: bool
    templates: dict[str, str]

    @property
    def time_zone(self) -> str:
        return self.spec.time_zone


def visit_policy(organization: Organization) -> Policy:
    row = VisitPolicy.objects.filter(organization=organization).first()
    spec: CalendarSpec | None = None
    if row is not None and row.calendar_id is not None:
        calendar = (
            BusinessCalendar.objects.filter(pk=row.calendar_id, is_active=True)
            .prefetch_related("hours", "closed_days")
            .first()
        )
        if calendar is not None:
            spec = calendar_spec(calendar)
    if spec is None:
        spec = organization_calendar_spec(organization)
    if row is None:
        row = VisitPolicy(organization=organization)
    return Policy(
        slot=timedelta(minutes=row.slot_minutes),
        min_hours=row.window_min_hours,
        max_hours=row.window_max_hours,
        spec=spec,
        adult_required=row.adult_required,
        templates={str(k): str(v) for k, v in (row.templates or {}).items()},
    )


# --- where the technician goes ---------------------------------------------------------------


def visit_address(ticket: Ticket) -> Address | None:
    """The address a visit of ``ticket`` goes to: the service's installation address,
    else the customer's latest installation address, else their latest home address."""
    subscription = ticket.subscription
    if subscription is not None and subscription.installation_address_id is not None:
        found = Address.objects.filter(pk=subscription.installation_address_id).first()
        if found is not None:
            return found
    addresses = Address.objects.filter(customer_id=ticket.customer_id)
    return (
        addresses.filter(purpose=Address.Purpose.INSTALLATION).order_by("-id").first()
        or addresses.filter(purpose=Address.Purpose.HOME).order_by("-id").first()
    )


def address_text(address: Address) -> str:
    if address.one_line:
        return address.one_line
    parts = [
        f"{address.street} {address.number}".strip(),
        address.neighbourhood or address.zone,
        address.city,
        address.postal_code,
    ]
    return ", ".join(part for part in parts if part)


def zones_active(organization: Organization) -> list[Zone]:
    return list(
        Zone.objects.filter(organization=organization, is_active=True).order_by("position", "id")
    )


def zone_for(organization: Organization, address: Address) -> Zone | None:
    """The organization's active zone that covers ``address``, or None."""
    zones = zones_active(organization)
    chosen = zone_for_address(
        [
            ZoneRules.of(
                zone.pk,
                neighbourhoods=zone.neighbourhoods,
                postal_codes=zone.postal_codes,
                cities=zone.cities,
            )
            for zone in zones
        ],
        AddressFacts(
            neighbourhood=address.neighbourhood,
            zone=address.zone,
            city=address.city,
            postal_code=address.postal_code,
        ),
    )
    return next((zone for zone in zones if zone.pk == chosen), None)


@dataclass(frozen=True)
class Placement:
    """Where a ticket's visit goes: the address and the zone that covers it."""

    address: Address
    zone: Zone


def visit_placement(ticket: Ticket) -> Placement:
    """The address and zone of a visit of ``ticket``; ValidationFailed says what is missing."""
    address = visit_address(ticket)
    if address is None:
        message = _(
            "The customer has no installation address: add it to the customer's record "
            "before booking a visit."
        )
        raise ValidationFailed(message, details={"address": [message]})
    zone = zone_for(ticket.organization, address)
    if zone is None:
        message = _(
            "No technician zone covers %(address)s. Check the neighbourhood, city and "
            "postal code of the address, or ask an administrator to add the zone to the pack."
        ) % {"address": address_text(address)}
        raise ValidationFailed(message, details={"zone": [message]})
    return Placement(address=address, zone=zone)


# --- the free slots --------------------------------------------------------------------------


@dataclass(frozen=True)
class TechnicianLoad:
    technician_id: int
    name: str
    used: int
    capacity: int


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    # The technicians free at that time, the least busy that day first.
    technicians: tuple[TechnicianLoad, ...]


@dataclass
class _Load:
    per_day: dict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    busy: dict[int, list[tuple[datetime, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _load(technicians: list[Technician], start: date, end: date, exclude: int | None) -> _Load:
    load = _Load()
    visits = Visit.objects.filter(
        technician__in=technicians,
        status__in=ACTIVE_STATUSES,
        local_date__gte=start,
        local_date__lte=end,
    )
    if exclude is not None:
        visits = visits.exclude(pk=exclude)
    for technician_id, local_date, starts_at, ends_at in visits.values_list(
        "technician_id", "local_date", "starts_at", "ends_at"
    ):
        load.per_day[(technician_id, local_date)] += 1
        load.busy[technician_id].append((starts_at, ends_at))
    return load


def zone_technicians(zone: Zone) -> list[Technician]:
    return list(
        Technician.objects.filter(
            organization_id=zone.organization_id, zones=zone, is_active=True, daily_capacity__gt=0
        ).order_by("name", "id")
    )


def slots_for_zone(
    *,
    zone: Zone,
    policy: Policy,
    window: Window,
    availability: Availability,
    exclude_visit: int | None = None,
) -> list[Slot]:
    """The slots of ``window`` with at least one technician of ``zone`` free: inside
    business hours, within the technician's daily capacity, not overlapping one of their
    visits (``exclude_visit``: the visit being moved does not block itself)."""
    technicians = zone_technicians(zone)
    if not technicians:
        return []
    zone_info = ZoneInfo(policy.time_zone)
    times = [
        (starts, ends)
        for starts, ends in slot_times(policy.spec, window, policy.slot)
        if availability.allows(starts, policy.time_zone)
    ]
    if not times:
        return []
    first = times[0][0].astimezone(zone_info).date()
    last = times[-1][0].astimezone(zone_info).date()
    load = _load(technicians, first, last, exclude_visit)
    slots: list[Slot] = []
    for starts, ends in times:
        day = starts.astimezone(zone_info).date()
        free = [
            TechnicianLoad(
                technician_id=technician.pk,
                name=technician.name,
                used=load.per_day[(technician.pk, day)],
                capacity=technician.daily_capacity,
            )
            for technician in technicians
            if load.per_day[(technician.pk, day)] < technician.daily_capacity
            and not any(overlaps((starts, ends), busy) for busy in load.busy[technician.pk])
        ]
        if free:
            free.sort(key=lambda t: (t.used, t.name.casefold(), t.technician_id))
            slots.append(Slot(starts_at=starts, ends_at=ends, technicians=tuple(free)))
    return slots


def visit_window_for(ticket: Ticket, policy: Policy, now: datetime | None = None) -> Window:
    return visit_window(
        policy.spec,
        opened_at=ticket.created_at,
        now=now or timezone.now(),
        min_hours=policy.min_hours,
        max_hours=policy.max_hours,
    )


def visit_slots(
    *,
    actor: Actor,
    ticket: Ticket,
    availability: Availability | None = None,
    now: datetime | None = None,
    exclude_visit: int | None = None,
) -> list[Slot]:
    """The free slots for a visit of ``ticket`` within the SLA window, in the business
    hours, of the technicians of the zone of the customer's address, narrowed by the
    customer's ``availability``. NotFound for a ticket the actor may not see;
    ValidationFailed when the customer has no address or no zone covers it."""
    actor.require(VIEW_PERMISSION)
    ticket = ticket_get(actor=actor, ticket_id=ticket.pk)
    placement = visit_placement(ticket)
    policy = visit_policy(ticket.organization)
    return slots_for_zone(
        zone=placement.zone,
        policy=policy,
        window=visit_window_for(ticket, policy, now),
        availability=availability or Availability(),
        exclude_visit=exclude_visit,
    )


# --- visits ----------------------------------------------------------------------------------


def visits_visible(*, actor: Actor) -> QuerySet[Visit]:
    """Every visit of a ticket the actor's organization may see."""
    actor.require(VIEW_PERMISSION)
    return Visit.objects.filter(
        organization=actor.organization, ticket__in=tickets_visible(actor=actor)
    )


def visit_get(*, actor: Actor, visit_id: int) -> Visit:
    visit = (
        visits_visible(actor=actor)
        .select_related(
            "ticket",
            "ticket__organization",
            "ticket__customer",
            "ticket__subscription",
            "ticket__subscription__plan",
            "customer",
            "subscription",
            "zone",
            "technician",
            "booked_by",
            "charge",
        )
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        raise NotFound(_("No such visit. It may belong to another organization."))
    return visit


def ticket_visits(*, actor: Actor, ticket: Ticket) -> list[Visit]:
    """The visits of ``ticket``, the latest first (NotFound for a ticket not visible)."""
    ticket = ticket_get(actor=actor, ticket_id=ticket.pk)
    return list(
        Visit.objects.filter(ticket=ticket)
        .select_related("technician", "zone", "booked_by")
        .prefetch_related("events")
        .order_by("-id")
    )


def ticket_active_visit(ticket: Ticket) -> Visit | None:
    return (
        Visit.objects.filter(ticket=ticket, status__in=ACTIVE_STATUSES)
        .select_related("technician", "zone")
        .first()
    )


# --- technicians and the board ----------------------------------------------------------------


def technicians_list(*, actor: Actor, include_inactive: bool = False) -> list[Technician]:
    actor.require(ASSIGN_PERMISSION)
    rows = Technician.objects.filter(organization=actor.organization)
    if not include_inactive:
        rows = rows.filter(is_active=True)
    return list(rows.prefetch_related("zones").order_by("name", "id"))


@dataclass(frozen=True)
class BoardCell:
    day: date
    visits: tuple[Visit, ...]
    used: int
    capacity: int


@dataclass(frozen=True)
class BoardRow:
    technician: Technician
    cells: tuple[BoardCell, ...]


def technician_board(*, actor: Actor, start: date, days: int = 5) -> list[BoardRow]:
    """The active technicians by day from ``start``: their active visits and the
    capacity used (a supervisor's page: "ticket.assign")."""
    actor.require(ASSIGN_PERMISSION)
    if not 1 <= days <= 31:
        message = _("Show between 1 and 31 days.")
        raise ValidationFailed(message, details={"days": [message]})
    end = start + timedelta(days=days - 1)
    technicians = technicians_list(actor=actor)
    visits = (
        Visit.objects.filter(
            organization=actor.organization,
            technician__in=technicians,
            status__in=ACTIVE_STATUSES,
            local_date__gte=start,
            local_date__lte=end,
        )
        .select_related("ticket", "customer", "zone")
        .order_by("starts_at", "id")
    )
    by_cell: dict[tuple[int, date], list[Visit]] = defaultdict(list)
    for visit in visits:
        by_cell[(visit.technician_id, visit.local_date)].append(visit)
    rows = []
    for technician in technicians:
        cells = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            found = tuple(by_cell[(technician.pk, day)])
            cells.append(
                BoardCell(
                    day=day, visits=found, used=len(found), capacity=technician.daily_capacity
                )
            )
        rows.append(BoardRow(technician=technician, cells=tuple(cells)))
    return rows


def visits_per_day(*, technician: Technician, day: date, exclude: int | None = None) -> list[Visit]:
    """The active visits of ``technician`` on local ``day`` (call holding the day's lock)."""
    visits = Visit.objects.filter(technician=technician, local_date=day, status__in=ACTIVE_STATUSES)
    if exclude is not None:
        visits = visits.exclude(pk=exclude)
    return list(visits)
