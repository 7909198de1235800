"""Playbooks written from packs: idempotent, versioned, and the loader's YAML paths."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from pydantic import Field, ValidationError

from telcodesk.packs.loader import _problems_from
from telcodesk.packs.schema import OrganizationSpec, Pack
from telcodesk.playbooks.models import Playbook, RunStatus
from telcodesk.playbooks.pack_spec import PlaybookSpec
from telcodesk.playbooks.pack_sync import playbooks_apply, playbooks_sync
from telcodesk.playbooks.services import playbook_run_start, run_answer, run_item_check
from tests.conftest import World
from tests.playbooks.conftest import Desk, Fakes, support_call

pytestmark = pytest.mark.django_db


def spec(**changes: Any) -> PlaybookSpec:
    return PlaybookSpec.model_validate(support_call(**changes))


def tally(result: Any) -> tuple[int, int, int]:
    return (result.created, result.updated, result.unchanged)


def test_syncing_the_same_playbooks_twice_changes_nothing(world: World, fakes: Fakes) -> None:
    first = playbooks_sync(organization=world.operator, pack_name="wisp-mx", specs=[spec()])
    stored = Playbook.objects.get()
    second = playbooks_sync(organization=world.operator, pack_name="wisp-mx", specs=[spec()])

    assert tally(first) == (1, 0, 0)
    assert tally(second) == (0, 0, 1)
    assert Playbook.objects.get().updated_at == stored.updated_at
    assert (stored.key, stored.version, stored.pack_name, stored.is_active) == (
        "support_call",
        "1.0.0",
        "wisp-mx",
        True,
    )
    assert stored.spec.step_keys()[0] == "greeting"


def test_a_new_version_is_a_new_row_and_running_runs_keep_theirs(desk: Desk) -> None:
    old = desk.playbook
    run = playbook_run_start(actor=desk.agent, playbook=old, customer=desk.customer)
    newer = support_call(version="1.1.0")
    newer["steps"][0]["title"] = "Saludo"

    result = playbooks_sync(
        organization=desk.world.operator,
        pack_name="test-pack",
        specs=[PlaybookSpec.model_validate(newer)],
    )

    assert tally(result) == (1, 1, 0)
    assert list(
        Playbook.objects.filter(organization=desk.world.operator)
        .order_by("version")
        .values_list("version", "is_active")
    ) == [("1.0.0", False), ("1.1.0", True)]
    run_item_check(actor=desk.agent, run=run, item_key="confirm_holder")
    run_answer(actor=desk.agent, run=run, question_key="problem_kind", raw_value="technical")
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.playbook.spec.steps[0].title == "Greeting"


def test_a_playbook_the_pack_no_longer_lists_becomes_inactive(world: World, fakes: Fakes) -> None:
    playbooks_sync(organization=world.operator, pack_name="wisp-mx", specs=[spec()])

    result = playbooks_sync(organization=world.operator, pack_name="wisp-mx", specs=[])

    assert tally(result) == (0, 1, 0)
    assert Playbook.objects.get().is_active is False


def test_the_pack_applier_reads_each_organizations_playbooks(world: World, fakes: Fakes) -> None:
    pack = SimpleNamespace(
        name="wisp-mx",
        organizations=[
            SimpleNamespace(slug="a", playbooks=[spec()]),
            SimpleNamespace(slug="b"),  # a schema without the section: no playbooks
        ],
    )

    result = playbooks_apply(pack, {"a": world.operator, "b": world.other_operator})  # type: ignore[arg-type]

    assert tally(result) == (1, 0, 0)
    assert Playbook.objects.get().organization == world.operator


class _OrganizationWithPlaybooks(OrganizationSpec):
    playbooks: list[PlaybookSpec] = Field(default_factory=list)


class _PackWithPlaybooks(Pack):
    organizations: list[_OrganizationWithPlaybooks]  # type: ignore[assignment]


def test_inside_a_pack_an_unknown_field_is_reported_with_its_yaml_path(fakes: Fakes) -> None:
    playbook = support_call()
    playbook["steps"][1]["questions"][1]["field"] = "ticket.device_count"
    text = yaml.safe_dump(
        {
            "name": "wisp-test",
            "version": "1.0.0",
            "title": "WISP test",
            "organizations": [
                {
                    "slug": "wisp-test",
                    "name": "WISP",
                    "kind": "operator",
                    "country": "MX",
                    "currency": "MXN",
                    "time_zone": "America/Mexico_City",
                    "languages": ["es"],
                    "default_language": "es",
                    "branding": {"name": "WISP", "color": "#123456", "logo_text": "W"},
                    "playbooks": [playbook],
                }
            ],
        },
        sort_keys=False,
        allow_unicode=True,
    )

    with pytest.raises(ValidationError) as caught:
        _PackWithPlaybooks.model_validate(yaml.safe_load(text))
    problems = _problems_from(caught.value, yaml.compose(text, Loader=yaml.SafeLoader))

    path = "organizations[0].playbooks[0].steps[1].questions[1].field"
    assert list(problems) == [path]
    assert problems[path][0].endswith(
        '"device_count" is not a field of ticket; the fields are: devices, since_when, wifi.'
    )
