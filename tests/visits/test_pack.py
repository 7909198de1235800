"""The pack's ``visits`` section: validated with the path of the bad field, and written
idempotently (policy, zones by key, technicians by name; dropped ones made inactive)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from telcodesk.packs.loader import PackInvalid, pack_parse, registered_pack_appliers
from telcodesk.visits.models import Technician, VisitPolicy, Zone
from telcodesk.visits.pack_spec import VisitsSpec
from telcodesk.visits.pack_sync import visits_apply

from .conftest import VISITS_SECTION, Isp, load_pack, pack_data

pytestmark = pytest.mark.django_db


def _errors(section: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        VisitsSpec.model_validate(section)
    return [
        (
            error["ctx"]["at"]
            if error["type"] == "pack_rule"
            else ".".join(map(str, error["loc"])),
            error["msg"],
        )
        for error in caught.value.errors()
    ]


def test_the_applier_is_registered() -> None:
    assert registered_pack_appliers()["visits"] is visits_apply


def test_the_defaults_are_two_hour_slots_within_24_to_48_business_hours() -> None:
    spec = VisitsSpec.model_validate({})

    assert (spec.slot_minutes, spec.window_min_business_hours, spec.window_max_business_hours) == (
        120,
        24,
        48,
    )
    assert (spec.calendar, spec.adult_required, spec.zones, spec.technicians) == (
        None,
        True,
        [],
        [],
    )


def test_a_bad_section_is_refused_with_the_path_of_the_field() -> None:
    assert _errors({"window_min_business_hours": 48, "window_max_business_hours": 24}) == [
        (
            "window_max_business_hours",
            "The latest visit time must come after the earliest (48 business hours).",
        )
    ]
    assert _errors({"zones": [{"key": "a", "name": "A"}]})[0][1] == (
        "Zone a covers nothing: list its neighbourhoods, postal codes or cities."
    )
    assert _errors(
        {
            "zones": [{"key": "a", "name": "A", "cities": ["Toluca"]}],
            "technicians": [{"name": "Luis", "zones": ["b"], "daily_capacity": 2}],
        }
    ) == [("technicians[0].zones[0]", '"b" is not one of the zones of this section.')]
    assert _errors(
        {
            "zones": [
                {"key": "a", "name": "A", "cities": ["Toluca"]},
                {"key": "a", "name": "B", "cities": ["Metepec"]},
            ]
        }
    ) == [("zones[1].key", 'Zone key "a" is used twice (zones[0] and zones[1]).')]
    phone = _errors(
        {
            "zones": [{"key": "a", "name": "A", "cities": ["Toluca"]}],
            "technicians": [{"name": "Luis", "phone": "12", "zones": ["a"], "daily_capacity": 2}],
        }
    )
    assert phone == [
        (
            "technicians.0.phone",
            "12 is not a valid phone number; write it in E.164, e.g. +527221234567.",
        )
    ]
    assert _errors({"slot_minutes": 5})[0][0] == "slot_minutes"
    assert _errors({"sla": 1})[0][0] == "sla"


def test_loading_writes_the_policy_zones_and_technicians(isp: Isp) -> None:
    policy = VisitPolicy.objects.get(organization=isp.organization)
    luis = isp.technician("Luis Pérez")

    assert (policy.slot_minutes, policy.window_min_hours, policy.window_max_hours) == (120, 24, 48)
    assert policy.calendar is not None and policy.calendar.name == "Soporte técnico"
    assert policy.templates == {"booked": "visita_agendada"}
    assert list(
        Zone.objects.filter(organization=isp.organization).values_list(
            "key", "neighbourhoods", "postal_codes", "cities", "position"
        )
    ) == [("centro", ["Centro"], [], ["Toluca"], 0), ("norte", [], ["50100"], [], 1)]
    assert (luis.phone, luis.daily_capacity, luis.is_active) == ("+527221234567", 2, True)
    assert sorted(isp.technician("Marta Gómez").zones.values_list("key", flat=True)) == [
        "centro",
        "norte",
    ]


def test_loading_the_same_pack_again_changes_nothing(isp: Isp, tmp_path: Path) -> None:
    before = list(Technician.objects.order_by("pk").values("pk", "updated_at"))
    data = pack_data()
    pack = pack_parse(_write(tmp_path, data))

    tally = visits_apply(pack, {"isp-mx-test": isp.organization})

    assert (tally.created, tally.updated, tally.unchanged) == (0, 0, 6)
    assert list(Technician.objects.order_by("pk").values("pk", "updated_at")) == before


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    import json

    path = tmp_path / "again.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_newer_version_updates_in_place_and_deactivates_what_it_dropped(
    isp: Isp, tmp_path: Path
) -> None:
    section = copy.deepcopy(VISITS_SECTION)
    section["slot_minutes"] = 90
    section["zones"] = [section["zones"][0]]
    section["technicians"] = [
        {"name": "Luis Pérez", "zones": ["centro"], "daily_capacity": 5},
    ]

    load_pack(tmp_path, pack_data(section, version="1.1.0"))

    luis = isp.technician("Luis Pérez")
    assert VisitPolicy.objects.get(organization=isp.organization).slot_minutes == 90
    assert (luis.phone, luis.daily_capacity) == ("", 5)
    assert list(
        Technician.objects.filter(organization=isp.organization)
        .order_by("name")
        .values_list("name", "is_active")
    ) == [("Luis Pérez", True), ("Marta Gómez", False), ("Nadia Ruiz", False)]
    assert list(
        Zone.objects.filter(organization=isp.organization).values_list("key", "is_active")
    ) == [("centro", True), ("norte", False)]


def test_a_calendar_the_organization_does_not_have_refuses_the_pack(
    world: object, tmp_path: Path
) -> None:
    section = copy.deepcopy(VISITS_SECTION)
    section["calendar"] = "NOC"

    with pytest.raises(PackInvalid) as refused:
        load_pack(tmp_path, pack_data(section))

    assert refused.value.details == {
        "organizations[0].visits.calendar": [
            '"NOC" is not one of the business_calendars of this organization.'
        ]
    }
    assert Zone.objects.count() == 0
