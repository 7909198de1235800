"""Business calendars: the pack section, its idempotent applier, the models and selectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.db import IntegrityError, transaction
from django.utils import translation
from pydantic import TypeAdapter, ValidationError

from telcodesk.core.business_time import CalendarSpec, OpenRange, business_add
from telcodesk.core.calendar_pack import (
    BusinessCalendarList,
    BusinessCalendarSpec,
    business_calendars_apply,
    business_calendars_sync,
)
from telcodesk.core.calendar_selectors import (
    business_calendar_get,
    business_calendars,
    calendar_spec,
    organization_calendar,
    organization_calendar_spec,
)
from telcodesk.core.errors import NotFound
from telcodesk.core.models import BusinessCalendar, BusinessHours, ClosedDay
from telcodesk.packs.loader import _problems_from
from tests.conftest import World

CALENDARS: TypeAdapter[list[BusinessCalendarSpec]] = TypeAdapter(BusinessCalendarList)

# As an operator writes it in the pack (unquoted 09:00 is text for YAML; 18:00 is not).
SUPPORT_YAML = """
- name: Soporte técnico
  default: true
  subdivision: C
  country: BO
  hours:
    - {days: [mon, tue, wed, thu, fri], opens: "08:30", closes: "12:30"}
    - {days: [mon, tue, wed, thu, fri], opens: "14:30", closes: "18:30"}
    - {days: [sat], opens: "09:00", closes: "13:00"}
  closed_days:
    - {date: 2024-12-24, reason: Nochebuena}
- name: NOC
  public_holidays: false
  hours:
    - {days: [mon, tue, wed, thu, fri, sat, sun], opens: "00:00", closes: "24:00"}
"""


def support_data() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load(SUPPORT_YAML)
    return data


def parse(data: list[dict[str, Any]]) -> list[BusinessCalendarSpec]:
    return CALENDARS.validate_python(data)


def problems(data: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The paths and messages the pack loader reports (relative to the calendar list)."""
    with pytest.raises(ValidationError) as caught:
        CALENDARS.validate_python(data)
    return _problems_from(caught.value, None)


def one_calendar(**fields: Any) -> list[dict[str, Any]]:
    calendar: dict[str, Any] = {
        "name": "Soporte",
        "hours": [{"days": ["mon"], "opens": "09:00", "closes": "18:00"}],
    }
    calendar.update(fields)
    return [calendar]


def hours(**fields: Any) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {"days": ["mon"], "opens": "09:00", "closes": "18:00"}
    entry.update(fields)
    return one_calendar(hours=[entry])


def rows(calendar: BusinessCalendar) -> list[tuple[int, time, time]]:
    return list(calendar.hours.order_by("weekday", "start").values_list("weekday", "start", "end"))


def snapshot() -> dict[str, list[Any]]:
    return {
        "calendars": list(
            BusinessCalendar.objects.order_by("pk").values_list(
                "pk", "updated_at", "is_default", "is_active"
            )
        ),
        "hours": list(BusinessHours.objects.order_by("pk").values_list("pk", "updated_at")),
        "closed": list(ClosedDay.objects.order_by("pk").values_list("pk", "updated_at")),
    }


# --- the pack section -----------------------------------------------------------------


def test_the_pack_section_reads_split_shifts_saturdays_and_24_hours() -> None:
    support, noc = parse(support_data())

    assert support.open_ranges()[:2] == (
        OpenRange(0, time(8, 30), time(12, 30)),
        OpenRange(1, time(8, 30), time(12, 30)),
    )
    assert len(support.open_ranges()) == 11
    assert support.closed_days[0].date == date(2024, 12, 24)
    assert noc.open_ranges() == tuple(OpenRange(day, time(0), time(0)) for day in range(7))


