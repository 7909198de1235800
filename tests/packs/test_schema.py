"""The pack schema: what a valid pack is, and the exact YAML path of each bad field."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from telcodesk.core.errors import ErrorCode
from telcodesk.packs.loader import PACKS_DIR, PackInvalid, pack_parse
from telcodesk.packs.schema import version_key

BUNDLED = ["claro-ar-reseller", "claro-br", "cnt-ec", "comteco-bo", "wisp-mx"]

MINIMAL: dict[str, Any] = {
    "name": "demo",
    "version": "1.0.0",
    "title": "Demo",
    "organizations": [
        {
            "slug": "demo-op",
            "name": "Demo Operator",
            "kind": "operator",
            "country": "BO",
            "currency": "BOB",
            "time_zone": "America/La_Paz",
            "languages": ["es", "en"],
            "default_language": "es",
            "branding": {"name": "Demo", "color": "#112233", "logo_text": "DO"},
            "plans": [
                {
                    "code": "fibra-50",
                    "name": "Fibra 50",
                    "service_type": "fiber_ftth",
                    "technology": "fiber",
                    "download_mbps": 50,
                    "upload_mbps": 25,
                    "monthly_price": "199.00",
                }
            ],
            "pipelines": [
                {
                    "name": "VENTAS",
                    "stages": [
                        {"name": "Nuevo", "kind": "open", "color": "#99ccff"},
                        {
                            "name": "Aguardando datos",
                            "kind": "open",
                            "color": "#ff9966",
                            "sla_minutes": 15,
                        },
                        {"name": "Ganado", "kind": "won", "color": "#66cc66"},
                        {"name": "Perdido", "kind": "lost", "color": "#999999"},
                    ],
                    "loss_reasons": [{"name": "Sin cobertura", "counter": "Ofrecer móvil."}],
                }
            ],
        },
        {
            "slug": "demo-reseller",
            "name": "Demo Reseller",
            "kind": "reseller",
            "country": "BO",
            "currency": "BOB",
            "time_zone": "America/La_Paz",
            "languages": ["es"],
            "default_language": "es",
            "branding": {"name": "Resell", "color": "#445566", "logo_text": "DR"},
            "operators": ["demo-op"],
        },
    ],
}


def minimal() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL)


def problems_of(data: dict[str, Any] | str) -> dict[str, list[str]]:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    with pytest.raises(PackInvalid) as caught:
        pack_parse(text)
    assert caught.value.code == ErrorCode.INVALID_PACK
    return caught.value.details


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_pack_is_valid_and_named_like_its_file(name: str) -> None:
    pack = pack_parse(PACKS_DIR / f"{name}.yaml")

    assert pack.name == name
    assert version_key(pack.version) >= (1, 0, 0)


def test_the_bundled_packs_are_exactly_the_five_seed_operators() -> None:
    assert sorted(path.stem for path in PACKS_DIR.glob("*.yaml")) == BUNDLED


def test_a_minimal_pack_parses_with_typed_values_and_defaults() -> None:
    pack = pack_parse(yaml.safe_dump(minimal()))

    plan = pack.organizations[0].plans[0]
    assert plan.monthly_price == Decimal("199.00")
    assert plan.currency == "BOB"  # inherited from the organization
    assert plan.components == []
    assert pack.organizations[0].pipelines[0].stages[1].sla_minutes == 15
    assert pack.organizations[1].operators == ["demo-op"]


def test_an_unknown_field_is_refused_with_its_path() -> None:
    data = minimal()
    data["organizations"][0]["plans"][0]["speed"] = 50

    assert list(problems_of(data)) == ["organizations[0].plans[0].speed"]


def test_a_wrong_type_is_refused_with_its_path() -> None:
    data = minimal()
    data["organizations"][0]["plans"][0]["monthly_price"] = "cheap"

    problems = problems_of(data)

    assert list(problems) == ["organizations[0].plans[0].monthly_price"]
    assert problems["organizations[0].plans[0].monthly_price"][0].endswith(
        "Write a number, e.g. 150.00."
    )


def test_a_duplicate_stage_is_refused_naming_the_stage() -> None:
    data = minimal()
    stages = data["organizations"][0]["pipelines"][0]["stages"]
    stages.insert(2, {"name": "nuevo", "kind": "open", "color": "#000000"})

    problems = problems_of(data)

    path = "organizations[0].pipelines[0].stages[2].name"
    assert list(problems) == [path]
    assert '"nuevo" is duplicated (stages[0] and stages[2])' in problems[path][0]


def test_the_problem_message_gives_the_yaml_line() -> None:
    text = (PACKS_DIR / "comteco-bo.yaml").read_text(encoding="utf-8")
    broken = text.replace("monthly_price: 230.00", "monthly_price: cheap")
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "cheap" in row)

    problems = problems_of(broken)

    assert problems["organizations[0].plans[1].monthly_price"][0].startswith(f"line {line}:")


def test_every_problem_is_reported_at_once() -> None:
    data = minimal()
    data["organizations"][0]["country"] = "PE"
    data["organizations"][0]["time_zone"] = "America/Cochabamba"
    data["organizations"][0]["branding"]["color"] = "red"
    data["organizations"][0]["plans"][0]["service_type"] = "carrier_pigeon"

    assert sorted(problems_of(data)) == [
        "organizations[0].branding.color",
        "organizations[0].country",
        "organizations[0].plans[0].service_type",
        "organizations[0].time_zone",
    ]


def test_a_yaml_syntax_error_gives_line_and_column() -> None:
    problems = problems_of("name: demo\nversion: [1.0.0\ntitle: x\n")

    assert list(problems) == ["(yaml)"]
    assert problems["(yaml)"][0].startswith("line 3, column")


def test_a_key_written_twice_is_refused() -> None:
    problems = problems_of("name: demo\nname: other\nversion: 1.0.0\n")

    assert problems == {"(yaml)": ["line 2, column 1: duplicate key 'name'"]}


def test_a_pack_must_be_a_mapping() -> None:
    assert list(problems_of("- just\n- a list\n")) == ["(pack)"]


def test_a_version_must_be_numeric_parts() -> None:
    data = minimal()
    data["version"] = "1.0-beta"

    assert list(problems_of(data)) == ["version"]


def test_versions_compare_numerically() -> None:
    assert version_key("1.10.0") > version_key("1.9.3")
    assert version_key("2") == (2, 0, 0)


def test_plan_codes_are_unique_per_organization() -> None:
    data = minimal()
    plans = data["organizations"][0]["plans"]
    plans.append({**plans[0], "name": "Otra"})

    assert list(problems_of(data)) == ["organizations[0].plans[1].code"]


def test_organization_slugs_are_unique() -> None:
    data = minimal()
    data["organizations"][1]["slug"] = "demo-op"

    assert "organizations[1].slug" in problems_of(data)


def test_a_reseller_must_list_an_operator() -> None:
    data = minimal()
    data["organizations"][1]["operators"] = []

    assert list(problems_of(data)) == ["organizations[1].operators"]


def test_an_operator_must_not_list_operators() -> None:
    data = minimal()
    data["organizations"][0]["operators"] = ["demo-reseller"]

    assert list(problems_of(data)) == ["organizations[0].operators"]


def test_a_reseller_cannot_work_for_another_reseller_of_the_pack() -> None:
    data = minimal()
    third = copy.deepcopy(data["organizations"][1])
    third.update(slug="sub-reseller", operators=["demo-reseller"])
    data["organizations"].append(third)

    assert list(problems_of(data)) == ["organizations[2].operators[0]"]


def test_the_default_language_must_be_offered() -> None:
    data = minimal()
    data["organizations"][1]["default_language"] = "en"

    assert list(problems_of(data)) == ["organizations[1].default_language"]


def test_languages_are_limited_to_the_supported_ones() -> None:
    data = minimal()
    data["organizations"][1]["languages"] = ["es", "fr"]

    assert list(problems_of(data)) == ["organizations[1].languages[1]"]


def test_a_holidays_subdivision_must_exist_in_the_country() -> None:
    data = minimal()
    data["organizations"][0]["holidays_subdivision"] = "XX"

    assert list(problems_of(data)) == ["organizations[0].holidays_subdivision"]


def test_a_pipeline_needs_an_open_stage() -> None:
    data = minimal()
    stages = data["organizations"][0]["pipelines"][0]["stages"]
    data["organizations"][0]["pipelines"][0]["stages"] = stages[2:]

    assert list(problems_of(data)) == ["organizations[0].pipelines[0].stages"]


def test_sla_minutes_must_be_a_positive_integer() -> None:
    data = minimal()
    data["organizations"][0]["pipelines"][0]["stages"][1]["sla_minutes"] = "15"

    assert list(problems_of(data)) == ["organizations[0].pipelines[0].stages[1].sla_minutes"]


def test_a_negative_price_is_refused() -> None:
    data = minimal()
    data["organizations"][0]["plans"][0]["monthly_price"] = -1

    assert list(problems_of(data)) == ["organizations[0].plans[0].monthly_price"]


def test_comteco_pack_has_every_product_of_its_procedure() -> None:
    pack = pack_parse(PACKS_DIR / "comteco-bo.yaml")

    comteco, bluecom = pack.organizations
    assert [plan.name for plan in comteco.plans] == [
        "Internet ADSL",
        "Internet VDSL",
        "Internet FTTH-GPON",
        "Internet inalámbrico (HSPA)",
        "Televisión HFC (cable)",
        "Televisión DTH",
        "Telefonía fija",
        "Telefonía inalámbrica HSPA+",
        "Dúo Pack",
        "Multipack",
        "Full Hogar Inalámbrico",
    ]
    assert {plan.currency for plan in comteco.plans} == {"BOB"}
    assert (bluecom.kind, bluecom.operators) == ("reseller", ["comteco"])


def test_claro_ar_reseller_pack_has_the_three_kommo_pipelines() -> None:
    pack = pack_parse(PACKS_DIR / "claro-ar-reseller.yaml")

    reseller = pack.organization("claro-ar-reseller")
    fibra, porta, techstore = reseller.pipelines
    assert [p.name for p in reseller.pipelines] == ["FIBRA", "PORTA", "TECHSTORE CHATS"]
    assert [s.name for s in fibra.stages] == [
        "Leads entrantes",
        "Con Cobertura",
        "Respondió oferta",
        "Seguimiento",
        "Aguardando datos",
        "Deuda",
        "Pedido Acometida",
        "Ganados",
        "Perdidos",
    ]
    assert [r.name for r in fibra.loss_reasons] == [
        "Razón no definida",
        "Ya tiene Claro servicio",
        "Fuera de cobertura",
        "Hecha desde otro agente",
        "Abandono gestión",
        "No realizó el pago",
    ]
    waiting = next(s for s in porta.stages if s.name == "Aguardando datos")
    assert waiting.sla_minutes == 15
    assert [s.name for s in porta.stages if s.kind == "won"] == ["Portada/línea nueva ok"]
    assert len(techstore.stages) == 11


def test_a_pack_file_that_does_not_exist_is_not_found(tmp_path: Path) -> None:
    from telcodesk.core.errors import NotFound

    with pytest.raises(NotFound):
        pack_parse(tmp_path / "missing.yaml")
