"""Typed answers: what is stored for what the agent typed, and what a refusal says."""

from __future__ import annotations

from typing import Any

import pytest

from telcodesk.core.errors import ValidationFailed
from telcodesk.playbooks.answers import answer_display, answer_parse
from telcodesk.playbooks.pack_spec import QuestionSpec
from telcodesk.playbooks.script import text_render


def question(type: str, **fields: Any) -> QuestionSpec:
    return QuestionSpec.model_validate({"key": "q", "text": "?", "type": type, **fields})


NPS = question("number", min=0, max=10)
NPS_HINT = "Type a whole number from 0 to 10, with digits only (e.g. 10)."


def refusal(spec: QuestionSpec, raw: Any) -> str:
    with pytest.raises(ValidationFailed) as caught:
        answer_parse(spec, raw)
    assert caught.value.details == {"q": [caught.value.message]}
    return caught.value.message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("diez", f"“diez” is not a number. {NPS_HINT}"),
        ("10!!", f"“10!!” is not a number. {NPS_HINT}"),
        ("11", f"11 is out of range. {NPS_HINT}"),
        ("-1", f"-1 is out of range. {NPS_HINT}"),
        ("7.5", f"7.5 is not a whole number. {NPS_HINT}"),
        ("1.000", f"1.000 is not a whole number. {NPS_HINT}"),
        (True, NPS_HINT),
        (10.5, f"10.5 is not a whole number. {NPS_HINT}"),
        ("   ", "Write an answer, or skip it with a reason."),
    ],
)
def test_a_bad_number_is_refused_with_what_to_type(raw: Any, message: str) -> None:
    assert refusal(NPS, raw) == message


@pytest.mark.parametrize(("raw", "value"), [("10", 10), (" 0 ", 0), ("+7", 7), (9, 9), (8.0, 8)])
def test_a_whole_number_within_the_range_is_stored_as_an_int(raw: Any, value: int) -> None:
    stored = answer_parse(NPS, raw)

    assert stored == value
    assert type(stored) is int


def test_a_decimal_number_takes_a_comma_or_a_point() -> None:
    speed = question("number", min=0, integer=False)

    assert answer_parse(speed, "7,5") == 7.5
    assert answer_parse(speed, "80.25") == 80.25
    assert answer_parse(speed, "80") == 80
    assert refusal(speed, "1,000.5") == (
        "“1,000.5” is not a number. Type a number of at least 0, with digits only (e.g. 0)."
    )


@pytest.mark.parametrize(
    ("raw", "value"),
    [("Sí", True), ("si", True), ("NO", False), ("não", False), (True, True), ("sim", True)],
)
def test_yes_no_reads_yes_and_no_in_the_three_languages(raw: Any, value: bool) -> None:
    assert answer_parse(question("yes_no"), raw) is value


def test_yes_no_refuses_anything_else() -> None:
    assert refusal(question("yes_no"), "maybe") == "Answer yes or no."


CHOICE = question(
    "choice",
    choices=[{"value": "wifi", "label": "Wi-Fi"}, {"value": "cable", "label": "Cable"}],
)


def test_a_choice_is_matched_by_value_or_label_and_stored_as_its_value() -> None:
    assert answer_parse(CHOICE, "WI-FI") == "wifi"
    assert answer_parse(CHOICE, "cable") == "cable"
    assert answer_display(CHOICE, "wifi") == "Wi-Fi"


def test_a_choice_that_is_not_listed_is_refused_with_the_choices() -> None:
    assert (
        refusal(CHOICE, "fibra")
        == "“fibra” is not one of the choices. Choose one of: Wi-Fi, Cable."
    )


def test_a_date_is_stored_as_iso_and_anything_else_is_refused() -> None:
    assert answer_parse(question("date"), "2025-07-18") == "2025-07-18"
    assert refusal(question("date"), "18/07/2025") == (
        "“18/07/2025” is not a date. Write the date as YYYY-MM-DD, e.g. 2025-07-18."
    )
    assert refusal(question("date"), "2025-02-30") == (
        "“2025-02-30” is not a date. Write the date as YYYY-MM-DD, e.g. 2025-07-18."
    )


def test_text_is_stripped_and_limited() -> None:
    assert answer_parse(question("text"), "  desde ayer  ") == "desde ayer"
    assert refusal(question("text"), "x" * 2001) == "Too long: write at most 2000 characters."


def test_a_script_shows_a_missing_variable_as_its_name_in_brackets() -> None:
    text = "Ticket {ticket_number} for {customer_name}, {agent_name} at {provider}."

    rendered = text_render(text, {"customer_name": "Lucía", "agent_name": "", "provider": None})

    assert rendered == "Ticket [ticket_number] for Lucía, [agent_name] at [provider]."
