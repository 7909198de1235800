"""A Mexican support calendar (Mon–Fri 09–18, Sat 09–14, MX public holidays) and SLA
policies written through the pack applier, for the SLA tests."""

from __future__ import annotations

from datetime import datetime, time
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from telcodesk.accounts.models import Organization, Team
from telcodesk.core.models import BusinessCalendar, BusinessHours
from telcodesk.tickets.pack_spec import TicketsSpec
from telcodesk.tickets.pack_sync import tickets_apply

MX = ZoneInfo("America/Mexico_City")  # UTC−6 all year since 2022


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment of March 2025 in Mexico City (17 March 2025 is a public holiday)."""
    return datetime(2025, month, day, hour, minute, tzinfo=MX)


def mx_calendar(organization: Organization, name: str = "Soporte técnico") -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(
        organization=organization,
        name=name,
        time_zone="America/Mexico_City",
        country="MX",
        is_default=True,
    )
    for weekday in range(5):
        BusinessHours.objects.create(
            calendar=calendar, weekday=weekday, start=time(9), end=time(18)
        )
    BusinessHours.objects.create(calendar=calendar, weekday=5, start=time(9), end=time(14))
    return calendar


SECTION: dict[str, Any] = {
    "subcategories": [
        {"key": "sin-servicio", "name": "Sin servicio", "category": "technical"},
        {"key": "lentitud", "name": "Lentitud", "category": "technical"},
    ],
    "sla_policies": [
        {
            "key": "tecnico",
            "name": "Técnico",
            "category": "technical",
            "first_response_hours": 2,
            "resolution_hours": 8,
            "warn_before_percent": 80,
            "escalate_to_team": "soporte n2",
        },
        {
            "key": "tecnico-urgente",
            "name": "Técnico urgente",
            "category": "technical",
            "priority": "urgent",
            "first_response_hours": "0.5",
            "resolution_hours": 4,
            "warn_before_minutes": 30,
        },
        {
            "key": "sin-servicio",
            "name": "Sin servicio",
            "category": "technical",
            "subcategory": "sin-servicio",
            "resolution_hours": "24",
            "calendar": "Soporte técnico",
        },
        {
            "key": "facturacion",
            "name": "Facturación",
            "category": "billing",
            "resolution_hours": 16,
            "warn_before_minutes": 120,
        },
    ],
}


def pack_of(organization: Organization, section: dict[str, Any]) -> Any:
    """A pack as the loader hands it to appliers."""
    return SimpleNamespace(
        name="wisp-test",
        organizations=[
            SimpleNamespace(slug=organization.slug, tickets=TicketsSpec.model_validate(section))
        ],
    )


def sla_setup(organization: Organization) -> Team:
    """The calendar, the policies above and the escalation team "Soporte N2"."""
    mx_calendar(organization)
    tickets_apply(pack_of(organization, SECTION), {organization.slug: organization})
    return Team.objects.create(organization=organization, name="Soporte N2")
