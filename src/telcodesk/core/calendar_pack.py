"""Business calendars in an operator pack: the section's schema and its applier.

The schema (``BusinessCalendarSpec``, and ``BusinessCalendarList`` for the list with
its cross-calendar rules) is wired into ``packs.schema.OrganizationSpec`` as
``business_calendars``. ``business_calendars_apply`` is the pack applier
(``packs.loader.register_pack_applier``): calendars are matched by (organization,
name), opening ranges by (weekday, opens, closes) and closed days by date. Loading
the same pack twice changes nothing; a range or closed day the pack no longer lists is
deleted (nothing points at them); a calendar it no longer lists is made inactive.

The loader is imported inside the functions: ``packs.schema`` imports this module, and
the loader imports ``packs.schema``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, time
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.db import models
from django.utils.translation import gettext as _
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from telcodesk.core.business_time import MIDNIGHT, OpenRange, supported_holiday_subdivisions
from telcodesk.core.models import BusinessCalendar, BusinessHours, ClosedDay
from telcodesk.packs.spec_base import PackModel, ShortName, TimeZoneName, pack_rule_error

if TYPE_CHECKING:
    from telcodesk.accounts.models import Organization
    from telcodesk.packs.loader import Outcome, Tally
    from telcodesk.packs.schema import Pack

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_NUMBERS: dict[str, int] = {
    name: number for number, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
}
END_OF_DAY = "24:00"
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def _check_clock(value: object) -> str:
    """``"9:00"`` -> ``"09:00"``; ``"24:00"`` is kept (the end of the day)."""
    if not isinstance(value, str):
        # PyYAML reads an unquoted 18:00 as a base-60 number (1080): say so.
        raise PydanticCustomError(
            "clock_time",
            _(
                'Write the time in quotes as HH:MM, e.g. "18:00" '
                "(unquoted, YAML reads it as a number)."
            ),
        )
    match = _CLOCK_RE.match(value.strip())
    hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if not (0 <= hours <= 23 and 0 <= minutes <= 59) and (hours, minutes) != (24, 0):
        raise PydanticCustomError(
            "clock_time",
            _('{value} is not a time of day; write it as HH:MM from "00:00" to "24:00".'),
            {"value": value},
        )
    return f"{hours:02d}:{minutes:02d}"


def _check_holidays_country(value: str) -> str:
    if value not in supported_holiday_subdivisions():
        raise PydanticCustomError(
            "holidays_country",
            _(
                "{value} is not a country of the holidays package; write its ISO 3166-1 "
                "alpha-2 code, e.g. MX, AR, BO, EC or BR."
            ),
            {"value": value},
        )
    return value


ClockTime = Annotated[str, BeforeValidator(_check_clock)]
HolidaysCountry = Annotated[str, AfterValidator(_check_holidays_country)]


def clock_time(text: str) -> time:
    """A validated ``ClockTime`` as a ``time``; ``"24:00"`` is ``time(0)``."""
    if text == END_OF_DAY:
        return MIDNIGHT
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class OpeningHoursSpec(PackModel):
    """Hours on some weekdays: ``{days: [mon, fri], opens: "09:00", closes: "13:00"}``."""

    days: Annotated[list[Weekday], Field(min_length=1)]
    opens: ClockTime
    closes: ClockTime

    @model_validator(mode="after")
    def _check_range(self) -> OpeningHoursSpec:
        for index, day in enumerate(self.days):
            if day in self.days[:index]:
                raise pack_rule_error(
                    f"days[{index}]", _("%(day)s is listed twice.") % {"day": day}
                )
        if self.opens == END_OF_DAY:
            raise pack_rule_error(
                "opens", _('A range cannot open at 24:00; write "00:00" of the next day.')
            )
        if self.closes != END_OF_DAY and self.closes <= self.opens:
            raise pack_rule_error(
                "closes",
                _(
                    "closes must be later than opens on the same day. For hours past "
                    'midnight write two ranges: one until "24:00" and one from "00:00" '
                    "on the next day."
                ),
            )
        return self

    def open_ranges(self) -> list[OpenRange]:
        return [
            OpenRange(WEEKDAY_NUMBERS[day], clock_time(self.opens), clock_time(self.closes))
            for day in self.days
        ]


class ClosedDaySpec(PackModel):
    date: date
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class BusinessCalendarSpec(PackModel):
    """One business calendar of an organization.

    ``time_zone`` and the holidays ``country`` default to the organization's, and so
    does ``subdivision`` (its ``holidays_subdivision``) when ``country`` is left out.
    ``public_holidays: false`` makes a calendar that is open on public holidays (a
    round-the-clock line); closed days still apply.
    """

    name: ShortName
    default: bool = False
    time_zone: TimeZoneName | None = None
    country: HolidaysCountry | None = None
    subdivision: Annotated[str, StringConstraints(max_length=40)] | None = None
    public_holidays: bool = True
    hours: Annotated[list[OpeningHoursSpec], Field(min_length=1)]
    closed_days: list[ClosedDaySpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_calendar(self) -> BusinessCalendarSpec:
        self._check_holidays()
        self._check_overlaps()
        seen: set[date] = set()
        for index, closed in enumerate(self.closed_days):
            if closed.date in seen:
                raise pack_rule_error(
                    f"closed_days[{index}].date",
                    _("%(date)s is listed twice.") % {"date": closed.date.isoformat()},
                )
            seen.add(closed.date)
        return self

    def _check_holidays(self) -> None:
        if not self.public_holidays and (self.country or self.subdivision):
            raise pack_rule_error(
                "public_holidays",
                _(
                    "A calendar without public holidays takes no country or subdivision; "
                    "remove them or set public_holidays to true."
                ),
            )
        if self.subdivision is None:
            return
        if self.country is None:
            raise pack_rule_error(
                "subdivision",
                _(
                    "Write the country of this subdivision too (e.g. country: BR), or "
                    "remove subdivision to use the organization's."
                ),
            )
        subdivisions = supported_holiday_subdivisions()[self.country]
        if not subdivisions:
            raise pack_rule_error(
                "subdivision",
                _("The holidays package has no subdivisions for %(country)s; remove it.")
                % {"country": self.country},
            )
        if self.subdivision not in subdivisions:
            raise pack_rule_error(
                "subdivision",
                _(
                    "%(subdivision)s is not a holidays subdivision of %(country)s; "
                    "use one of %(allowed)s."
                )
                % {
                    "subdivision": self.subdivision,
                    "country": self.country,
                    "allowed": ", ".join(subdivisions),
                },
            )

    def _check_overlaps(self) -> None:
        by_day: dict[str, list[tuple[str, str, int]]] = {}
        for index, hours in enumerate(self.hours):
            for weekday in hours.days:
                by_day.setdefault(weekday, []).append((hours.opens, hours.closes, index))
        for day, ranges in by_day.items():
            ranges.sort()
            for (opens, closes, _index), (later_opens, later_closes, later_index) in pairwise(
                ranges
            ):
                # "HH:MM" texts compare like the times they write; "24:00" sorts last.
                if closes > later_opens:
                    raise pack_rule_error(
                        f"hours[{later_index}]",
                        _(
                            "On %(day)s, %(later)s overlaps %(earlier)s; make the ranges "
                            "meet or leave a gap between them."
                        )
                        % {
                            "day": day,
                            "later": f"{later_opens}-{later_closes}",
                            "earlier": f"{opens}-{closes}",
                        },
                    )

    def open_ranges(self) -> tuple[OpenRange, ...]:
        return tuple(open_range for hours in self.hours for open_range in hours.open_ranges())


def _check_calendar_list(calendars: list[BusinessCalendarSpec]) -> list[BusinessCalendarSpec]:
    seen: set[str] = set()
    defaults = 0
    for index, calendar in enumerate(calendars):
        key = calendar.name.casefold()
        if key in seen:
            raise pack_rule_error(
                f"[{index}].name",
                _('Business calendar "%(name)s" is defined twice.') % {"name": calendar.name},
            )
        seen.add(key)
        defaults += calendar.default
        if calendar.default and defaults > 1:
            raise pack_rule_error(
                f"[{index}].default",
                _("Only one business calendar can be the default; remove default from the others."),
            )
    return calendars


# The organization's calendars: unique names, at most one default (the first if none).
BusinessCalendarList = Annotated[list[BusinessCalendarSpec], AfterValidator(_check_calendar_list)]


# --- the applier --------------------------------------------------------------------------


def _upsert(
    model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
) -> tuple[Any, Outcome]:
    """Create, or save only the fields whose values differ."""
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        return model._default_manager.create(**lookup, **values), "created"
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return instance, "unchanged"
    for name in changed:
        setattr(instance, name, values[name])
    instance.save(update_fields=[*changed, "updated_at"])
    return instance, "updated"


def _calendar_values(
    spec: BusinessCalendarSpec,
    organization: Organization,
    *,
    subdivision: str,
    pack_name: str,
    is_default: bool,
) -> dict[str, Any]:
    if not spec.public_holidays:
        country, subdivision = "", ""
    elif spec.country is not None:
        country, subdivision = spec.country, spec.subdivision or ""
    else:
        country = organization.country
    return {
        "time_zone": spec.time_zone or organization.time_zone,
        "country": country,
        "subdivision": subdivision,
        "is_default": is_default,
        "is_active": True,
        "pack_name": pack_name,
    }


def _hours_sync(calendar: BusinessCalendar, spec: BusinessCalendarSpec, tally: Tally) -> bool:
    wanted = {(r.weekday, r.start, r.end) for r in spec.open_ranges()}
    rows = {(row.weekday, row.start, row.end): row for row in calendar.hours.all()}
    # Removed first: a range whose end changed keeps its (weekday, start).
    removed = [row.pk for key, row in rows.items() if key not in wanted]
    BusinessHours.objects.filter(pk__in=removed).delete()
    added = sorted(wanted - rows.keys())
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=weekday, start=start, end=end)
        for weekday, start, end in added
    )
    tally.updated += len(removed)
    tally.created += len(added)
    tally.unchanged += len(rows) - len(removed)
    return bool(removed or added)


def _closed_days_sync(calendar: BusinessCalendar, spec: BusinessCalendarSpec, tally: Tally) -> bool:
    wanted = {closed.date: closed.reason for closed in spec.closed_days}
    changed = False
    for row in calendar.closed_days.all():
        if row.date not in wanted:
            row.delete()
            tally.add("updated")
            changed = True
        elif row.reason != wanted[row.date]:
            row.reason = wanted[row.date]
            row.save(update_fields=["reason", "updated_at"])
            tally.add("updated")
            changed = True
        else:
            tally.add("unchanged")
        wanted.pop(row.date, None)
    ClosedDay.objects.bulk_create(
        ClosedDay(calendar=calendar, date=day, reason=reason)
        for day, reason in sorted(wanted.items())
    )
    tally.created += len(wanted)
    return changed or bool(wanted)


def business_calendars_sync(
    organization: Organization,
    calendars: Sequence[BusinessCalendarSpec],
    *,
    pack_name: str,
    subdivision: str = "",
) -> Tally:
    """Upsert ``organization``'s calendars from a pack; ``subdivision`` is the
    organization's ``holidays_subdivision`` (used by calendars that name no country).

    The calendar marked ``default`` (else the first) becomes the organization's only
    default. Deleted ranges and closed days, and calendars made inactive, count as
    updated. Runs inside the pack load's transaction.
    """
    from telcodesk.packs.loader import Tally

    tally = Tally()
    default_name = next(
        (spec.name for spec in calendars if spec.default), calendars[0].name if calendars else None
    )
    if default_name is not None:
        # Cleared first: an organization has one default calendar (a unique constraint).
        for calendar in BusinessCalendar.objects.filter(
            organization=organization, is_default=True
        ).exclude(name=default_name):
            calendar.is_default = False
            calendar.save(update_fields=["is_default", "updated_at"])
            tally.add("updated")
    kept: list[int] = []
    for spec in calendars:
        calendar, outcome = _upsert(
            BusinessCalendar,
            {"organization": organization, "name": spec.name},
            _calendar_values(
                spec,
                organization,
                subdivision=subdivision,
                pack_name=pack_name,
                is_default=spec.name == default_name,
            ),
        )
        rows_changed = _hours_sync(calendar, spec, tally)
        rows_changed = _closed_days_sync(calendar, spec, tally) or rows_changed
        if rows_changed and outcome == "unchanged":
            # Readers that cache a calendar's spec by updated_at see the new rows.
            calendar.save(update_fields=["updated_at"])
        tally.add(outcome)
        kept.append(calendar.pk)
    for calendar in BusinessCalendar.objects.filter(
        organization=organization, pack_name=pack_name, is_active=True
    ).exclude(pk__in=kept):
        calendar.is_active = False
        calendar.is_default = False
        calendar.save(update_fields=["is_active", "is_default", "updated_at"])
        tally.add("updated")
    return tally


def business_calendars_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """The pack applier: every organization's ``business_calendars``."""
    from telcodesk.packs.loader import Tally

    tally = Tally()
    for organization_spec in pack.organizations:
        # OrganizationSpec.business_calendars (a BusinessCalendarList) is declared in
        # packs.schema; a pack schema without the section has no calendars.
        calendars: list[BusinessCalendarSpec] = organization_spec.business_calendars
        part = business_calendars_sync(
            organizations[organization_spec.slug],
            calendars,
            pack_name=pack.name,
            subdivision=organization_spec.holidays_subdivision or "",
        )
        tally.created += part.created
        tally.updated += part.updated
        tally.unchanged += part.unchanged
    return tally
