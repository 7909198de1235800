"""Row locks on leads: every write re-reads its lead with SELECT ... FOR UPDATE."""

from __future__ import annotations

from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound
from telcodesk.pipelines.models import Lead


def lead_lock(*, lead: Lead) -> Lead:
    """``lead`` re-read under a row lock (call inside a transaction)."""
    return lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)


def lead_lock_by_id(*, organization_id: int, lead_id: int) -> Lead | None:
    """The lead under a row lock, or None when it is gone (timer handlers)."""
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline", "customer", "organization")
        .filter(pk=lead_id, organization_id=organization_id)
        .first()
    )


def lead_locked(*, organization_id: int, lead_id: int) -> Lead:
    """The lead of ``organization_id`` under a row lock; NotFound when there is none."""
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline", "customer", "loss_reason")
        .filter(pk=lead_id, organization_id=organization_id)
        .first()
    )
    if lead is None:
        raise NotFound(_("No such lead. It may have been removed; reload the board."))
    return lead