def test_a_time_without_a_leading_zero_is_read_as_hh_mm() -> None:
    (calendar,) = parse(hours(opens="9:00", closes="24:00"))

    assert (calendar.hours[0].opens, calendar.hours[0].closes) == ("09:00", "24:00")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            hours(opens="18:00", closes="09:00"),
            {
                "[0].hours[0].closes": [
                    "closes must be later than opens on the same day. For hours past "
                    'midnight write two ranges: one until "24:00" and one from "00:00" on '
                    "the next day."
                ]
            },
        ),
        (
            hours(days=["mon", "lun"]),
            {
                "[0].hours[0].days[1]": [
                    "Choose one of: 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'."
                ]
            },
        ),
        (
            hours(days=["mon", "tue", "mon"]),
            {"[0].hours[0].days[2]": ["mon is listed twice."]},
        ),
        (
            hours(opens="25:00"),
            {
                "[0].hours[0].opens": [
                    '25:00 is not a time of day; write it as HH:MM from "00:00" to "24:00".'
                ]
            },
        ),
        (
            hours(opens="24:00", closes="24:00"),
            {
                "[0].hours[0].opens": [
                    'A range cannot open at 24:00; write "00:00" of the next day.'
                ]
            },
        ),
        (
            yaml.safe_load(
                '[{name: Soporte, hours: [{days: [mon], opens: "09:00", closes: 18:00}]}]'
            ),
            {
                "[0].hours[0].closes": [
                    'Write the time in quotes as HH:MM, e.g. "18:00" (unquoted, YAML reads '
                    "it as a number)."
                ]
            },
        ),
        (
            one_calendar(
                hours=[
                    {"days": ["mon", "tue"], "opens": "09:00", "closes": "13:00"},
                    {"days": ["tue"], "opens": "12:00", "closes": "18:00"},
                ]
            ),
            {
                "[0].hours[1]": [
                    "On tue, 12:00-18:00 overlaps 09:00-13:00; make the ranges meet or leave "
                    "a gap between them."
                ]
            },
        ),
        (
            one_calendar(country="XX"),
            {
                "[0].country": [
                    "XX is not a country of the holidays package; write its ISO 3166-1 "
                    "alpha-2 code, e.g. MX, AR, BO, EC or BR."
                ]
            },
        ),
        (
            one_calendar(country="BR", subdivision="XX"),
            {
                "[0].subdivision": [
                    "XX is not a holidays subdivision of BR; use one of AC, AL, AM, AP, BA, "
                    "CE, DF, ES, GO, MA, MG, MS, MT, PA, PB, PE, PI, PR, RJ, RN, RO, RR, RS, "
                    "SC, SE, SP, TO, São Paulo Capital."
                ]
            },
        ),
        (
            one_calendar(country="MX", subdivision="CMX"),
            {"[0].subdivision": ["The holidays package has no subdivisions for MX; remove it."]},
        ),
        (
            one_calendar(subdivision="SP"),
            {
                "[0].subdivision": [
                    "Write the country of this subdivision too (e.g. country: BR), or remove "
                    "subdivision to use the organization's."
                ]
            },
        ),
        (
            one_calendar(time_zone="America/Ciudad_de_Mexico"),
            {
                "[0].time_zone": [
                    "America/Ciudad_de_Mexico is not a known IANA time zone (e.g. America/La_Paz)."
                ]
            },
        ),
        (
            one_calendar(public_holidays=False, country="MX"),
            {
                "[0].public_holidays": [
                    "A calendar without public holidays takes no country or subdivision; "
                    "remove them or set public_holidays to true."
                ]
            },
        ),
        (
            one_calendar(closed_days=[{"date": "2025-03-03"}, {"date": date(2025, 3, 3)}]),
            {"[0].closed_days[1].date": ["2025-03-03 is listed twice."]},
        ),
        (
            one_calendar(closed_days=[{"date": "2025-02-30"}]),
            {"[0].closed_days[0].date": ["Write the date as YYYY-MM-DD."]},
        ),
        (one_calendar(hours=[]), {"[0].hours": ["Send a list with the allowed number of items."]}),
        (one_calendar(opening="09:00"), {"[0].opening": ["This field does not exist."]}),
        (
            [*one_calendar(), *one_calendar(name="soporte")],
            {"[1].name": ['Business calendar "soporte" is defined twice.']},
        ),
        (
            [*one_calendar(default=True), *one_calendar(name="NOC", default=True)],
            {
                "[1].default": [
                    "Only one business calendar can be the default; remove default from the others."
                ]
            },
        ),
    ],
)
def test_a_bad_calendar_is_refused_with_the_path_of_the_field(
    data: list[dict[str, Any]], expected: dict[str, list[str]]
) -> None:
    assert problems(data) == expected


def test_the_refusal_is_translated() -> None:
    with translation.override("es"):
        found = problems(hours(days=["lun"]))

    assert found == {
        "[0].hours[0].days[0]": [
            "Elija una de estas opciones: 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'."
        ]
    }


# --- the applier ---------------------------------------------------------------------


