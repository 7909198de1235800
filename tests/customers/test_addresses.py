from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from telcodesk.core.errors import ErrorCode
from telcodesk.customers.addresses import (
    BUILDING,
    CONDOMINIUM,
    AddressFields,
    InvalidAddress,
    address_check,
    address_normalize,
    parse_bolivian_line,
    render_one_line,
    validate_address,
)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def render_bo(fields: AddressFields) -> str:
    return render_one_line(fields, country="BO")


# --- Bolivia: the protocol's own examples -------------------------------------------

PROTOCOL_EXAMPLES = [
    "LA PAZ - 2020 ENTRE LANZA Y ANTEZANA",
    "LA PAZ - 2030 ESQUINA LANZA",
    "LA PAZ - 2040 ENTRE LANZA Y ANTEZANA EDIFICIO ELIAS PISO 5 DEPTO B",
    "LA PAZ - 2040 ENTRE LANZA Y ANTEZANA CONDOMINIO HORIZONTES BLOQUE I PISO 4 DEPTO A",
    "25 DE MAYO - 0073 ENTRE JORDAN Y SUCRE. OBSERVACIONES: DENTRO DEL PASAJE ALDUNATE "
    "LADO NORTE CASETA 73",
    "QUILLA - 0563 ENTRE ILLAPA Y PACHAMAMA. OBSERVACIONES: PARQUE LINCOLN, ACERA NORTE.",
    "INNOMINADA - 1512 ZONA PUCARA BARRIO EL PORVENIR. OBSERVACIONES: AV. VILLAZON KM 8 AL NORTE",
]


@pytest.mark.parametrize("line", PROTOCOL_EXAMPLES)
def test_every_protocol_example_reads_without_problems_and_renders_back(line: str) -> None:
    parsed = parse_bolivian_line(line)
    assert parsed.problems == []
    assert render_bo(parsed.fields) == line


def test_it_renders_a_building_address_like_the_protocol() -> None:
    fields = AddressFields(
        street="La Paz",
        number="2040",
        between_street_a="Lanza",
        between_street_b="Antezana",
        building_type=BUILDING,
        building_name="Elías",
        floor="5",
        apartment="b",
        city="Cochabamba",
        state="Cochabamba",
    )
    # Accents are kept (upper-cased); the city is not part of the protocol line.
    assert render_bo(fields) == "LA PAZ - 2040 ENTRE LANZA Y ANTEZANA EDIFICIO ELÍAS PISO 5 DEPTO B"


def test_it_pads_house_numbers_to_four_digits() -> None:
    fields = AddressFields(
        street="25 de Mayo",
        number="73",
        between_street_a="Jordan",
        between_street_b="Sucre",
        reference="Dentro del pasaje Aldunate",
    )
    assert render_bo(fields) == (
        "25 DE MAYO - 0073 ENTRE JORDAN Y SUCRE. OBSERVACIONES: DENTRO DEL PASAJE ALDUNATE"
    )


def test_a_rural_address_uses_innominada_zone_barrio_and_observations() -> None:
    fields = AddressFields(
        number="1512",
        zone="Pucara",
        neighbourhood="El Porvenir",
        reference="Av. Villazon km 8 al norte",
        is_rural=True,
    )
    assert render_bo(fields) == (
        "INNOMINADA - 1512 ZONA PUCARA BARRIO EL PORVENIR. OBSERVACIONES: AV. VILLAZON KM 8 "
        "AL NORTE"
    )
    assert validate_address(address_normalize(fields, country="BO"), country="BO") == []


def test_it_reads_every_part_of_a_condominium_line() -> None:
    parsed = parse_bolivian_line(
        "  la paz -  2040 entre lanza y antezana condominio horizontes bloque i piso 4 "
        "dpto a zona sopocachi barrio central "
    )
    assert parsed.problems == []
    assert parsed.fields == AddressFields(
        street="LA PAZ",
        number="2040",
        between_street_a="LANZA",
        between_street_b="ANTEZANA",
        building_type=CONDOMINIUM,
        building_name="HORIZONTES",
        block="I",
        floor="4",
        apartment="A",
        zone="SOPOCACHI",
        neighbourhood="CENTRAL",
    )


