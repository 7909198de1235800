"""The pack's ``nps`` section: validated with the path of a bad field, written to the
organization's settings idempotently, disabled when the section goes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from telcodesk.nps.models import NpsSettings
from telcodesk.nps.pack_spec import NpsSpec
from telcodesk.nps.pack_sync import nps_settings_sync
from telcodesk.packs.loader import PackInvalid, Tally, pack_load, pack_parse
from tests.conftest import World
from tests.packs.test_schema import minimal

pytestmark = pytest.mark.django_db


def test_the_defaults_are_the_isps_procedure() -> None:
    spec = NpsSpec.model_validate({})

    assert (spec.send_on_resolved, spec.good_threshold, spec.expires_after_hours) == (True, 50, 72)
    assert (spec.comment_minutes, spec.reasks, spec.template) == (30, 2, "")


def test_a_bad_field_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError) as refused:
        NpsSpec.model_validate({"good_threshold": 150, "colour": "green"})

    assert sorted(str(e["loc"][0]) for e in refused.value.errors()) == ["colour", "good_threshold"]


def test_loading_twice_changes_nothing_and_dropping_the_section_disables_it(world: World) -> None:
    spec = NpsSpec.model_validate({"template": "encuesta_nps", "good_threshold": 60})
    first, second, dropped = Tally(), Tally(), Tally()

    nps_settings_sync(organization=world.operator, spec=spec, pack_name="wisp-mx", tally=first)
    nps_settings_sync(organization=world.operator, spec=spec, pack_name="wisp-mx", tally=second)
    row = NpsSettings.objects.get(organization=world.operator)
    assert (row.template_name, row.good_threshold, row.is_enabled) == ("encuesta_nps", 60, True)
    nps_settings_sync(organization=world.operator, spec=None, pack_name="wisp-mx", tally=dropped)

    row.refresh_from_db()
    assert (first.created, second.unchanged, dropped.updated, row.is_enabled) == (1, 1, 1, False)


def test_a_pack_with_an_nps_section_loads_into_the_settings(world: World, tmp_path: Path) -> None:
    data = minimal()
    data["organizations"][0]["nps"] = {"template": "encuesta_nps", "question": "¿Del 0 al 10?"}
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    result = pack_load(path)

    row = NpsSettings.objects.get(organization__slug="demo-op")
    assert (result.applied["nps"].created, row.template_name, row.question, row.pack_name) == (
        1,
        "encuesta_nps",
        "¿Del 0 al 10?",
        "demo",
    )
    assert not NpsSettings.objects.filter(organization__slug="demo-reseller").exists()


def test_a_bad_nps_field_is_refused_with_its_yaml_path() -> None:
    data = minimal()
    data["organizations"][0]["nps"] = {"reasks": 9}

    with pytest.raises(PackInvalid) as refused:
        pack_parse(yaml.safe_dump(data, allow_unicode=True))

    assert list(refused.value.details) == ["organizations[0].nps.reasks"]
