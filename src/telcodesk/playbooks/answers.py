"""Typed answers: what the agent typed (or the API sent) -> the value stored, or why not.

Pure functions over a question's spec. A refusal is a ValidationFailed whose message
says what to type instead; nothing is stored for it. Stored values are JSON: text and
choice as str (a choice's value, not its label), yes_no as bool, number as int (or
float when the question allows decimals), date as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from telcodesk.core.errors import ValidationFailed

if TYPE_CHECKING:
    from telcodesk.playbooks.pack_spec import QuestionSpec

TEXT_MAX_LENGTH = 2000
# Digits with an optional sign and one decimal separator (comma or point): "7", "-2",
# "7,5". Thousands separators are refused ("1.000" is one or a thousand?).
_NUMBER_RE = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_YES = frozenset({"yes", "y", "true", "1", "si", "s", "sim"})
_NO = frozenset({"no", "n", "false", "0", "nao"})
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_EXAMPLE = "2025-07-18"


def _folded(text: str) -> str:
    """Lower case without accents: "Sí" -> "si", "Não" -> "nao"."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _refuse(question: QuestionSpec, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={question.key: [message]})


def _number_text(value: int | float | Decimal) -> str:
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_hint(question: QuestionSpec) -> str:
    """What to type for a number question: "Type a whole number from 0 to 10 ..."."""
    low, high = question.min, question.max
    example = _number_text(high if high is not None else low if low is not None else 7)
    values = {
        "min": _number_text(low) if low is not None else "",
        "max": _number_text(high) if high is not None else "",
        "example": example,
    }
    if question.integer:
        if low is not None and high is not None:
            text = _(
                "Type a whole number from %(min)s to %(max)s, with digits only (e.g. %(example)s)."
            )
        elif low is not None:
            text = _(
                "Type a whole number of at least %(min)s, with digits only (e.g. %(example)s)."
            )
        elif high is not None:
            text = _("Type a whole number of at most %(max)s, with digits only (e.g. %(example)s).")
        else:
            text = _("Type a whole number with digits only (e.g. %(example)s).")
    elif low is not None and high is not None:
        text = _("Type a number from %(min)s to %(max)s, with digits only (e.g. %(example)s).")
    elif low is not None:
        text = _("Type a number of at least %(min)s, with digits only (e.g. %(example)s).")
    elif high is not None:
        text = _("Type a number of at most %(max)s, with digits only (e.g. %(example)s).")
    else:
        text = _("Type a number with digits only (e.g. %(example)s).")
    return text % values


def _parse_number(question: QuestionSpec, raw: Any) -> int | float:
    hint = number_hint(question)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise _refuse(question, hint)
    shown = str(raw).strip()
    if isinstance(raw, str):
        if not _NUMBER_RE.match(shown):
            raise _refuse(
                question,
                _("“%(value)s” is not a number. %(hint)s") % {"value": shown, "hint": hint},
            )
        text = shown.replace(",", ".")
    else:
        text = str(raw)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _refuse(question, hint) from None
    if not number.is_finite():
        raise _refuse(question, hint)
    # "1.000" typed for a whole number may mean one thousand: refused, not guessed.
    has_separator = isinstance(raw, str) and ("." in shown or "," in shown)
    if question.integer and (has_separator or number != number.to_integral_value()):
        raise _refuse(
            question,
            _("%(value)s is not a whole number. %(hint)s") % {"value": shown, "hint": hint},
        )
    too_low = question.min is not None and number < Decimal(str(question.min))
    too_high = question.max is not None and number > Decimal(str(question.max))
    if too_low or too_high:
        raise _refuse(
            question,
            _("%(value)s is out of range. %(hint)s") % {"value": shown, "hint": hint},
        )
    if question.integer:
        return int(number)
    return int(number) if number == number.to_integral_value() else float(number)


def _parse_yes_no(question: QuestionSpec, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        folded = _folded(raw)
        if folded in _YES:
            return True
        if folded in _NO:
            return False
    raise _refuse(question, _("Answer yes or no."))


def _parse_choice(question: QuestionSpec, raw: Any) -> str:
    choices = question.choices or []
    if isinstance(raw, str):
        folded = _folded(raw)
        for choice in choices:
            if folded in (_folded(choice.value), _folded(choice.label)):
                return choice.value
    shown = str(raw).strip() if isinstance(raw, (str, int, float)) else ""
    labels = ", ".join(choice.label for choice in choices)
    if shown:
        message = _("“%(value)s” is not one of the choices. Choose one of: %(choices)s.") % {
            "value": shown,
            "choices": labels,
        }
    else:
        message = _("Choose one of: %(choices)s.") % {"choices": labels}
    raise _refuse(question, message)


def _parse_date(question: QuestionSpec, raw: Any) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    text = raw.strip() if isinstance(raw, str) else ""
    if _DATE_RE.match(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    message = _("Write the date as YYYY-MM-DD, e.g. %(example)s.") % {"example": DATE_EXAMPLE}
    if text:
        message = _("“%(value)s” is not a date. %(hint)s") % {"value": text, "hint": message}
    raise _refuse(question, message)


def _parse_text(question: QuestionSpec, raw: Any) -> str:
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise _refuse(question, _("Write the answer as text."))
    text = str(raw).strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise _refuse(
            question,
            _("Too long: write at most %(max)d characters.") % {"max": TEXT_MAX_LENGTH},
        )
    return text


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def answer_parse(question: QuestionSpec, raw: Any) -> Any:
    """The typed value of ``raw`` for ``question``; ValidationFailed saying what to type.

    A blank ``raw`` is not an answer: the caller decides (clear an optional answer).
    """
    if is_blank(raw):
        raise _refuse(question, _("Write an answer, or skip it with a reason."))
    if question.type == "number":
        return _parse_number(question, raw)
    if question.type == "yes_no":
        return _parse_yes_no(question, raw)
    if question.type == "choice":
        return _parse_choice(question, raw)
    if question.type == "date":
        return _parse_date(question, raw)
    return _parse_text(question, raw)


def answer_display(question: QuestionSpec, value: Any) -> str:
    """How a stored answer reads in the panel (a choice's label, yes/no translated)."""
    if value is None:
        return ""
    if question.type == "yes_no":
        return _("Yes") if value else _("No")
    if question.type == "choice":
        for choice in question.choices or []:
            if choice.value == value:
                return choice.label
    if isinstance(value, float):
        return _number_text(value)
    return str(value)
