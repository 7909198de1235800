"""Customers, services and tickets for the ticket tests, on top of the shared ``world``.

``desk.customer`` (Juana) and ``desk.other_customer`` are the operator's; Juana is
assigned to the reseller too. ``desk.outsider_customer`` belongs to the other
operator, whose admin (``world.outsider``) must see and change nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.models import User
from telcodesk.customers.models import Customer, CustomerAssignment, Subscription
from telcodesk.customers.services import customer_create, subscription_create
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.services import ticket_create
from tests.conftest import World


@dataclass
class Desk:
    world: World
    customer: Customer
    subscription: Subscription
    other_customer: Customer
    other_subscription: Subscription
    outsider_customer: Customer
    outsider_subscription: Subscription

    def ticket(self, user: User | None = None, **fields: Any) -> Ticket:
        """A ticket of Juana opened through the service (by the agent by default)."""
        defaults: dict[str, Any] = {
            "customer": self.customer,
            "category": "technical",
            "subject": "Sin internet desde ayer",
        }
        defaults.update(fields)
        return ticket_create(actor=self.world.actor(user or self.world.agent), **defaults)


def _customer(world: World, user: User, first: str, last: str, phone: str) -> Customer:
    return customer_create(
        actor=world.actor(user),
        first_name=first,
        last_name=last,
        phones=[{"raw": phone, "is_whatsapp": True}],
        emails=[{"raw": f"{first.lower()}@example.com"}],
    )


def _subscription(world: World, user: User, customer: Customer, service_id: str) -> Subscription:
    return subscription_create(
        actor=world.actor(user),
        customer=customer,
        service_id=service_id,
        contract_number=f"C-{service_id}",
        service_type="fiber_ftth",
        started_on=date(2024, 1, 15),
    )


@pytest.fixture
def desk(world: World) -> Desk:
    customer = _customer(world, world.agent, "Juana", "Mamani", "71234567")
    other = _customer(world, world.agent, "Pedro", "Rojas", "72345678")
    outsider_customer = _customer(world, world.outsider, "Maria", "Silva", "11987654321")
    CustomerAssignment.objects.create(customer=customer, reseller=world.reseller)
    return Desk(
        world=world,
        customer=customer,
        subscription=_subscription(world, world.back_office, customer, "FTTH-1001"),
        other_customer=other,
        other_subscription=_subscription(world, world.back_office, other, "FTTH-2002"),
        outsider_customer=outsider_customer,
        outsider_subscription=_subscription(world, world.outsider, outsider_customer, "BR-3003"),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
