"""coverage_check: ranges (parity, edges, city), polygons for a point, reseller scoping."""

from __future__ import annotations

import pytest

from telcodesk.core.errors import ValidationFailed
from telcodesk.coverage.imports import coverage_import_csv
from telcodesk.coverage.models import CoverageArea
from telcodesk.coverage.services import coverage_check
from tests.coverage.conftest import Coverage

pytestmark = pytest.mark.django_db


def test_an_address_in_a_range_is_covered_with_its_area(coverage: Coverage) -> None:
    decision = coverage_check(
        organization=coverage.operator, address="Av. Rivadavia 5200, Caballito, CABA"
    )

    assert decision.covered is True
    assert decision.result == "covered"
    assert decision.matched_by == "range"
    assert decision.area == CoverageArea.objects.get(name="Caballito")
    assert (decision.street, decision.number) == ("Av. Rivadavia", 5200)
    assert decision.reasons == [
        "Av. Rivadavia 5200 is within Caballito (Av. Rivadavia 5000–5800, even numbers)."
    ]


def test_a_reseller_uses_its_operators_areas(coverage: Coverage) -> None:
    decision = coverage_check(organization=coverage.reseller, address="Avenida Rivadavia 5200")

    assert decision.covered is True
    assert decision.area is not None
    assert decision.area.organization_id == coverage.operator.pk


def test_another_operator_does_not_use_them(coverage: Coverage) -> None:
    decision = coverage_check(organization=coverage.outsider_operator, address="Rivadavia 5200")

    assert decision.covered is None
    assert decision.reasons == [
        "No coverage areas are loaded for Otro Operador; ask an administrator to import the "
        "operator's coverage files."
    ]


@pytest.mark.parametrize(
    ("address", "covered"),
    [
        ("Rivadavia 5000", True),  # first number of the range
        ("Rivadavia 5800", True),  # last number
        ("Rivadavia 4998", False),
        ("Rivadavia 5802", False),
        ("Rivadavia 5201", False),  # odd: the range covers even numbers only
        ("Sarmiento 3501", True),  # odd range, first number
        ("Sarmiento 3502", False),
        ("Sarmiento 4299", True),
        ("Gurruchaga 1500", True),  # all numbers
        ("Gurruchaga 1501", True),
        ("Gurruchaga 2201", False),
    ],
)
def test_range_edges_and_parity(coverage: Coverage, address: str, covered: bool) -> None:
    assert coverage_check(organization=coverage.operator, address=address).covered is covered


def test_an_uncovered_number_lists_the_ranges_of_the_street(coverage: Coverage) -> None:
    decision = coverage_check(organization=coverage.operator, address="Av. Rivadavia 5201")

    assert decision.covered is False
    assert decision.result == "not_covered"
    assert decision.area is None
    assert decision.reasons == [
        "No coverage area includes Av. Rivadavia 5201.",
        "Covered on that street: Av. Rivadavia 5000–5800, even numbers (Caballito).",
    ]


def test_abbreviations_and_accents_match(coverage: Coverage) -> None:
    decision = coverage_check(
        organization=coverage.operator, address="Avenida General Paz 1500 piso 3 dto B"
    )

    assert decision.covered is True
    assert decision.reasons == [
        "Avenida General Paz 1500 is within Villa Crespo (Gral. Paz 1400–1600, all numbers)."
    ]


def test_the_city_narrows_the_ranges(coverage: Coverage) -> None:
    la_plata = coverage_check(organization=coverage.operator, address="Calle 50 n° 1234 La Plata")
    elsewhere = coverage_check(organization=coverage.operator, address="Calle 50 1234, Rosario")
    given_city = coverage_check(
        organization=coverage.operator, address="Calle 50 1234", city="Rosario"
    )

    assert la_plata.covered is True
    assert la_plata.area is not None and la_plata.area.city == "La Plata"
    assert elsewhere.covered is False
    assert given_city.covered is False


def test_capital_federal_is_caba(coverage: Coverage) -> None:
    decision = coverage_check(
        organization=coverage.operator, address="Gurruchaga 1800, Capital Federal"
    )

    assert decision.covered is True


