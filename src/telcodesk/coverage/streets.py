"""Argentine street addresses as agents and customers type them.

``street_key`` turns a street name into a comparison key: no accents, lower case,
abbreviations expanded ("Gral." -> general, "Pte." -> presidente), number words and
ordinals as digits ("Nueve de Julio" -> 9 de julio, "1ra Junta" -> 1 junta) and the
street type dropped ("Av. Rivadavia", "Avenida Rivadavia" and "Rivadavia" are the same
street; "Calle 50" is 50). ``address_parse`` reads a one-line address into the street,
the house number and the locality words that follow it:

    Av. Rivadavia 5200, Caballito, CABA
    Calle 50 n° 1234 La Plata
    Gral. Paz 1500 piso 3 dto B

Floors, apartments and postal codes are dropped. The words of the address (piso,
dto, n°...) are Argentine address conventions, not interface text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Street types that people drop when they say the name: they are not part of the key.
_STREET_TYPES = {
    "av",
    "avda",
    "avd",
    "ave",
    "avenida",
    "calle",
    "cl",
    "bv",
    "blvd",
    "boulevard",
    "bulevar",
    "bulevard",
}
# Abbreviations of titles and kinds of street that stay in the key, spelled out.
_ABBREVIATIONS = {
    "gral": "general",
    "grl": "general",
    "pte": "presidente",
    "pres": "presidente",
    "presid": "presidente",
    "dr": "doctor",
    "dra": "doctora",
    "cnel": "coronel",
    "tte": "teniente",
    "tnte": "teniente",
    "sgto": "sargento",
    "sarg": "sargento",
    "cap": "capitan",
    "cmte": "comandante",
    "cte": "comandante",
    "alte": "almirante",
    "mcal": "mariscal",
    "gdor": "gobernador",
    "gob": "gobernador",
    "ing": "ingeniero",
    "int": "intendente",
    "intte": "intendente",
    "prof": "profesor",
    "pbro": "presbitero",
    "sta": "santa",
    "sto": "santo",
    "diag": "diagonal",
    "dg": "diagonal",
    "pje": "pasaje",
    "psje": "pasaje",
    "pasj": "pasaje",
    "gdia": "guardia",
}
_NUMBER_WORDS = {
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiuno": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
    "treinta": 30,
    "treintaiuno": 31,
}
_ORDINAL_WORDS = {
    "primero": 1,
    "primera": 1,
    "primer": 1,
    "segundo": 2,
    "segunda": 2,
    "tercero": 3,
    "tercera": 3,
    "tercer": 3,
    "cuarto": 4,
    "cuarta": 4,
    "quinto": 5,
    "quinta": 5,
    "sexto": 6,
    "sexta": 6,
    "septimo": 7,
    "septima": 7,
    "octavo": 8,
    "octava": 8,
    "noveno": 9,
    "novena": 9,
    "decimo": 10,
    "decima": 10,
}
# 1ro, 1ra, 1er, 1era, 2do, 3ro, 4to, 5to, 7mo, 9no, 10mo; also 1° and 1º.
_ORDINAL_DIGITS = re.compile(r"^(\d{1,2})(?:ro|ra|er|era|do|da|to|ta|mo|ma|vo|va|no|na|o|a)$")
# Aliases of cities as people write them -> one key.
_CITY_ALIASES = {
    "caba": "caba",
    "c a b a": "caba",
    "capital federal": "caba",
    "capital": "caba",
    "cap fed": "caba",
    "ciudad de buenos aires": "caba",
    "ciudad autonoma de buenos aires": "caba",
    "buenos aires ciudad": "caba",
}

# Words after the house number that start the floor, the apartment or the cross
# streets: the rest of that part of the address is not a locality.
_UNIT_WORDS = frozenset(
    (
        *("piso", "dto", "dpto", "depto", "departamento", "dep", "pb", "of", "oficina"),
        *("uf", "unidad", "torre", "lote", "timbre", "entre", "esq", "esquina", "monoblock"),
    )
)
_NUMBER_MARK = re.compile(
    r"(?:\bn\s*[°º]\.?|\bnro\b\.?|\bn[uú]m(?:ero)?\b\.?|\bno\b\.?|#)\s*(?=\d)", re.IGNORECASE
)
_MARK = "\x00"
_POSTAL_CODE = re.compile(r"^(?:cp)?(?:[a-z]\d{4}[a-z]{3}|\d{4})$")
_FLOOR = re.compile(r"^\d{1,2}(?:°|º|o|a|ro|ra|er|do|da|to|ta|mo|vo|no)?$")
_DANGLING_MARK = re.compile(r"(?:\bn\s*[°º]|\bnro|\bn[uú]mero|#)\.?\s*$", re.IGNORECASE)
_NO_NUMBER = re.compile(r"(?:\bs/n\b|\bsin numero\b|\bs/numero\b)")
_NUMBER = re.compile(r"^\d{1,6}$")


def plain(text: str) -> str:
    """Lower case without accents (ñ becomes n) with single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


