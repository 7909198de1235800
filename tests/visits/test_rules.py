"""The pure rules: the SLA window in business hours, the slot grid, zone matching and
the customer's availability."""

from __future__ import annotations

from datetime import time, timedelta

from telcodesk.core.business_time import CalendarSpec, OpenRange
from telcodesk.visits.rules import (
    AddressFacts,
    Availability,
    Window,
    ZoneRules,
    slot_in_business_hours,
    slot_is_aligned,
    slot_times,
    visit_window,
    zone_for_address,
)

from .conftest import NOW, OPENED, SLOTS, local

SPEC = CalendarSpec(
    time_zone="America/Mexico_City",
    ranges=(
        *(OpenRange(day, time(9), time(18)) for day in range(5)),
        OpenRange(5, time(9), time(14)),
    ),
    country="MX",
)
TWO_HOURS = timedelta(hours=2)


def test_the_window_runs_from_24_to_48_business_hours_after_the_ticket_was_opened() -> None:
    window = visit_window(SPEC, opened_at=OPENED, now=NOW, min_hours=24, max_hours=48)

    assert window == Window(earliest=local(2026, 12, 9, 15), latest=local(2026, 12, 12, 12))


def test_a_ticket_booked_after_its_window_gets_the_window_from_the_booking_moment() -> None:
    late = local(2026, 12, 14, 9)  # the next Monday, after Saturday 12:00

    window = visit_window(SPEC, opened_at=OPENED, now=late, min_hours=24, max_hours=48)

    assert window == Window(earliest=local(2026, 12, 16, 15), latest=local(2026, 12, 19, 12))


def test_the_window_never_starts_before_now() -> None:
    later = local(2026, 12, 10, 10)

    window = visit_window(SPEC, opened_at=OPENED, now=later, min_hours=24, max_hours=48)

    assert window.earliest == later
    assert window.latest == local(2026, 12, 12, 12)


def test_slots_are_cut_from_each_opening_and_stay_inside_the_window() -> None:
    window = Window(earliest=local(2026, 12, 9, 15), latest=local(2026, 12, 12, 12))

    slots = list(slot_times(SPEC, window, TWO_HOURS))

    assert [start for start, _end in slots] == SLOTS
    assert all(end - start == TWO_HOURS for start, end in slots)


def test_a_public_holiday_has_no_slots() -> None:
    # 25 December 2026 is a Friday and a public holiday in Mexico.
    window = Window(earliest=local(2026, 12, 24, 9), latest=local(2026, 12, 26, 14))

    days = {start.astimezone(SPEC.zone).day for start, _end in slot_times(SPEC, window, TWO_HOURS)}

    assert days == {24, 26}


def test_a_slot_must_fit_inside_business_hours_and_on_the_grid() -> None:
    assert slot_in_business_hours(SPEC, local(2026, 12, 10, 15), local(2026, 12, 10, 17))
    assert not slot_in_business_hours(SPEC, local(2026, 12, 10, 17), local(2026, 12, 10, 19))
    assert not slot_in_business_hours(SPEC, local(2026, 12, 13, 9), local(2026, 12, 13, 11))
    assert slot_is_aligned(SPEC, local(2026, 12, 10, 11), TWO_HOURS)
    assert not slot_is_aligned(SPEC, local(2026, 12, 10, 10), TWO_HOURS)


def test_a_postal_code_wins_over_a_neighbourhood_and_a_neighbourhood_over_a_city() -> None:
    zones = [
        ZoneRules.of(1, neighbourhoods=[], postal_codes=[], cities=["Toluca"]),
        ZoneRules.of(2, neighbourhoods=["Colonia Juárez"], postal_codes=[], cities=[]),
        ZoneRules.of(3, neighbourhoods=[], postal_codes=["50100"], cities=[]),
    ]

    assert zone_for_address(zones, AddressFacts("colonia juarez", "", "Toluca", "50100")) == 3
    assert zone_for_address(zones, AddressFacts("COLONIA  JUÁREZ", "", "Toluca", "")) == 2
    assert zone_for_address(zones, AddressFacts("San Lorenzo", "", "toluca", "")) == 1
    assert zone_for_address(zones, AddressFacts("San Lorenzo", "", "Metepec", "")) is None


def test_a_neighbourhood_zone_with_cities_needs_one_of_its_cities() -> None:
    zones = [ZoneRules.of(7, neighbourhoods=["Centro"], postal_codes=[], cities=["Toluca"])]

    assert zone_for_address(zones, AddressFacts("Centro", "", "Toluca", "")) == 7
    assert zone_for_address(zones, AddressFacts("Centro", "", "Metepec", "")) is None
    assert zone_for_address(zones, AddressFacts("", "Centro", "Toluca", "")) == 7


def test_availability_narrows_by_part_of_day_and_dates() -> None:
    tz = "America/Mexico_City"
    morning = Availability(part_of_day="morning")
    afternoon = Availability(part_of_day="afternoon")
    friday_only = Availability(
        date_from=local(2026, 12, 11, 0).date(), date_to=local(2026, 12, 11, 0).date()
    )

    assert morning.allows(local(2026, 12, 10, 11), tz)
    assert not morning.allows(local(2026, 12, 10, 13), tz)
    assert afternoon.allows(local(2026, 12, 10, 13), tz)
    assert not afternoon.allows(local(2026, 12, 10, 11), tz)
    assert friday_only.allows(local(2026, 12, 11, 15), tz)
    assert not friday_only.allows(local(2026, 12, 10, 15), tz)
