"""Reading an SLA clock: the calendar it counts in and the business time it has used.

Shared by the writes (tickets.services.sla) and the reads (the ticket page, the API).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from telcodesk.core.business_time import CalendarSpec, business_between
from telcodesk.core.calendar_selectors import calendar_spec
from telcodesk.core.models import BusinessCalendar
from telcodesk.tickets.models import SlaClock


class ClockSpecs:
    """Calendar specs by calendar id, read once per call (hours and closed days)."""

    def __init__(self) -> None:
        self._specs: dict[int | None, CalendarSpec] = {}

    def of(self, clock: SlaClock) -> CalendarSpec:
        key = clock.calendar_id
        if key not in self._specs:
            if key is None:
                zone = clock.ticket.organization.time_zone
                self._specs[key] = CalendarSpec.round_the_clock(zone)
            else:
                calendar = BusinessCalendar.objects.prefetch_related("hours", "closed_days").get(
                    pk=key
                )
                self._specs[key] = calendar_spec(calendar)
        return self._specs[key]


def clock_sla_spec(clock: SlaClock) -> CalendarSpec:
    """The calendar ``clock`` counts in (one clock; loops use ``ClockSpecs``)."""
    return ClockSpecs().of(clock)


def clock_used(clock: SlaClock, spec: CalendarSpec, at: datetime) -> timedelta:
    """Business time the clock has used at ``at`` (``consumed`` plus the current run)."""
    if clock.running_since is None:
        return clock.consumed
    return clock.consumed + max(business_between(spec, clock.running_since, at), timedelta(0))


def clock_remaining(clock: SlaClock, spec: CalendarSpec, at: datetime) -> timedelta:
    """Business time left at ``at``: negative once the due moment has passed."""
    return clock.budget - clock_used(clock, spec, at)
