"""Importing coverage files: CSV street ranges and GeoJSON polygons, all or nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from telcodesk.accounts.roles import Role
from telcodesk.core.errors import PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.demo import coverage_demo_load
from telcodesk.coverage.imports import (
    CoverageImportResult,
    coverage_import_csv,
    coverage_import_geojson,
)
from telcodesk.coverage.models import CoverageArea, CoveragePolygon, StreetRange
from tests.coverage.conftest import Coverage

pytestmark = pytest.mark.django_db


def state() -> list[tuple[object, ...]]:
    return sorted(
        StreetRange.objects.values_list(
            "area__name", "street", "street_key", "number_from", "number_to", "parity", "line"
        )
    )


def test_a_csv_becomes_areas_and_ranges(coverage: Coverage) -> None:
    assert (
        StreetRange.objects.filter(street="Av. Rivadavia")
        .values("city", "city_key", "zone", "zone_key", "street_key", "parity", "line")
        .get()
    ) == {
        "city": "CABA",
        "city_key": "caba",
        "zone": "Caballito",
        "zone_key": "caballito",
        "street_key": "rivadavia",
        "parity": "even",
        "line": 3,
    }
    assert sorted(
        CoverageArea.objects.filter(source_file="ranges.csv").values_list("name", "city")
    ) == [
        ("Almagro", "CABA"),
        ("Caballito", "CABA"),
        ("Casco urbano", "La Plata"),
        ("Palermo", "CABA"),
        ("Villa Crespo", "CABA"),
    ]


def test_bad_rows_are_reported_by_line_and_nothing_changes(coverage: Coverage) -> None:
    before = state()
    areas = CoverageArea.objects.count()
    content = (
        "# comment line\n"
        "city;zone;street;from;to;parity;technology\n"
        "CABA;Caballito;Av. Rivadavia;5000;5800;even;fiber\n"
        ";Flores;Yerbal;2000;3000;all;fiber\n"
        "CABA;Flores;Av.;10;x;sometimes;fibre optic\n"
        "CABA;Flores;Bogotá;3200;2000;;\n"
        "CABA;Flores;Nazca;100\n"
    )

    with pytest.raises(ValidationFailed) as error:
        coverage_import_csv(actor=coverage.importer(), content=content, source_file="ranges.csv")

    assert error.value.details == {
        "line 4": ["write the city (e.g. CABA)."],
        "line 5": [
            "write the street name (e.g. Av. Rivadavia).",
            "to must be a house number from 0 to 999999.",
            "parity is sometimes; write all, even or odd.",
            "technology must be one short word such as fiber or hfc, not fibre optic.",
        ],
        "line 6": ["from (3200) is greater than to (2000); swap them."],
        "line 7": ["the row has 4 columns and the header 7."],
    }
    assert error.value.message.startswith(
        "Nothing was imported; fix these lines and import the file again. line 4: write the "
        "city (e.g. CABA)."
    )
    assert state() == before
    assert CoverageArea.objects.count() == areas


def test_a_wrong_header_is_refused(coverage: Coverage) -> None:
    with pytest.raises(ValidationFailed) as error:
        coverage_import_csv(
            actor=coverage.importer(),
            content="ciudad,street,from,to\nCABA,Yerbal,1,2\n",
            source_file="x.csv",
        )

    assert error.value.details == {
        "line 1": [
            "The header must name the columns city, zone, street, from, to, parity, "
            "technology (zone, parity and technology are optional); unknown: ciudad; "
            "missing: city."
        ]
    }


def test_reimporting_a_file_replaces_its_ranges(coverage: Coverage) -> None:
    caballito = CoverageArea.objects.get(source_file="ranges.csv", name="Caballito")
    content = (
        "city,zone,street,from,to,parity\n"
        "CABA,Caballito,Av. Rivadavia,5000,6000,all\n"
        "CABA,Flores,Yerbal,2000,3000,all\n"
    )

    result = coverage_import_csv(
        actor=coverage.importer(), content=content, source_file="exports/ranges.csv"
    )
    again = coverage_import_csv(
        actor=coverage.importer(), content=content, source_file="ranges.csv"
    )

    assert result == CoverageImportResult(
        source_file="ranges.csv", areas=2, ranges=2, areas_removed=4
    )
    assert again == CoverageImportResult(source_file="ranges.csv", areas=2, ranges=2)
    assert state() == [
        ("Caballito", "Av. Rivadavia", "rivadavia", 5000, 6000, "all", 2),
        ("Flores", "Yerbal", "yerbal", 2000, 3000, "all", 3),
    ]
    # The area kept its id; the other file's polygons are untouched.
    assert CoverageArea.objects.get(source_file="ranges.csv", name="Caballito").pk == caballito.pk
    assert CoveragePolygon.objects.count() == 2


def test_a_geojson_becomes_areas_with_polygons(coverage: Coverage) -> None:
    palermo = CoveragePolygon.objects.get(area__name="Palermo Soho")

    assert (palermo.area.city, palermo.area.zone, palermo.area.source_file) == (
        "CABA",
        "Palermo",
        "areas.geojson",
    )
    assert (palermo.min_lon, palermo.min_lat, palermo.max_lon, palermo.max_lat) == (
        -58.44,
        -34.595,
        -58.42,
        -34.58,
    )
    assert len(palermo.geometry["coordinates"]) == 2  # the outline and its hole
    assert CoveragePolygon.objects.get(area__name="Islas").geometry["type"] == "MultiPolygon"


def test_bad_features_are_reported_and_nothing_changes(coverage: Coverage) -> None:
    polygons = list(CoveragePolygon.objects.values_list("id", "geometry"))
    content = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "Ok"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]],
                    },
                },
                {"type": "Feature", "properties": {}, "geometry": {"type": "Point"}},
            ],
        }
    )

    with pytest.raises(ValidationFailed) as error:
        coverage_import_geojson(
            actor=coverage.importer(), content=content, source_file="areas.geojson"
        )

    assert error.value.details == {
        "feature 2": [
            "give the feature a name (or zone) property.",
            "the geometry type is Point; use Polygon or MultiPolygon.",
        ]
    }
    assert list(CoveragePolygon.objects.values_list("id", "geometry")) == polygons


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{nope", "The file is not valid JSON"),
        ('{"type": "Feature"}', "The file must be a GeoJSON FeatureCollection"),
    ],
)
def test_a_file_that_is_not_geojson_is_refused(
    coverage: Coverage, content: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        coverage_import_geojson(actor=coverage.importer(), content=content, source_file="x.json")

    assert error.value.message.startswith(message)


def test_only_an_operator_admin_imports(coverage: Coverage) -> None:
    content = "city,street,from,to\nCABA,Yerbal,1,2\n"
    with pytest.raises(ValidationFailed) as error:
        coverage_import_csv(
            actor=coverage.importer(coverage.reseller), content=content, source_file="x.csv"
        )
    assert error.value.message == (
        "Coverage belongs to the operator whose network it describes; import it in the "
        "operator's organization, not in Revendedor Claro Argentina."
    )
    agent = Actor(organization=coverage.operator, role=Role.AGENT, label="agent")
    with pytest.raises(PermissionDenied):
        coverage_import_csv(actor=agent, content=content, source_file="x.csv")
    assert not CoverageArea.objects.filter(source_file="x.csv").exists()


def test_the_command_imports_and_reports_bad_lines(coverage: Coverage, tmp_path: Path) -> None:
    good = tmp_path / "flores.csv"
    good.write_text("city,zone,street,from,to\nCABA,Flores,Yerbal,2000,3000\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("city,zone,street,from,to\nCABA,Flores,Yerbal,3000,2000\n", encoding="utf-8")
    out, err = StringIO(), StringIO()

    call_command("coverage_import", organization="claro-ar", csv_file=str(good), stdout=out)
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "coverage_import", organization="claro-ar", csv_file=str(bad), stdout=out, stderr=err
        )

    assert out.getvalue() == (
        f"{good}: 1 areas, 1 street ranges, 0 polygons (0 areas no longer in the file removed).\n"
    )
    assert exit_.value.code == 1
    assert err.getvalue() == (
        f"{bad}: nothing was imported.\n"
        "  line 2: from (3000) is greater than to (2000); swap them.\n"
    )
    assert not CoverageArea.objects.filter(source_file="bad.csv").exists()


def test_the_demo_coverage_loads_twice_to_the_same_state(coverage: Coverage) -> None:
    first = coverage_demo_load()
    counts = (CoverageArea.objects.count(), StreetRange.objects.count())
    second = coverage_demo_load()

    assert first == second == 38 + 2
    assert (CoverageArea.objects.count(), StreetRange.objects.count()) == counts
    assert StreetRange.objects.filter(area__source_file="claro-ar-demo-ranges.csv").count() == 38
