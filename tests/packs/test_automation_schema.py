"""Bots, templates, quick replies and automations in a pack: every reference is checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from telcodesk.packs.loader import PackInvalid, pack_parse, pack_path
from telcodesk.packs.schema import bot_lookup_key


def bundled() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(pack_path("claro-ar-reseller").read_text("utf-8"))
    return data


def reseller(data: dict[str, Any]) -> dict[str, Any]:
    return next(o for o in data["organizations"] if o["slug"] == "claro-ar-reseller")


def problems(data: dict[str, Any], tmp_path: Path) -> dict[str, list[str]]:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PackInvalid) as caught:
        pack_parse(path)
    return dict(caught.value.details)


def only(found: dict[str, list[str]]) -> tuple[str, str]:
    assert len(found) == 1, found
    path, messages = next(iter(found.items()))
    return path, messages[0].split(": ", 1)[1]


def test_the_bundled_pack_declares_bots_templates_replies_and_automations() -> None:
    pack = pack_parse(pack_path("claro-ar-reseller"))
    org = pack.organization("claro-ar-reseller")
    assert [bot.name for bot in org.bots] == [
        "/saludo",
        "/En cober",
        "/fuera de cober",
        "/tramite fibra",
        "/tramite porta",
        "/Ganado Fibra",
        "/Ganado Porta",
        "/oferta 40",
        "/oferta 60",
        "/oferta prepaga",
        "/linea nueva",
        "/seguimiento",
        "/pedido manual",
        "/no pago",
    ]
    fibra, porta, techstore = org.pipelines
    assert [a.key for a in fibra.automations] == [
        "con-cobertura",
        "respondio-oferta",
        "aguardando-datos",
        "pedido-acometida",
        "ganados",
        "fuera-de-cobertura",
    ]
    assert [a.on.event for a in porta.automations].count("stage_entered") == 5
    assert [(f.at, f.stage, f.max_follow_ups) for f in (fibra.follow_up, porta.follow_up)] == [
        ("10:00", "Seguimiento", 2),
        ("10:00", "Seguimiento", 2),
    ]
    assert techstore.rules.store_intake is not None
    assert techstore.rules.store_intake.stage == "Links de pago"


def test_bot_names_compare_without_slash_case_or_accents() -> None:
    assert bot_lookup_key("  /Fuera de  Cóber ") == "fuera de cober"
    assert bot_lookup_key("/línea nueva") == bot_lookup_key("LINEA NUEVA")


def test_an_automation_naming_an_unknown_bot_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["pipelines"][0]["automations"][0]["do"][0]["bot"] = "/En cobertura"

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].pipelines[0].automations[0].do[0].bot"
    assert message == '"/En cobertura" is not a bot of this organization.'


def test_an_automation_on_an_unknown_stage_is_refused(tmp_path: Path) -> None:
    data = bundled()
    automation = reseller(data)["pipelines"][0]["automations"][0]
    automation[True]["stage"] = "Con cobertura total"

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].pipelines[0].automations[0].on.stage"
    assert message == '"Con cobertura total" is not a stage of this pipeline.'


def test_an_automation_on_an_unknown_loss_reason_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["pipelines"][2]["automations"][0][True]["reason"] = "No pagó"

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].pipelines[2].automations[0].on.reason"
    assert message == '"No pagó" is not a loss reason of this pipeline.'


def test_a_move_inside_a_timer_to_an_unknown_stage_is_refused(tmp_path: Path) -> None:
    data = bundled()
    timer = reseller(data)["pipelines"][0]["automations"][2]["do"][0]
    timer["then"].append({"action": "move_to", "stage": "Llamar"})

    found = problems(data, tmp_path)

    # PORTA shares FIBRA's actions through a YAML anchor: both are reported.
    assert sorted(found) == [
        "organizations[1].pipelines[0].automations[2].do[0].then[2].stage",
        "organizations[1].pipelines[1].automations[5].do[0].then[2].stage",
    ]
    assert found[sorted(found)[0]][0].endswith('"Llamar" is not an open stage of this pipeline.')


def test_a_bot_with_an_unknown_template_or_stage_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["bots"][1]["template"] = "oferta_inexistente"
    reseller(data)["bots"][3]["move_to"] = "Esperando"

    found = problems(data, tmp_path)

    # The first broken reference is reported.
    assert list(found) == ["organizations[1].bots[1].template"]
    assert found["organizations[1].bots[1].template"][0].endswith(
        '"oferta_inexistente" is not a template of this organization in es.'
    )


def test_a_template_whose_params_do_not_match_its_placeholders_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["templates"][0]["params"] = []

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].templates[0].params"
    assert message == "The body has 1 placeholders but 0 params fill them."


def test_a_quick_reply_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["quick_replies"][0]["body"] = "Hola {cliente}"

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].quick_replies[0].body"
    assert message == (
        "Unknown placeholder cliente; the placeholders are customer_name, agent_name and "
        "organization, written in braces."
    )


def test_a_follow_up_with_an_unknown_abandon_reason_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["pipelines"][1]["follow_up"] = {
        **reseller(data)["pipelines"][1]["follow_up"],
        "abandon_reason": "Se cansó",
    }

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].pipelines[1].follow_up.abandon_reason"
    assert message == '"Se cansó" is not a loss reason of this pipeline.'


def test_the_store_intake_must_be_a_system_open_stage(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["pipelines"][2]["rules"]["store_intake"]["stage"] = "Asesoramiento"

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].pipelines[2].rules.store_intake.stage"
    assert message == (
        '"Asesoramiento" is not a system open stage of this pipeline; the store intake needs '
        "one (is_system: true)."
    )


def test_a_stage_asking_for_an_unknown_tab_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["pipelines"][2]["stages"][3]["asks_tab"] = "Equipos"

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].pipelines[2].stages[3].asks_tab"
    assert message == '"Equipos" is not a tab of this pipeline.'


def test_a_bot_button_longer_than_whatsapp_allows_is_refused(tmp_path: Path) -> None:
    data = bundled()
    reseller(data)["bots"][1]["messages"][0]["buttons"] = ["Quiero el plan de 1000 Mb"]

    found = problems(data, tmp_path)

    assert list(found) == ["organizations[1].bots[1].messages[0].buttons[0]"]


def _payment_email(data: dict[str, Any]) -> dict[str, Any]:
    techstore = reseller(data)["pipelines"][2]
    wait = techstore["automations"][0]["do"][1]
    email: dict[str, Any] = wait["then"][1]
    assert email["action"] == "send_email"
    return email


def test_a_send_email_naming_an_unknown_e_mail_template_is_refused(tmp_path: Path) -> None:
    data = bundled()
    _payment_email(data)["template"] = "pago-atrasado"

    # The YAML anchor makes both attempts name it; the first is reported.
    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].pipelines[2].automations[0].do[1].then[1].template"
    assert message == '"pago-atrasado" is not an e-mail template of this organization in es.'


def test_a_send_email_with_a_template_and_an_inline_subject_is_refused(tmp_path: Path) -> None:
    data = bundled()
    _payment_email(data)["subject"] = "Tu pedido"

    found = problems(data, tmp_path)

    assert all(
        messages[0].endswith("Give either an e-mail template or both a subject and a body.")
        for messages in found.values()
    )


def test_an_e_mail_template_defined_twice_is_refused(tmp_path: Path) -> None:
    data = bundled()
    templates = reseller(data)["email_templates"]
    templates.append(dict(templates[0]))

    path, message = only(problems(data, tmp_path))

    assert path == "organizations[1].email_templates[1].name"
    assert message == 'E-mail template "pago-pendiente" (es) is defined twice.'
