"""Business time: opening hours, public holidays and closed days, in a local time zone.

Pure functions over a ``CalendarSpec`` (no database; ``core.calendar_selectors`` builds
the spec from an organization's ``BusinessCalendar``). What counts as business time:

* the instants whose **local wall-clock time** falls inside one of the calendar's
  opening ranges for that weekday (``start`` inclusive, ``end`` exclusive), on a local
  date that is neither a public holiday of ``country``/``subdivision`` (the ``holidays``
  package, public category) nor one of ``closed_dates``;
* across a DST change that follows from the definition: an hour the clocks skip has no
  instants, so a range over it is one hour shorter; an hour the clocks repeat is open
  twice if the range covers it, so the range is one hour longer;
* a range cannot cross midnight: ``end == time(0)`` means 24:00 (the end of the day).
  A night shift is two ranges (22:00-24:00 on one weekday, 00:00-06:00 on the next),
  which join into one opening when both days are open.

All inputs must be timezone-aware (``ValueError`` otherwise) and every result is in
UTC. ``business_add(spec, start, timedelta(0))`` is ``start`` itself if the calendar is
open then, else the next opening (``business_next_open``). A result of ``business_add``
is either open or exactly the end of an opening (the work is done at closing time).
``business_between`` is negative when ``end`` is before ``start``, so that it is
additive over any split point (and "time left before a deadline" turns negative once
the deadline passes).

The walk goes day by day over the ranges (never minute by minute); the holidays of a
(country, subdivision, year) are computed once and cached.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIDNIGHT = time(0)
# Time zone offsets are probed once per chunk: a chunk holds at most one DST change.
_CHUNK = timedelta(days=1)
# A calendar with opening hours that stays closed this long is treated as a mistake
# (e.g. closed_dates covering years) rather than walked forever.
_LONGEST_CLOSURE = timedelta(days=731)
_WEEKDAYS = range(7)


@dataclass(frozen=True)
class OpenRange:
    """One range of opening hours on a weekday, in local wall-clock time.

    ``weekday`` 0 is Monday ... 6 Sunday; ``start < end`` on the same day, where
    ``end == time(0)`` means 24:00.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        weekday = self.weekday
        if isinstance(weekday, bool) or not isinstance(weekday, int) or weekday not in _WEEKDAYS:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive datetime.time, not {value!r}")
        if self.end != MIDNIGHT and self.end <= self.start:
            raise ValueError(
                f"a range must end after it starts on the same day ({self.start}-{self.end}); "
                "split a night shift into two ranges and use time(0) for 24:00"
            )

    def wall_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Naive local start and end of this range on ``day`` (24:00 is the next day's 0:00)."""
        start = datetime.combine(day, self.start)
        if self.end == MIDNIGHT:
            return start, datetime.combine(day + timedelta(days=1), MIDNIGHT)
        return start, datetime.combine(day, self.end)


@lru_cache(maxsize=1)
def supported_holiday_subdivisions() -> dict[str, tuple[str, ...]]:
    """Countries of the ``holidays`` package and their subdivision codes."""
    import holidays

    return {
        country: tuple(subdivisions)
        for country, subdivisions in holidays.list_supported_countries().items()
    }


@dataclass(frozen=True)
class CalendarSpec:
    """A business calendar: weekly opening ranges, public holidays and extra closed days."""

    time_zone: str
    ranges: tuple[OpenRange, ...]
    country: str = ""
    subdivision: str = ""
    closed_dates: frozenset[date] = frozenset()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    # The ranges of each weekday (0-6), sorted by start.
    by_weekday: tuple[tuple[OpenRange, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
            raise ValueError(f"{self.time_zone!r} is not a known IANA time zone") from error
        object.__setattr__(self, "zone", zone)
        for open_range in self.ranges:
            if not isinstance(open_range, OpenRange):
                raise ValueError(f"ranges must be OpenRange values, not {open_range!r}")
        # Lists and sets are accepted and frozen, so that the spec stays hashable; the
        # ranges are sorted, so that two specs of the same hours are equal.
        ranges = tuple(sorted(self.ranges, key=lambda r: (r.weekday, r.start)))
        object.__setattr__(self, "ranges", ranges)
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        by_weekday = tuple(tuple(r for r in ranges if r.weekday == day) for day in _WEEKDAYS)
        for day_ranges in by_weekday:
            for earlier, later in pairwise(day_ranges):
                if earlier.end == MIDNIGHT or earlier.end > later.start:
                    raise ValueError(f"ranges overlap: {earlier} and {later}")
        object.__setattr__(self, "by_weekday", by_weekday)
        if self.subdivision and not self.country:
            raise ValueError("a holidays subdivision needs its country")
        if self.country:
            subdivisions = supported_holiday_subdivisions().get(self.country)
            if subdivisions is None:
                raise ValueError(f"{self.country!r} is not a country of the holidays package")
            if self.subdivision and self.subdivision not in subdivisions:
                raise ValueError(
                    f"{self.subdivision!r} is not a holidays subdivision of {self.country}"
                )

    @classmethod
    def round_the_clock(cls, time_zone: str) -> CalendarSpec:
        """Open every day, all day, no holidays: business time is plain elapsed time."""
        return cls(time_zone, tuple(OpenRange(day, MIDNIGHT, MIDNIGHT) for day in _WEEKDAYS))

    def is_closed_day(self, day: date) -> bool:
        """True when ``day`` (a local date) is a public holiday or an extra closed day."""
        if day in self.closed_dates:
            return True
        return bool(self.country) and day in public_holidays(
            self.country, self.subdivision, day.year
        )


@lru_cache(maxsize=512)
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` (and ``subdivision``) in ``year``, cached."""
    import holidays

    # Neighbouring years too: a holiday observed on another day may move across New Year.
    calendar = holidays.country_holidays(
        country, subdiv=subdivision or None, years=(year - 1, year, year + 1)
    )
    return frozenset(day for day in calendar if day.year == year)


# --- the walk ----------------------------------------------------------------------------


def _aware_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value!r}")
    return value.astimezone(UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _change_instant(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first instant in (low, high] whose UTC offset differs from ``low``'s.

    Offsets change on whole seconds: bisect down to a second, then take that second.
    """
    before = _offset(zone, low)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    candidate = low.replace(microsecond=0) + timedelta(seconds=1)
    if candidate <= high and _offset(zone, candidate) != before:
        return candidate
    return high


def _offset_segments(
    zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset) in UTC."""
    while start < end:
        offset = _offset(zone, start)
        if _offset(zone, end) == offset:
            # Same offset at both ends of a chunk of at most a day: no change between.
            yield start, end, offset
            return
        change = _change_instant(zone, start, end)
        yield start, change, offset
        start = change


def _segment_openings(
    spec: CalendarSpec, start: datetime, end: datetime, offset: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Opening intervals within [start, end), a stretch of constant UTC offset."""
    # With a constant offset, wall-clock time is UTC shifted: compute in wall time.
    wall_start = (start + offset).replace(tzinfo=None)
    wall_end = (end + offset).replace(tzinfo=None)
    day = wall_start.date()
    while datetime.combine(day, MIDNIGHT) < wall_end:
        if not spec.is_closed_day(day):
            for open_range in spec.by_weekday[day.weekday()]:
                opens, closes = open_range.wall_bounds(day)
                opens, closes = max(opens, wall_start), min(closes, wall_end)
                if opens < closes:
                    yield (
                        (opens - offset).replace(tzinfo=UTC),
                        (closes - offset).replace(tzinfo=UTC),
                    )
        day += timedelta(days=1)


def _openings(
    spec: CalendarSpec, since: datetime, until: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Business time from ``since`` (to ``until``) as [open, close) UTC intervals, in order.

    Intervals may touch (a range cut at a chunk's end, 09-13 + 13-18, 22-24 + 00-06):
    joining them needs a look ahead that an always-open calendar would never end.
    Without ``until`` the walk is endless, except that a calendar closed for longer
    than two years raises ``ValueError``.
    """
    if not spec.ranges:
        if until is None:
            raise ValueError("the calendar has no opening hours: it never opens")
        return
    closed_for = timedelta(0)
    chunk_start = since
    while until is None or chunk_start < until:
        chunk_end = chunk_start + _CHUNK if until is None else min(chunk_start + _CHUNK, until)
        found = False
        for low, high, offset in _offset_segments(spec.zone, chunk_start, chunk_end):
            for interval in _segment_openings(spec, low, high, offset):
                found = True
                yield interval
        if found:
            closed_for = timedelta(0)
        else:
            closed_for += chunk_end - chunk_start
            if until is None and closed_for > _LONGEST_CLOSURE:
                raise ValueError("the calendar stays closed for more than two years")
        chunk_start = chunk_end


# --- the public functions -----------------------------------------------------------------


def business_add(spec: CalendarSpec, start: datetime, duration: timedelta) -> datetime:
    """The moment ``duration`` of business time after ``start`` (UTC).

    A zero duration gives ``start`` if open, else the next opening. A result is open,
    or exactly the end of an opening.
    """
    remaining = duration
    if remaining < timedelta(0):
        raise ValueError(f"duration must not be negative: {duration}")
    for opens, closes in _openings(spec, _aware_utc(start, "start")):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: the walk without an end only stops by raising")


def business_between(spec: CalendarSpec, start: datetime, end: datetime) -> timedelta:
    """Business time from ``start`` to ``end``; negative when ``end`` comes first."""
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    if end < start:
        return -business_between(spec, end, start)
    total = timedelta(0)
    for opens, closes in _openings(spec, start, end):
        total += closes - opens
    return total


def business_is_open(spec: CalendarSpec, at: datetime) -> bool:
    """True when ``at`` is business time (an opening's start is open, its end is not)."""
    at = _aware_utc(at, "at")
    return any(True for _interval in _openings(spec, at, at + timedelta(microseconds=1)))


def business_next_open(spec: CalendarSpec, at: datetime) -> datetime:
    """``at`` itself (in UTC) if it is business time, else the next moment that is."""
    return business_add(spec, at, timedelta(0))


def business_open_ranges(
    spec: CalendarSpec, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The openings within [start, end), clipped to it, as (opens, closes) in UTC.

    Touching ranges are one opening (09-13 + 13-18, or 22-24 + 00-06 of the next day).

    For slot planning: e.g. the technicians' visit slots of a day.
    """
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    joined: list[tuple[datetime, datetime]] = []
    for opens, closes in _openings(spec, start, end):
        if joined and joined[-1][1] == opens:
            joined[-1] = (joined[-1][0], closes)
        else:
            joined.append((opens, closes))
    return joined