def test_a_rural_line_is_read_as_rural() -> None:
    parsed = parse_bolivian_line(PROTOCOL_EXAMPLES[-1])
    assert parsed.fields.is_rural is True
    assert parsed.fields.street == "INNOMINADA"
    assert parsed.fields.zone == "PUCARA"
    assert parsed.fields.neighbourhood == "EL PORVENIR"
    assert parsed.fields.reference.startswith("AV. VILLAZON KM 8")


def test_it_accepts_a_dash_without_spaces() -> None:
    parsed = parse_bolivian_line("la paz-73 esquina lanza")
    assert parsed.problems == []
    assert render_bo(parsed.fields) == "LA PAZ - 0073 ESQUINA LANZA"


# --- Bolivia: problems --------------------------------------------------------------


def test_it_reports_a_missing_separator_but_still_reads_the_number() -> None:
    parsed = parse_bolivian_line("LA PAZ 2020 ENTRE LANZA Y ANTEZANA")
    assert parsed.problems == [
        "Separate the street from the house number with ' - ', like LA PAZ - 2020."
    ]
    assert render_bo(parsed.fields) == "LA PAZ - 2020 ENTRE LANZA Y ANTEZANA"


def test_it_reports_a_number_that_is_not_numeric() -> None:
    parsed = parse_bolivian_line("LA PAZ - 20A ESQUINA LANZA")
    assert parsed.problems == [
        "The house number must be only digits, like 0073; you wrote '20A'. "
        "Put letters or other details in OBSERVACIONES."
    ]


def test_it_reports_entre_without_y() -> None:
    parsed = parse_bolivian_line("LA PAZ - 2020 ENTRE LANZA")
    assert parsed.problems == ["ENTRE needs two streets joined by Y, like ENTRE LANZA Y ANTEZANA."]


def test_it_reports_a_building_without_floor() -> None:
    parsed = parse_bolivian_line("LA PAZ - 2040 ESQUINA LANZA EDIFICIO ELIAS DEPTO B")
    assert parsed.problems == [
        "EDIFICIO needs the floor (PISO), like EDIFICIO ELIAS PISO 5 DEPTO B."
    ]


def test_it_reports_a_rural_address_without_directions() -> None:
    parsed = parse_bolivian_line("INNOMINADA - 1512 ZONA PUCARA")
    assert parsed.problems == [
        "A rural address needs directions in OBSERVACIONES, as detailed as possible: from "
        "which road, how far, which landmarks, what the house looks like."
    ]


def test_it_reports_an_empty_street_and_a_missing_corner() -> None:
    parsed = parse_bolivian_line(" - 2020")
    assert parsed.problems == [
        "The street name is missing: write it before ' - ' like LA PAZ - 2020.",
        "Say between which streets the house is (ENTRE LANZA Y ANTEZANA) or at which corner "
        "(ESQUINA LANZA).",
    ]


def test_it_reports_empty_and_repeated_keywords() -> None:
    parsed = parse_bolivian_line("LA PAZ - 2020 ESQUINA LANZA PISO PISO 3 DEPTO")
    assert parsed.problems == [
        "PISO appears more than once: keep only one.",
        "PISO is not followed by anything: write what it refers to or remove it.",
        "DEPTO is not followed by anything: write what it refers to or remove it.",
    ]
    assert parsed.fields.floor == ""


def test_it_reports_an_empty_line() -> None:
    assert parse_bolivian_line("   ").problems[0] == (
        "The address is empty. Write it like LA PAZ - 2020 ENTRE LANZA Y ANTEZANA."
    )


def test_it_refuses_reserved_words_inside_a_part() -> None:
    fields = AddressFields(street="LA PAZ", number="2020", corner_street="LANZA", zone="PISO ALTO")
    assert validate_address(fields, country="BO") == [
        "The zone contains PISO, a word the address protocol reserves for its own part. "
        "Use that part instead, or abbreviate the word."
    ]


def test_normalizing_drops_keywords_typed_inside_their_own_field() -> None:
    fields = AddressFields(
        street=" la  paz ",
        number="73",
        corner_street="esquina lanza",
        zone="Zona Sur",
        floor="piso 3",
        building_type="edificio",
        building_name="Edificio Elias",
        reference="Observaciones: portón verde",
    )
    assert address_normalize(fields, country="BO") == AddressFields(
        street="LA PAZ",
        number="0073",
        corner_street="LANZA",
        zone="SUR",
        floor="3",
        building_type=BUILDING,
        building_name="ELIAS",
        reference="PORTÓN VERDE",
    )