def test_a_street_covered_in_two_cities_asks_for_the_city(coverage: Coverage) -> None:
    coverage_import_csv(
        actor=coverage.importer(),
        content="city,zone,street,from,to\nRosario,Centro,Calle 50,1000,2000\n",
        source_file="rosario.csv",
    )

    decision = coverage_check(organization=coverage.operator, address="Calle 50 1234")

    assert decision.covered is None
    assert decision.reasons == [
        "Calle 50 1234 is covered in La Plata, Rosario; add the city or barrio to the address "
        "to know which one."
    ]
    assert coverage_check(organization=coverage.operator, address="Calle 50 1234, Rosario").covered


def test_a_point_inside_a_polygon_is_covered(coverage: Coverage) -> None:
    decision = coverage_check(organization=coverage.operator, address="", point=(-34.583, -58.435))

    assert decision.covered is True
    assert decision.matched_by == "polygon"
    assert decision.area == CoverageArea.objects.get(name="Palermo Soho")
    assert decision.reasons == [
        "The point -34.583, -58.435 is inside the coverage area Palermo Soho."
    ]


def test_a_point_in_the_hole_is_not_covered(coverage: Coverage) -> None:
    decision = coverage_check(organization=coverage.operator, address="", point=(-34.588, -58.43))

    assert decision.covered is False
    assert decision.reasons == ["The point -34.588, -58.43 is outside every coverage polygon."]


def test_a_point_on_the_edge_and_in_a_multipolygon(coverage: Coverage) -> None:
    on_edge = coverage_check(organization=coverage.operator, address="", point=(-34.595, -58.43))
    second_part = coverage_check(
        organization=coverage.operator, address="", point=(-34.695, -58.395)
    )
    between_parts = coverage_check(
        organization=coverage.operator, address="", point=(-34.695, -58.45)
    )

    assert on_edge.covered is True
    assert second_part.covered is True
    assert second_part.area == CoverageArea.objects.get(name="Islas")
    assert between_parts.covered is False


def test_ranges_first_then_the_point(coverage: Coverage) -> None:
    decision = coverage_check(
        organization=coverage.operator,
        address="Honduras 9999, Palermo",
        point=(-34.583, -58.435),
    )

    assert decision.covered is True
    assert decision.matched_by == "polygon"
    assert (decision.street, decision.number) == ("Honduras", 9999)


def test_neither_range_nor_polygon_is_not_covered_with_both_reasons(coverage: Coverage) -> None:
    decision = coverage_check(
        organization=coverage.operator, address="Honduras 9999", point=(-34.7, -58.6)
    )

    assert decision.covered is False
    assert decision.reasons == [
        "No coverage area includes Honduras 9999.",
        "The point -34.7, -58.6 is outside every coverage polygon.",
    ]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (
            "Rivadavia",
            "Complete the installation address with the house number (e.g. Av. Rivadavia "
            '5200, Caballito), or the installation point as "latitude, longitude".',
        ),
        (
            "",
            "Complete the installation address with the street and house number (e.g. Av. "
            'Rivadavia 5200, Caballito), or the installation point as "latitude, longitude".',
        ),
    ],
)
def test_an_address_that_cannot_be_read_is_unchecked(
    coverage: Coverage, address: str, reason: str
) -> None:
    decision = coverage_check(organization=coverage.operator, address=address)

    assert decision.covered is None
    assert decision.result == "unchecked"
    assert decision.reasons == [reason]


def test_inactive_areas_are_ignored(coverage: Coverage) -> None:
    CoverageArea.objects.filter(name="Caballito").update(is_active=False)

    decision = coverage_check(organization=coverage.operator, address="Rivadavia 5200")

    assert decision.covered is False


def test_a_point_out_of_range_is_refused(coverage: Coverage) -> None:
    with pytest.raises(ValidationFailed) as error:
        coverage_check(organization=coverage.operator, address="", point=(-134.0, -58.0))

    assert error.value.details == {
        "point": ["The point must be a latitude (-90 to 90) and a longitude (-180 to 180)."]
    }
