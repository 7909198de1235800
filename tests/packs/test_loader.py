"""Loading packs: idempotent, in place for a newer version, all or nothing."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import NotFound
from telcodesk.customers.models import Plan
from telcodesk.packs.loader import (
    PACKS_DIR,
    PackInvalid,
    PackRefused,
    available_packs,
    pack_load,
    pack_path,
)
from telcodesk.packs.models import LoadedPack

EXPECTED = {
    # pack: (organizations, plans)
    "claro-ar-reseller": (2, 8),
    "claro-br": (1, 10),
    "cnt-ec": (1, 7),
    "comteco-bo": (2, 11),
    "wisp-mx": (1, 7),
}


# The bundled version of each pack (claro-ar-reseller 1.1.0 added the pipelines' data,
# 1.1.1 the entry pipeline and the offer stages, 1.2.0 the bots and automations, 1.2.1
# the e-mail template).
VERSIONS = {name: "1.0.0" for name in EXPECTED} | {"claro-ar-reseller": "1.2.1", "wisp-mx": "1.1.0"}


def bundled(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(pack_path(name).read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def snapshot() -> dict[str, Any]:
    """Everything a load may touch, with timestamps: equal snapshots = nothing changed."""
    return {
        "organizations": list(
            Organization.objects.order_by("slug").values_list("slug", "updated_at", "pack_version")
        ),
        "operators": list(
            Organization.operators.through.objects.order_by("pk").values_list(
                "from_organization_id", "to_organization_id"
            )
        ),
        "plans": list(
            Plan.objects.order_by("pk").values_list("pk", "code", "updated_at", "is_active")
        ),
        "packs": list(LoadedPack.objects.values_list("name", "version", "checksum", "loaded_at")),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "counts"), EXPECTED.items())
def test_loading_a_bundled_pack_creates_its_organizations_and_plans(
    name: str, counts: tuple[int, int]
) -> None:
    result = pack_load(name)

    organizations = Organization.objects.filter(pack_name=name)
    assert (organizations.count(), Plan.objects.count()) == counts
    assert (result.organizations.created, result.plans.created) == counts
    assert (result.updated, result.unchanged, result.previous_version) == (0, 0, None)
    assert set(organizations.values_list("pack_version", flat=True)) == {VERSIONS[name]}
    loaded = LoadedPack.objects.get(name=name)
    assert (loaded.version, len(loaded.checksum)) == (VERSIONS[name], 64)


@pytest.mark.django_db
def test_comteco_pack_makes_bluecom_a_reseller_of_comteco() -> None:
    pack_load("comteco-bo")

    comteco = Organization.objects.get(slug="comteco")
    bluecom = Organization.objects.get(slug="bluecom")
    assert (comteco.kind, comteco.country, comteco.currency) == ("operator", "BO", "BOB")
    assert (comteco.time_zone, comteco.languages, comteco.brand_color) == (
        "America/La_Paz",
        ["es"],
        "#003f87",
    )
    assert list(bluecom.operators.all()) == [comteco]
    assert Plan.objects.filter(organization=bluecom).count() == 0
    duo = Plan.objects.get(organization=comteco, code="duo-pack")
    assert (duo.name, duo.service_type, duo.technology, duo.currency) == (
        "Dúo Pack",
        "bundle",
        "fiber",
        "BOB",
    )


@pytest.mark.django_db
def test_the_pipelines_are_stored_with_the_loaded_pack() -> None:
    pack_load("claro-ar-reseller")

    data = LoadedPack.objects.get(name="claro-ar-reseller").data
    reseller = next(o for o in data["organizations"] if o["slug"] == "claro-ar-reseller")
    assert [p["name"] for p in reseller["pipelines"]] == ["FIBRA", "PORTA", "TECHSTORE CHATS"]


@pytest.mark.django_db
def test_loading_twice_changes_nothing() -> None:
    pack_load("comteco-bo")
    before = snapshot()

    again = pack_load("comteco-bo")

    assert snapshot() == before
    assert (again.created, again.updated, again.unchanged) == (0, 0, 13)
    assert not again.changed


@pytest.mark.django_db
def test_a_newer_version_updates_in_place(tmp_path: Path) -> None:
    pack_load("comteco-bo")
    plan_ids = dict(Plan.objects.values_list("code", "pk"))
    org_ids = dict(Organization.objects.values_list("slug", "pk"))
    data = bundled("comteco-bo")
    data["version"] = "1.1.0"
    plans = data["organizations"][0]["plans"]
    plans[1]["monthly_price"] = 245.5  # internet-vdsl
    plans[:] = [p for p in plans if p["code"] != "tv-dth"]
    plans.append(
        {
            "code": "internet-ftth-100",
            "name": "Internet FTTH-GPON 100",
            "service_type": "fiber_ftth",
            "technology": "fiber",
            "monthly_price": 390,
        }
    )

    result = pack_load(write(tmp_path, data))

    assert result.previous_version == "1.0.0"
    assert (result.organizations.updated, result.organizations.unchanged) == (2, 0)
    # vdsl changed, tv-dth deactivated, 9 untouched, one new plan
    assert (result.plans.created, result.plans.updated, result.plans.unchanged) == (1, 2, 9)
    assert result.deactivated == 1
    assert dict(Organization.objects.values_list("slug", "pk")) == org_ids
    assert Plan.objects.get(code="internet-vdsl").pk == plan_ids["internet-vdsl"]
    assert str(Plan.objects.get(code="internet-vdsl").monthly_price) == "245.50"
    assert Plan.objects.get(code="tv-dth").is_active is False
    assert Plan.objects.count() == 12
    assert set(Organization.objects.values_list("pack_version", flat=True)) == {"1.1.0"}
    assert LoadedPack.objects.get(name="comteco-bo").version == "1.1.0"


@pytest.mark.django_db
def test_a_plan_back_in_a_newer_version_is_active_again(tmp_path: Path) -> None:
    pack_load("wisp-mx")
    data = bundled("wisp-mx")
    data["version"] = "1.1.1"
    dropped = data["organizations"][0]["plans"].pop()
    pack_load(write(tmp_path, data))
    data["version"] = "1.2.0"
    data["organizations"][0]["plans"].append(dropped)

    pack_load(write(tmp_path, data))

    assert Plan.objects.get(code=dropped["code"]).is_active is True


@pytest.mark.django_db
def test_an_older_version_is_refused_unless_forced(tmp_path: Path) -> None:
    data = bundled("cnt-ec")
    data["version"] = "1.10.0"
    pack_load(write(tmp_path, data))
    before = snapshot()

    with pytest.raises(PackRefused, match=r"older than the loaded 1\.10\.0"):
        pack_load("cnt-ec")

    assert snapshot() == before
    result = pack_load("cnt-ec", force=True)
    assert (result.previous_version, result.version) == ("1.10.0", "1.0.0")
    assert LoadedPack.objects.get(name="cnt-ec").version == "1.0.0"


@pytest.mark.django_db
def test_the_same_version_with_other_content_is_refused(tmp_path: Path) -> None:
    pack_load("cnt-ec")
    data = bundled("cnt-ec")
    data["title"] = "CNT, edited without a new version"
    before = snapshot()

    with pytest.raises(PackRefused, match="raise its version"):
        pack_load(write(tmp_path, data))

    assert snapshot() == before


def _unknown_field(data: dict[str, Any]) -> str:
    data["organizations"][1]["branding"]["font"] = "Comic Sans"
    return "organizations[1].branding.font"


def _wrong_type(data: dict[str, Any]) -> str:
    data["organizations"][0]["plans"][2]["monthly_price"] = "cheap"
    return "organizations[0].plans[2].monthly_price"


def _duplicate_stage(data: dict[str, Any]) -> str:
    data["organizations"][0]["pipelines"] = [
        {
            "name": "VENTA",
            "stages": [
                {"name": "Llamada", "kind": "open", "color": "#aaaaaa"},
                {"name": "Ganado", "kind": "won", "color": "#00aa00"},
                {"name": "Llamada", "kind": "open", "color": "#bbbbbb"},
            ],
        }
    ]
    return "organizations[0].pipelines[0].stages[2].name"


@pytest.mark.django_db
@pytest.mark.parametrize("breakage", [_unknown_field, _wrong_type, _duplicate_stage])
def test_a_broken_pack_is_refused_with_the_path_and_changes_nothing(
    tmp_path: Path, breakage: Any
) -> None:
    pack_load("comteco-bo")
    data = bundled("comteco-bo")
    data["version"] = "2.0.0"
    data["organizations"][0]["name"] = "COMTECO renamed"
    path = breakage(data)
    before = snapshot()

    with pytest.raises(PackInvalid) as caught:
        pack_load(write(tmp_path, data))

    assert list(caught.value.details) == [path]
    assert path in caught.value.message
    assert snapshot() == before
    assert Organization.objects.get(slug="comteco").name == "COMTECO R.L."


@pytest.mark.django_db
def test_a_broken_first_load_leaves_the_database_empty(tmp_path: Path) -> None:
    data = bundled("comteco-bo")
    _wrong_type(data)

    with pytest.raises(PackInvalid):
        pack_load(write(tmp_path, data))

    assert (Organization.objects.count(), Plan.objects.count(), LoadedPack.objects.count()) == (
        0,
        0,
        0,
    )


@pytest.mark.django_db
def test_a_reseller_may_work_for_an_operator_loaded_by_another_pack(tmp_path: Path) -> None:
    pack_load("comteco-bo")
    data = bundled("comteco-bo")
    reseller = data["organizations"][1]
    reseller.update(slug="otro-revendedor", name="Otro Revendedor")
    data.update(name="otro-revendedor", organizations=[reseller])

    pack_load(write(tmp_path, data))

    other = Organization.objects.get(slug="otro-revendedor")
    assert list(other.operators.values_list("slug", flat=True)) == ["comteco"]


@pytest.mark.django_db
def test_an_unknown_external_operator_is_refused_with_its_path(tmp_path: Path) -> None:
    data = bundled("comteco-bo")
    reseller = data["organizations"][1]
    reseller["operators"] = ["entel"]
    data.update(name="solo-revendedor", organizations=[reseller])

    with pytest.raises(PackInvalid) as caught:
        pack_load(write(tmp_path, data))

    assert list(caught.value.details) == ["organizations[0].operators[0]"]
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_an_organization_of_another_pack_is_not_taken_over(tmp_path: Path) -> None:
    pack_load("wisp-mx")
    data = bundled("cnt-ec")
    data["organizations"][0]["slug"] = "wisp-mx"
    before = snapshot()

    with pytest.raises(PackRefused, match="belongs to pack wisp-mx"):
        pack_load(write(tmp_path, data))

    assert snapshot() == before


@pytest.mark.django_db
def test_an_unknown_bundled_name_is_not_found() -> None:
    with pytest.raises(NotFound, match="no bundled pack no-such-pack"):
        pack_load("no-such-pack")


@pytest.mark.django_db
def test_available_packs_lists_the_bundled_ones_with_the_loaded_version() -> None:
    pack_load("wisp-mx")

    infos = {info.name: info for info in available_packs()}

    assert sorted(infos) == sorted(EXPECTED)
    assert infos["wisp-mx"].loaded_version == "1.1.0"
    assert infos["cnt-ec"].loaded_version is None
    assert infos["comteco-bo"].version == "1.0.0"
    assert all(info.problem is None for info in infos.values())


# --- the management command --------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("pack", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_check_says_ok_with_name_and_version() -> None:
    assert run("check", str(PACKS_DIR / "claro-br.yaml")) == "OK claro-br 1.0.0\n"


@pytest.mark.django_db
def test_check_of_a_broken_pack_exits_1_with_the_paths(tmp_path: Path) -> None:
    data = bundled("comteco-bo")
    _wrong_type(data)
    _unknown_field(data)

    with pytest.raises(CommandError) as caught:
        run("check", str(write(tmp_path, data, "broken.yaml")))

    assert caught.value.returncode == 1
    assert "organizations[0].plans[2].monthly_price" in str(caught.value)
    assert "organizations[1].branding.font" in str(caught.value)
    assert LoadedPack.objects.count() == 0


@pytest.mark.django_db
def test_load_and_list_report_what_happened() -> None:
    first = run("load", "comteco-bo")
    second = run("load", "comteco-bo")
    listing = run("list").splitlines()

    assert first == (
        "Loaded comteco-bo 1.0.0: 13 created, 0 updated, 0 unchanged, 0 plans deactivated\n"
    )
    assert second == "comteco-bo 1.0.0: already loaded, nothing changed\n"
    assert listing[0].split() == ["NAME", "VERSION", "LOADED", "TITLE"]
    rows = {line.split()[0]: line.split()[1:3] for line in listing[1:]}
    assert rows == {
        "claro-ar-reseller": ["1.2.1", "-"],
        "claro-br": ["1.0.0", "-"],
        "cnt-ec": ["1.0.0", "-"],
        "comteco-bo": ["1.0.0", "1.0.0"],
        "wisp-mx": ["1.1.0", "-"],
    }


@pytest.mark.django_db
def test_load_all_loads_every_bundled_pack() -> None:
    out = run("load", "--all")

    assert len(out.splitlines()) == 5
    assert LoadedPack.objects.count() == 5
    assert Organization.objects.count() == sum(orgs for orgs, _plans in EXPECTED.values())
    assert Plan.objects.count() == sum(plans for _orgs, plans in EXPECTED.values())


@pytest.mark.django_db
def test_load_of_several_packs_is_all_or_nothing(tmp_path: Path) -> None:
    data = bundled("claro-br")
    _duplicate_stage(data)

    with pytest.raises(CommandError) as caught:
        run("load", "wisp-mx", str(write(tmp_path, data)))

    assert caught.value.returncode == 1
    assert "organizations[0].pipelines[0].stages[2].name" in str(caught.value)
    assert (Organization.objects.count(), LoadedPack.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_load_of_an_older_version_fails_with_exit_1(tmp_path: Path) -> None:
    data = bundled("wisp-mx")
    data["version"] = "1.2.0"
    run("load", str(write(tmp_path, data)))

    with pytest.raises(CommandError, match="older") as caught:
        run("load", "wisp-mx")

    assert caught.value.returncode == 1
    assert "1.1.0" in run("load", "wisp-mx", "--force")
