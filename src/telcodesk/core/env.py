"""Reading configuration from the environment, loudly.

Every helper refuses a value it cannot understand instead of guessing: a typo in a
production environment must stop the process at start-up, not change its behaviour.
These helpers import nothing from Django so that settings.py can use them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigurationError(RuntimeError):
    """An environment variable holds a value telcodesk cannot use."""


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(name, default)


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off"
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name}={value} is above the maximum {maximum}")
    return value


def env_list(
    name: str, default: list[str] | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated list; empty items are refused (they are always a typo)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None:
        return list(default or [])
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ConfigurationError(f"{name}={raw!r} has an empty item: separate values by commas")
    return items


def env_url(
    name: str,
    default: str = "",
    *,
    schemes: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
) -> str:
    """A URL whose scheme must be one of ``schemes`` (empty means unset)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name, default).strip()
    if not raw:
        return ""
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in schemes:
        raise ConfigurationError(
            f"{name} must start with one of {', '.join(s + '://' for s in schemes)}; got {raw!r}"
        )
    return raw


def env_file(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    """The path of a file that must exist and be readable (empty means unset)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name, default).strip()
    if not raw:
        return ""
    if not os.path.isfile(raw) or not os.access(raw, os.R_OK):
        raise ConfigurationError(f"{name} must name a readable file; {raw!r} is not one")
    return raw
