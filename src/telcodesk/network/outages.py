"""Declare and close outages. Both return the subscriptions covered, to be notified.

New tickets of covered customers are linked to an open outage by the tickets app
(``Ticket.outage``); closing the outage tells those tickets' customers, once each, in
the same transaction (tickets.services.outages.outage_tickets_notify).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from telcodesk.core.errors import (
    DomainError,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Subscription
from telcodesk.network.models import Olt, Outage, OutageScope, PonPort
from telcodesk.network.selectors import MANAGE_PERMISSION, subscriptions_affected

if TYPE_CHECKING:
    from telcodesk.tickets.services.outages import OutageNotified

DESCRIPTION_MAX = 2000


@dataclass(frozen=True)
class OutageChange:
    outage: Outage
    affected: list[Subscription]
    # Closing: what was sent to the linked tickets' customers.
    notified: OutageNotified | None = None


def _aware(moment: datetime | None, field: str, errors: dict[str, list[str]]) -> None:
    if moment is not None and timezone.is_naive(moment):
        errors[field] = [_("Give the time with its time zone.")]


def _require_operator(actor: Actor) -> None:
    actor.require(MANAGE_PERMISSION)
    if actor.is_reseller:
        raise PermissionDenied(
            _("Outages are declared by the operator that runs the network. Ask the operator.")
        )


@transaction.atomic
def outage_declare(
    *,
    actor: Actor,
    scope: str,
    description: str,
    olt_id: int | None = None,
    pon_port_id: int | None = None,
    zone: str = "",
    city: str = "",
    starts_at: datetime | None = None,
    estimated_end_at: datetime | None = None,
) -> OutageChange:
    """Record an outage of an OLT, a PON port or a zone, starting now unless told."""
    _require_operator(actor)
    errors: dict[str, list[str]] = {}
    description = description.strip()
    zone, city = zone.strip(), city.strip()
    olt: Olt | None = None
    pon_port: PonPort | None = None
    if not description:
        errors["description"] = [_("Describe the outage: what failed and where.")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Keep the description under 2000 characters.")]
    if scope == OutageScope.OLT:
        if olt_id is not None:
            olt = Olt.objects.filter(organization=actor.organization, pk=olt_id).first()
        if olt is None:
            errors["olt_id"] = [_("Pick one of your OLTs.")]
    elif scope == OutageScope.PON_PORT:
        if pon_port_id is not None:
            pon_port = (
                PonPort.objects.filter(organization=actor.organization, pk=pon_port_id)
                .select_related("olt")
                .first()
            )
        if pon_port is None:
            errors["pon_port_id"] = [_("Pick one of your OLTs' PON ports.")]
    elif scope == OutageScope.ZONE:
        if not zone:
            errors["zone"] = [_("Write the zone as it appears in the installation addresses.")]
    else:
        errors["scope"] = [_("Choose an OLT, a PON port or a zone.")]
    _aware(starts_at, "starts_at", errors)
    _aware(estimated_end_at, "estimated_end_at", errors)
    starts_at = starts_at or timezone.now()
    if (
        estimated_end_at is not None
        and "starts_at" not in errors
        and "estimated_end_at" not in errors
        and estimated_end_at <= starts_at
    ):
        errors["estimated_end_at"] = [_("The estimated end must come after the start.")]
    if errors:
        raise ValidationFailed(
            _("The outage was not declared: correct the marked fields."), details=errors
        )
    outage = Outage.objects.create(
        organization=actor.organization,
        scope=scope,
        olt=olt if scope == OutageScope.OLT else None,
        pon_port=pon_port,
        zone=zone if scope == OutageScope.ZONE else "",
        city=city if scope == OutageScope.ZONE else "",
        description=description,
        starts_at=starts_at,
        estimated_end_at=estimated_end_at,
        declared_by=actor.user,
    )
    return OutageChange(outage=outage, affected=list(subscriptions_affected(outage)))


@transaction.atomic
def outage_close(*, actor: Actor, outage_id: int, ended_at: datetime | None = None) -> OutageChange:
    """End an open outage (now unless told); answers who it covered.

    The customers of the tickets linked to it get one public reply each saying it is
    over, and every linked ticket an internal note (``OutageChange.notified``); closing
    again is refused (409) and sends nothing.
    """
    _require_operator(actor)
    outage = (
        Outage.objects.filter(organization=actor.organization, pk=outage_id)
        .select_related("olt", "pon_port__olt")
        .first()
    )
    if outage is None:
        raise NotFound(_("No such outage."))
    errors: dict[str, list[str]] = {}
    _aware(ended_at, "ended_at", errors)
    ended_at = ended_at or timezone.now()
    if not errors and ended_at < outage.starts_at:
        errors["ended_at"] = [_("An outage cannot end before it started.")]
    if errors:
        raise ValidationFailed(
            _("The outage was not closed: correct the marked fields."), details=errors
        )
    closed = Outage.objects.filter(pk=outage.pk, ended_at__isnull=True).update(
        ended_at=ended_at, closed_by=actor.user, updated_at=timezone.now()
    )
    if closed != 1:
        outage.refresh_from_db()
        raise DomainError(
            _("This outage was already closed at %(when)s.")
            % {
                "when": formats.date_format(
                    timezone.localtime(outage.ended_at), "SHORT_DATETIME_FORMAT"
                )
            },
            code=ErrorCode.CONFLICT,
            status=409,
        )
    outage.refresh_from_db()
    # Imported here: the tickets app builds on the network app (Ticket.outage), not the
    # other way round at import time.
    from telcodesk.tickets.services.outages import outage_tickets_notify

    notified = outage_tickets_notify(actor=actor, outage=outage, at=ended_at)
    return OutageChange(
        outage=outage, affected=list(subscriptions_affected(outage)), notified=notified
    )
