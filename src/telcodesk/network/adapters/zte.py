"""ZTE ZXA10 C300/C320 (the 1.3.6.1.4.1.3902.1012 subtree).

ZTE does not publish these MIB modules openly; the OIDs below are the ones that public
open-source OLT tools read from C300/C320 and cross-check against the CLI
(``show pon power attenuation``, ``show gpon onu state``). They are documented with
their limits in docs/network.md.

- ONU receive level, called zxGponPonRxOpticalLevel in those tools:
  1.3.6.1.4.1.3902.1012.3.50.12.1.1.10.{PON ifIndex}.{ONU id}.1 (the last index is the
  ONU's PON/ANI port, always 1). Unsigned; dBm = raw * 0.002 - 30, the 0.002 dB step of
  the ITU-T G.988 ANI-G optical signal level. 65535 means no reading (the ONU is
  offline). A raw above 32767 is a 16-bit two's complement below -30 dBm.
- ONU phase state, zxGponOntPhaseState (ZXGPON-SERVICE-MIB):
  1.3.6.1.4.1.3902.1012.3.28.2.1.4.{PON ifIndex}.{ONU id}, logging(0), los(1),
  syncMib(2), working(3), dyingGasp(4), authFailed(5), offline(6).

The PON ifIndex of a C300/C320 is ZTE's composite index (interface type 1, shelf, slot,
port packed in 32 bits), e.g. 268566784 for gpon-olt_1/2/1; store it on the PON port.
"""

from __future__ import annotations

from telcodesk.network.adapters.base import (
    OnuLocation,
    OnuState,
    OpticalReading,
    integer_or_garbage,
    no_such_onu,
    raw_values,
)
from telcodesk.network.snmp import MISSING, SnmpSession, SnmpTarget

RX_LEVEL = "1.3.6.1.4.1.3902.1012.3.50.12.1.1.10"
PHASE_STATE = "1.3.6.1.4.1.3902.1012.3.28.2.1.4"
NO_READING = 65_535

PHASES: dict[int, tuple[bool, str, str]] = {
    0: (False, "other", "logging"),
    1: (False, "fiber", "los"),
    2: (False, "other", "syncMib"),
    3: (True, "", "working"),
    4: (False, "power", "dyingGasp"),
    5: (False, "other", "authFailed"),
    6: (False, "other", "offline"),
}


def rx_level_dbm(raw: int) -> float | None:
    """The ONU receive level in dBm for a raw zxGponPonRxOpticalLevel value."""
    if raw == NO_READING or raw < 0 or raw > NO_READING:
        return None
    signed = raw - 65_536 if raw > 32_767 else raw
    return round(signed * 0.002 - 30, 2)


class ZteAdapter:
    vendor = "zte"

    async def optical_power(
        self, session: SnmpSession, target: SnmpTarget, onu: OnuLocation
    ) -> OpticalReading:
        oid = f"{RX_LEVEL}.{onu.if_index}.{onu.onu_id}.1"
        values = await session.get(target, [oid])
        if values[oid] is MISSING:
            raise no_such_onu(onu)
        raw = integer_or_garbage(oid, values[oid])
        return OpticalReading(onu_rx_dbm=rx_level_dbm(raw), raw=raw_values(values))

    async def onu_status(
        self, session: SnmpSession, target: SnmpTarget, onu: OnuLocation
    ) -> OnuState:
        oid = f"{PHASE_STATE}.{onu.if_index}.{onu.onu_id}"
        values = await session.get(target, [oid])
        if values[oid] is MISSING:
            raise no_such_onu(onu)
        phase = integer_or_garbage(oid, values[oid])
        online, cause, detail = PHASES.get(phase, (False, "other", f"phase {phase}"))
        return OnuState(online=online, cause=cause, detail=detail, raw=raw_values(values))
