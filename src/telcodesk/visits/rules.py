"""The visit rules as pure functions over plain data: which zone covers an address,
the SLA window, the slots of the business hours, what the customer's availability
allows. No database here; ``visits.selectors`` feeds them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telcodesk.core.business_time import CalendarSpec, business_add, business_open_ranges

# A slot that starts before noon (local time) is a morning slot; at or after, afternoon.
NOON = time(12, 0)


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: "Colonia  Juárez" == "colonia juarez"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


@dataclass(frozen=True)
class ZoneRules:
    zone_id: int
    neighbourhoods: frozenset[str]
    postal_codes: frozenset[str]
    cities: frozenset[str]

    @classmethod
    def of(
        cls,
        zone_id: int,
        *,
        neighbourhoods: Iterable[str],
        postal_codes: Iterable[str],
        cities: Iterable[str],
    ) -> ZoneRules:
        return cls(
            zone_id=zone_id,
            neighbourhoods=frozenset(fold(n) for n in neighbourhoods if fold(n)),
            postal_codes=frozenset(p.strip().upper() for p in postal_codes if p.strip()),
            cities=frozenset(fold(c) for c in cities if fold(c)),
        )


@dataclass(frozen=True)
class AddressFacts:
    neighbourhood: str
    zone: str
    city: str
    postal_code: str


def zone_for_address(zones: Sequence[ZoneRules], address: AddressFacts) -> int | None:
    """The id of the zone that covers ``address``: a postal-code match first, then a
    neighbourhood match, then a city-only zone; among equals the first listed."""
    postal = address.postal_code.strip().upper()
    places = {fold(address.neighbourhood), fold(address.zone)} - {""}
    city = fold(address.city)
    if postal:
        for zone in zones:
            if postal in zone.postal_codes:
                return zone.zone_id
    for zone in zones:
        if places & zone.neighbourhoods and (not zone.cities or city in zone.cities):
            return zone.zone_id
    for zone in zones:
        if not zone.neighbourhoods and not zone.postal_codes and city and city in zone.cities:
            return zone.zone_id
    return None


@dataclass(frozen=True)
class Window:
    """When a visit may take place: from ``earliest`` (inclusive) to ``latest``."""

    earliest: datetime
    latest: datetime


def visit_window(
    spec: CalendarSpec,
    *,
    opened_at: datetime,
    now: datetime,
    min_hours: int,
    max_hours: int,
) -> Window:
    """The SLA window: ``min_hours`` to ``max_hours`` business hours after the ticket was
    opened; never before ``now``. When that window is already over (a ticket booked
    late), it counts from ``now`` instead: the customer gets the full promise again."""
    latest = business_add(spec, opened_at, timedelta(hours=max_hours))
    if latest <= now:
        opened_at = now
        latest = business_add(spec, opened_at, timedelta(hours=max_hours))
    earliest = business_add(spec, opened_at, timedelta(hours=min_hours))
    return Window(earliest=max(earliest, now), latest=latest)


def local_midnight(at: datetime, time_zone: str) -> datetime:
    local = at.astimezone(ZoneInfo(time_zone))
    return datetime.combine(local.date(), time(0), tzinfo=ZoneInfo(time_zone))


def slot_times(
    spec: CalendarSpec, window: Window, slot: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """The slots (start, end) inside the window, cut from each business opening from
    its start (09:00, 11:00, 13:00 ... for 2 hours): a slot never crosses a closing time,
    starts at or after ``earliest`` and ends at or before ``latest``."""
    if window.latest <= window.earliest:
        return
    # From the local midnight of the earliest day, so the first day's openings are whole
    # and the slots keep their alignment on the opening's start.
    start = local_midnight(window.earliest, spec.time_zone)
    for opens, closes in business_open_ranges(spec, start, window.latest):
        at = opens
        while at + slot <= closes:
            if at >= window.earliest:
                yield at, at + slot
            at += slot


def slot_is_aligned(spec: CalendarSpec, starts_at: datetime, slot: timedelta) -> bool:
    """Whether ``starts_at`` .. + ``slot`` is one of the slots of its day's openings."""
    day = local_midnight(starts_at, spec.time_zone)
    for opens, closes in business_open_ranges(spec, day, day + timedelta(days=2)):
        at = opens
        while at + slot <= closes:
            if at == starts_at:
                return True
            at += slot
    return False


def slot_in_business_hours(spec: CalendarSpec, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether the whole of [starts_at, ends_at) is inside one business opening."""
    ranges = business_open_ranges(spec, starts_at, ends_at)
    return len(ranges) == 1 and ranges[0] == (starts_at, ends_at)


@dataclass(frozen=True)
class Availability:
    """When the customer can receive the technician ("por las mañanas", "del 3 al 5")."""

    part_of_day: str = "any"  # any | morning | afternoon
    date_from: date | None = None
    date_to: date | None = None

    def allows(self, starts_at: datetime, time_zone: str) -> bool:
        local = starts_at.astimezone(ZoneInfo(time_zone))
        if self.date_from is not None and local.date() < self.date_from:
            return False
        if self.date_to is not None and local.date() > self.date_to:
            return False
        if self.part_of_day == "morning":
            return local.time() < NOON
        if self.part_of_day == "afternoon":
            return local.time() >= NOON
        return True


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
