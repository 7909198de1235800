"""A small ISP in Mexico City loaded from a pack file, with zones, technicians and a
customer, on top of the shared ``world`` (whose ``outsider`` must see nothing of ours).

The calendar is wisp-mx's: Mon–Fri 09:00–18:00, Sat 09:00–14:00, America/Mexico_City
(UTC-6, no DST). Tickets are opened on Monday 7 December 2026 at 09:00 local
(``OPENED``); the agent works at 10:00 (``NOW``). With 2-hour slots and a window of 24
to 48 business hours the window runs from Wednesday 15:00 to Saturday 12:00, so the
slots are Wed 15:00; Thu and Fri 09:00, 11:00, 13:00, 15:00; Sat 09:00 (ten in all).

Zones: ``centro`` (neighbourhood Centro in Toluca) and ``norte`` (postal code 50100).
Technicians: Luis Pérez (centro, 2 a day), Marta Gómez (centro and norte, 1 a day),
Nadia Ruiz (norte, 3 a day).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from telcodesk.accounts.models import Organization, User
from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, Subscription
from telcodesk.customers.services import address_add, customer_create, subscription_create
from telcodesk.packs.loader import pack_load
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.services import ticket_create
from telcodesk.visits.models import Technician, Zone
from tests.conftest import World, make_user

MX = ZoneInfo("America/Mexico_City")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Mexico City wall-clock time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=MX)


OPENED = local(2026, 12, 7, 9)
NOW = local(2026, 12, 7, 10)

SLOTS = [
    local(2026, 12, 9, 15),
    local(2026, 12, 10, 9),
    local(2026, 12, 10, 11),
    local(2026, 12, 10, 13),
    local(2026, 12, 10, 15),
    local(2026, 12, 11, 9),
    local(2026, 12, 11, 11),
    local(2026, 12, 11, 13),
    local(2026, 12, 11, 15),
    local(2026, 12, 12, 9),
]

VISITS_SECTION: dict[str, Any] = {
    "slot_minutes": 120,
    "window_min_business_hours": 24,
    "window_max_business_hours": 48,
    "calendar": "Soporte técnico",
    "templates": {"booked": "visita_agendada"},
    "zones": [
        {"key": "centro", "name": "Centro", "neighbourhoods": ["Centro"], "cities": ["Toluca"]},
        {"key": "norte", "name": "Norte", "postal_codes": ["50100"]},
    ],
    "technicians": [
        {"name": "Luis Pérez", "phone": "+527221234567", "zones": ["centro"], "daily_capacity": 2},
        {"name": "Marta Gómez", "zones": ["centro", "norte"], "daily_capacity": 1},
        {"name": "Nadia Ruiz", "zones": ["norte"], "daily_capacity": 3},
    ],
}


def pack_data(visits: dict[str, Any] | None = None, version: str = "1.0.0") -> dict[str, Any]:
    return {
        "name": "visits-test",
        "version": version,
        "title": "Visits test ISP",
        "organizations": [
            {
                "slug": "isp-mx-test",
                "name": "ISP MX Test",
                "kind": "operator",
                "country": "MX",
                "currency": "MXN",
                "time_zone": "America/Mexico_City",
                "languages": ["es", "en"],
                "default_language": "es",
                "branding": {"name": "ISP MX", "color": "#00897b", "logo_text": "IM"},
                "business_calendars": [
                    {
                        "name": "Soporte técnico",
                        "default": True,
                        "hours": [
                            {
                                "days": ["mon", "tue", "wed", "thu", "fri"],
                                "opens": "09:00",
                                "closes": "18:00",
                            },
                            {"days": ["sat"], "opens": "09:00", "closes": "14:00"},
                        ],
                    }
                ],
                "visits": VISITS_SECTION if visits is None else visits,
            }
        ],
    }


def load_pack(tmp_path: Path, data: dict[str, Any]) -> Any:
    # JSON is YAML: the loader reads the file exactly as it reads a bundled pack.
    path = tmp_path / f"{data['name']}-{data['version']}.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return pack_load(path)


@dataclass
class Isp:
    world: World
    organization: Organization
    agent: User
    supervisor: User
    customer: Customer
    subscription: Subscription
    north_customer: Customer

    def actor(self, user: User | None = None) -> Actor:
        return self.world.actor(user or self.agent, self.organization)

    def zone(self, key: str) -> Zone:
        return Zone.objects.get(organization=self.organization, key=key)

    def technician(self, name: str) -> Technician:
        return Technician.objects.get(organization=self.organization, name=name)

    def ticket(self, customer: Customer | None = None, **fields: Any) -> Ticket:
        """A ticket opened through the service, dated ``OPENED``."""
        values: dict[str, Any] = {
            "customer": customer or self.customer,
            "category": "technical",
            "subject": "Sin internet",
        }
        if customer is None:
            values["subscription"] = self.subscription
        values.update(fields)
        ticket = ticket_create(actor=self.actor(), **values)
        # The creation moment is the window's anchor; fix it so the slots are known.
        Ticket.objects.filter(pk=ticket.pk).update(created_at=OPENED)
        ticket.refresh_from_db()
        return ticket


@pytest.fixture
def isp(world: World, tmp_path: Path) -> Isp:
    load_pack(tmp_path, pack_data())
    organization = Organization.objects.get(slug="isp-mx-test")
    agent = make_user("mx-agent", organization, Role.AGENT, first_name="Rosa", last_name="Lima")
    supervisor = make_user("mx-supervisor", organization, Role.SUPERVISOR)
    actor = world.actor(agent, organization)
    customer = customer_create(
        actor=actor,
        first_name="Juana",
        last_name="Hernández",
        phones=[{"raw": "+52 722 555 0101", "is_whatsapp": True}],
    )
    address = address_add(
        actor=actor,
        customer=customer,
        purpose="installation",
        street="Av. Hidalgo",
        number="120",
        neighbourhood="Centro",
        city="Toluca",
        state="México",
        postal_code="50000",
        reference="Portón verde junto a la farmacia",
    )
    subscription = subscription_create(
        actor=world.actor(supervisor, organization),
        customer=customer,
        service_id="FIB-100",
        contract_number="C-100",
        service_type="fiber_ftth",
        started_on=date(2025, 3, 1),
        installation_address_id=address.pk,
    )
    north = customer_create(
        actor=actor,
        first_name="Pedro",
        last_name="Sosa",
        phones=[{"raw": "+52 722 555 0202"}],
    )
    address_add(
        actor=actor,
        customer=north,
        purpose="installation",
        street="Calle Norte",
        number="5",
        neighbourhood="San Lorenzo",
        city="Toluca",
        postal_code="50100",
    )
    return Isp(
        world=world,
        organization=organization,
        agent=agent,
        supervisor=supervisor,
        customer=customer,
        subscription=subscription,
        north_customer=north,
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
