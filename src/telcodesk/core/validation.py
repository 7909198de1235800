"""Translated messages for pydantic validation errors (pydantic's own text is English).

Used by the API's 422 answers and by the operator-pack loader, so that a user sees the
same words for the same mistake everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _


def pydantic_error_message(error: Mapping[str, Any], *, keep_unknown: bool = False) -> str:
    """A translated message for one pydantic error (pydantic's own text is English)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("This field does not exist.")
    if kind == "string_too_long":
        return _("Too long: at most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Too short: at least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind in {"literal_error", "enum"}:
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind in {"string_type", "string_unicode"}:
        return _("Write text here.")
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("Write a whole number.")
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        limit = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
        if kind.startswith("greater"):
            return _("Too small: the minimum is %(limit)s.") % {"limit": limit}
        return _("Too large: the maximum is %(limit)s.") % {"limit": limit}
    if kind in {"bool_type", "bool_parsing"}:
        return _("Write true or false.")
    if kind.startswith("date") or kind.startswith("datetime"):
        return _("Write the date as YYYY-MM-DD.")
    if kind in {"decimal_type", "decimal_parsing", "float_type", "float_parsing"}:
        return _("Write a number, e.g. 150.00.")
    if kind.startswith("decimal_"):
        return _("Too many digits: use at most 10 before and 2 after the decimal point.")
    if kind in {"list_type", "too_long", "too_short"}:
        return _("Send a list with the allowed number of items.")
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return _("Send an object here.")
    if kind == "ip_any_address":
        return _("Write an IPv4 or IPv6 address.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    if keep_unknown and error.get("msg"):
        # Our own validators' messages (value_error and custom types) are already
        # translated where they were raised.
        return str(error["msg"]).removeprefix("Value error, ")
    return _("This value is not valid.")