def test_loading_creates_the_calendars_with_their_hours_and_closed_days(world: World) -> None:
    tally = business_calendars_sync(
        world.operator, parse(support_data()), pack_name="comteco-bo", subdivision="L"
    )

    support = BusinessCalendar.objects.get(organization=world.operator, name="Soporte técnico")
    noc = BusinessCalendar.objects.get(organization=world.operator, name="NOC")
    assert (support.time_zone, support.country, support.subdivision) == (
        "America/La_Paz",
        "BO",
        "C",
    )
    assert (support.is_default, support.is_active, support.pack_name) == (True, True, "comteco-bo")
    # NOC: no public holidays, the organization's time zone, not the default.
    assert (noc.time_zone, noc.country, noc.subdivision, noc.is_default) == (
        "America/La_Paz",
        "",
        "",
        False,
    )
    assert rows(support)[:3] == [
        (0, time(8, 30), time(12, 30)),
        (0, time(14, 30), time(18, 30)),
        (1, time(8, 30), time(12, 30)),
    ]
    assert rows(support)[-1] == (5, time(9), time(13))
    assert list(support.closed_days.values_list("date", "reason")) == [
        (date(2024, 12, 24), "Nochebuena")
    ]
    # 2 calendars, 11 + 7 ranges, 1 closed day.
    assert (tally.created, tally.updated, tally.unchanged) == (21, 0, 0)


def test_a_calendar_without_a_country_takes_the_organizations_holidays(world: World) -> None:
    business_calendars_sync(
        world.operator, parse(one_calendar()), pack_name="comteco-bo", subdivision="L"
    )

    calendar = BusinessCalendar.objects.get(organization=world.operator)
    assert (calendar.country, calendar.subdivision, calendar.is_default) == ("BO", "L", True)


