"""Huawei MA5600/MA5800 (and MA5608T/MA5683T/MA5800-X) over HUAWEI-XPON-MIB.

OIDs, from the HUAWEI-XPON-MIB text (V1.64, as published in LibreNMS' mibs/huawei),
``hwXponDeviceControlObjects`` = 1.3.6.1.4.1.2011.6.128.1.1.2, every table indexed by
{ifIndex of the GPON port, hwGponDeviceOntIndex (the ONT id)}:

- hwGponDeviceOntOpticalDdmInfoTable ::= { hwXponDeviceControlObjects 51 }, columns
  1 hwGponOntOpticalDdmTemperature (°C), 2 ...BiasCurrent (mA), 3 ...TxPower (0.01 dBm),
  4 ...RxPower (0.01 dBm), 5 ...Voltage (mV), 6 ...OltRxOntPower (what the OLT receives
  from the ONT). Column 6 is reported with an offset of 10000 on the MA5600T/MA5800
  firmwares in the field, so dBm = (v - 10000) / 100. 2147483647 (0x7FFFFFFF) in any
  column means the OLT has no reading (the ONT is offline or its optics are dead).
- hwGponDeviceOntControlInfoTable ::= { hwXponDeviceControlObjects 46 }, columns
  15 hwGponDeviceOntControlRunStatus (up(1), down(2), invalid(-1)), 22 ...LastUpTime and
  23 ...LastDownTime (DateAndTime), 24 ...LastDownCause (1 LOS, 2 LOSi, 3 LOFi, 4 SFi,
  5 LOAi, 6 LOAMi, 7/8 deactivated, 9 reset, 10 re-register, 11 pop-up fail,
  13 dying-gasp, 15 LOKi, -1 query failed).

This MIB revision has no hwGponDeviceOntOnlineDuration; the last up/down times are read
instead and kept in the raw values.
"""

from __future__ import annotations

from telcodesk.network.adapters.base import (
    OnuLocation,
    OnuState,
    OpticalReading,
    date_and_time,
    integer_or_garbage,
    no_such_onu,
    raw_values,
)
from telcodesk.network.snmp import MISSING, SnmpSession, SnmpTarget

DDM_TABLE = "1.3.6.1.4.1.2011.6.128.1.1.2.51.1"
CONTROL_TABLE = "1.3.6.1.4.1.2011.6.128.1.1.2.46.1"
NO_READING = 2_147_483_647

DDM_TEMPERATURE, DDM_BIAS, DDM_TX, DDM_RX, DDM_VOLTAGE, DDM_OLT_RX = 1, 2, 3, 4, 5, 6
RUN_STATUS, LAST_UP_TIME, LAST_DOWN_TIME, LAST_DOWN_CAUSE = 15, 22, 23, 24

RUN_UP, RUN_DOWN = 1, 2

# hwGponDeviceOntControlLastDownCause -> (cause, what the MIB calls it)
DOWN_CAUSES: dict[int, tuple[str, str]] = {
    1: ("fiber", "LOS"),
    2: ("fiber", "LOSi"),
    3: ("fiber", "LOFi"),
    4: ("fiber", "SFi"),
    5: ("fiber", "LOAi"),
    6: ("fiber", "LOAMi"),
    7: ("other", "deactivate ONT failed"),
    8: ("other", "deactivated"),
    9: ("other", "reset"),
    10: ("other", "re-register"),
    11: ("other", "pop-up fail"),
    13: ("power", "dying-gasp"),
    15: ("other", "LOKi"),
}


def _oid(table: str, column: int, onu: OnuLocation) -> str:
    return f"{table}.{column}.{onu.if_index}.{onu.onu_id}"


def _reading(value: int, *, scale: float, offset: int = 0) -> float | None:
    if value == NO_READING:
        return None
    return round((value - offset) / scale, 2)


class HuaweiAdapter:
    vendor = "huawei"

    async def optical_power(
        self, session: SnmpSession, target: SnmpTarget, onu: OnuLocation
    ) -> OpticalReading:
        columns = [DDM_RX, DDM_TX, DDM_OLT_RX, DDM_TEMPERATURE, DDM_VOLTAGE, DDM_BIAS]
        oids = {column: _oid(DDM_TABLE, column, onu) for column in columns}
        values = await session.get(target, list(oids.values()))
        if values[oids[DDM_RX]] is MISSING:
            raise no_such_onu(onu)
        number = {
            column: integer_or_garbage(oid, values[oid])
            for column, oid in oids.items()
            if values[oid] is not MISSING
        }

        def reading(column: int, *, scale: float, offset: int = 0) -> float | None:
            if column not in number:
                return None
            return _reading(number[column], scale=scale, offset=offset)

        return OpticalReading(
            onu_rx_dbm=reading(DDM_RX, scale=100),
            onu_tx_dbm=reading(DDM_TX, scale=100),
            olt_rx_dbm=reading(DDM_OLT_RX, scale=100, offset=10_000),
            temperature_c=reading(DDM_TEMPERATURE, scale=1),
            voltage_v=reading(DDM_VOLTAGE, scale=1000),
            bias_ma=reading(DDM_BIAS, scale=1),
            raw=raw_values(values),
        )

    async def onu_status(
        self, session: SnmpSession, target: SnmpTarget, onu: OnuLocation
    ) -> OnuState:
        columns = [RUN_STATUS, LAST_DOWN_CAUSE, LAST_UP_TIME, LAST_DOWN_TIME]
        oids = {column: _oid(CONTROL_TABLE, column, onu) for column in columns}
        values = await session.get(target, list(oids.values()))
        status_value = values[oids[RUN_STATUS]]
        if status_value is MISSING:
            raise no_such_onu(onu)
        run_status = integer_or_garbage(oids[RUN_STATUS], status_value)
        raw = raw_values(values)
        raw["last_up_at"] = date_and_time(values[oids[LAST_UP_TIME]])
        raw["last_down_at"] = date_and_time(values[oids[LAST_DOWN_TIME]])
        if run_status == RUN_UP:
            return OnuState(online=True, raw=raw)
        cause_value = values[oids[LAST_DOWN_CAUSE]]
        cause, detail = "other", "unknown"
        if cause_value is not MISSING:
            code = integer_or_garbage(oids[LAST_DOWN_CAUSE], cause_value)
            cause, detail = DOWN_CAUSES.get(code, ("other", f"cause {code}"))
        if run_status != RUN_DOWN:
            detail = f"run status {run_status}"
        return OnuState(online=False, cause=cause, detail=detail, raw=raw)
