"""The claro-ar-reseller pack becomes pipelines, stages and loss reasons, idempotently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from telcodesk.packs.loader import PackInvalid, pack_load, pack_parse, pack_path
from telcodesk.pipelines.models import LossReason, Pipeline, Stage
from tests.pipelines.conftest import Claro


def bundled() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        pack_path("claro-ar-reseller").read_text(encoding="utf-8")
    )
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "claro.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def reseller_pipelines(data: dict[str, Any]) -> list[dict[str, Any]]:
    reseller = next(o for o in data["organizations"] if o["slug"] == "claro-ar-reseller")
    pipelines: list[dict[str, Any]] = reseller["pipelines"]
    return pipelines


def snapshot() -> dict[str, Any]:
    return {
        "pipelines": list(
            Pipeline.objects.order_by("pk").values_list("pk", "name", "updated_at", "is_active")
        ),
        "stages": list(
            Stage.objects.order_by("pk").values_list("pk", "name", "updated_at", "is_active")
        ),
        "reasons": list(
            LossReason.objects.order_by("pk").values_list("pk", "name", "updated_at", "is_active")
        ),
    }


@pytest.mark.django_db
def test_loading_the_pack_creates_the_three_pipelines_with_every_stage_and_reason() -> None:
    result = pack_load("claro-ar-reseller")

    pipelines = list(Pipeline.objects.filter(organization__slug="claro-ar-reseller"))
    assert [(p.name, p.slug, p.position) for p in pipelines] == [
        ("FIBRA", "fibra", 0),
        ("PORTA", "porta", 1),
        ("TECHSTORE CHATS", "techstore-chats", 2),
    ]
    counts = {p.name: (p.stages.count(), p.loss_reasons.count()) for p in pipelines}
    assert counts == {"FIBRA": (9, 6), "PORTA": (12, 4), "TECHSTORE CHATS": (11, 3)}
    # pipelines, stages, loss reasons and the organization's 14 bots
    assert (result.applied["pipelines"].created, result.applied["pipelines"].updated) == (
        3 + 32 + 13 + 14,
        0,
    )
    # 10 WhatsApp templates, 7 quick replies and 1 e-mail template
    assert (result.applied["messaging"].created, result.applied["messaging"].updated) == (
        10 + 7 + 1,
        0,
    )
    assert Pipeline.objects.filter(organization__slug="claro-ar").count() == 0


@pytest.mark.django_db
def test_the_pack_marks_system_stages_reasons_greeting_and_queue_roles() -> None:
    pack_load("claro-ar-reseller")

    assert list(Stage.objects.filter(is_system=True).values_list("name", flat=True)) == [
        "Links de pago"
    ]
    assert set(LossReason.objects.filter(is_system=True).values_list("name", flat=True)) == {
        "Razón no definida"
    }
    assert LossReason.objects.filter(is_system=True).count() == 3  # one per pipeline
    assert list(Stage.objects.filter(requires_greeting=True).values_list("name", flat=True)) == [
        "Oferta 40%",
        "Oferta 60%",
        "Oferta prepaga",
        "Línea nueva",
    ]
    roles = {
        (stage.pipeline.name, stage.name): stage.queue_role
        for stage in Stage.objects.exclude(queue_role="").select_related("pipeline")
    }
    assert roles == {
        ("FIBRA", "Respondió oferta"): "replied_offer",
        ("FIBRA", "Aguardando datos"): "awaiting_data",
        ("FIBRA", "Seguimiento"): "follow_up",
        ("PORTA", "Respondió oferta"): "replied_offer",
        ("PORTA", "Aguardando datos"): "awaiting_data",
        ("PORTA", "Seguimiento"): "follow_up",
        ("TECHSTORE CHATS", "Seguimiento"): "follow_up",
    }
    # Every stage and reason carries its guidance.
    assert not Stage.objects.filter(guidance="").exists()
    assert not Stage.objects.filter(description="").exists()
    assert not LossReason.objects.filter(counter="").exists()


@pytest.mark.django_db
def test_the_tabs_and_rule_parameters_are_stored_on_the_pipelines() -> None:
    pack_load("claro-ar-reseller")

    fibra = Pipeline.objects.get(name="FIBRA")
    porta = Pipeline.objects.get(name="PORTA")
    techstore = Pipeline.objects.get(name="TECHSTORE CHATS")
    assert list(fibra.tab_fields()) == [
        "installation_address",
        "floors",
        "apartments",
        "has_box",
        "coverage_result",
        "installation_point",
    ]
    assert fibra.tab_fields()["installation_point"]["type"] == "text"
    assert list(porta.tab_fields()) == [
        "current_carrier",
        "line_type",
        "days_with_carrier",
        "wants_new_line",
    ]
    assert "out_of_stock_item" in techstore.tab_fields()
    assert techstore.rules == {"store_intake": {"stage": "Links de pago"}}
    assert list(techstore.stages.exclude(asks_tab="").values_list("name", "asks_tab")) == [
        ("Motorola", "Techstore"),
        ("Samsung", "Techstore"),
        ("Accesorios", "Techstore"),
        ("Pendiente stock", "Techstore"),
    ]
    assert fibra.rules == {
        "riser": {"stage": "Pedido Acometida", "max_floors": 4, "max_apartments": 7},
        "debt": {"stage": "Deuda"},
    }
    assert porta.rules["carrier_offer"]["by_carrier"] == {
        "personal": "Oferta 40%",
        "movistar": "Oferta 60%",
    }
    assert porta.rules["permanence"] == {"stage": "Sin permanencia", "min_days": 60}


@pytest.mark.django_db
def test_loading_twice_changes_nothing() -> None:
    pack_load("claro-ar-reseller")
    before = snapshot()

    again = pack_load("claro-ar-reseller")

    assert snapshot() == before
    assert (again.applied["pipelines"].created, again.applied["pipelines"].updated) == (0, 0)
    assert not again.changed


@pytest.mark.django_db
def test_a_newer_version_updates_in_place_and_deactivates_what_it_drops(
    tmp_path: Path, claro: Claro
) -> None:
    lead = claro.lead("FIBRA", stage="Pedido Acometida")
    ids = snapshot()
    data = bundled()
    data["version"] = "1.3.0"
    fibra, porta, _techstore = reseller_pipelines(data)
    fibra["stages"] = [s for s in fibra["stages"] if s["name"] != "Pedido Acometida"]
    fibra["automations"] = [a for a in fibra["automations"] if a["key"] != "pedido-acometida"]
    del fibra["rules"]["riser"]
    fibra["stages"][1]["guidance"] = "Mandale /En cober enseguida."
    porta["loss_reasons"] = [r for r in porta["loss_reasons"] if r["name"] != "Abandono gestión"]
    del porta["follow_up"]

    result = pack_load(write(tmp_path, data))

    # FIBRA's rules and automations, PORTA's follow-up, Con Cobertura's guidance,
    # Ganados' and Perdidos' rank (one up), Pedido Acometida and Abandono gestión
    # deactivated
    assert (result.applied["pipelines"].created, result.applied["pipelines"].updated) == (0, 7)
    riser = Stage.objects.get(name="Pedido Acometida")
    assert (riser.is_active, riser.pk) == (False, lead.stage_id)
    lead.refresh_from_db()
    assert lead.stage.name == "Pedido Acometida"
    assert Stage.objects.get(pipeline__name="FIBRA", name="Con Cobertura").guidance == (
        "Mandale /En cober enseguida."
    )
    assert LossReason.objects.get(pipeline__name="PORTA", name="Abandono gestión").is_active is (
        False
    )
    after = snapshot()
    assert [row[0] for row in after["stages"]] == [row[0] for row in ids["stages"]]
    assert [row[0] for row in after["pipelines"]] == [row[0] for row in ids["pipelines"]]


@pytest.mark.django_db
def test_a_stage_back_in_a_newer_version_is_active_again(tmp_path: Path) -> None:
    pack_load("claro-ar-reseller")
    data = bundled()
    data["version"] = "1.3.0"
    techstore = reseller_pipelines(data)[2]
    dropped = techstore["stages"].pop(2)
    pack_load(write(tmp_path, data))
    data["version"] = "1.4.0"
    techstore["stages"].insert(2, dropped)

    pack_load(write(tmp_path, data))

    assert Stage.objects.get(pipeline__name="TECHSTORE CHATS", name=dropped["name"]).is_active


@pytest.mark.django_db
def test_a_pipeline_dropped_by_a_newer_version_is_deactivated_with_its_stages(
    tmp_path: Path,
) -> None:
    pack_load("claro-ar-reseller")
    data = bundled()
    data["version"] = "1.3.0"
    pipelines = reseller_pipelines(data)
    del pipelines[2]
    # /pedido manual moves leads to a TECHSTORE stage: it goes with the pipeline.
    reseller = next(o for o in data["organizations"] if o["slug"] == "claro-ar-reseller")
    reseller["bots"] = [b for b in reseller["bots"] if b["name"] != "/pedido manual"]

    pack_load(write(tmp_path, data))

    techstore = Pipeline.objects.get(name="TECHSTORE CHATS")
    assert techstore.is_active is False
    assert not techstore.stages.filter(is_active=True).exists()
    assert not techstore.loss_reasons.filter(is_active=True).exists()


def _problems(data: dict[str, Any], tmp_path: Path) -> dict[str, list[str]]:
    with pytest.raises(PackInvalid) as caught:
        pack_parse(write(tmp_path, data))
    return dict(caught.value.details)


def test_a_choice_field_without_choices_is_refused_with_its_path(tmp_path: Path) -> None:
    data = bundled()
    fields = reseller_pipelines(data)[0]["tabs"][0]["fields"]
    del fields[4]["choices"]

    problems = _problems(data, tmp_path)

    assert list(problems) == ["organizations[1].pipelines[0].tabs[0].fields[4].choices"]


def test_a_rule_sending_leads_to_an_unknown_stage_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller_pipelines(data)[1]["rules"]["carrier_offer"]["by_carrier"]["personal"] = "Oferta 99%"

    problems = _problems(data, tmp_path)

    path = "organizations[1].pipelines[1].rules.carrier_offer.by_carrier.personal"
    assert list(problems) == [path]
    assert '"Oferta 99%" is not an open stage of this pipeline.' in problems[path][0]


def test_a_rule_without_its_tab_fields_is_refused(tmp_path: Path) -> None:
    data = bundled()
    fibra = reseller_pipelines(data)[0]
    fibra["tabs"][0]["fields"] = [f for f in fibra["tabs"][0]["fields"] if f["key"] != "floors"]

    problems = _problems(data, tmp_path)

    assert list(problems) == ["organizations[1].pipelines[0].rules.riser"]
    assert "floors" in problems["organizations[1].pipelines[0].rules.riser"][0]


def test_a_won_stage_cannot_be_a_system_stage(tmp_path: Path) -> None:
    data = bundled()
    reseller_pipelines(data)[2]["stages"][9]["is_system"] = True  # Ganados

    assert list(_problems(data, tmp_path)) == ["organizations[1].pipelines[2].stages[9].kind"]


def test_two_system_loss_reasons_are_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller_pipelines(data)[0]["loss_reasons"][2]["is_system"] = True  # not shared by anchor

    assert list(_problems(data, tmp_path)) == ["organizations[1].pipelines[0].loss_reasons"]