def test_loading_the_same_calendars_twice_changes_nothing(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")
    before = snapshot()

    tally = business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")

    assert snapshot() == before
    assert (tally.created, tally.updated, tally.unchanged) == (0, 0, 21)


def test_a_range_or_closed_day_the_pack_no_longer_lists_is_removed(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")
    data = support_data()
    data[0]["hours"] = [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "08:30", "closes": "12:30"},
        {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "14:30", "closes": "18:00"},
    ]
    data[0]["closed_days"] = [{"date": "2024-12-31", "reason": "Fin de año"}]

    tally = business_calendars_sync(world.operator, parse(data), pack_name="comteco-bo")

    support = BusinessCalendar.objects.get(organization=world.operator, name="Soporte técnico")
    assert rows(support) == [
        (day, start, end)
        for day in range(5)
        for start, end in [(time(8, 30), time(12, 30)), (time(14, 30), time(18))]
    ]
    assert list(support.closed_days.values_list("date", "reason")) == [
        (date(2024, 12, 31), "Fin de año")
    ]
    # Removed: 5 afternoons ending 18:30, Saturday, the 24th; added: 5 afternoons, the 31st.
    assert (tally.created, tally.updated) == (6, 7)


def test_a_new_reason_for_a_closed_day_updates_it_in_place(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")
    closed = ClosedDay.objects.get()
    data = support_data()
    data[0]["closed_days"][0]["reason"] = "Víspera de Navidad"

    tally = business_calendars_sync(world.operator, parse(data), pack_name="comteco-bo")

    assert ClosedDay.objects.get().pk == closed.pk
    assert ClosedDay.objects.get().reason == "Víspera de Navidad"
    assert (tally.created, tally.updated) == (0, 1)


def test_a_calendar_the_pack_drops_becomes_inactive_and_the_default_moves(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")
    noc_only = [support_data()[1]]

    business_calendars_sync(world.operator, parse(noc_only), pack_name="comteco-bo")

    assert list(
        BusinessCalendar.objects.filter(organization=world.operator)
        .order_by("name")
        .values_list("name", "is_active", "is_default")
    ) == [("NOC", True, True), ("Soporte técnico", False, False)]
    assert BusinessHours.objects.filter(calendar__name="Soporte técnico").count() == 11


def test_loading_one_organization_leaves_another_organizations_calendars_alone(
    world: World,
) -> None:
    business_calendars_sync(world.other_operator, parse(one_calendar()), pack_name="comteco-bo")
    before = snapshot()

    business_calendars_sync(world.operator, [], pack_name="comteco-bo")
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")

    other = BusinessCalendar.objects.get(organization=world.other_operator)
    assert (other.is_default, other.is_active) == (True, True)
    assert snapshot()["calendars"][0] == before["calendars"][0]


def test_the_pack_applier_loads_each_organizations_section(world: World) -> None:
    pack = SimpleNamespace(
        name="comteco-bo",
        organizations=[
            SimpleNamespace(
                slug="comteco-test",
                holidays_subdivision="C",
                business_calendars=parse(one_calendar()),
            ),
            SimpleNamespace(slug="claro-br-test", holidays_subdivision=None, business_calendars=[]),
        ],
    )
    organizations = {"comteco-test": world.operator, "claro-br-test": world.other_operator}

    tally = business_calendars_apply(pack, organizations)  # type: ignore[arg-type]

    assert list(BusinessCalendar.objects.values_list("organization__slug", "subdivision")) == [
        ("comteco-test", "C")
    ]
    assert (tally.created, tally.updated, tally.unchanged) == (2, 0, 0)


# --- the models -----------------------------------------------------------------------


def test_the_database_refuses_a_second_default_calendar(world: World) -> None:
    BusinessCalendar.objects.create(
        organization=world.operator, name="A", time_zone="America/La_Paz", is_default=True
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessCalendar.objects.create(
            organization=world.operator, name="B", time_zone="America/La_Paz", is_default=True
        )
    BusinessCalendar.objects.create(
        organization=world.other_operator, name="A", time_zone="America/La_Paz", is_default=True
    )
    assert BusinessCalendar.objects.filter(is_default=True).count() == 2


def test_the_database_refuses_hours_that_end_before_they_start(world: World) -> None:
    calendar = BusinessCalendar.objects.create(
        organization=world.operator, name="A", time_zone="America/La_Paz"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessHours.objects.create(calendar=calendar, weekday=0, start=time(18), end=time(9))
    BusinessHours.objects.create(calendar=calendar, weekday=0, start=time(18), end=time(0))
    assert str(calendar.hours.get()) == "Monday 18:00-24:00"


# --- the selectors --------------------------------------------------------------------


def test_calendar_spec_is_the_calendar_as_plain_data(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")
    support = BusinessCalendar.objects.get(name="Soporte técnico")

    spec = calendar_spec(support)

    assert spec == CalendarSpec(
        "America/La_Paz",
        (
            OpenRange(5, time(9), time(13)),
            *(
                OpenRange(day, start, end)
                for day in range(5)
                for start, end in [(time(14, 30), time(18, 30)), (time(8, 30), time(12, 30))]
            ),
        ),
        country="BO",
        subdivision="C",
        closed_dates=frozenset({date(2024, 12, 24)}),
    )


def test_the_organization_calendar_is_the_active_default_with_its_rows_in_three_queries(
    world: World, django_assert_num_queries: Any
) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")

    with django_assert_num_queries(3):
        calendar = organization_calendar(world.operator)
        assert calendar is not None
        spec = calendar_spec(calendar)

    assert calendar.name == "Soporte técnico"
    assert len(spec.ranges) == 11
    assert organization_calendar(world.other_operator) is None


def test_an_organization_without_a_calendar_works_round_the_clock(world: World) -> None:
    spec = organization_calendar_spec(world.other_operator)

    assert spec == CalendarSpec.round_the_clock("America/Sao_Paulo")
    start = datetime(2024, 2, 9, 16, 0, tzinfo=UTC)
    assert business_add(spec, start, timedelta(hours=24)) == start + timedelta(hours=24)


def test_a_ticket_in_cochabamba_skips_lunch_and_the_department_day(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")
    spec = organization_calendar_spec(world.operator)
    la_paz = ZoneInfo("America/La_Paz")
    # Fri 13 Sep 2024 11:30: 1 h to 12:30, 4 h in the afternoon, Sat 14 Sep is Cochabamba
    # Day (closed), Mon 16 Sep 08:30 + 3 h.
    opened = datetime(2024, 9, 13, 11, 30, tzinfo=la_paz)

    assert business_add(spec, opened, timedelta(hours=8)) == datetime(
        2024, 9, 16, 11, 30, tzinfo=la_paz
    )


def test_an_actor_lists_the_calendars_of_their_organization_default_first(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")

    names = [c.name for c in business_calendars(actor=world.actor(world.agent))]

    assert names == ["Soporte técnico", "NOC"]


def test_an_outsider_sees_no_calendar_of_another_organization(world: World) -> None:
    business_calendars_sync(world.operator, parse(support_data()), pack_name="comteco-bo")
    calendar = BusinessCalendar.objects.get(name="NOC")
    before = snapshot()

    outsider = world.actor(world.outsider)
    reseller_agent = world.actor(world.reseller_agent)

    assert list(business_calendars(actor=outsider)) == []
    assert list(business_calendars(actor=reseller_agent)) == []
    with pytest.raises(NotFound) as refused:
        business_calendar_get(actor=outsider, calendar_id=calendar.pk)
    assert refused.value.message == (
        "There is no such business calendar; choose one from the list of calendars."
    )
    assert (
        business_calendar_get(actor=world.actor(world.admin), calendar_id=calendar.pk) == calendar
    )
    assert snapshot() == before
