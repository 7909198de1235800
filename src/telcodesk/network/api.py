"""The network part of the JSON API (registered in telcodesk.api under the tag "network").

Devices are read-only here (they are configured by platform staff in the admin);
diagnostics run on demand for a subscription; outages are declared and closed. SNMP
credentials never leave the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from telcodesk.core.api_schemas import CONFLICT_ERRORS, ERRORS, InputSchema
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Subscription
from telcodesk.customers.selectors import subscription_get
from telcodesk.network import selectors
from telcodesk.network.diagnostics import diagnostics_run
from telcodesk.network.models import (
    DiagnosticKind,
    DiagnosticRun,
    Olt,
    Onu,
    Outage,
    OutageScope,
    PonPort,
)
from telcodesk.network.outages import OutageChange, outage_close, outage_declare

router = Router()

if TYPE_CHECKING:
    KindValue = str
    ScopeValue = str
else:
    KindValue = Literal[tuple(DiagnosticKind.values)]
    ScopeValue = Literal[tuple(OutageScope.values)]


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


# --- schemas -----------------------------------------------------------------------------


class OltOut(Schema):
    id: int
    name: str
    vendor: str
    model: str
    management_address: str
    snmp_port: int
    snmp_version: str
    is_active: bool
    port_count: int
    onu_count: int


class PonPortOut(Schema):
    id: int
    label: str = Field(description="frame/slot/port")
    if_index: int
    onu_count: int


class OnuOut(Schema):
    id: int
    pon_port_id: int
    pon_port: str
    onu_id: int
    serial: str
    traffic_if_index: int | None
    subscription_id: int | None
    service_id: str


class OltDetailOut(OltOut):
    ports: list[PonPortOut]
    onus: list[OnuOut]


class DiagnosticsIn(InputSchema):
    kinds: list[KindValue] = Field(..., min_length=1, max_length=4)
    traffic_interval_seconds: float | None = Field(
        None, ge=0.5, le=60, description="seconds between the two counter samples"
    )


class DiagnosticRunOut(Schema):
    id: int
    subscription_id: int
    kind: str
    status: str = Field(description="ok, unreachable, error or timeout")
    verdict: str
    verdict_label: str
    recommendation: str
    recommendation_text: str
    target: str
    raw: dict[str, Any]
    error: str
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    requested_by: str


class RunsQuery(Schema):
    limit: int = Field(50, ge=1, le=200)


class OutageIn(InputSchema):
    scope: ScopeValue
    description: str = Field(..., min_length=1, max_length=2000)
    olt_id: int | None = Field(None, ge=1)
    pon_port_id: int | None = Field(None, ge=1)
    zone: str = Field("", max_length=120)
    city: str = Field("", max_length=120)
    starts_at: datetime | None = Field(None, description="with time zone; default now")
    estimated_end_at: datetime | None = None


class OutageCloseIn(InputSchema):
    ended_at: datetime | None = Field(None, description="with time zone; default now")


class OutageOut(Schema):
    id: int
    scope: str
    scope_label: str
    olt_id: int | None
    pon_port_id: int | None
    zone: str
    city: str
    description: str
    starts_at: datetime
    estimated_end_at: datetime | None
    ended_at: datetime | None
    is_open: bool


class AffectedOut(Schema):
    subscription_id: int
    service_id: str
    customer_id: int
    customer_name: str


class OutageChangeOut(Schema):
    outage: OutageOut
    affected: list[AffectedOut]


class OutagesQuery(Schema):
    open: bool = Field(False, description="only the outages not closed yet")


# --- output helpers ----------------------------------------------------------------------


def olt_out(olt: Olt) -> dict[str, Any]:
    return {
        "id": olt.pk,
        "name": olt.name,
        "vendor": olt.vendor,
        "model": olt.model,
        "management_address": olt.management_address,
        "snmp_port": olt.snmp_port,
        "snmp_version": olt.snmp_version,
        "is_active": olt.is_active,
        "port_count": getattr(olt, "port_count", 0),
        "onu_count": getattr(olt, "onu_count", 0),
    }


def _port_out(port: PonPort) -> dict[str, Any]:
    return {
        "id": port.pk,
        "label": port.label,
        "if_index": port.if_index,
        "onu_count": getattr(port, "onu_count", 0),
    }


def _onu_out(onu: Onu) -> dict[str, Any]:
    return {
        "id": onu.pk,
        "pon_port_id": onu.pon_port_id,
        "pon_port": onu.pon_port.label,
        "onu_id": onu.onu_id,
        "serial": onu.serial,
        "traffic_if_index": onu.traffic_if_index,
        "subscription_id": onu.subscription_id,
        "service_id": onu.subscription.service_id if onu.subscription else "",
    }


def run_out(run: DiagnosticRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "subscription_id": run.subscription_id,
        "kind": run.kind,
        "status": run.status,
        "verdict": run.verdict,
        "verdict_label": run.verdict_label if run.verdict else "",
        "recommendation": run.recommendation,
        "recommendation_text": run.recommendation_text,
        "target": run.target,
        "raw": run.raw,
        "error": run.error,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_ms": run.duration_ms,
        "requested_by": run.requested_by_label,
    }


def outage_out(outage: Outage) -> dict[str, Any]:
    return {
        "id": outage.pk,
        "scope": outage.scope,
        "scope_label": outage.scope_label,
        "olt_id": outage.olt_id,
        "pon_port_id": outage.pon_port_id,
        "zone": outage.zone,
        "city": outage.city,
        "description": outage.description,
        "starts_at": outage.starts_at,
        "estimated_end_at": outage.estimated_end_at,
        "ended_at": outage.ended_at,
        "is_open": outage.is_open,
    }


def _affected_out(subscription: Subscription) -> dict[str, Any]:
    return {
        "subscription_id": subscription.pk,
        "service_id": subscription.service_id,
        "customer_id": subscription.customer_id,
        "customer_name": subscription.customer.display_name,
    }


def _change_out(change: OutageChange) -> dict[str, Any]:
    return {
        "outage": outage_out(change.outage),
        "affected": [_affected_out(subscription) for subscription in change.affected],
    }


# --- devices -----------------------------------------------------------------------------


@router.get("/network/olts", response={200: list[OltOut], **ERRORS}, summary="OLTs")
def olts_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [olt_out(olt) for olt in selectors.olts_visible(actor=_actor(request))]


@router.get("/network/olts/{olt_id}", response={200: OltDetailOut, **ERRORS}, summary="An OLT")
def olts_get(request: HttpRequest, olt_id: int) -> dict[str, Any]:
    olt = selectors.olt_get(actor=_actor(request), olt_id=olt_id)
    return {
        **olt_out(olt),
        "ports": [_port_out(port) for port in selectors.olt_ports(olt=olt)],
        "onus": [_onu_out(onu) for onu in selectors.olt_onus(olt=olt)],
    }


# --- diagnostics -------------------------------------------------------------------------


@router.post(
    "/subscriptions/{subscription_id}/diagnostics",
    response={201: list[DiagnosticRunOut], **ERRORS},
    summary="Run diagnostics now",
)
def diagnostics_create(
    request: HttpRequest, subscription_id: int, payload: DiagnosticsIn
) -> Status[list[dict[str, Any]]]:
    """Runs the kinds concurrently and answers when all are done (each has a deadline).

    Every result is stored, failures too: an OLT that does not answer is a result with
    status ``unreachable``, not an error answer.
    """
    actor = _actor(request)
    subscription = subscription_get(actor=actor, subscription_id=subscription_id)
    runs = diagnostics_run(
        actor=actor,
        subscription=subscription,
        kinds=list(payload.kinds),
        traffic_interval=payload.traffic_interval_seconds,
    )
    return Status(201, [run_out(run) for run in runs])


@router.get(
    "/subscriptions/{subscription_id}/diagnostics",
    response={200: list[DiagnosticRunOut], **ERRORS},
    summary="Diagnostic results of a subscription",
)
def diagnostics_list(
    request: HttpRequest, subscription_id: int, query: Query[RunsQuery]
) -> list[dict[str, Any]]:
    _subscription, runs = selectors.diagnostic_runs_of(
        actor=_actor(request), subscription_id=subscription_id, limit=query.limit
    )
    return [run_out(run) for run in runs]


@router.get(
    "/network/diagnostics/{run_id}",
    response={200: DiagnosticRunOut, **ERRORS},
    summary="A diagnostic result",
)
def diagnostics_get(request: HttpRequest, run_id: int) -> dict[str, Any]:
    return run_out(selectors.diagnostic_run_get(actor=_actor(request), run_id=run_id))


# --- outages -----------------------------------------------------------------------------


@router.get("/network/outages", response={200: list[OutageOut], **ERRORS}, summary="Outages")
def outages_list(request: HttpRequest, query: Query[OutagesQuery]) -> list[dict[str, Any]]:
    outages = selectors.outages_visible(actor=_actor(request), open_only=query.open)
    return [outage_out(outage) for outage in outages[:500]]


@router.post(
    "/network/outages",
    response={201: OutageChangeOut, **CONFLICT_ERRORS},
    summary="Declare an outage",
)
def outages_declare(request: HttpRequest, payload: OutageIn) -> Status[dict[str, Any]]:
    """Answers with the outage and the subscriptions it covers (to notify them)."""
    change = outage_declare(actor=_actor(request), **payload.model_dump())
    return Status(201, _change_out(change))


@router.post(
    "/network/outages/{outage_id}/close",
    response={200: OutageChangeOut, **CONFLICT_ERRORS},
    summary="Close an outage",
)
def outages_close(request: HttpRequest, outage_id: int, payload: OutageCloseIn) -> dict[str, Any]:
    """Answers with the closed outage and the subscriptions it covered (to notify them)."""
    change = outage_close(actor=_actor(request), outage_id=outage_id, ended_at=payload.ended_at)
    return _change_out(change)


@router.get(
    "/subscriptions/{subscription_id}/outages",
    response={200: list[OutageOut], **ERRORS},
    summary="Outages covering a subscription now",
)
def subscription_outages(request: HttpRequest, subscription_id: int) -> list[dict[str, Any]]:
    actor = _actor(request)
    actor.require(selectors.VIEW_PERMISSION)
    subscription = subscription_get(actor=actor, subscription_id=subscription_id)
    return [outage_out(outage) for outage in selectors.outages_affecting(subscription)]
