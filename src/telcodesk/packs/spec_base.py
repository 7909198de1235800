"""The building blocks of every pack section: the base model, the value types, the
cross-field rule error. Kept apart from ``packs.schema`` so that an app's own pack
section (``<app>/pack_spec.py``) can build on them while ``packs.schema`` imports that
section into the Pack."""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal

from babel.numbers import list_currencies
from django.utils.translation import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

# The countries telcodesk has documents, phones, addresses and holidays for.
SUPPORTED_COUNTRIES: frozenset[str] = frozenset({"AR", "BO", "BR", "EC", "MX"})
SUPPORTED_LANGUAGES: tuple[str, ...] = ("es", "pt-br", "en")

_VERSION_RE = re.compile(r"^\d+(\.\d+){0,2}$")


def pack_rule_error(at: str, message: str) -> PydanticCustomError:
    """A cross-field rule broken at ``at`` (a path relative to the validated object)."""
    # The message is already translated and formatted; braces would be read as
    # placeholders by pydantic, so they are doubled.
    template = message.replace("{", "{{").replace("}", "}}")
    return PydanticCustomError("pack_rule", template, {"at": at})


@lru_cache(maxsize=1)
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def _check_country(value: str) -> str:
    if value not in SUPPORTED_COUNTRIES:
        raise PydanticCustomError(
            "country",
            _("{value} is not a supported country; use one of {allowed}."),
            {"value": value, "allowed": ", ".join(sorted(SUPPORTED_COUNTRIES))},
        )
    return value


def _check_currency(value: str) -> str:
    if value not in _known_currencies():
        raise PydanticCustomError(
            "currency",
            _("{value} is not an ISO 4217 currency code (e.g. BOB, ARS, BRL, USD, MXN)."),
            {"value": value},
        )
    return value


def _check_time_zone(value: str) -> str:
    if value not in _known_time_zones():
        raise PydanticCustomError(
            "time_zone",
            _("{value} is not a known IANA time zone (e.g. America/La_Paz)."),
            {"value": value},
        )
    return value


def _check_version(value: str) -> str:
    if not _VERSION_RE.match(value):
        raise PydanticCustomError(
            "version",
            _("{value} is not a version; write it as MAJOR.MINOR.PATCH, e.g. 1.0.0."),
            {"value": value},
        )
    return value


def version_key(version: str) -> tuple[int, int, int]:
    """``"1.10"`` -> ``(1, 10, 0)``: versions compare numerically, not as text."""
    parts = [int(part) for part in version.split(".")]
    parts += [0] * (3 - len(parts))
    return (parts[0], parts[1], parts[2])


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", max_length=64)]
CountryCode = Annotated[str, AfterValidator(_check_country)]
CurrencyCode = Annotated[str, AfterValidator(_check_currency)]
TimeZoneName = Annotated[str, AfterValidator(_check_time_zone)]
Version = Annotated[str, AfterValidator(_check_version)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$", to_lower=True)]
Language = Literal["es", "pt-br", "en"]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Speed = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]


class PackModel(BaseModel):
    """Base of every pack section: unknown fields are errors; no silent coercions."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ChoiceSpec(PackModel):
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    label: ShortName
