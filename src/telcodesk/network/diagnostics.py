"""Run diagnostics of a subscription against the real network and store every result.

``diagnostics_run`` reads what the inventory knows about the subscription (ONU, OLT,
PON port, CPE), runs the requested kinds concurrently on one asyncio loop, each within
its own deadline, and stores one DiagnosticRun per kind: failures too. Nothing the
network does reaches the caller as an exception: an OLT that does not answer is a row
with status "unreachable", a deadline passed is "timeout", an ONU the OLT does not know
is "error" with "no such ONU".

No database work happens while the network is being asked: the inventory is read
first, the rows are written after.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.core.aio import run_sync
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Subscription
from telcodesk.customers.selectors import subscription_get
from telcodesk.network.adapters import (
    NoSuchOnu,
    OnuLocation,
    UnexpectedValue,
    vendor_adapter,
)
from telcodesk.network.conf import DiagnosticsConfig, diagnostics_config
from telcodesk.network.models import Cpe, DiagnosticKind, DiagnosticRun, DiagnosticStatus, Onu
from telcodesk.network.probes.ping import PingUnavailable, ping_probe
from telcodesk.network.probes.traffic import NoSuchInterface, traffic_probe
from telcodesk.network.snmp import SnmpFailure, SnmpSession, SnmpTarget, SnmpUnreachable

if TYPE_CHECKING:
    from telcodesk.tickets.models import Ticket

from telcodesk.network.verdicts import (
    OPTICAL_RX_MAX_DBM,
    OPTICAL_RX_MIN_DBM,
    onu_status_verdict,
    optical_verdict,
    ping_verdict,
    traffic_verdict,
)

logger = logging.getLogger(__name__)

RUN_PERMISSION = "network.diagnose"
KINDS: tuple[str, ...] = tuple(DiagnosticKind.values)
SNMP_KINDS = {DiagnosticKind.ONU_STATUS, DiagnosticKind.OPTICAL_POWER, DiagnosticKind.TRAFFIC}


class MissingInventory(Exception):
    """The inventory lacks what this diagnostic needs (no CPE IP, no ONU, ...)."""


@dataclass(frozen=True)
class SubscriptionNetwork:
    """What the diagnostics need to know, read from the database before any I/O."""

    cpe_ip: str | None
    vendor: str = ""
    olt_name: str = ""
    snmp: SnmpTarget | None = None
    onu: OnuLocation | None = None
    traffic_if_index: int | None = None
    plan_download_mbps: Decimal | None = None
    plan_upload_mbps: Decimal | None = None


@dataclass
class Outcome:
    kind: str
    status: str = DiagnosticStatus.OK
    verdict: str = ""
    recommendation: str = ""
    target: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    started_at: datetime = field(default_factory=timezone.now)
    finished_at: datetime = field(default_factory=timezone.now)


def subscription_network(subscription: Subscription) -> SubscriptionNetwork:
    """The subscription's equipment: its first active ONU (and OLT), its CPE address."""
    cpe = Cpe.objects.filter(subscription=subscription).order_by("id").first()
    cpe_ip = str(cpe.ip_address) if cpe is not None else subscription.cpe_ip
    plan = subscription.plan
    plan_download = plan.download_mbps if plan is not None else None
    plan_upload = plan.upload_mbps if plan is not None else None
    if plan_download is None:
        plan_download = subscription.speed_mbps
    onu = (
        Onu.objects.filter(subscription=subscription, olt__is_active=True)
        .select_related("olt", "pon_port")
        .order_by("id")
        .first()
    )
    if onu is None:
        return SubscriptionNetwork(
            cpe_ip=cpe_ip, plan_download_mbps=plan_download, plan_upload_mbps=plan_upload
        )
    return SubscriptionNetwork(
        cpe_ip=cpe_ip,
        vendor=onu.olt.vendor,
        olt_name=onu.olt.name,
        snmp=SnmpTarget.for_olt(onu.olt),
        onu=OnuLocation(
            if_index=onu.pon_port.if_index,
            onu_id=onu.onu_id,
            label=f"{onu.pon_port.label} ONU {onu.onu_id}",
        ),
        traffic_if_index=onu.traffic_if_index,
        plan_download_mbps=plan_download,
        plan_upload_mbps=plan_upload,
    )


