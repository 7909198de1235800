"""Reads of the network: devices, diagnostic results and outages, scoped to the actor.

Devices and outages belong to the operator. An operator's people see its own; a
reseller's people see no devices, and see the outages of the operators they work for
(so a reseller's agent knows why an assigned customer has no service). Diagnostic runs
are seen by whoever sees their subscription. Anything else is "not found".
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Subscription
from telcodesk.customers.selectors import subscription_get, subscriptions_visible
from telcodesk.network.models import DiagnosticRun, Olt, Onu, Outage, OutageScope, PonPort

VIEW_PERMISSION = "network.view"
MANAGE_PERMISSION = "outage.manage"


# --- devices -----------------------------------------------------------------------------


def olts_visible(*, actor: Actor) -> QuerySet[Olt]:
    """The OLTs of the actor's organization, with their port and ONU counts."""
    actor.require(VIEW_PERMISSION)
    return (
        Olt.objects.filter(organization=actor.organization)
        .annotate(
            port_count=Count("pon_ports", distinct=True), onu_count=Count("onus", distinct=True)
        )
        .order_by("name")
    )


def olt_get(*, actor: Actor, olt_id: int) -> Olt:
    olt = olts_visible(actor=actor).filter(pk=olt_id).first()
    if olt is None:
        raise NotFound(_("No such OLT. Pick one from the device list."))
    return olt


def olt_ports(*, olt: Olt) -> list[PonPort]:
    return list(PonPort.objects.filter(olt=olt).annotate(onu_count=Count("onus")))


def olt_onus(*, olt: Olt) -> list[Onu]:
    return list(Onu.objects.filter(olt=olt).select_related("pon_port", "subscription__customer"))


def pon_port_get(*, actor: Actor, pon_port_id: int) -> PonPort:
    actor.require(VIEW_PERMISSION)
    port = (
        PonPort.objects.filter(organization=actor.organization, pk=pon_port_id)
        .select_related("olt")
        .first()
    )
    if port is None:
        raise NotFound(_("No such PON port. Pick one from the OLT's ports."))
    return port


# --- diagnostics -------------------------------------------------------------------------


def diagnostic_runs_of(
    *, actor: Actor, subscription_id: int, limit: int = 50
) -> tuple[Subscription, list[DiagnosticRun]]:
    """The subscription (NotFound if the actor cannot see it) and its latest runs.

    At most ``limit`` runs: the newest round of checks first, each round in the order
    its kinds were asked.
    """
    actor.require(VIEW_PERMISSION)
    subscription = subscription_get(actor=actor, subscription_id=subscription_id)
    newest_first = DiagnosticRun.objects.filter(subscription=subscription).order_by("-id")
    rounds: dict[object, list[DiagnosticRun]] = {}
    for run in newest_first[:limit]:
        rounds.setdefault(run.batch, []).append(run)
    runs = [run for batch in rounds.values() for run in reversed(batch)]
    return subscription, runs


def diagnostic_run_get(*, actor: Actor, run_id: int) -> DiagnosticRun:
    actor.require(VIEW_PERMISSION)
    run = (
        DiagnosticRun.objects.filter(pk=run_id, subscription__in=subscriptions_visible(actor=actor))
        .select_related("subscription")
        .first()
    )
    if run is None:
        raise NotFound(_("No such diagnostic result."))
    return run


# --- outages -----------------------------------------------------------------------------


def _outage_organizations(actor: Actor) -> list[int]:
    if actor.is_reseller:
        return list(actor.organization.operators.values_list("pk", flat=True))
    return [actor.organization.pk]


def outages_visible(*, actor: Actor, open_only: bool = False) -> QuerySet[Outage]:
    actor.require(VIEW_PERMISSION)
    outages = Outage.objects.filter(organization_id__in=_outage_organizations(actor))
    if open_only:
        outages = outages.filter(ended_at__isnull=True)
    return outages.select_related("olt", "pon_port__olt", "declared_by", "closed_by")


def outage_get(*, actor: Actor, outage_id: int) -> Outage:
    outage = outages_visible(actor=actor).filter(pk=outage_id).first()
    if outage is None:
        raise NotFound(_("No such outage."))
    return outage


def _in_force(at: datetime) -> Q:
    return Q(starts_at__lte=at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=at))


def outages_affecting(subscription: Subscription, at: datetime | None = None) -> list[Outage]:
    """The outages in force at ``at`` (default now) that cover ``subscription``.

    An OLT or PON-port outage covers the subscriptions whose ONU is on that OLT or
    port; a zone outage covers those whose installation address is in that zone (and
    city, when the outage names one), compared case-insensitively. The caller has
    already checked that its actor may see the subscription.
    """
    at = at or timezone.now()
    onus = Onu.objects.filter(subscription=subscription)
    covers = Q(scope=OutageScope.OLT, olt_id__in=onus.values("olt_id")) | Q(
        scope=OutageScope.PON_PORT, pon_port_id__in=onus.values("pon_port_id")
    )
    address = subscription.installation_address
    if address is not None and address.zone.strip():
        covers |= Q(scope=OutageScope.ZONE, zone__iexact=address.zone.strip()) & (
            Q(city="") | Q(city__iexact=address.city.strip())
        )
    return list(
        Outage.objects.filter(_in_force(at), covers, organization_id=subscription.organization_id)
        .select_related("olt", "pon_port__olt")
        .order_by("starts_at", "id")
    )


def subscriptions_affected(outage: Outage) -> QuerySet[Subscription]:
    """Every subscription of the outage's organization that the outage covers."""
    subscriptions = Subscription.objects.filter(organization_id=outage.organization_id)
    if outage.scope == OutageScope.OLT:
        subscriptions = subscriptions.filter(onus__olt=outage.olt)
    elif outage.scope == OutageScope.PON_PORT:
        subscriptions = subscriptions.filter(onus__pon_port=outage.pon_port)
    else:
        subscriptions = subscriptions.filter(installation_address__zone__iexact=outage.zone)
        if outage.city:
            subscriptions = subscriptions.filter(installation_address__city__iexact=outage.city)
    return subscriptions.distinct().select_related("customer").order_by("id")


def outages_of_customer(*, actor: Actor, customer_id: int) -> list[tuple[Subscription, Outage]]:
    """Outages in force now on the customer's services, as (service, outage) pairs.

    The customer must be one the actor sees (NotFound otherwise); reading outages needs
    "network.view".
    """
    from telcodesk.customers.selectors import customer_get, subscriptions_visible

    actor.require(VIEW_PERMISSION)
    customer = customer_get(actor=actor, customer_id=customer_id)
    pairs: list[tuple[Subscription, Outage]] = []
    for subscription in subscriptions_visible(actor=actor).filter(customer=customer):
        pairs.extend((subscription, outage) for outage in outages_affecting(subscription))
    return pairs
