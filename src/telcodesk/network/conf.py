"""Diagnostics settings: ``TELCODESK_NETWORK_DIAGNOSTICS`` (a dict) overrides the defaults.

Keys: ``ping_count``, ``ping_interval``, ``ping_timeout`` (seconds per reply),
``traffic_interval`` (seconds between the two counter samples) and ``deadline`` (seconds
a whole diagnostic may take; by default it is computed from the other values and the
OLT's SNMP timeout and retries) and ``snmp_max_in_flight`` (SNMP requests outstanding
per OLT from one run, 1 to 256). An unknown key or a bad value is refused loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from telcodesk.network.snmp import DEFAULT_MAX_IN_FLIGHT


@dataclass(frozen=True)
class DiagnosticsConfig:
    ping_count: int = 10
    ping_interval: float = 0.2
    ping_timeout: float = 1.0
    traffic_interval: float = 3.0
    deadline: float | None = None
    snmp_max_in_flight: int = DEFAULT_MAX_IN_FLIGHT

    def ping_budget(self) -> float:
        return self.ping_count * (self.ping_interval + self.ping_timeout) + 1.0


def diagnostics_config(**overrides: Any) -> DiagnosticsConfig:
    """The configured values, with ``overrides`` (those not None) on top."""
    configured: dict[str, Any] = dict(getattr(settings, "TELCODESK_NETWORK_DIAGNOSTICS", {}))
    configured.update({key: value for key, value in overrides.items() if value is not None})
    known = {field.name: field for field in fields(DiagnosticsConfig)}
    unknown = sorted(set(configured) - set(known))
    if unknown:
        raise ImproperlyConfigured(
            f"TELCODESK_NETWORK_DIAGNOSTICS: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    config = DiagnosticsConfig()
    for key, value in configured.items():
        if key == "ping_count":
            valid = isinstance(value, int) and 1 <= value <= 100
        elif key == "snmp_max_in_flight":
            valid = isinstance(value, int) and 1 <= value <= 256
        else:
            valid = isinstance(value, int | float) and 0 < value <= 300
        if not valid or isinstance(value, bool):
            raise ImproperlyConfigured(f"TELCODESK_NETWORK_DIAGNOSTICS[{key!r}] = {value!r}")
        config = replace(config, **{key: value})
    return config
