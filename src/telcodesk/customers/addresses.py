"""Postal and installation addresses: checking them and writing them on one line.

Bolivia has a mandatory protocol for installation addresses (the operator's "protocolo
para registro de direcciones"), written in capitals:

    LA PAZ - 2040 ENTRE LANZA Y ANTEZANA EDIFICIO ELIAS PISO 5 DEPTO B
    LA PAZ - 2030 ESQUINA LANZA
    25 DE MAYO - 0073 ENTRE JORDAN Y SUCRE. OBSERVACIONES: DENTRO DEL PASAJE ALDUNATE
    INNOMINADA - 1512 ZONA PUCARA BARRIO EL PORVENIR. OBSERVACIONES: AV. VILLAZON KM 8 ...

that is ``STREET - NUMBER`` (house number with 4 digits, zero-padded), then in this
order ``ENTRE a Y b`` or ``ESQUINA c``, ``EDIFICIO name`` or ``CONDOMINIO name``,
``BLOQUE``, ``PISO``, ``DEPTO``, ``ZONA``, ``BARRIO`` and finally
``. OBSERVACIONES: free text`` (passages, parks, directions). A rural address or a
street without a name uses the street INNOMINADA, a provisional house number, its zone
and neighbourhood, and directions in OBSERVACIONES. City and department are not part
of the line: they are recorded in their own fields.

Bolivian fields are upper-cased but accents and Ñ are kept: stripping them would turn
CAÑOTO into CANOTO, and search already compares accent-free text on its own.

Because the line is cut at its keywords, those words cannot appear inside the parts
(a zone called "PISO ALTO" would read as a floor); validation says so, which is what
makes parse and render exact inverses for every valid address.

The words of each country's format (PISO, apto, CEP...) are that country's address
conventions, not interface text, so they are not translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from telcodesk.core.errors import ErrorCode, ValidationFailed

BUILDING = "building"
CONDOMINIUM = "condominium"
BUILDING_TYPES = ("", BUILDING, CONDOMINIUM)

RURAL_STREET = "INNOMINADA"
HOUSE_NUMBER_DIGITS = 4

# The 26 states and the Federal District.
BRAZILIAN_STATES = frozenset(
    (
        *("AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG"),
        *("PA", "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"),
    )
)


@dataclass
class AddressFields:
    """The parts of an address, mirroring customers.models.Address."""

    street: str = ""
    number: str = ""
    between_street_a: str = ""
    between_street_b: str = ""
    corner_street: str = ""
    building_type: str = ""  # BUILDING, CONDOMINIUM or ""
    building_name: str = ""
    block: str = ""
    floor: str = ""
    apartment: str = ""
    zone: str = ""
    neighbourhood: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    reference: str = ""
    is_rural: bool = False


@dataclass
class ParsedAddress:
    fields: AddressFields
    problems: list[str] = field(default_factory=list)


class InvalidAddress(ValidationFailed):
    code = ErrorCode.INVALID_ADDRESS

    def __init__(self, problems: list[str]) -> None:
        # Each problem is a whole translated sentence, so they can be shown together.
        super().__init__(" ".join(problems), details={"address": list(problems)})


# The field names, for the services and the API (one list, defined by the dataclass).
ADDRESS_FIELD_NAMES = tuple(f.name for f in fields(AddressFields))
_TEXT_FIELDS = tuple(name for name in ADDRESS_FIELD_NAMES if name != "is_rural")
ADDRESS_TEXT_FIELDS = _TEXT_FIELDS

FIELD_LABELS: dict[str, str | Promise] = {
    "street": _("The street"),
    "number": _("The house number"),
    "between_street_a": _("The first cross street"),
    "between_street_b": _("The second cross street"),
    "corner_street": _("The corner street"),
    "building_name": _("The building name"),
    "block": _("The block"),
    "floor": _("The floor"),
    "apartment": _("The apartment"),
    "zone": _("The zone"),
    "neighbourhood": _("The neighbourhood"),
}


def _squeeze(text: str) -> str:
    return " ".join(text.split())


# --- Bolivia: the protocol line ----------------------------------------------------

# Keyword -> the part it introduces. DPTO is accepted when reading, DEPTO is written.
_BO_KEYWORDS: dict[str, str] = {
    "ENTRE": "between",
    "ESQUINA": "corner",
    "EDIFICIO": "building",
    "CONDOMINIO": "building",
    "BLOQUE": "block",
    "PISO": "floor",
    "DEPTO": "apartment",
    "DPTO": "apartment",
    "ZONA": "zone",
    "BARRIO": "neighbourhood",
}
_OBSERVATIONS = re.compile(r"\s*\.?\s*\bOBSERVACIONES\b\s*:?\s*")
_OBSERVATIONS_WORD = re.compile(r"\bOBSERVACIONES\b")

# Words people repeat inside a field ("ZONA SUR" typed in the zone box): dropped when
# normalizing, otherwise the line would say ZONA ZONA SUR.
_BO_FIELD_PREFIXES: dict[str, tuple[str, ...]] = {
    "between_street_a": ("ENTRE",),
    "between_street_b": ("Y",),
    "corner_street": ("ESQUINA",),
    "building_name": ("EDIFICIO", "CONDOMINIO"),
    "block": ("BLOQUE",),
    "floor": ("PISO",),
    "apartment": ("DEPTO", "DPTO"),
    "zone": ("ZONA",),
    "neighbourhood": ("BARRIO",),
}
_BUILDING_TYPE_WORDS = {"EDIFICIO": BUILDING, "CONDOMINIO": CONDOMINIUM}
# Parts that map straight onto one field (ENTRE and EDIFICIO/CONDOMINIO fill two).
_BO_PART_FIELDS = {
    "corner": "corner_street",
    "block": "block",
    "floor": "floor",
    "apartment": "apartment",
    "zone": "zone",
    "neighbourhood": "neighbourhood",
}


def _strip_prefixes(value: str, prefixes: tuple[str, ...]) -> str:
    words = value.split(" ")
    while words and words[0] in prefixes:
        words.pop(0)
    return " ".join(words)


def _normalize_bolivian(fields_: AddressFields) -> AddressFields:
    values = {name: _squeeze(getattr(fields_, name)).upper() for name in _TEXT_FIELDS}
    for name, prefixes in _BO_FIELD_PREFIXES.items():
        values[name] = _strip_prefixes(values[name], prefixes)
    reference = values["reference"]
    while (match := re.match(r"OBSERVACIONES\b\s*:?\s*", reference)) is not None:
        reference = reference[match.end() :]
    values["reference"] = reference
    building_type = values["building_type"].lower()
    values["building_type"] = _BUILDING_TYPE_WORDS.get(building_type.upper(), building_type)
    if re.fullmatch(r"[0-9]+", values["number"]):
        values["number"] = values["number"].zfill(HOUSE_NUMBER_DIGITS)
    is_rural = fields_.is_rural or values["street"] == RURAL_STREET
    if is_rural and not values["street"]:
        values["street"] = RURAL_STREET
    return AddressFields(**values, is_rural=is_rural)


def _render_bolivian(fields_: AddressFields) -> str:
    f = _normalize_bolivian(fields_)
    parts: list[str] = []
    if f.street or f.number:
        parts.append(f"{f.street} - {f.number}".strip())
    if f.between_street_a or f.between_street_b:
        words = ["ENTRE", f.between_street_a, "Y", f.between_street_b]
        parts.append(" ".join(word for word in words if word))
    if f.corner_street:
        parts.append(f"ESQUINA {f.corner_street}")
    if f.building_name:
        keyword = "CONDOMINIO" if f.building_type == CONDOMINIUM else "EDIFICIO"
        parts.append(f"{keyword} {f.building_name}")
    for keyword, value in (
        ("BLOQUE", f.block),
        ("PISO", f.floor),
        ("DEPTO", f.apartment),
        ("ZONA", f.zone),
        ("BARRIO", f.neighbourhood),
    ):
        if value:
            parts.append(f"{keyword} {value}")
    line = " ".join(parts)
    if f.reference:
        return f"{line}. OBSERVACIONES: {f.reference}" if line else f"OBSERVACIONES: {f.reference}"
    return line


def _first_keyword(words: list[str]) -> int:
    return next((i for i, word in enumerate(words) if word in _BO_KEYWORDS), len(words))


def parse_bolivian_line(line: str) -> ParsedAddress:
    """Read a line written under the Bolivian protocol back into its parts.

    Case-insensitive and tolerant of extra spaces and of a dash without spaces
    (``LA PAZ-2020``). Whatever can be read is returned, normalized, together with
    every problem found (syntax first, then the rules of ``validate_address``), each
    saying what to fix. ``render_one_line`` of the result is stable: reading and
    writing it again gives the same line.
    """
    # Word processors turn " - " into an en dash; read any dash as the separator.
    text = re.sub(r"[\u2010-\u2015]", "-", _squeeze(line).upper())
    problems: list[str] = []
    if not text:
        problems.append(
            gettext("The address is empty. Write it like LA PAZ - 2020 ENTRE LANZA Y ANTEZANA.")
        )
    main, reference = text, ""
    observations = _OBSERVATIONS.search(text)
    if observations is not None:
        main, reference = text[: observations.start()], text[observations.end() :]

    words = main.split()
    first_keyword = _first_keyword(words)
    head = " ".join(words[:first_keyword])
    if "-" in head:
        # Make the separating dash a word of its own, so that "PAZ-2020" or "PAZ-ENTRE"
        # read like "PAZ - 2020" and a keyword glued to it is still seen.
        before, _dash, after = head.partition("-")
        words = [*before.split(), "-", *after.split(), *words[first_keyword:]]
        first_keyword = _first_keyword(words)
        head = " ".join(words[:first_keyword])
    street, dash, number = head.partition("-")
    street, number = street.strip(), number.strip()
    if head and not dash:
        problems.append(
            gettext("Separate the street from the house number with ' - ', like LA PAZ - 2020.")
        )
        # "LA PAZ 2020": trailing digits are most likely the house number.
        *street_words, last_word = head.split(" ")
        if street_words and re.fullmatch(r"[0-9]+", last_word):
            street, number = " ".join(street_words), last_word

    values: dict[str, list[str]] = {}
    keywords_seen: dict[str, str] = {}
    current: list[str] = []
    for word in words[first_keyword:]:
        part = _BO_KEYWORDS.get(word)
        if part is None:
            current.append(word)
            continue
        current = []
        if part in keywords_seen:
            if part == "building" and word != keywords_seen[part]:
                problems.append(gettext("Use either EDIFICIO or CONDOMINIO, not both."))
            else:
                problems.append(
                    gettext("%(keyword)s appears more than once: keep only one.")
                    % {"keyword": keywords_seen[part]}
                )
            continue  # the first one wins; the repeated part is dropped
        keywords_seen[part] = word
        values[part] = current

    fields_ = AddressFields(street=street, number=number, reference=reference)
    for part, keyword in keywords_seen.items():
        value = " ".join(values[part])
        if not value:
            problems.append(
                gettext(
                    "%(keyword)s is not followed by anything: write what it refers to or remove it."
                )
                % {"keyword": keyword}
            )
            continue
        if part == "between":
            cross_a, _y, cross_b = (" " + value + " ").partition(" Y ")
            fields_.between_street_a, fields_.between_street_b = cross_a.strip(), cross_b.strip()
        elif part == "building":
            fields_.building_type = _BUILDING_TYPE_WORDS[keyword]
            fields_.building_name = value
        else:
            setattr(fields_, _BO_PART_FIELDS[part], value)

    normalized = _normalize_bolivian(fields_)
    problems.extend(_bolivian_problems(normalized))
    return ParsedAddress(fields=normalized, problems=list(dict.fromkeys(problems)))


def _bolivian_problems(f: AddressFields) -> list[str]:
    problems: list[str] = []
    if f.is_rural:
        if f.street != RURAL_STREET:
            problems.append(
                gettext(
                    "A rural address uses INNOMINADA as its street; put the road's name in "
                    "OBSERVACIONES."
                )
            )
        if not f.number:
            problems.append(gettext("Give the house a provisional number, like INNOMINADA - 0001."))
        if not f.zone:
            problems.append(gettext("A rural address needs its ZONA, like ZONA PUCARA."))
        if not f.reference:
            problems.append(
                gettext(
                    "A rural address needs directions in OBSERVACIONES, as detailed as "
                    "possible: from which road, how far, which landmarks, what the house "
                    "looks like."
                )
            )
    else:
        if not f.street:
            problems.append(
                gettext("The street name is missing: write it before ' - ' like LA PAZ - 2020.")
            )
        if not f.number:
            problems.append(
                gettext(
                    "The house number is missing: write it after ' - ' with 4 digits, like "
                    "LA PAZ - 0073."
                )
            )
        if not (f.between_street_a or f.between_street_b or f.corner_street):
            problems.append(
                gettext(
                    "Say between which streets the house is (ENTRE LANZA Y ANTEZANA) or at "
                    "which corner (ESQUINA LANZA)."
                )
            )
    if f.number and not re.fullmatch(r"[0-9]+", f.number):
        problems.append(
            gettext(
                "The house number must be only digits, like 0073; you wrote '%(number)s'. "
                "Put letters or other details in OBSERVACIONES."
            )
            % {"number": f.number}
        )
    if bool(f.between_street_a) != bool(f.between_street_b):
        problems.append(
            gettext("ENTRE needs two streets joined by Y, like ENTRE LANZA Y ANTEZANA.")
        )
    if (f.between_street_a or f.between_street_b) and f.corner_street:
        problems.append(
            gettext(
                "Give either the two streets the house is between (ENTRE) or its corner "
                "(ESQUINA), not both."
            )
        )
    if f.building_type not in BUILDING_TYPES:
        problems.append(
            gettext(
                "The building type must be a building (EDIFICIO) or a condominium (CONDOMINIO)."
            )
        )
    if f.building_type and not f.building_name:
        problems.append(gettext("Write the name of the building or condominium."))
    if f.building_name and not f.building_type:
        problems.append(
            gettext("Say whether %(name)s is a building (EDIFICIO) or a condominium (CONDOMINIO).")
            % {"name": f.building_name}
        )
    if f.building_type == BUILDING and f.building_name and not f.floor:
        problems.append(
            gettext("EDIFICIO needs the floor (PISO), like EDIFICIO ELIAS PISO 5 DEPTO B.")
        )
    if "-" in f.street:
        problems.append(
            gettext(
                "The street name cannot contain '-': the protocol uses it to separate the "
                "street from the number. Write the name without it."
            )
        )
    if "Y" in f.between_street_a.split(" "):
        problems.append(
            gettext(
                "The first cross street cannot contain the word Y, which separates the two "
                "cross streets. Write the name without it."
            )
        )
    problems.extend(_reserved_word_problems(f))
    return problems


def _reserved_word_problems(f: AddressFields) -> list[str]:
    problems: list[str] = []
    for name, label in FIELD_LABELS.items():
        value = getattr(f, name)
        reserved = [word for word in value.split(" ") if word in _BO_KEYWORDS]
        if _OBSERVATIONS_WORD.search(value):
            reserved.append("OBSERVACIONES")
        for word in reserved:
            problems.append(
                gettext(
                    "%(field)s contains %(word)s, a word the address protocol reserves for "
                    "its own part. Use that part instead, or abbreviate the word."
                )
                % {"field": label, "word": word}
            )
    return problems


# --- other countries --------------------------------------------------------------


def _join(*parts: str, separator: str = ", ") -> str:
    return separator.join(part for part in parts if part)


def _labelled(label: str, value: str) -> str:
    return f"{label} {value}" if value else ""


def _render_brazilian(f: AddressFields) -> str:
    """``Rua X, 123, bloco B, apto 45 - Bairro, Cidade - UF, CEP 01310-100``."""
    first = _join(
        f.street,
        f.number,
        f.building_name,
        _labelled("bloco", f.block),
        _labelled("apto", f.apartment),
    )
    first = _join(first, f.neighbourhood or f.zone, separator=" - ")
    place = _join(f.city, f.state, separator=" - ")
    return _join(first, place, _labelled("CEP", f.postal_code))


def _render_spanish_american(f: AddressFields, *, country: str) -> str:
    """The usual Argentine, Mexican and Ecuadorian forms.

    AR: ``Av. Corrientes 1234, piso 5 depto B, entre Uruguay y Talcahuano, San Nicolás,
    Ciudad de Buenos Aires, Buenos Aires, C1043AAZ``
    MX: ``Av. Insurgentes Sur 1602, int. 5B, Col. Crédito Constructor, Ciudad de México,
    CDMX, C.P. 03940``
    EC: ``Av. Amazonas N34-451 y Atahualpa, piso 2 dpto. 4, Quito, Pichincha, 170135``
    (Ecuador writes the corner street after ``y``).
    """
    street = _join(f.street, f.number, separator=" ")
    if country == "EC" and f.corner_street:
        street = f"{street} y {f.corner_street}"
    if country == "MX":
        unit = _join(_labelled("piso", f.floor), _labelled("int.", f.apartment), separator=" ")
        neighbourhood = _labelled("Col.", f.neighbourhood or f.zone)
        postal = _labelled("C.P.", f.postal_code)
    else:
        apartment_word = "dpto." if country == "EC" else "depto"
        unit = _join(
            _labelled("piso", f.floor), _labelled(apartment_word, f.apartment), separator=" "
        )
        neighbourhood = f.neighbourhood or f.zone
        postal = f.postal_code
    between = ""
    if f.between_street_a and f.between_street_b:
        between = f"entre {f.between_street_a} y {f.between_street_b}"
    corner = _labelled("esq.", f.corner_street) if country != "EC" else ""
    return _join(
        street,
        f.building_name,
        _labelled("bloque", f.block),
        unit,
        between,
        corner,
        neighbourhood,
        f.city,
        f.state,
        postal,
    )


def render_one_line(fields_: AddressFields, *, country: str) -> str:
    """The address on one line, the way the country writes it.

    BO follows the protocol described in this module (and normalizes first, so it is
    always in capitals with a 4-digit number); BR is ``Rua X, 123, apto 45 - Bairro,
    Cidade - UF, CEP 01310-100``; AR, MX, EC and any other country use
    ``Street 123, piso 5 depto B, Neighbourhood, City, State, postal code`` with the
    local words (see ``_render_spanish_american``).
    """
    country = country.upper()
    if country == "BO":
        return _render_bolivian(fields_)
    f = address_normalize(fields_, country=country)
    if country == "BR":
        return _render_brazilian(f)
    return _render_spanish_american(f, country=country)


# --- normalization and validation -------------------------------------------------


def _normalize_cep(value: str) -> str:
    digits = re.sub(r"[\s.\-]", "", value)
    if re.fullmatch(r"[0-9]{8}", digits):
        return f"{digits[:5]}-{digits[5:]}"
    return value  # left as typed so the problem can quote it


def address_normalize(fields_: AddressFields, *, country: str) -> AddressFields:
    """Trim and single-space every part, then apply the country's conventions.

    BO: capitals, 4-digit house number, repeated keywords dropped ("ZONA SUR" in the
    zone becomes "SUR"), street INNOMINADA for a rural address. BR: CEP as 01310-100,
    UF in capitals. AR: postal code in capitals without spaces.
    """
    country = country.upper()
    if country == "BO":
        return _normalize_bolivian(fields_)
    normalized = replace(fields_)
    for name in _TEXT_FIELDS:
        setattr(normalized, name, _squeeze(getattr(fields_, name)))
    if country == "BR":
        normalized.postal_code = _normalize_cep(normalized.postal_code)
        normalized.state = normalized.state.upper()
    elif country == "AR":
        normalized.postal_code = normalized.postal_code.replace(" ", "").upper()
    return normalized


def validate_address(fields_: AddressFields, *, country: str) -> list[str]:
    """Every problem of an (already normalized) address, each saying what to fix.

    BO: the protocol (street and number, or a rural address with zone and directions;
    ENTRE with two streets or ESQUINA; EDIFICIO with PISO). BR: street, number (or S/N),
    city, UF and an 8-digit CEP. AR: street; postal code, when given, of 4 digits or a
    CPA like C1425ABC. MX: street; postal code, when given, of 5 digits. EC: street;
    postal code, when given, of 6 digits.
    """
    country = country.upper()
    f = fields_
    if country == "BO":
        return _bolivian_problems(f)
    problems: list[str] = []
    if not f.street:
        problems.append(gettext("Type the street."))
    if country == "BR":
        if not f.number:
            problems.append(gettext("Type the house number, or S/N if it has none."))
        if not f.city:
            problems.append(gettext("Type the city."))
        if not f.state:
            problems.append(gettext("Type the state as its 2-letter UF, like SP or RJ."))
        elif f.state not in BRAZILIAN_STATES:
            problems.append(
                gettext("Type the state as its 2-letter UF, like SP or RJ; you typed '%(state)s'.")
                % {"state": f.state}
            )
        if not f.postal_code:
            problems.append(gettext("Type the CEP, like 01310-100."))
        elif not re.fullmatch(r"[0-9]{5}-[0-9]{3}", f.postal_code):
            problems.append(
                gettext("The CEP has 8 digits, like 01310-100; you typed '%(code)s'.")
                % {"code": f.postal_code}
            )
    elif country == "AR" and f.postal_code:
        if not re.fullmatch(r"[0-9]{4}|[A-HJ-NP-Z][0-9]{4}[A-Z]{3}", f.postal_code):
            problems.append(
                gettext(
                    "The postal code has 4 digits (1425) or is a CPA like C1425ABC; you "
                    "typed '%(code)s'."
                )
                % {"code": f.postal_code}
            )
    elif country == "MX" and f.postal_code and not re.fullmatch(r"[0-9]{5}", f.postal_code):
        problems.append(
            gettext("The C.P. has 5 digits, like 06700; you typed '%(code)s'.")
            % {"code": f.postal_code}
        )
    elif country == "EC" and f.postal_code and not re.fullmatch(r"[0-9]{6}", f.postal_code):
        problems.append(
            gettext("The postal code has 6 digits, like 170135; you typed '%(code)s'.")
            % {"code": f.postal_code}
        )
    return problems


def address_check(fields_: AddressFields, *, country: str) -> AddressFields:
    """Normalize and validate; the normalized address, or InvalidAddress with every problem."""
    normalized = address_normalize(fields_, country=country)
    problems = validate_address(normalized, country=country)
    if problems:
        raise InvalidAddress(problems)
    return normalized