def test_address_check_raises_every_problem_with_its_code() -> None:
    with pytest.raises(InvalidAddress) as caught:
        address_check(AddressFields(street="LA PAZ"), country="BO")
    error = caught.value
    assert error.code == ErrorCode.INVALID_ADDRESS
    assert error.details == {
        "address": [
            "The house number is missing: write it after ' - ' with 4 digits, like LA PAZ - 0073.",
            "Say between which streets the house is (ENTRE LANZA Y ANTEZANA) or at which "
            "corner (ESQUINA LANZA).",
        ]
    }
    assert error.message == " ".join(error.details["address"])


def test_address_check_returns_the_normalized_address() -> None:
    checked = address_check(
        AddressFields(street="la paz", number="2030", corner_street="lanza"), country="BO"
    )
    assert checked == AddressFields(street="LA PAZ", number="2030", corner_street="LANZA")


# --- other countries ----------------------------------------------------------------


def test_a_brazilian_address_renders_with_bairro_uf_and_cep() -> None:
    fields = AddressFields(
        street="Rua Augusta",
        number="123",
        apartment="45",
        neighbourhood="Consolação",
        city="São Paulo",
        state="sp",
        postal_code="01310100",
    )
    assert render_one_line(fields, country="BR") == (
        "Rua Augusta, 123, apto 45 - Consolação, São Paulo - SP, CEP 01310-100"
    )
    assert address_check(fields, country="BR").postal_code == "01310-100"


def test_a_brazilian_address_needs_cep_number_city_and_uf() -> None:
    fields = AddressFields(street="Rua Augusta", state="XX", postal_code="0131")
    assert validate_address(address_normalize(fields, country="BR"), country="BR") == [
        "Type the house number, or S/N if it has none.",
        "Type the city.",
        "Type the state as its 2-letter UF, like SP or RJ; you typed 'XX'.",
        "The CEP has 8 digits, like 01310-100; you typed '0131'.",
    ]
    assert validate_address(AddressFields(), country="BR") == [
        "Type the street.",
        "Type the house number, or S/N if it has none.",
        "Type the city.",
        "Type the state as its 2-letter UF, like SP or RJ.",
        "Type the CEP, like 01310-100.",
    ]


def test_an_argentine_address_renders_and_checks_the_cpa() -> None:
    fields = AddressFields(
        street="Av. Corrientes",
        number="1234",
        floor="5",
        apartment="B",
        neighbourhood="San Nicolás",
        city="Ciudad de Buenos Aires",
        state="Buenos Aires",
        postal_code="c1043 aaz",
    )
    assert render_one_line(fields, country="AR") == (
        "Av. Corrientes 1234, piso 5 depto B, San Nicolás, Ciudad de Buenos Aires, "
        "Buenos Aires, C1043AAZ"
    )
    assert address_check(fields, country="AR").postal_code == "C1043AAZ"
    assert address_check(replace(fields, postal_code="1425"), country="AR").postal_code == "1425"
    assert address_check(replace(fields, postal_code=""), country="AR").postal_code == ""
    assert validate_address(replace(fields, postal_code="I1043AAZ"), country="AR") == [
        "The postal code has 4 digits (1425) or is a CPA like C1425ABC; you typed 'I1043AAZ'."
    ]


def test_a_mexican_address_uses_colonia_and_cp() -> None:
    fields = AddressFields(
        street="Av. Insurgentes Sur",
        number="1602",
        apartment="5B",
        neighbourhood="Crédito Constructor",
        city="Ciudad de México",
        state="CDMX",
        postal_code="03940",
    )
    assert render_one_line(fields, country="MX") == (
        "Av. Insurgentes Sur 1602, int. 5B, Col. Crédito Constructor, Ciudad de México, CDMX, "
        "C.P. 03940"
    )
    assert validate_address(fields, country="MX") == []
    assert validate_address(replace(fields, postal_code="3940"), country="MX") == [
        "The C.P. has 5 digits, like 06700; you typed '3940'."
    ]