def _clean_kinds(kinds: list[str]) -> list[str]:
    chosen: list[str] = []
    for kind in kinds:
        if kind not in KINDS:
            raise ValidationFailed(
                _("Unknown diagnostic %(kind)s: choose from %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(KINDS)},
                details={"kinds": [_("Choose from %(kinds)s.") % {"kinds": ", ".join(KINDS)}]},
            )
        if kind not in chosen:
            chosen.append(kind)
    if not chosen:
        raise ValidationFailed(
            _("Choose at least one diagnostic to run."),
            details={"kinds": [_("Choose at least one diagnostic to run.")]},
        )
    return chosen


# --- the runners, one per kind -----------------------------------------------------------


def _snmp_parts(network: SubscriptionNetwork) -> tuple[SnmpTarget, OnuLocation]:
    if network.snmp is None or network.onu is None:
        raise MissingInventory("no ONU on file for this service")
    return network.snmp, network.onu


async def _ping(
    network: SubscriptionNetwork, session: SnmpSession, config: DiagnosticsConfig, out: Outcome
) -> None:
    if not network.cpe_ip:
        raise MissingInventory("no CPE IP address on file for this service")
    out.target = network.cpe_ip
    # The pings get a thread and an event loop of their own: a reply is timed when the
    # loop reads it, so SNMP work on the shared loop would show up as round-trip time.
    measurement = await asyncio.to_thread(
        asyncio.run,
        ping_probe(
            network.cpe_ip,
            count=config.ping_count,
            interval=config.ping_interval,
            timeout=config.ping_timeout,
        ),
    )
    verdict = ping_verdict(
        sent=measurement.sent, received=measurement.received, jitter_ms=measurement.jitter_ms
    )
    out.raw = measurement.as_raw()
    out.verdict, out.recommendation = verdict.verdict, verdict.recommendation
    if measurement.sent == 0:
        # Not one request left the machine: no route to the address.
        out.status = DiagnosticStatus.UNREACHABLE
    if measurement.error:
        out.error = measurement.error


async def _onu_status(
    network: SubscriptionNetwork, session: SnmpSession, config: DiagnosticsConfig, out: Outcome
) -> None:
    target, onu = _snmp_parts(network)
    out.target = f"{network.olt_name} {onu.label}"
    adapter = _adapter(network.vendor)
    state = await adapter.onu_status(session, target, onu)
    verdict = onu_status_verdict(online=state.online, cause=state.cause)
    out.raw = {"online": state.online, "cause": state.cause, "detail": state.detail, **state.raw}
    out.verdict, out.recommendation = verdict.verdict, verdict.recommendation


async def _optical_power(
    network: SubscriptionNetwork, session: SnmpSession, config: DiagnosticsConfig, out: Outcome
) -> None:
    target, onu = _snmp_parts(network)
    out.target = f"{network.olt_name} {onu.label}"
    adapter = _adapter(network.vendor)
    reading = await adapter.optical_power(session, target, onu)
    verdict = optical_verdict(reading.onu_rx_dbm)
    out.raw = {
        "onu_rx_dbm": reading.onu_rx_dbm,
        "onu_tx_dbm": reading.onu_tx_dbm,
        "olt_rx_dbm": reading.olt_rx_dbm,
        "temperature_c": reading.temperature_c,
        "voltage_v": reading.voltage_v,
        "bias_ma": reading.bias_ma,
        "window_dbm": [OPTICAL_RX_MIN_DBM, OPTICAL_RX_MAX_DBM],
        "snmp": reading.raw,
    }
    if reading.onu_rx_dbm is None:
        out.raw["no_reading"] = True
    out.verdict, out.recommendation = verdict.verdict, verdict.recommendation


async def _traffic(
    network: SubscriptionNetwork, session: SnmpSession, config: DiagnosticsConfig, out: Outcome
) -> None:
    target, _onu = _snmp_parts(network)
    if network.traffic_if_index is None:
        raise MissingInventory("no traffic interface (ifIndex) on file for this ONU")
    out.target = f"{network.olt_name} ifIndex {network.traffic_if_index}"
    measurement = await traffic_probe(
        session, target, if_index=network.traffic_if_index, interval=config.traffic_interval
    )
    verdict = traffic_verdict(
        download_mbps=measurement.download_mbps,
        upload_mbps=measurement.upload_mbps,
        plan_download_mbps=network.plan_download_mbps,
        plan_upload_mbps=network.plan_upload_mbps,
    )
    out.raw = {
        **measurement.as_raw(),
        "plan_download_mbps": _number(network.plan_download_mbps),
        "plan_upload_mbps": _number(network.plan_upload_mbps),
    }
    if network.plan_download_mbps:
        out.raw["download_share"] = round(
            measurement.download_mbps / float(network.plan_download_mbps), 3
        )
    out.verdict, out.recommendation = verdict.verdict, verdict.recommendation


Runner = Callable[[SubscriptionNetwork, SnmpSession, DiagnosticsConfig, Outcome], Awaitable[None]]

_RUNNERS: dict[str, Runner] = {
    DiagnosticKind.PING: _ping,
    DiagnosticKind.ONU_STATUS: _onu_status,
    DiagnosticKind.OPTICAL_POWER: _optical_power,
    DiagnosticKind.TRAFFIC: _traffic,
}


def _adapter(vendor: str) -> Any:
    adapter = vendor_adapter(vendor)
    if adapter is None:
        raise MissingInventory(f"no diagnostics adapter for OLT vendor {vendor!r}")
    return adapter


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _deadline(kind: str, network: SubscriptionNetwork, config: DiagnosticsConfig) -> float:
    if config.deadline is not None:
        return config.deadline
    if kind == DiagnosticKind.PING:
        return config.ping_budget()
    budget = network.snmp.budget_seconds() if network.snmp is not None else 1.0
    if kind == DiagnosticKind.TRAFFIC:
        return config.traffic_interval + 2 * budget + 1.0
    return budget + 1.0


async def _guarded(
    kind: str, network: SubscriptionNetwork, session: SnmpSession, config: DiagnosticsConfig
) -> Outcome:
    out = Outcome(kind=kind, started_at=timezone.now())
    deadline = _deadline(kind, network, config)
    try:
        await asyncio.wait_for(_RUNNERS[kind](network, session, config, out), deadline)
    except TimeoutError:
        out.status, out.verdict = DiagnosticStatus.TIMEOUT, ""
        out.recommendation = "retry_later"
        out.error = f"the diagnostic did not finish within {deadline:g} s"
    except MissingInventory as exc:
        out.status, out.recommendation, out.error = (
            DiagnosticStatus.ERROR,
            "complete_inventory",
            str(exc),
        )
    except SnmpFailure as exc:
        out.status, out.error = exc.status, exc.message
        if isinstance(exc, SnmpUnreachable):
            out.recommendation = "olt_unreachable"
        elif isinstance(exc, NoSuchOnu | NoSuchInterface):
            out.recommendation = "check_inventory"
        elif isinstance(exc, UnexpectedValue):
            out.recommendation = "olt_unexpected"
        else:
            out.recommendation = "olt_refused"
    except PingUnavailable as exc:
        out.status, out.recommendation, out.error = (
            DiagnosticStatus.ERROR,
            "ping_unavailable",
            str(exc),
        )
    except Exception as exc:  # a bug or a library failure: still a result, and logged
        logger.exception("diagnostic %s failed", kind)
        out.status, out.recommendation = DiagnosticStatus.ERROR, "retry_later"
        out.error = f"{type(exc).__name__}: {exc}"
    out.finished_at = timezone.now()
    return out


async def diagnostics_gather(
    network: SubscriptionNetwork, kinds: list[str], config: DiagnosticsConfig
) -> list[Outcome]:
    """Run ``kinds`` concurrently on the current loop; one Outcome per kind, in order."""
    async with SnmpSession(max_in_flight=config.snmp_max_in_flight) as session:
        if SNMP_KINDS & set(kinds):
            session.engine  # noqa: B018 - build the engine (slow, blocking) before any probe
        return list(
            await asyncio.gather(*(_guarded(kind, network, session, config) for kind in kinds))
        )


def _ticket_checked(actor: Actor, ticket: Ticket, subscription: Subscription) -> Ticket:
    from telcodesk.tickets.selectors import tickets_visible

    found = tickets_visible(actor=actor).filter(pk=ticket.pk).first()
    if found is None:
        raise NotFound(_("Ticket not found."))
    if found.customer_id != subscription.customer_id:
        raise ValidationFailed(
            _(
                "This service belongs to another customer than the ticket's. "
                "Choose one of the ticket's customer's services."
            ),
            details={"subscription": [_("Not a service of the ticket's customer.")]},
        )
    return found


def diagnostics_run(
    *,
    actor: Actor,
    subscription: Subscription,
    kinds: list[str],
    traffic_interval: float | None = None,
    ticket: Ticket | None = None,
) -> list[DiagnosticRun]:
    """Run ``kinds`` on ``subscription`` now; every result stored, failures included.

    With ``ticket`` (one of the subscription's customer, visible to the actor) the
    results are stored on it too: the ticket page and the work order list them.

    Blocks for as long as the slowest diagnostic (each bounded by its deadline, see
    network.conf). ``traffic_interval`` overrides the seconds between the two counter
    samples. Returns the stored runs in the order of ``kinds`` (duplicates dropped).
    """
    actor.require(RUN_PERMISSION)
    subscription = subscription_get(actor=actor, subscription_id=subscription.pk)
    chosen = _clean_kinds(list(kinds))
    config = diagnostics_config(traffic_interval=traffic_interval)
    if ticket is not None:
        ticket = _ticket_checked(actor, ticket, subscription)
    network = subscription_network(subscription)
    # Django's ORM is synchronous; run_sync gives the diagnostics an event loop of their own.
    outcomes = run_sync(diagnostics_gather(network, chosen, config))
    batch = uuid.uuid4()
    with transaction.atomic():
        return [
            DiagnosticRun.objects.create(
                organization_id=subscription.organization_id,
                subscription=subscription,
                ticket=ticket,
                kind=outcome.kind,
                status=outcome.status,
                verdict=outcome.verdict,
                recommendation=outcome.recommendation,
                target=outcome.target[:200],
                raw=outcome.raw,
                error=outcome.error,
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
                requested_by=actor.user,
                requested_by_label=actor.display[:120],
                batch=batch,
            )
            for outcome in outcomes
        ]
