"""What every vendor adapter reads and returns, and the registry by vendor name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from telcodesk.network.snmp import MISSING, SnmpFailure, SnmpSession, SnmpTarget, SnmpValue


@dataclass(frozen=True)
class OnuLocation:
    """An ONU as the OLT indexes it: the PON port's ifIndex and the ONU id on it."""

    if_index: int
    onu_id: int
    label: str = ""  # "0/1/0 ONU 3", for messages


@dataclass(frozen=True)
class OpticalReading:
    """Optical levels of one ONU; ``None`` where the OLT has no reading."""

    onu_rx_dbm: float | None
    onu_tx_dbm: float | None = None
    olt_rx_dbm: float | None = None
    temperature_c: float | None = None
    voltage_v: float | None = None
    bias_ma: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OnuState:
    """Whether the ONU is online, and why not: ``cause`` is power, fiber, other or ''."""

    online: bool
    cause: str = ""
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class NoSuchOnu(SnmpFailure):
    """The OLT answered, but has no ONU at that index."""

    status = "error"


class UnexpectedValue(SnmpFailure):
    """The OLT answered something that is not what the MIB defines (garbage)."""

    status = "error"


class VendorAdapter(Protocol):
    vendor: str

    async def optical_power(
        self, session: SnmpSession, target: SnmpTarget, onu: OnuLocation
    ) -> OpticalReading: ...

    async def onu_status(
        self, session: SnmpSession, target: SnmpTarget, onu: OnuLocation
    ) -> OnuState: ...


_ADAPTERS: dict[str, VendorAdapter] = {}


def register_vendor_adapter(adapter: VendorAdapter) -> None:
    """Make ``adapter`` the one for OLTs whose ``vendor`` is ``adapter.vendor``."""
    _ADAPTERS[adapter.vendor] = adapter


def vendor_adapter(vendor: str) -> VendorAdapter | None:
    return _ADAPTERS.get(vendor)


def registered_vendors() -> list[str]:
    return sorted(_ADAPTERS)


# --- helpers for adapters ----------------------------------------------------------------


def no_such_onu(onu: OnuLocation) -> NoSuchOnu:
    return NoSuchOnu(
        f"no such ONU: the OLT has no ONU {onu.onu_id} on the port with ifIndex {onu.if_index}"
    )


def integer_or_garbage(oid: str, value: SnmpValue) -> int:
    """The integer the MIB promises at ``oid``; anything else is the OLT answering garbage."""
    if isinstance(value, bool) or not isinstance(value, int):
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)
        raise UnexpectedValue(f"unexpected value at {oid}: {shown!r} where an integer belongs")
    return value


def raw_values(values: dict[str, SnmpValue]) -> dict[str, Any]:
    """The readings as JSON: integers as they came, octets as hex, missing as null."""
    raw: dict[str, Any] = {}
    for oid, value in values.items():
        if value is MISSING:
            raw[oid] = None
        elif isinstance(value, bytes):
            raw[oid] = value.hex()
        else:
            raw[oid] = value
    return raw


def date_and_time(value: SnmpValue) -> str | None:
    """SNMPv2-TC DateAndTime (8 or 11 octets) as ISO 8601, or None when unset/invalid."""
    if not isinstance(value, bytes) or len(value) not in (8, 11):
        return None
    year = value[0] * 256 + value[1]
    try:
        moment = datetime(
            year, value[2], value[3], value[4], value[5], value[6], value[7] * 100_000
        )
    except ValueError:
        return None
    if len(value) == 11 and chr(value[8]) in "+-":
        offset = timedelta(hours=value[9], minutes=value[10])
        moment = moment.replace(tzinfo=timezone(offset if chr(value[8]) == "+" else -offset))
    return moment.isoformat()
