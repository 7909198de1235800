"""Reading a score from what the customer typed: exactly one number from 0 to 10, or none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telcodesk.nps.parsing import band_parse, reply_id, reply_id_parse, score_parse


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("10", 10),
        ("10!!", 10),
        ("diez", 10),
        ("Diez.", 10),
        ("nueve", 9),
        ("cero", 0),
        ("0", 0),
        ("dez", 10),
        ("ten", 10),
        ("9/10", 9),
        ("10/10", 10),
        ("un 8", 8),
        ("  7  ", 7),
        ("nueve de diez", 9),
        ("nota 9", 9),
        ("minha nota é 9", 9),
        ("Le doy un 10", 10),
        ("I give it a 9", 9),
        ("três", 3),
        ("9️⃣", 9),
        ("🔟", 10),
    ],
)
def test_a_reply_with_one_score_gives_that_score(text: str, score: int) -> None:
    assert score_parse(text) == score


@pytest.mark.parametrize(
    "text",
    ["11", "-1", "- 5", "100", "8 o 9", "8 y 9", "8.5", "8,5", "", "   ", "👍", "muy bien", "1O"],
)
def test_a_reply_without_exactly_one_score_gives_none(text: str) -> None:
    assert score_parse(text) is None


@given(st.integers(min_value=11, max_value=10**6))
def test_no_number_above_ten_is_ever_a_score(number: int) -> None:
    assert score_parse(str(number)) is None
    assert score_parse(f"{number}!!") is None


@given(st.integers(min_value=0, max_value=10))
def test_every_score_from_zero_to_ten_reads_back(number: int) -> None:
    assert score_parse(str(number)) == number
    assert score_parse(f"-{number}") is None


def test_the_band_buttons_read_in_every_spelling() -> None:
    assert [band_parse(t) for t in ("0–6", "0-6", "7 a 8", "9—10", "9 to 10", "0-5", "hola")] == [
        "0-6",
        "0-6",
        "7-8",
        "9-10",
        "9-10",
        None,
        None,
    ]


def test_our_reply_ids_carry_the_survey_and_refuse_anything_else() -> None:
    assert reply_id(42, "band", "7-8") == "nps:42:band:7-8"
    assert reply_id_parse("nps:42:band:7-8") == (42, "band", "7-8")
    assert reply_id_parse("nps:42:score:10") == (42, "score", "10")
    assert reply_id_parse("nps:42:score:11") is None
    assert reply_id_parse("nps:42:band:5-6") is None
    assert reply_id_parse("offer:42") is None