def _words(text: str) -> list[str]:
    # Dots and other punctuation separate words: "Av.Rivadavia", "Gral.Paz".
    cleaned = re.sub(r"[^\w°º]+", " ", plain(text)).replace("_", " ")
    return cleaned.split()


def _key_word(word: str) -> str:
    word = word.rstrip("°º")
    if word in _ABBREVIATIONS:
        return _ABBREVIATIONS[word]
    if word in _NUMBER_WORDS:
        return str(_NUMBER_WORDS[word])
    if word in _ORDINAL_WORDS:
        return str(_ORDINAL_WORDS[word])
    match = _ORDINAL_DIGITS.match(word)
    if match:
        return str(int(match.group(1)))
    if word.isdigit():
        return str(int(word))
    return word


def street_key(street: str) -> str:
    """The comparison key of a street name ("" when nothing is left)."""
    words = [_key_word(word) for word in _words(street)]
    while len(words) > 1 and words[0] in _STREET_TYPES:
        words = words[1:]
    if len(words) == 1 and words[0] in _STREET_TYPES:
        return ""
    return " ".join(words)


def locality_key(text: str) -> str:
    """The comparison key of a city or zone ("CABA" and "Capital Federal" are one)."""
    key = " ".join(_words(text))
    return _CITY_ALIASES.get(key, key)


@dataclass(frozen=True)
class StreetAddress:
    street: str  # as typed, e.g. "Av. Rivadavia"
    key: str  # street_key(street)
    number: int
    localities: list[str] = field(default_factory=list)  # locality keys, e.g. ["caballito"]

    @property
    def display(self) -> str:
        return f"{self.street} {self.number}"


@dataclass(frozen=True)
class AddressProblem:
    """Why an address could not be read: ``missing`` is "street" or "number"."""

    missing: str


def _locality(tokens: list[str]) -> str:
    words = [
        word
        for word in _words(" ".join(tokens))
        if len(word) > 1 and not _FLOOR.match(word) and not _POSTAL_CODE.match(word)
    ]
    return locality_key(" ".join(words))


def address_parse(address: str) -> StreetAddress | AddressProblem:
    """Read ``address`` into street, number and localities, or say what is missing."""
    text = " ".join(address.split())
    if not text:
        return AddressProblem("street")
    head, *rest = (segment.strip() for segment in text.split(","))
    if _NO_NUMBER.search(plain(head)) or _DANGLING_MARK.search(head):
        return AddressProblem("number")
    tokens = _NUMBER_MARK.sub(f" {_MARK} ", head).split()
    words = [plain(token).strip(".-") for token in tokens]
    # Cut at the floor / apartment / cross streets that follow a number.
    seen_number = False
    for position, word in enumerate(words):
        if position > 0 and _NUMBER.match(word):
            seen_number = True
        elif seen_number and word in _UNIT_WORDS:
            tokens, words = tokens[:position], words[:position]
            break
    if _MARK in tokens:
        mark = tokens.index(_MARK)
        if mark + 1 >= len(tokens) or not _NUMBER.match(words[mark + 1]):
            return AddressProblem("number")
        street_tokens, number, trailing = tokens[:mark], int(words[mark + 1]), tokens[mark + 2 :]
    else:
        # The house number is the last number that has a street before it.
        found = [position for position in range(1, len(tokens)) if _NUMBER.match(words[position])]
        if not found:
            has_name = any(not word.isdigit() for word in _words(head))
            return AddressProblem("number" if has_name else "street")
        at = found[-1]
        street_tokens, number, trailing = tokens[:at], int(words[at]), tokens[at + 1 :]
    street = " ".join(street_tokens).strip(" -")
    key = street_key(street)
    if not key:
        return AddressProblem("street")
    localities = [
        locality for part in [trailing, *(r.split() for r in rest)] if (locality := _locality(part))
    ]
    return StreetAddress(street=street, key=key, number=number, localities=localities)
