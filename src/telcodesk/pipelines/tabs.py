"""Check a lead's tab data against the tabs its pipeline's pack defines.

A field definition is the JSON of ``packs.schema.TabFieldSpec``: ``{key, label, type,
choices?, required?}``. Values are stored as JSON: text as a string, number as an int
(or a float when it has decimals), bool as true/false, choice as the choice's value,
date as ``YYYY-MM-DD``. ``None`` or "" clears an optional field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from telcodesk.core.errors import ValidationFailed

TEXT_MAX_LENGTH = 500
_TRUE = {"true", "yes", "si", "sí", "sim", "1"}
_FALSE = {"false", "no", "não", "nao", "0"}


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        number = Decimal(str(value))
    elif isinstance(value, str):
        number = Decimal(value.strip().replace(",", "."))
    else:
        raise ValueError
    if not number.is_finite():
        raise ValueError
    if number == number.to_integral_value():
        return int(number)
    result = float(number)
    if math.isinf(result):
        raise ValueError
    return result


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError


def _choice(value: Any, choices: list[dict[str, str]]) -> str:
    if not isinstance(value, str):
        raise ValueError
    typed = value.strip().casefold()
    for choice in choices:
        if typed in (choice["value"].casefold(), choice["label"].casefold()):
            return choice["value"]
    raise ValueError


def _date(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return date.fromisoformat(value.strip()).isoformat()
    raise ValueError


def _text(value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError
    text = str(value).strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise ValueError
    return text


def _problem(spec: Mapping[str, Any]) -> str:
    label = spec["label"]
    kind = spec["type"]
    if kind == "number":
        return _("%(label)s: write a number.") % {"label": label}
    if kind == "bool":
        return _("%(label)s: answer yes or no.") % {"label": label}
    if kind == "choice":
        return _("%(label)s: choose one of %(choices)s.") % {
            "label": label,
            "choices": ", ".join(choice["label"] for choice in spec.get("choices") or []),
        }
    if kind == "date":
        return _("%(label)s: write a date as YYYY-MM-DD.") % {"label": label}
    return _("%(label)s: write text of at most %(max)d characters.") % {
        "label": label,
        "max": TEXT_MAX_LENGTH,
    }


def tab_data_clean(
    fields: Mapping[str, Mapping[str, Any]],
    changes: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``current`` with ``changes`` applied, every value checked and normalized.

    Raises ValidationFailed naming each bad field (``details`` maps keys to messages):
    unknown keys, values of the wrong type, a required field being cleared.
    """
    if not isinstance(changes, Mapping):
        raise ValidationFailed(_("Send the tab data as an object of field: value."))
    result = dict(current or {})
    problems: dict[str, list[str]] = {}
    for key, value in changes.items():
        spec = fields.get(str(key))
        if spec is None:
            problems[str(key)] = [
                _(
                    'This pipeline has no field "%(key)s"; use one of the fields of its '
                    "tabs: %(keys)s."
                )
                % {"key": key, "keys": ", ".join(fields) or "-"}
            ]
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.get("required"):
                problems[key] = [
                    _("%(label)s is required and cannot be left empty.") % {"label": spec["label"]}
                ]
            else:
                result.pop(key, None)
            continue
        try:
            result[key] = _normalize(spec, value)
        except (ValueError, InvalidOperation, TypeError):
            problems[key] = [_problem(spec)]
    if problems:
        raise ValidationFailed(
            _("Some tab fields are not valid: %(problems)s")
            % {
                "problems": " ".join(
                    message for messages in problems.values() for message in messages
                )
            },
            details=problems,
        )
    return result


def _normalize(spec: Mapping[str, Any], value: Any) -> Any:
    kind = spec["type"]
    if kind == "number":
        return _number(value)
    if kind == "bool":
        return _bool(value)
    if kind == "choice":
        return _choice(value, list(spec.get("choices") or []))
    if kind == "date":
        return _date(value)
    return _text(value)


def choice_label(spec: Mapping[str, Any] | None, value: Any) -> str:
    """The label the pack gives the stored choice ``value`` ("personal" → "Personal");
    the value itself when the field has no such choice (or is no choice field)."""
    for choice in (spec or {}).get("choices") or []:
        if choice.get("value") == value:
            return str(choice.get("label") or value)
    return "" if value is None else str(value)


def missing_required(fields: Mapping[str, Mapping[str, Any]], data: Mapping[str, Any]) -> list[str]:
    """Labels of the required fields that ``data`` does not fill."""
    return [
        str(spec["label"])
        for key, spec in fields.items()
        if spec.get("required") and data.get(key) in (None, "")
    ]
