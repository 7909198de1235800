"""The pack's ``tickets.sla_policies``: validated with the path of the bad field, written
idempotently by key, calendars looked up by name; read back by the console and the API."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from pydantic import ValidationError

from telcodesk.accounts.services import api_key_create
from telcodesk.packs.loader import PackInvalid
from telcodesk.tickets.models import SlaPolicy
from telcodesk.tickets.pack_spec import TicketsSpec
from telcodesk.tickets.pack_sync import tickets_apply
from tests.conftest import World

from .sla_helpers import SECTION, mx_calendar, pack_of

pytestmark = pytest.mark.django_db


def _rows(world: World) -> list[tuple[Any, ...]]:
    return list(
        SlaPolicy.objects.filter(organization=world.operator)
        .order_by("key")
        .values_list(
            "key",
            "category",
            "subcategory__key",
            "priority",
            "first_response_hours",
            "resolution_hours",
            "warn_before_percent",
            "warn_before_minutes",
            "escalate_to_team",
            "calendar__name",
            "is_active",
        )
    )


def _apply(world: World, section: dict[str, Any]) -> Any:
    return tickets_apply(pack_of(world.operator, section), {world.operator.slug: world.operator})


def _error(section: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        TicketsSpec.model_validate(section)
    [error] = caught.value.errors()
    return dict(error)


def test_policies_are_written_with_their_subcategory_and_calendar(world: World) -> None:
    mx_calendar(world.operator)
    _apply(world, SECTION)

    assert _rows(world) == [
        ("facturacion", "billing", None, "", None, Decimal("16.00"), None, 120, "", None, True),
        (
            "sin-servicio",
            "technical",
            "sin-servicio",
            "",
            None,
            Decimal("24.00"),
            None,
            None,
            "",
            "Soporte técnico",
            True,
        ),
        (
            "tecnico",
            "technical",
            None,
            "",
            Decimal("2.00"),
            Decimal("8.00"),
            80,
            None,
            "soporte n2",
            None,
            True,
        ),
        (
            "tecnico-urgente",
            "technical",
            None,
            "urgent",
            Decimal("0.50"),
            Decimal("4.00"),
            None,
            30,
            "",
            None,
            True,
        ),
    ]


def test_loading_again_changes_nothing_and_a_dropped_policy_becomes_inactive(
    world: World,
) -> None:
    mx_calendar(world.operator)
    _apply(world, SECTION)
    stamps = list(SlaPolicy.objects.order_by("key").values_list("updated_at", flat=True))

    again = _apply(world, SECTION)
    assert list(SlaPolicy.objects.order_by("key").values_list("updated_at", flat=True)) == stamps
    assert (again.created, again.updated) == (0, 0)

    smaller = copy.deepcopy(SECTION)
    smaller["sla_policies"] = [p for p in smaller["sla_policies"] if p["key"] != "facturacion"]
    smaller["sla_policies"][0]["resolution_hours"] = 10
    _apply(world, smaller)
    assert SlaPolicy.objects.get(key="facturacion").is_active is False
    assert SlaPolicy.objects.get(key="tecnico").resolution_hours == Decimal("10.00")


def test_an_unknown_calendar_refuses_the_pack_with_the_path(world: World) -> None:
    section = copy.deepcopy(SECTION)  # no calendar "Soporte técnico" in the organization
    with pytest.raises(PackInvalid) as refused:
        _apply(world, section)
    assert list(refused.value.details) == ["organizations[0].tickets.sla_policies[2].calendar"]
    assert SlaPolicy.objects.count() == 0


def test_a_policy_without_targets_is_refused() -> None:
    error = _error(
        {"sla_policies": [{"key": "x", "name": "X", "category": "technical"}]},
    )
    assert (error["type"], error["ctx"]["at"]) == ("pack_rule", "first_response_hours")


def test_percent_and_minutes_together_are_refused() -> None:
    policy = {
        "key": "x",
        "name": "X",
        "category": "technical",
        "resolution_hours": 8,
        "warn_before_percent": 80,
        "warn_before_minutes": 30,
    }
    assert _error({"sla_policies": [policy]})["ctx"]["at"] == "warn_before_minutes"


def test_an_unknown_or_mismatched_subcategory_is_refused() -> None:
    base = {"key": "x", "name": "X", "category": "billing", "resolution_hours": 8}
    unknown = _error({"sla_policies": [{**base, "subcategory": "nada"}]})
    assert unknown["ctx"]["at"] == "sla_policies[0].subcategory"
    mismatched = _error(
        {
            "subcategories": [{"key": "lento", "name": "Lento", "category": "technical"}],
            "sla_policies": [{**base, "subcategory": "lento"}],
        }
    )
    assert "is under technical" in mismatched["msg"]


def test_a_key_used_twice_and_hours_below_zero_are_refused() -> None:
    policy = {"key": "x", "name": "X", "category": "technical", "resolution_hours": 8}
    assert _error({"sla_policies": [policy, policy]})["ctx"]["at"] == "sla_policies[1].key"
    negative = _error({"sla_policies": [{**policy, "resolution_hours": -1}]})
    assert negative["loc"] == ("sla_policies", 0, "resolution_hours")


def test_the_console_and_the_api_list_the_policies_to_their_organization_only(
    world: World,
) -> None:
    mx_calendar(world.operator)
    _apply(world, SECTION)
    client = Client()
    client.force_login(world.agent)

    page = client.get("/tickets/sla-policies/").content.decode()
    assert page.count("data-policy=") == 4
    assert 'data-policy="tecnico-urgente"' in page

    _key, secret = api_key_create(actor=world.actor(world.admin), name="reader", role="supervisor")
    answer = Client().get(
        "/api/v1/tickets/sla-policies", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200
    body = json.loads(answer.content)
    assert [p["key"] for p in body] == ["tecnico", "tecnico-urgente", "sin-servicio", "facturacion"]
    assert body[2] == {
        "key": "sin-servicio",
        "name": "Sin servicio",
        "category": "technical",
        "subcategory": "sin-servicio",
        "priority": "",
        "first_response_hours": None,
        "resolution_hours": "24.00",
        "warn_before_percent": None,
        "warn_before_minutes": None,
        "escalate_to_team": "",
        "calendar": "Soporte técnico",
    }

    _key, theirs = api_key_create(
        actor=world.actor(world.outsider), name="theirs", role="supervisor"
    )
    outsider = Client().get(
        "/api/v1/tickets/sla-policies", headers={"Authorization": f"Bearer {theirs}"}
    )
    assert json.loads(outsider.content) == []
    other = Client()
    other.force_login(world.outsider)
    assert "data-policy=" not in other.get("/tickets/sla-policies/").content.decode()
