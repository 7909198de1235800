"""The pack's ``tickets`` section: subcategories validated with the path of the bad field,
and written idempotently (renamed in place, dropped ones made inactive)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from telcodesk.packs.loader import registered_pack_appliers
from telcodesk.tickets.models import TicketSubcategory
from telcodesk.tickets.pack_spec import TicketsSpec
from telcodesk.tickets.pack_sync import tickets_apply
from tests.conftest import World

SECTION: dict[str, Any] = {
    "subcategories": [
        {"key": "sin-servicio", "name": "Sin servicio", "category": "technical"},
        {
            "key": "intermitencia",
            "name": "Intermitencia / lentitud",
            "category": "technical",
            "description": "Validar Wi-Fi vs cable",
        },
        {"key": "cambio-plan", "name": "Cambio de plan", "category": "commercial"},
    ]
}


def _pack(world: World, section: dict[str, Any] | None) -> Any:
    """A pack as the loader hands it to appliers, with the tickets section wired in."""
    spec = TicketsSpec.model_validate(section) if section is not None else None
    return SimpleNamespace(
        name="wisp-test",
        organizations=[SimpleNamespace(slug=world.operator.slug, tickets=spec)],
    )


def _rows(world: World) -> list[tuple[str, str, str, int, bool]]:
    return list(
        TicketSubcategory.objects.filter(organization=world.operator)
        .order_by("key")
        .values_list("key", "name", "category", "position", "is_active")
    )


def test_the_section_is_validated_with_the_path_of_the_bad_field() -> None:
    with pytest.raises(ValidationError) as caught:
        TicketsSpec.model_validate(
            {
                "subcategories": [
                    {"key": "sin-servicio", "name": "Sin servicio", "category": "technical"},
                    {"key": "sin-servicio", "name": "Otra", "category": "technical"},
                ]
            }
        )
    [error] = caught.value.errors()
    assert error["type"] == "pack_rule"
    assert error["ctx"]["at"] == "[1].key"
    assert 'Subcategory key "sin-servicio" is used twice' in error["msg"]
    with pytest.raises(ValidationError) as caught:
        TicketsSpec.model_validate(
            {"subcategories": [{"key": "x", "name": "X", "category": "networking"}]}
        )
    assert caught.value.errors()[0]["loc"] == ("subcategories", 0, "category")
    with pytest.raises(ValidationError):
        TicketsSpec.model_validate({"subcategories": [], "sla": {}})


def test_a_name_listed_twice_in_one_category_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        TicketsSpec.model_validate(
            {
                "subcategories": [
                    {"key": "a", "name": "Lentitud", "category": "technical"},
                    {"key": "b", "name": "lentitud", "category": "technical"},
                    {"key": "c", "name": "Lentitud", "category": "billing"},
                ]
            }
        )
    [error] = caught.value.errors()
    assert error["ctx"]["at"] == "[1].name"


@pytest.mark.django_db
def test_the_applier_upserts_by_key_and_deactivates_dropped_ones(world: World) -> None:
    organizations = {world.operator.slug: world.operator}
    first = tickets_apply(_pack(world, SECTION), organizations)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = tickets_apply(_pack(world, SECTION), organizations)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    changed = {
        "subcategories": [
            {"key": "intermitencia", "name": "Intermitencia", "category": "technical"},
            {"key": "sin-servicio", "name": "Sin servicio", "category": "technical"},
        ]
    }
    third = tickets_apply(_pack(world, changed), organizations)
    assert (third.created, third.updated, third.unchanged) == (0, 3, 0)
    assert _rows(world) == [
        ("cambio-plan", "Cambio de plan", "commercial", 2, False),
        ("intermitencia", "Intermitencia", "technical", 0, True),
        ("sin-servicio", "Sin servicio", "technical", 1, True),
    ]
    assert not TicketSubcategory.objects.filter(organization=world.other_operator).exists()


@pytest.mark.django_db
def test_a_pack_without_the_section_leaves_the_subcategories_alone(world: World) -> None:
    organizations = {world.operator.slug: world.operator}
    tickets_apply(_pack(world, SECTION), organizations)
    untouched = tickets_apply(_pack(world, None), organizations)
    assert (untouched.created, untouched.updated, untouched.unchanged) == (0, 0, 0)
    assert len([row for row in _rows(world) if row[4]]) == 3


def test_the_applier_is_registered_with_the_pack_loader() -> None:
    assert registered_pack_appliers()["tickets"] is tickets_apply
