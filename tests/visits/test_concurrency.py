"""Agents booking a technician's last free visits at the same moment: the day's lock row
lets exactly as many win as the technician's daily capacity (PostgreSQL: real row locks
between connections; SQLite serializes writers by itself and is not tested here)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from telcodesk.core.errors import ValidationFailed
from telcodesk.visits.models import TechnicianDay, Visit
from telcodesk.visits.services import visit_book

from .conftest import NOW, Isp, local

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL only"
)


def _race(
    isp: Isp, technician_name: str, starts: list
) -> tuple[list[int], list[str], list[BaseException]]:  # type: ignore[type-arg]
    technician = isp.technician(technician_name)
    tickets = [isp.ticket() for _start in starts]
    barrier = threading.Barrier(len(starts))
    booked: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            visit = visit_book(
                actor=isp.actor(),
                ticket=tickets[index],
                starts_at=starts[index],
                technician_id=technician.pk,
                adult_present=True,
                now=NOW,
            )
            with lock:
                booked.append(visit.pk)
        except ValidationFailed as refusal:
            with lock:
                refused.append(refusal.message)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(starts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return booked, refused, errors


@pytest.mark.django_db(transaction=True)
def test_two_agents_booking_a_technician_s_last_visit_of_the_day_exactly_one_wins(
    isp: Isp,
) -> None:
    booked, refused, errors = _race(
        isp, "Marta Gómez", [local(2026, 12, 10, 9), local(2026, 12, 10, 11)]
    )

    assert errors == []
    assert len(booked) == 1
    assert refused == [
        "Marta Gómez already has 1 visit on Thursday, December 10, 2026, the most they take "
        "in a day. Choose another slot or technician."
    ]
    assert Visit.objects.filter(technician__name="Marta Gómez").count() == 1
    assert TechnicianDay.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_four_agents_on_a_technician_of_two_visits_a_day_book_exactly_two(isp: Isp) -> None:
    starts = [local(2026, 12, 10, hour) for hour in (9, 11, 13, 15)]

    booked, refused, errors = _race(isp, "Luis Pérez", starts)

    assert errors == []
    assert (len(booked), len(refused)) == (2, 2)
    assert Visit.objects.filter(technician__name="Luis Pérez", local_date="2026-12-10").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_agents_booking_the_same_slot_of_the_same_technician_exactly_one_wins(
    isp: Isp,
) -> None:
    slot = local(2026, 12, 11, 9)

    booked, refused, errors = _race(isp, "Luis Pérez", [slot, slot])

    assert errors == []
    assert len(booked) == 1
    assert refused == [
        "Luis Pérez already has a visit at 2026-12-11 09:00. Choose another slot or technician."
    ]
