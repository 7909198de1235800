"""A small SNMP GET client on pysnmp's asyncio API, with failures as typed exceptions.

One ``SnmpSession`` per event loop (a pysnmp engine is bound to the loop it first ran
in): open it, ``await session.get(target, oids)`` any number of times concurrently,
close it. Values come back as plain Python: ``int`` for the integer types (Integer32,
Counter32/64, Gauge32, TimeTicks), ``bytes`` for OCTET STRINGs, and ``MISSING`` when
the agent says the instance does not exist (noSuchInstance / noSuchObject /
endOfMibView). MIB modules are never loaded: every OID is numeric.

Failures, which the diagnostics turn into results:

- ``SnmpUnreachable``: no valid answer within the timeout and retries. With SNMP v2c
  this is also what a wrong community looks like (agents drop such requests silently),
  and what an agent answering undecodable bytes looks like (pysnmp drops them).
- ``SnmpRefused``: the agent answered with an error (genErr, authorizationError...) or
  refused the v3 credentials (unknown user, wrong digest, decryption error).

A session keeps at most ``max_in_flight`` requests outstanding per agent (host and
port; default 8): the others wait their turn before they are sent, so their timeout
only starts when they leave. An OLT's management CPU answers SNMP one request at a
time; hundreds sent at once queue up on the device until the last ones time out and
are sent again, which makes a bulk sweep slower than a few at a time (see the SNMP
section of docs/benchmarks.md). The limit is per session (one event loop): several
worker processes each keep their own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from pyasn1.type.univ import Integer, OctetString
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    USM_AUTH_HMAC96_MD5,
    USM_AUTH_HMAC96_SHA,
    USM_AUTH_HMAC192_SHA256,
    USM_AUTH_HMAC384_SHA512,
    USM_AUTH_NONE,
    USM_PRIV_CBC56_DES,
    USM_PRIV_CFB128_AES,
    USM_PRIV_CFB256_AES,
    USM_PRIV_NONE,
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    get_cmd,
)
from pysnmp.proto import errind
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

if TYPE_CHECKING:
    from telcodesk.network.models import Olt


class _Missing:
    """The agent has no such instance (the index does not exist on the device)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

SnmpValue = int | bytes | _Missing

_AUTH_PROTOCOLS: dict[str, Any] = {
    "none": USM_AUTH_NONE,
    "md5": USM_AUTH_HMAC96_MD5,
    "sha": USM_AUTH_HMAC96_SHA,
    "sha256": USM_AUTH_HMAC192_SHA256,
    "sha512": USM_AUTH_HMAC384_SHA512,
}
_PRIV_PROTOCOLS: dict[str, Any] = {
    "none": USM_PRIV_NONE,
    "des": USM_PRIV_CBC56_DES,
    "aes128": USM_PRIV_CFB128_AES,
    "aes256": USM_PRIV_CFB256_AES,
}


class SnmpFailure(Exception):
    """A request that produced no usable answer; ``status`` is the diagnostic status."""

    status = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SnmpUnreachable(SnmpFailure):
    status = "unreachable"


