"""Reading Argentine street addresses, and the street key that makes them comparable."""

from __future__ import annotations

import pytest

from telcodesk.coverage.streets import (
    AddressProblem,
    StreetAddress,
    address_parse,
    locality_key,
    street_key,
)


@pytest.mark.parametrize(
    ("address", "street", "key", "number", "localities"),
    [
        (
            "Av. Rivadavia 5200, Caballito, CABA",
            "Av. Rivadavia",
            "rivadavia",
            5200,
            ["caballito", "caba"],
        ),
        ("Calle 50 n° 1234 La Plata", "Calle 50", "50", 1234, ["la plata"]),
        ("Calle 50 nº1234, La Plata", "Calle 50", "50", 1234, ["la plata"]),
        ("Calle 50 1234 La Plata", "Calle 50", "50", 1234, ["la plata"]),
        ("Gral. Paz 1500 piso 3 dto B", "Gral. Paz", "general paz", 1500, []),
        ("Avenida Nueve de Julio 1000", "Avenida Nueve de Julio", "9 de julio", 1000, []),
        ("Pte. Perón nro. 300", "Pte. Perón", "presidente peron", 300, []),
        (
            "Rivadavia 5200 5° B, C1406GLA, Capital Federal",
            "Rivadavia",
            "rivadavia",
            5200,
            ["caba"],
        ),
        (
            "Av. Corrientes 4500 entre Medrano y Salguero, Almagro",
            "Av. Corrientes",
            "corrientes",
            4500,
            ["almagro"],
        ),
        ("25 de Mayo 300", "25 de Mayo", "25 de mayo", 300, []),
    ],
)
def test_it_reads_street_number_and_localities(
    address: str, street: str, key: str, number: int, localities: list[str]
) -> None:
    assert address_parse(address) == StreetAddress(
        street=street, key=key, number=number, localities=localities
    )


@pytest.mark.parametrize(
    ("address", "missing"),
    [
        ("", "street"),
        ("   ", "street"),
        ("Rivadavia", "number"),
        ("Rivadavia s/n, Caballito", "number"),
        ("Calle 50 n° , La Plata", "number"),
        ("1234", "street"),
        ("Av. 1234", "street"),
    ],
)
def test_it_says_what_is_missing(address: str, missing: str) -> None:
    assert address_parse(address) == AddressProblem(missing)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Av. Rivadavia", "RIVADAVIA"),
        ("Avenida Rivadavia", "av rivadavia"),
        ("Gral. Paz", "Avenida General Paz"),
        ("Pte. Roque Sáenz Peña", "Presidente Roque Saenz Pena"),
        ("Nueve de Julio", "Av. 9 de Julio"),
        ("Primera Junta", "1ra. Junta"),
        ("Tres de Febrero", "3 de Febrero"),
        ("Dr. Tomás Manuel de Anchorena", "Doctor Tomas Manuel de Anchorena"),
        ("Bv. Oroño", "Oroño"),
        ("Cnel. Díaz", "Coronel Diaz"),
    ],
)
def test_spellings_of_one_street_share_a_key(one: str, other: str) -> None:
    assert street_key(one) == street_key(other)


def test_different_streets_keep_different_keys() -> None:
    assert street_key("Diagonal 74") != street_key("Calle 74")
    assert street_key("Pasaje Rivadavia") != street_key("Rivadavia")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("CABA", "caba"),
        ("C.A.B.A.", "caba"),
        ("Capital Federal", "caba"),
        ("Ciudad Autónoma de Buenos Aires", "caba"),
        ("La Plata", "la plata"),
        ("Villa Crespo", "villa crespo"),
    ],
)
def test_city_aliases_share_a_key(text: str, key: str) -> None:
    assert locality_key(text) == key
