"""Reads of business calendars, and the ``CalendarSpec`` the time math runs on.

``calendar_spec`` reads ``calendar.hours`` and ``calendar.closed_days`` through their
related managers, so a queryset with ``prefetch_related("hours", "closed_days")``
(as ``organization_calendar`` does) builds specs without further queries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from telcodesk.core.business_time import CalendarSpec, OpenRange
from telcodesk.core.errors import NotFound
from telcodesk.core.models import BusinessCalendar

if TYPE_CHECKING:
    from telcodesk.accounts.models import Organization
    from telcodesk.core.tenancy import Actor


def calendar_spec(calendar: BusinessCalendar) -> CalendarSpec:
    """The calendar as plain data for ``core.business_time``."""
    return CalendarSpec(
        time_zone=calendar.time_zone,
        ranges=tuple(
            OpenRange(hours.weekday, hours.start, hours.end) for hours in calendar.hours.all()
        ),
        country=calendar.country,
        subdivision=calendar.subdivision,
        closed_dates=frozenset(closed.date for closed in calendar.closed_days.all()),
    )


def _with_rows(calendars: QuerySet[BusinessCalendar]) -> QuerySet[BusinessCalendar]:
    return calendars.prefetch_related("hours", "closed_days")


def organization_calendar(organization: Organization) -> BusinessCalendar | None:
    """The organization's default active calendar (hours and closed days prefetched)."""
    return (
        _with_rows(BusinessCalendar.objects.filter(organization=organization))
        .filter(is_active=True, is_default=True)
        .first()
    )


def organization_calendar_spec(organization: Organization) -> CalendarSpec:
    """The default calendar's spec; without one, round the clock in the organization's zone.

    An organization that declared no business hours is taken to work all the time, so
    "24 business hours" is then 24 hours: nothing is promised later than it would be.
    """
    calendar = organization_calendar(organization)
    if calendar is None:
        return CalendarSpec.round_the_clock(organization.time_zone)
    return calendar_spec(calendar)


def business_calendars(*, actor: Actor) -> QuerySet[BusinessCalendar]:
    """The actor's organization's active calendars, the default first."""
    return _with_rows(
        BusinessCalendar.objects.filter(organization=actor.organization, is_active=True)
    ).order_by("-is_default", "name")


def business_calendar_get(*, actor: Actor, calendar_id: int) -> BusinessCalendar:
    """One calendar (active or not) of the actor's organization; ``NotFound`` for any other."""
    calendar = _with_rows(
        BusinessCalendar.objects.filter(organization=actor.organization, pk=calendar_id)
    ).first()
    if calendar is None:
        raise NotFound(
            _("There is no such business calendar; choose one from the list of calendars.")
        )
    return calendar