class SnmpRefused(SnmpFailure):
    status = "error"


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how to ask: address, credentials, timeout (seconds) and retries."""

    host: str
    port: int = 161
    version: str = "2c"
    community: str = ""
    user: str = ""
    auth_protocol: str = "none"
    auth_key: str = ""
    priv_protocol: str = "none"
    priv_key: str = ""
    context: str = ""
    timeout: float = 2.0
    retries: int = 1

    @classmethod
    def for_olt(cls, olt: Olt) -> SnmpTarget:
        return cls(
            host=olt.management_address,
            port=olt.snmp_port,
            version=olt.snmp_version,
            community=olt.snmp_community,
            user=olt.snmp_v3_user,
            auth_protocol=olt.snmp_v3_auth_protocol,
            auth_key=olt.snmp_v3_auth_key,
            priv_protocol=olt.snmp_v3_priv_protocol,
            priv_key=olt.snmp_v3_priv_key,
            context=olt.snmp_v3_context,
            timeout=float(Decimal(olt.timeout_seconds)),
            retries=olt.retries,
        )

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    def budget_seconds(self, requests: int = 1) -> float:
        """The longest ``requests`` sequential GETs can take before pysnmp gives up."""
        return self.timeout * (self.retries + 1) * requests

    def auth_data(self) -> CommunityData | UsmUserData:
        if self.version == "2c":
            # v2c is what most OLTs in the field speak; docs/network.md recommends v3.
            return CommunityData(self.community, mpModel=1)  # noqa: S508
        auth = _AUTH_PROTOCOLS.get(self.auth_protocol, USM_AUTH_NONE)
        priv = _PRIV_PROTOCOLS.get(self.priv_protocol, USM_PRIV_NONE)
        return UsmUserData(
            self.user,
            authKey=self.auth_key or None,
            privKey=self.priv_key or None,
            authProtocol=auth,
            privProtocol=priv,
        )


def _plain(value: Any) -> SnmpValue:
    if isinstance(value, NoSuchInstance | NoSuchObject | EndOfMibView):
        return MISSING
    if isinstance(value, OctetString):
        return bytes(value)
    if isinstance(value, Integer):
        return int(value)
    try:  # Counter64, Gauge32, TimeTicks, Unsigned32 are integers by another base class
        return int(value)
    except (TypeError, ValueError):
        return bytes(str(value), "utf-8")


DEFAULT_MAX_IN_FLIGHT: Final = 8


class _AgentGate:
    """At most ``limit`` requests outstanding to one agent; counts the peak reached."""

    def __init__(self, limit: int) -> None:
        self._semaphore = asyncio.Semaphore(limit)
        self.in_flight = 0
        self.peak = 0

    async def __aenter__(self) -> None:
        await self._semaphore.acquire()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    async def __aexit__(self, *exc_info: object) -> None:
        self.in_flight -= 1
        self._semaphore.release()


class SnmpSession:
    """A pysnmp engine for the running event loop; use ``async with SnmpSession()``."""

    def __init__(self, *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self._engine: SnmpEngine | None = None
        self._transports: dict[tuple[str, int, float, int], UdpTransportTarget] = {}
        self._transport_lock = asyncio.Lock()
        self._gates: dict[tuple[str, int], _AgentGate] = {}

    async def __aenter__(self) -> SnmpSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def engine(self) -> SnmpEngine:
        if self._engine is None:
            self._engine = SnmpEngine()
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None

    async def _transport(self, target: SnmpTarget) -> UdpTransportTarget:
        key = (target.host, target.port, target.timeout, target.retries)
        async with self._transport_lock:
            transport = self._transports.get(key)
            if transport is None:
                try:
                    transport = await UdpTransportTarget.create(
                        (target.host, target.port), timeout=target.timeout, retries=target.retries
                    )
                except PySnmpError as exc:
                    raise SnmpUnreachable(str(exc)) from exc
                self._transports[key] = transport
            return transport

    def _gate(self, target: SnmpTarget) -> _AgentGate:
        key = (target.host, target.port)
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _AgentGate(self.max_in_flight)
        return gate

    def peak_in_flight(self, target: SnmpTarget) -> int:
        """The most requests this session has had outstanding to ``target``'s agent."""
        gate = self._gates.get((target.host, target.port))
        return gate.peak if gate is not None else 0

    async def get(self, target: SnmpTarget, oids: list[str]) -> dict[str, SnmpValue]:
        """GET ``oids`` in one request; the answer maps each requested OID to its value."""
        transport = await self._transport(target)
        try:
            async with self._gate(target):
                error_indication, error_status, error_index, var_binds = await get_cmd(
                    self.engine,
                    target.auth_data(),
                    transport,
                    ContextData(contextName=target.context),
                    *[ObjectType(ObjectIdentity(oid)) for oid in oids],
                    lookupMib=False,
                )
        except PySnmpError as exc:
            raise SnmpRefused(str(exc)) from exc
        if error_indication:
            if isinstance(error_indication, errind.RequestTimedOut):
                raise SnmpUnreachable(
                    f"no SNMP answer from {target.label} within {target.timeout:g} s "
                    f"and {target.retries} retries"
                )
            raise SnmpRefused(f"{target.label}: {error_indication}")
        if int(error_status):
            position = int(error_index)
            where = f" at {oids[position - 1]}" if 0 < position <= len(oids) else ""
            raise SnmpRefused(f"{target.label} answered {error_status.prettyPrint()}{where}")
        answer = {str(name): _plain(value) for name, value in var_binds}
        return {oid: answer.get(oid, MISSING) for oid in oids}
