"""The free slots of a ticket: the zone's technicians, inside business hours, within the
SLA window, never past a technician's daily capacity, narrowed by the availability."""

from __future__ import annotations

import pytest

from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.customers.services import customer_create
from telcodesk.visits.rules import Availability
from telcodesk.visits.selectors import visit_slots
from telcodesk.visits.services import visit_book

from .conftest import NOW, SLOTS, Isp, local

pytestmark = pytest.mark.django_db


def _names(slot: object) -> list[str]:
    return [t.name for t in slot.technicians]  # type: ignore[attr-defined]


def test_the_slots_are_the_window_s_slots_with_the_zone_s_technicians(isp: Isp) -> None:
    slots = visit_slots(actor=isp.actor(), ticket=isp.ticket(), now=NOW)

    assert [slot.starts_at for slot in slots] == SLOTS
    assert all(_names(slot) == ["Luis Pérez", "Marta Gómez"] for slot in slots)
    assert slots[0].ends_at == local(2026, 12, 9, 17)


def test_a_customer_of_the_north_zone_gets_its_technicians(isp: Isp) -> None:
    slots = visit_slots(actor=isp.actor(), ticket=isp.ticket(customer=isp.north_customer), now=NOW)

    assert _names(slots[0]) == ["Marta Gómez", "Nadia Ruiz"]


def test_mornings_and_a_date_range_narrow_the_slots(isp: Isp) -> None:
    ticket = isp.ticket()
    friday = local(2026, 12, 11, 0).date()

    mornings = visit_slots(
        actor=isp.actor(), ticket=ticket, availability=Availability(part_of_day="morning"), now=NOW
    )
    friday_afternoon = visit_slots(
        actor=isp.actor(),
        ticket=ticket,
        availability=Availability(part_of_day="afternoon", date_from=friday, date_to=friday),
        now=NOW,
    )

    assert [s.starts_at for s in mornings] == [
        local(2026, 12, 10, 9),
        local(2026, 12, 10, 11),
        local(2026, 12, 11, 9),
        local(2026, 12, 11, 11),
        local(2026, 12, 12, 9),
    ]
    assert [s.starts_at for s in friday_afternoon] == [
        local(2026, 12, 11, 13),
        local(2026, 12, 11, 15),
    ]


def test_a_technician_at_capacity_is_not_offered_that_day(isp: Isp) -> None:
    marta = isp.technician("Marta Gómez")
    visit_book(
        actor=isp.actor(),
        ticket=isp.ticket(),
        starts_at=local(2026, 12, 10, 9),
        technician_id=marta.pk,
        adult_present=True,
        now=NOW,
    )

    slots = visit_slots(actor=isp.actor(), ticket=isp.ticket(), now=NOW)
    by_time = {s.starts_at: _names(s) for s in slots}

    # Marta takes 1 visit a day: after Thursday 09:00 she is gone for the rest of Thursday.
    assert by_time[local(2026, 12, 10, 9)] == ["Luis Pérez"]
    assert by_time[local(2026, 12, 10, 11)] == ["Luis Pérez"]
    assert by_time[local(2026, 12, 10, 15)] == ["Luis Pérez"]
    assert by_time[local(2026, 12, 11, 9)] == ["Luis Pérez", "Marta Gómez"]
    assert len(slots) == 10


def test_a_fully_booked_slot_disappears(isp: Isp) -> None:
    for technician in ("Luis Pérez", "Marta Gómez"):
        visit_book(
            actor=isp.actor(),
            ticket=isp.ticket(),
            starts_at=SLOTS[0],
            technician_id=isp.technician(technician).pk,
            adult_present=True,
            now=NOW,
        )

    slots = visit_slots(actor=isp.actor(), ticket=isp.ticket(), now=NOW)

    assert [s.starts_at for s in slots] == SLOTS[1:]
    assert slots[0].technicians[0].name == "Luis Pérez"
    assert (slots[0].technicians[0].used, slots[0].technicians[1].used) == (0, 0)


def test_without_an_address_the_slots_are_refused_with_what_to_do(isp: Isp) -> None:
    homeless = customer_create(
        actor=isp.actor(), first_name="Sin", last_name="Casa", phones=[{"raw": "+52 722 555 0303"}]
    )

    with pytest.raises(ValidationFailed) as refused:
        visit_slots(actor=isp.actor(), ticket=isp.ticket(customer=homeless), now=NOW)

    assert refused.value.message == (
        "The customer has no installation address: add it to the customer's record before "
        "booking a visit."
    )


def test_an_address_no_zone_covers_is_refused(isp: Isp) -> None:
    from telcodesk.customers.services import address_add

    far = customer_create(
        actor=isp.actor(),
        first_name="Lejos",
        last_name="Mucho",
        phones=[{"raw": "+52 722 555 0404"}],
    )
    address_add(
        actor=isp.actor(),
        customer=far,
        purpose="installation",
        street="Camino Real",
        number="9",
        neighbourhood="La Loma",
        city="Metepec",
        postal_code="52140",
    )

    with pytest.raises(ValidationFailed) as refused:
        visit_slots(actor=isp.actor(), ticket=isp.ticket(customer=far), now=NOW)

    assert refused.value.details == {"zone": [refused.value.message]}
    assert refused.value.message.startswith("No technician zone covers Camino Real 9")


def test_an_outsider_gets_not_found(isp: Isp) -> None:
    ticket = isp.ticket()

    with pytest.raises(NotFound):
        visit_slots(actor=isp.world.actor(isp.world.outsider), ticket=ticket, now=NOW)
