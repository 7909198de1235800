"""Ticket numbers: one sequence per organization, never the same number twice, even when
tickets are created at the same moment (threads with their own connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from telcodesk.tickets.models import Ticket, TicketCounter, ticket_number_display
from telcodesk.tickets.numbering import ticket_number_next
from telcodesk.tickets.services import ticket_create
from tests.conftest import World

from .conftest import Desk

WORKERS = 6
PER_WORKER = 3


@pytest.mark.django_db
def test_numbers_count_up_per_organization_and_read_as_t_and_six_digits(desk: Desk) -> None:
    world = desk.world
    first, second = desk.ticket(), desk.ticket()
    outsider = ticket_create(
        actor=world.actor(world.outsider),
        customer=desk.outsider_customer,
        category="technical",
        subject="Sem internet",
    )
    third = desk.ticket()
    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert outsider.number == 1
    assert third.display_number == "T-000003"
    assert ticket_number_display(1234567) == "T-1234567"
    assert TicketCounter.objects.get(organization=world.operator).last_number == 3


@pytest.mark.django_db
def test_a_failed_creation_gives_its_number_back(desk: Desk) -> None:
    desk.ticket()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert ticket_number_next(organization_id=desk.world.operator.pk) == 2
        raise RuntimeError("the creation failed after taking the number")
    assert desk.ticket().number == 2


@pytest.mark.django_db(transaction=True)
def test_the_number_is_only_taken_inside_the_tickets_transaction(world: World) -> None:
    with pytest.raises(RuntimeError, match="inside the ticket's transaction"):
        ticket_number_next(organization_id=world.operator.pk)


@pytest.mark.django_db(transaction=True)
def test_tickets_created_at_the_same_time_never_share_a_number(desk: Desk) -> None:
    """Six agents open three tickets each at once, starting with no counter row at all."""
    world = desk.world
    assert not TicketCounter.objects.exists()
    barrier = threading.Barrier(WORKERS)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            for _round in range(PER_WORKER):
                ticket = ticket_create(
                    actor=world.actor(world.agent),
                    customer=desk.customer,
                    category="technical",
                    subject="Sin servicio",
                )
                with lock:
                    numbers.append(ticket.number)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _worker in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    total = WORKERS * PER_WORKER
    assert sorted(numbers) == list(range(1, total + 1))
    assert sorted(Ticket.objects.values_list("number", flat=True)) == list(range(1, total + 1))
    assert TicketCounter.objects.get(organization=world.operator).last_number == total