def test_an_ecuadorian_address_writes_the_corner_after_y() -> None:
    fields = AddressFields(
        street="Av. Amazonas",
        number="N34-451",
        corner_street="Atahualpa",
        city="Quito",
        state="Pichincha",
        postal_code="170135",
    )
    assert render_one_line(fields, country="EC") == (
        "Av. Amazonas N34-451 y Atahualpa, Quito, Pichincha, 170135"
    )
    assert validate_address(fields, country="EC") == []
    assert validate_address(replace(fields, postal_code="1701"), country="EC") == [
        "The postal code has 6 digits, like 170135; you typed '1701'."
    ]


# --- properties: the protocol line round-trips ------------------------------------------

KEYWORDS = {
    "ENTRE",
    "Y",
    "ESQUINA",
    "EDIFICIO",
    "CONDOMINIO",
    "BLOQUE",
    "PISO",
    "DEPTO",
    "DPTO",
    "ZONA",
    "BARRIO",
    "OBSERVACIONES",
    "INNOMINADA",
}
word = st.text(alphabet="ABCDEFGHIJKLMNÑOPQRSTUVWXYZÁÉÍÓÚ0123456789.,", min_size=1, max_size=8)
name = st.lists(word.filter(lambda w: w not in KEYWORDS), min_size=1, max_size=3).map(" ".join)
optional = st.one_of(st.just(""), name)


@st.composite
def valid_bolivian_addresses(draw: st.DrawFn) -> AddressFields:
    rural = draw(st.booleans())
    between = draw(st.booleans())
    building_type = draw(st.sampled_from(["", BUILDING, CONDOMINIUM]))
    number = str(draw(st.integers(min_value=1, max_value=99999)))
    if rural:
        fields = AddressFields(number=number, zone=draw(name), reference=draw(name), is_rural=True)
    else:
        fields = AddressFields(street=draw(name), number=number, reference=draw(optional))
        if between:
            fields.between_street_a, fields.between_street_b = draw(name), draw(name)
        else:
            fields.corner_street = draw(name)
    if building_type:
        fields.building_type, fields.building_name = building_type, draw(name)
        fields.floor = draw(name) if building_type == BUILDING else draw(optional)
    fields.block, fields.apartment = draw(optional), draw(optional)
    if not rural:
        fields.zone = draw(optional)
    fields.neighbourhood = draw(optional)
    normalized = address_normalize(fields, country="BO")
    assume(validate_address(normalized, country="BO") == [])
    return normalized


@settings(max_examples=200)
@given(valid_bolivian_addresses())
def test_any_valid_bolivian_address_survives_render_and_parse(fields: AddressFields) -> None:
    line = render_bo(fields)
    parsed = parse_bolivian_line(line)
    assert parsed.problems == []
    assert parsed.fields == fields
    assert render_bo(parsed.fields) == line
    assert parse_bolivian_line(line.lower()).fields == fields


line_pieces = st.sampled_from(
    [
        "LA",
        "PAZ",
        "-",
        " - ",
        "2020",
        "0073",
        "ENTRE",
        "Y",
        "ESQUINA",
        "EDIFICIO",
        "CONDOMINIO",
        "BLOQUE",
        "PISO",
        "DEPTO",
        "DPTO",
        "ZONA",
        "BARRIO",
        "INNOMINADA",
        "OBSERVACIONES",
        "OBSERVACIONES:",
        ".",
        ":",
        ". OBSERVACIONES:",
        "piso",
        "5-A",
        "A.",
        "Ñ",
        "",
        "  ",
    ]
)


@settings(max_examples=200)
@given(
    st.one_of(
        st.lists(line_pieces, max_size=14).map(" ".join),
        st.lists(line_pieces, max_size=14).map("".join),
        st.text(alphabet="AY -.:0O1", max_size=30),
    )
)
def test_reading_and_writing_any_line_is_stable(line: str) -> None:
    once = render_bo(parse_bolivian_line(line).fields)
    twice = render_bo(parse_bolivian_line(once).fields)
    assert twice == once


def test_it_reads_an_en_dash_as_the_separator() -> None:
    parsed = parse_bolivian_line("La Paz – 2030 esquina Lanza")
    assert parsed.problems == []
    assert render_bo(parsed.fields) == "LA PAZ - 2030 ESQUINA LANZA"
