"""Reading a customer's reply to the survey: a score from 0 to 10, or nothing.

Pure functions over text, so that every rule is tested on its own. The rule is never
to store a wrong score: a reply is a score only when it holds exactly one number from
0 to 10, written in digits or in words (Spanish, Portuguese, English), optionally
"out of 10" ("9/10", "9 de 10") and with a few filler words ("un 8", "nota 9"). "11",
"-1", "100", "8 o 9", "8.5", an emoji or an empty reply are not scores: the customer
is asked again.
"""

from __future__ import annotations

import re
import unicodedata

# Number words, accents removed and lower case.
NUMBER_WORDS: dict[str, int] = {
    # Spanish
    "cero": 0,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    # Portuguese
    "zero": 0,
    "um": 1,
    "uma": 1,
    "dois": 2,
    "duas": 2,
    "quatro": 4,
    "sete": 7,
    "oito": 8,
    "nove": 9,
    "dez": 10,
    # English
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
# Words that may stand around the number without changing it ("un 8", "nota 9",
# "le doy un 10", "I give it a 9"). "o", "y", "ou", "or", "and" are not here: "8 o 9"
# is two numbers, not one.
FILLER_WORDS = frozenset(
    {
        "a",
        "an",
        "un",
        "el",
        "la",
        "es",
        "mi",
        "nota",
        "puntaje",
        "puntuacion",
        "calificacion",
        "le",
        "te",
        "doy",
        "pongo",
        "dou",
        "minha",
        "e",
        "i",
        "give",
        "it",
        "you",
        "my",
        "score",
        "is",
        "de",
        "punto",
        "puntos",
        "pontos",
        "points",
    }
)
# "9/10", "9 de 10", "9 sobre 10", "9 out of 10", "nueve de diez".
_OUT_OF_TEN = re.compile(
    r"^(?P<score>.+?)\s*(?:/|\bde\b|\bsobre\b|\bout of\b|\bof\b)\s*(?:10|diez|dez|ten)$"
)
_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)?|[^\sa-z\d]")
# Keycap digits (9️⃣) are the digit followed by these two marks; 🔟 is ten.
_KEYCAP_MARKS = ("\ufe0f", "\u20e3")
_PUNCTUATION = ".,;:!¡?¿\"'«»“”‘’()[]*_~-–— "

MIN_SCORE, MAX_SCORE = 0, 10


def _normalized(text: str) -> str:
    text = text.replace("\U0001f51f", " 10 ")
    for mark in _KEYCAP_MARKS:
        text = text.replace(mark, "")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def score_parse(text: str) -> int | None:
    """The score 0–10 the text gives, or None when it does not give exactly one.

    >>> [score_parse(t) for t in ("10!!", "Diez.", "9/10", "un 8", "11", "-1", "8 o 9")]
    [10, 10, 9, 8, None, None, None]
    """
    plain = _normalized(text)
    # A minus sign before a number is a negative number, not punctuation.
    if re.search(r"(^|\s)[-–—]\s*\d", plain):
        return None
    plain = plain.strip(_PUNCTUATION)
    match = _OUT_OF_TEN.match(plain)
    if match:
        plain = match.group("score").strip(_PUNCTUATION)
    numbers: list[int] = []
    for token in _TOKEN.findall(plain):
        if token in _PUNCTUATION or token in FILLER_WORDS:
            continue
        if re.fullmatch(r"\d+[.,]\d+", token):
            return None  # 8.5 or 8,5: not a whole score
        value = _number(token)
        if value is None:
            return None  # another word: not only a score ("8 o 9", "muy bien")
        numbers.append(value)
    if len(numbers) != 1:
        return None
    value = numbers[0]
    return value if MIN_SCORE <= value <= MAX_SCORE else None


# The three bands of the first step, as (low, high) inclusive, and their keys.
BANDS: dict[str, tuple[int, int]] = {"0-6": (0, 6), "7-8": (7, 8), "9-10": (9, 10)}
_RANGE = re.compile(r"^\s*(\d{1,2})\s*(?:-|–|—|a|to|ate|até)\s*(\d{1,2})\s*$")


def band_parse(text: str) -> str | None:
    """The band a button's text or payload names ("0–6", "7 a 8", "9-10"), or None."""
    match = _RANGE.match(text.casefold())
    if match is None:
        return None
    pair = (int(match.group(1)), int(match.group(2)))
    for key, bounds in BANDS.items():
        if bounds == pair:
            return key
    return None


def band_label(key: str) -> str:
    """ "0-6" → "0–6" (with an en dash, as the buttons show it)."""
    low, high = BANDS[key]
    return f"{low}–{high}"


# Ids of the survey's interactive rows and buttons: "nps:<survey id>:band:0-6" and
# "nps:<survey id>:score:7". The id carries the survey, so a tap on an older message
# still reaches its own survey.
_REPLY_ID = re.compile(r"^nps:(?P<survey>\d{1,12}):(?P<kind>band|score):(?P<value>[0-9-]{1,5})$")


def reply_id(survey_id: int, kind: str, value: str | int) -> str:
    return f"nps:{survey_id}:{kind}:{value}"


def reply_id_parse(payload: str) -> tuple[int, str, str] | None:
    """(survey id, "band" or "score", value) of one of our ids, else None."""
    match = _REPLY_ID.match(payload.strip())
    if match is None:
        return None
    kind, value = match.group("kind"), match.group("value")
    if kind == "band" and value not in BANDS:
        return None
    if kind == "score" and (not value.isdigit() or not MIN_SCORE <= int(value) <= MAX_SCORE):
        return None
    return int(match.group("survey")), kind, value
