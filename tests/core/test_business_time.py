"""Business time: hand-computed cases, DST changes, holidays, and properties for AR BO EC MX BR.

The oracle in the property tests is independent of the code under test: it looks at
the local wall clock of an instant and asks the ``holidays`` package directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from telcodesk.core.business_time import (
    CalendarSpec,
    OpenRange,
    business_add,
    business_between,
    business_is_open,
    business_next_open,
    business_open_ranges,
    public_holidays,
)

H = timedelta(hours=1)
MEXICO_CITY = ZoneInfo("America/Mexico_City")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
SANTIAGO = ZoneInfo("America/Santiago")
ASUNCION = ZoneInfo("America/Asuncion")
GUAYAQUIL = ZoneInfo("America/Guayaquil")
LA_PAZ = ZoneInfo("America/La_Paz")
TUCUMAN = ZoneInfo("America/Argentina/Tucuman")


def weekdays(start: time, end: time, days: range = range(5)) -> tuple[OpenRange, ...]:
    return tuple(OpenRange(day, start, end) for day in days)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# The wisp-mx support desk: Monday to Friday 09:00-18:00, Saturday 09:00-14:00.
WISP_MX = CalendarSpec(
    "America/Mexico_City",
    (*weekdays(time(9), time(18)), OpenRange(5, time(9), time(14))),
    country="MX",
)


# --- hand-computed cases ---------------------------------------------------------------


def test_a_ticket_on_friday_evening_plus_24_business_hours_skips_independence_day() -> None:
    # Fri 13 Sep 2024 18:30 (closed) -> Sat 09-14 (5 h), Sun closed, Mon 16 Sep is
    # Independence Day, Tue 9 h (14), Wed 9 h (23), Thu 09:00 + 1 h.
    opened = datetime(2024, 9, 13, 18, 30, tzinfo=MEXICO_CITY)

    due = business_add(WISP_MX, opened, 24 * H)

    assert due == utc(2024, 9, 19, 16, 0)
    assert due.astimezone(MEXICO_CITY) == datetime(2024, 9, 19, 10, 0, tzinfo=MEXICO_CITY)
    assert due.tzinfo is UTC


def test_the_48_business_hour_visit_window_of_that_ticket_ends_on_monday_at_11() -> None:
    # From Thu 19 Sep 10:00: Thu 8 h, Fri 9 h, Sat 5 h (22), Mon 23 Sep 09:00 + 2 h.
    opened = datetime(2024, 9, 13, 18, 30, tzinfo=MEXICO_CITY)

    assert business_add(WISP_MX, opened, 48 * H) == utc(2024, 9, 23, 17, 0)
    assert business_between(WISP_MX, opened, utc(2024, 9, 23, 17, 0)) == 48 * H


def test_independence_day_counts_no_business_time() -> None:
    start = datetime(2024, 9, 16, 0, 0, tzinfo=MEXICO_CITY)

    assert business_between(WISP_MX, start, start + 24 * H) == timedelta(0)
    assert not business_is_open(WISP_MX, datetime(2024, 9, 16, 10, 0, tzinfo=MEXICO_CITY))
    assert business_is_open(WISP_MX, datetime(2024, 9, 17, 10, 0, tzinfo=MEXICO_CITY))


def test_zero_duration_is_the_same_moment_when_open() -> None:
    at = datetime(2024, 9, 17, 10, 15, tzinfo=MEXICO_CITY)

    assert business_add(WISP_MX, at, timedelta(0)) == at
    assert business_next_open(WISP_MX, at) == utc(2024, 9, 17, 16, 15)


def test_zero_duration_is_the_next_opening_when_closed() -> None:
    friday_evening = datetime(2024, 9, 13, 18, 30, tzinfo=MEXICO_CITY)

    assert business_add(WISP_MX, friday_evening, timedelta(0)) == utc(2024, 9, 14, 15, 0)
    assert business_next_open(WISP_MX, friday_evening) == utc(2024, 9, 14, 15, 0)


def test_work_that_ends_at_closing_time_is_due_at_closing_time_not_next_morning() -> None:
    monday_morning = datetime(2024, 9, 23, 9, 0, tzinfo=MEXICO_CITY)

    due = business_add(WISP_MX, monday_morning, 9 * H)

    assert due == datetime(2024, 9, 23, 18, 0, tzinfo=MEXICO_CITY)
    assert not business_is_open(WISP_MX, due)
    assert business_is_open(WISP_MX, monday_morning)


def test_business_between_is_negative_when_the_end_comes_first() -> None:
    start = datetime(2024, 9, 23, 9, 0, tzinfo=MEXICO_CITY)
    end = datetime(2024, 9, 24, 12, 0, tzinfo=MEXICO_CITY)

    assert business_between(WISP_MX, start, end) == 12 * H
    assert business_between(WISP_MX, end, start) == -12 * H


def test_the_answer_does_not_depend_on_the_time_zone_of_the_input() -> None:
    in_mexico = datetime(2024, 9, 13, 18, 30, tzinfo=MEXICO_CITY)
    in_kolkata = in_mexico.astimezone(timezone(timedelta(hours=5, minutes=30)))

    assert business_add(WISP_MX, in_kolkata, 24 * H) == business_add(WISP_MX, in_mexico, 24 * H)


SPLIT_SHIFT = CalendarSpec(
    "America/Guayaquil",
    (*weekdays(time(9), time(13)), *weekdays(time(15), time(19))),
    country="EC",
)


def test_a_split_shift_skips_the_lunch_break() -> None:
    noon = datetime(2024, 6, 3, 12, 0, tzinfo=GUAYAQUIL)  # a Monday

    assert business_add(SPLIT_SHIFT, noon, 3 * H) == datetime(2024, 6, 3, 17, 0, tzinfo=GUAYAQUIL)
    assert business_between(SPLIT_SHIFT, noon, noon + 5 * H) == 3 * H
    assert [
        business_is_open(SPLIT_SHIFT, datetime(2024, 6, 3, hour, minute, tzinfo=GUAYAQUIL))
        for hour, minute in [(12, 59), (13, 0), (14, 0), (15, 0), (18, 59), (19, 0)]
    ] == [True, False, False, True, True, False]


def test_open_ranges_list_each_opening_of_a_split_day_in_utc() -> None:
    monday = datetime(2024, 6, 3, 0, 0, tzinfo=GUAYAQUIL)

    assert business_open_ranges(SPLIT_SHIFT, monday, monday + 24 * H) == [
        (utc(2024, 6, 3, 14, 0), utc(2024, 6, 3, 18, 0)),
        (utc(2024, 6, 3, 20, 0), utc(2024, 6, 4, 0, 0)),
    ]


def test_ranges_that_touch_are_one_opening_also_across_midnight() -> None:
    night_shift = CalendarSpec(
        "America/Guayaquil",
        (
            OpenRange(0, time(9), time(13)),
            OpenRange(0, time(13), time(18)),
            OpenRange(0, time(22), time(0)),
            OpenRange(1, time(0), time(6)),
        ),
    )
    monday = datetime(2024, 6, 3, 0, 0, tzinfo=GUAYAQUIL)

    assert business_open_ranges(night_shift, monday, monday + 48 * H) == [
        (utc(2024, 6, 3, 14, 0), utc(2024, 6, 3, 23, 0)),
        (utc(2024, 6, 4, 3, 0), utc(2024, 6, 4, 11, 0)),
    ]


def test_ecuador_counts_its_observed_holidays() -> None:
    # 2024: Labor Day (Wed 1 May) observed on Fri 3 May too; both are closed.
    calendar = CalendarSpec("America/Guayaquil", weekdays(time(8), time(17)), country="EC")
    monday = datetime(2024, 4, 29, 0, 0, tzinfo=GUAYAQUIL)

    assert business_between(calendar, monday, monday + 7 * 24 * H) == 3 * 9 * H


def test_sao_paulo_state_closes_on_9_july_and_rio_de_janeiro_does_not() -> None:
    hours = weekdays(time(8), time(17))
    sao_paulo = CalendarSpec("America/Sao_Paulo", hours, country="BR", subdivision="SP")
    rio = CalendarSpec("America/Sao_Paulo", hours, country="BR", subdivision="RJ")
    monday = datetime(2024, 7, 8, 8, 0, tzinfo=SAO_PAULO)
    wednesday = datetime(2024, 7, 10, 8, 0, tzinfo=SAO_PAULO)

    assert business_between(sao_paulo, monday, wednesday) == 9 * H
    assert business_between(rio, monday, wednesday) == 18 * H


def test_carnival_is_a_business_day_in_sao_paulo_unless_it_is_a_closed_day() -> None:
    # holidays.BR puts Carnival in its "optional" category, which calendars do not use.
    hours = weekdays(time(8), time(17))
    plain = CalendarSpec("America/Sao_Paulo", hours, country="BR", subdivision="SP")
    carnival_closed = CalendarSpec(
        "America/Sao_Paulo",
        hours,
        country="BR",
        subdivision="SP",
        closed_dates=frozenset({date(2024, 2, 12), date(2024, 2, 13)}),
    )
    friday = datetime(2024, 2, 9, 16, 0, tzinfo=SAO_PAULO)

    assert business_add(plain, friday, 4 * H) == datetime(2024, 2, 12, 11, 0, tzinfo=SAO_PAULO)
    assert business_add(carnival_closed, friday, 4 * H) == datetime(
        2024, 2, 14, 11, 0, tzinfo=SAO_PAULO
    )


def test_tucuman_closes_on_the_anniversary_of_its_battle() -> None:
    hours = weekdays(time(9), time(17))
    tucuman = CalendarSpec("America/Argentina/Tucuman", hours, country="AR", subdivision="T")
    buenos_aires = CalendarSpec("America/Argentina/Tucuman", hours, country="AR", subdivision="B")
    monday = datetime(2024, 9, 23, 9, 0, tzinfo=TUCUMAN)

    assert business_add(tucuman, monday, 16 * H) == datetime(2024, 9, 25, 17, 0, tzinfo=TUCUMAN)
    assert business_add(buenos_aires, monday, 16 * H) == datetime(
        2024, 9, 24, 17, 0, tzinfo=TUCUMAN
    )


def test_la_paz_and_cochabamba_have_their_own_department_day() -> None:
    hours = weekdays(time(8, 30), time(16, 30))
    la_paz = CalendarSpec("America/La_Paz", hours, country="BO", subdivision="L")
    cochabamba = CalendarSpec("America/La_Paz", hours, country="BO", subdivision="C")
    tuesday_16_july_2024 = datetime(2024, 7, 16, 10, 0, tzinfo=LA_PAZ)
    thursday_14_september_2023 = datetime(2023, 9, 14, 10, 0, tzinfo=LA_PAZ)

    assert not business_is_open(la_paz, tuesday_16_july_2024)
    assert business_is_open(cochabamba, tuesday_16_july_2024)
    assert not business_is_open(cochabamba, thursday_14_september_2023)
    assert business_is_open(la_paz, thursday_14_september_2023)


def test_six_weeks_of_business_time_across_christmas_and_new_year() -> None:
    # A week holds 50 h (5 x 9 h + 5 h on Saturday): from Mon 9 Dec 2024 09:00, six
    # weeks would be 300 h, but 25 Dec and 1 Jan (Wednesdays) are holidays, so the
    # last 18 h are Mon 20 and Tue 21 Jan 2025, done at Tuesday's closing.
    start = datetime(2024, 12, 9, 9, 0, tzinfo=MEXICO_CITY)

    due = business_add(WISP_MX, start, 300 * H)

    assert due == datetime(2025, 1, 21, 18, 0, tzinfo=MEXICO_CITY)
    assert business_between(WISP_MX, start, due) == 300 * H


def test_the_holidays_of_a_year_are_computed_once() -> None:
    public_holidays.cache_clear()
    start = datetime(2024, 3, 4, 9, 0, tzinfo=MEXICO_CITY)

    for hours in range(1, 60):
        business_add(WISP_MX, start, hours * H)

    info = public_holidays.cache_info()
    assert (info.misses, info.hits > 0) == (1, True)


# --- DST -------------------------------------------------------------------------------


def test_sao_paulo_office_hours_follow_the_wall_clock_across_the_2018_dst_start() -> None:
    # Clocks went from 00:00 to 01:00 on Sun 4 Nov 2018 (UTC-3 -> UTC-2); Fri 2 Nov is
    # All Souls' Day. Thu 1 Nov 17:00 + 2 h = Thu 1 h, then Mon 5 Nov 09:00 + 1 h.
    calendar = CalendarSpec("America/Sao_Paulo", weekdays(time(9), time(18)), country="BR")
    thursday = datetime(2018, 11, 1, 17, 0, tzinfo=SAO_PAULO)

    due = business_add(calendar, thursday, 2 * H)

    assert due == utc(2018, 11, 5, 12, 0)
    assert due.astimezone(SAO_PAULO).hour == 10


def test_a_round_the_clock_calendar_has_a_23_hour_and_a_25_hour_day_in_sao_paulo() -> None:
    always = CalendarSpec.round_the_clock("America/Sao_Paulo")

    assert (
        business_between(
            always,
            datetime(2018, 11, 4, 1, 0, tzinfo=SAO_PAULO),
            datetime(2018, 11, 5, tzinfo=SAO_PAULO),
        )
        == 23 * H
    )
    assert (
        business_between(
            always, datetime(2019, 2, 16, tzinfo=SAO_PAULO), datetime(2019, 2, 17, tzinfo=SAO_PAULO)
        )
        == 25 * H
    )


def test_a_night_shift_is_an_hour_shorter_when_mexico_city_sprang_forward_in_2021() -> None:
    # Sun 4 Apr 2021: 02:00 CST became 03:00 CDT.
    night = CalendarSpec(
        "America/Mexico_City",
        (*weekdays(time(22), time(0), range(7)), *weekdays(time(0), time(6), range(7))),
    )
    saturday_evening = datetime(2021, 4, 3, 20, 0, tzinfo=MEXICO_CITY)

    assert business_open_ranges(night, saturday_evening, saturday_evening + 16 * H) == [
        (utc(2021, 4, 4, 4, 0), utc(2021, 4, 4, 11, 0))
    ]
    # ... and an hour longer when it fell back (Sun 31 Oct 2021, 02:00 CDT -> 01:00 CST).
    october = datetime(2021, 10, 30, 20, 0, tzinfo=MEXICO_CITY)
    assert business_between(night, october, october + 17 * H) == 9 * H


def test_a_range_that_opens_in_the_skipped_hour_opens_when_the_clocks_jump() -> None:
    sunday = CalendarSpec("America/Mexico_City", (OpenRange(6, time(2, 30), time(10)),))
    before = datetime(2021, 4, 4, 1, 0, tzinfo=MEXICO_CITY)  # 07:00 UTC

    assert business_next_open(sunday, before) == utc(2021, 4, 4, 8, 0)
    assert business_between(sunday, before, before + 12 * H) == 7 * H


def test_a_range_ending_in_the_repeated_hour_is_open_during_both_passes_of_it() -> None:
    # Sun 31 Oct 2021: 01:00-02:00 happened twice in Mexico City.
    sunday = CalendarSpec("America/Mexico_City", (OpenRange(6, time(0), time(1, 30)),))
    saturday = datetime(2021, 10, 30, 12, 0, tzinfo=MEXICO_CITY)

    assert business_open_ranges(sunday, saturday, saturday + 24 * H) == [
        (utc(2021, 10, 31, 5, 0), utc(2021, 10, 31, 6, 30)),
        (utc(2021, 10, 31, 7, 0), utc(2021, 10, 31, 7, 30)),
    ]


def test_mexico_city_has_no_dst_change_after_2022() -> None:
    always = CalendarSpec.round_the_clock("America/Mexico_City")
    first_sunday_of_april_2023 = datetime(2023, 4, 2, tzinfo=MEXICO_CITY)

    assert (
        business_between(
            always, first_sunday_of_april_2023, datetime(2023, 4, 3, tzinfo=MEXICO_CITY)
        )
        == 24 * H
    )


def test_santiago_repeats_the_last_hour_of_saturday_1_april_2023() -> None:
    # Clocks went back from Sun 00:00 (UTC-3) to Sat 23:00 (UTC-4).
    saturday_evening = CalendarSpec("America/Santiago", (OpenRange(5, time(20), time(0)),))
    opens = datetime(2023, 4, 1, 20, 0, tzinfo=SANTIAGO)

    assert business_between(saturday_evening, opens, opens + 24 * H) == 5 * H
    # 4 h 30 min after 20:00 is 23:30 of the second pass (UTC-4).
    assert business_add(saturday_evening, opens, 4.5 * H) == utc(2023, 4, 2, 3, 30)


def test_santiago_night_shift_skips_the_first_hour_of_sunday_3_september_2023() -> None:
    night = CalendarSpec(
        "America/Santiago", (OpenRange(5, time(22), time(0)), OpenRange(6, time(0), time(6)))
    )
    saturday = datetime(2023, 9, 2, 12, 0, tzinfo=SANTIAGO)

    assert business_open_ranges(night, saturday, saturday + 24 * H) == [
        (utc(2023, 9, 3, 2, 0), utc(2023, 9, 3, 9, 0))
    ]


def test_asuncion_with_paraguayan_holidays_across_the_october_2023_change() -> None:
    always = CalendarSpec(
        "America/Asuncion", CalendarSpec.round_the_clock("America/Asuncion").ranges, country="PY"
    )
    # Fri 29 Sep 2023 is Boqueron Battle Day (closed); Sun 1 Oct had 23 hours.
    friday = datetime(2023, 9, 29, tzinfo=ASUNCION)
    monday = datetime(2023, 10, 2, tzinfo=ASUNCION)

    assert business_between(always, friday, monday) == 24 * H + 23 * H


# --- bad input --------------------------------------------------------------------------


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        business_add(WISP_MX, datetime(2024, 9, 13, 18, 30), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_between(WISP_MX, utc(2024, 9, 13, 0, 0), datetime(2024, 9, 14))


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        business_add(WISP_MX, utc(2024, 9, 13, 0, 0), -H)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"time_zone": "America/Cancun_City"}, "not a known IANA time zone"),
        ({"country": "XX"}, "not a country of the holidays package"),
        ({"country": "MX", "subdivision": "SP"}, "not a holidays subdivision of MX"),
        ({"subdivision": "SP"}, "needs its country"),
        (
            {"ranges": (OpenRange(0, time(9), time(13)), OpenRange(0, time(12), time(18)))},
            "ranges overlap",
        ),
    ],
)
def test_a_bad_calendar_is_refused(arguments: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"time_zone": "America/Mexico_City", "ranges": WISP_MX.ranges}
    values.update(arguments)

    with pytest.raises(ValueError, match=message):
        CalendarSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("weekday", "start", "end", "message"),
    [
        (7, time(9), time(18), "weekday must be 0"),
        (True, time(9), time(18), "weekday must be 0"),
        (0, time(18), time(9), "end after it starts"),
        (0, time(9), time(9), "end after it starts"),
        (0, time(9, tzinfo=UTC), time(18), "naive"),
    ],
)
def test_a_bad_range_is_refused(weekday: int, start: time, end: time, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpenRange(weekday, start, end)


def test_a_calendar_without_hours_is_never_open() -> None:
    closed = CalendarSpec("America/Mexico_City", ())
    at = utc(2024, 9, 13, 15, 0)

    assert not business_is_open(closed, at)
    assert business_between(closed, at, at + 100 * H) == timedelta(0)
    with pytest.raises(ValueError, match="never opens"):
        business_add(closed, at, H)


def test_a_calendar_closed_for_years_is_refused_instead_of_walked_forever() -> None:
    start = date(2024, 1, 1)
    closed = CalendarSpec(
        "America/Mexico_City",
        WISP_MX.ranges,
        closed_dates=frozenset(start + timedelta(days=n) for n in range(800)),
    )

    with pytest.raises(ValueError, match="closed for more than two years"):
        business_add(closed, utc(2024, 1, 1, 0, 0), H)
    assert business_add(closed, utc(2023, 12, 29, 23, 0), H) == utc(2023, 12, 30, 0, 0)


# --- properties for the five countries ----------------------------------------------------

COUNTRIES: dict[str, tuple[str, list[str]]] = {
    "AR": ("America/Argentina/Buenos_Aires", ["", "A", "T"]),
    "BO": ("America/La_Paz", ["", "C", "L"]),
    "EC": ("America/Guayaquil", [""]),
    "MX": ("America/Mexico_City", [""]),
    "BR": ("America/Sao_Paulo", ["", "SP", "RJ"]),
}
# Days around DST changes of the zones above, where the walk has most to get right.
DST_CHANGES = [
    datetime(2018, 11, 4, 3, 0, tzinfo=UTC),  # Sao Paulo forward
    datetime(2019, 2, 17, 2, 0, tzinfo=UTC),  # Sao Paulo back
    datetime(2021, 4, 4, 8, 0, tzinfo=UTC),  # Mexico City forward
    datetime(2021, 10, 31, 7, 0, tzinfo=UTC),  # Mexico City back
]
FIRST = datetime(2015, 1, 1, tzinfo=UTC)
LAST = datetime(2026, 12, 31, tzinfo=UTC)


@cache
def _oracle_holidays(country: str, subdivision: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision or None, years=range(2014, 2028))


def oracle_open(spec: CalendarSpec, instant: datetime) -> bool:
    """Open by looking at the wall clock: no DST arithmetic of the code under test."""
    local = instant.astimezone(ZoneInfo(spec.time_zone))
    day, clock = local.date(), local.time()
    if day in spec.closed_dates or (
        spec.country and day in _oracle_holidays(spec.country, spec.subdivision)
    ):
        return False
    return any(
        r.weekday == day.weekday() and r.start <= clock and (r.end == time(0) or clock < r.end)
        for r in spec.ranges
    )


@st.composite
def calendars(draw: st.DrawFn, *, around: datetime | None = None) -> CalendarSpec:
    country = draw(st.sampled_from(sorted(COUNTRIES)))
    zone, subdivisions = COUNTRIES[country]
    ranges: list[OpenRange] = []
    for weekday in range(7):
        count = draw(st.integers(0, 3))
        marks = sorted(
            draw(st.sets(st.integers(0, 24 * 60), min_size=2 * count, max_size=2 * count))
        )
        for start, end in zip(marks[::2], marks[1::2], strict=True):
            ranges.append(
                OpenRange(
                    weekday,
                    time(start // 60, start % 60),
                    time(0) if end == 24 * 60 else time(end // 60, end % 60),
                )
            )
    assume(ranges)
    near = (around or FIRST).date()
    closed = draw(
        st.frozensets(st.integers(-10, 40).map(lambda n: near + timedelta(days=n)), max_size=8)
    )
    return CalendarSpec(
        zone,
        tuple(ranges),
        country=country,
        subdivision=draw(st.sampled_from(subdivisions)),
        closed_dates=closed,
    )


moments = st.one_of(
    st.datetimes(min_value=FIRST.replace(tzinfo=None), max_value=LAST.replace(tzinfo=None)).map(
        lambda moment: moment.replace(tzinfo=UTC)
    ),
    st.tuples(st.sampled_from(DST_CHANGES), st.integers(-3 * 24 * 60, 24 * 60)).map(
        lambda pair: pair[0] + timedelta(minutes=pair[1])
    ),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(weeks=3))


@st.composite
def calendar_and_moment(draw: st.DrawFn) -> tuple[CalendarSpec, datetime]:
    moment = draw(moments)
    return draw(calendars(around=moment)), moment


@settings(max_examples=300, deadline=None)
@given(calendar_and_moment(), durations)
def test_adding_business_time_then_counting_it_gives_the_same_amount(
    case: tuple[CalendarSpec, datetime], duration: timedelta
) -> None:
    spec, start = case

    due = business_add(spec, start, duration)

    assert due >= start
    assert business_between(spec, start, due) == duration


@settings(max_examples=300, deadline=None)
@given(calendar_and_moment(), durations)
def test_a_result_is_never_on_a_holiday_closed_day_or_outside_hours_but_at_a_closing(
    case: tuple[CalendarSpec, datetime], duration: timedelta
) -> None:
    spec, start = case

    due = business_add(spec, start, duration)

    if duration:
        # The last microsecond of the work was business time, so the result is still
        # open or exactly a closing.
        assert oracle_open(spec, due - timedelta(microseconds=1))
    else:
        assert oracle_open(spec, due)
    assert business_is_open(spec, due) == oracle_open(spec, due)


@settings(max_examples=300, deadline=None)
@given(calendar_and_moment(), st.lists(durations, min_size=2, max_size=2))
def test_business_between_is_additive_over_any_split_point(
    case: tuple[CalendarSpec, datetime], gaps: list[timedelta]
) -> None:
    spec, start = case
    middle = start + gaps[0]
    end = middle + gaps[1]

    total = business_between(spec, start, end)

    assert total == business_between(spec, start, middle) + business_between(spec, middle, end)
    # ... also with the split point outside [start, end]: counting backwards is negative.
    assert total == business_between(spec, start, end + H) + business_between(spec, end + H, end)


@settings(max_examples=200, deadline=None)
@given(calendar_and_moment())
def test_zero_duration_is_the_moment_itself_if_open_else_the_next_opening(
    case: tuple[CalendarSpec, datetime],
) -> None:
    spec, moment = case

    result = business_add(spec, moment, timedelta(0))

    assert result == business_next_open(spec, moment)
    if business_is_open(spec, moment):
        assert result == moment
    else:
        assert result > moment
        assert business_between(spec, moment, result) == timedelta(0)
    assert business_is_open(spec, result)


@settings(max_examples=200, deadline=None)
@given(calendar_and_moment(), durations, durations)
def test_more_business_time_never_ends_earlier(
    case: tuple[CalendarSpec, datetime], first: timedelta, second: timedelta
) -> None:
    spec, start = case
    shorter, longer = sorted([first, second])

    assert business_add(spec, start, shorter) <= business_add(spec, start, longer)


@settings(max_examples=60, deadline=None)
@given(calendar_and_moment())
def test_business_between_matches_a_minute_by_minute_count_of_the_wall_clock(
    case: tuple[CalendarSpec, datetime],
) -> None:
    spec, moment = case
    start = moment.replace(second=0, microsecond=0)
    minutes = 3 * 24 * 60

    counted = sum(oracle_open(spec, start + timedelta(minutes=n)) for n in range(minutes))

    assert business_between(spec, start, start + timedelta(minutes=minutes)) == timedelta(
        minutes=counted
    )


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([zone for zone, _subdivisions in COUNTRIES.values()]), moments, durations)
def test_a_round_the_clock_calendar_counts_plain_elapsed_time(
    zone: str, start: datetime, duration: timedelta
) -> None:
    always = CalendarSpec.round_the_clock(zone)

    assert business_add(always, start, duration) == start + duration
    assert business_between(always, start, start + duration) == duration
