"""Writes of the in-app lead notifications (made by the ``notify_owner`` automation)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from telcodesk.core.tenancy import Actor
from telcodesk.pipelines.models import Lead, LeadNotification
from telcodesk.pipelines.selectors import VIEW_PERMISSION


def notifications_mark_read(
    *, actor: Actor, lead: Lead | None = None, now: datetime | None = None
) -> int:
    """Mark the actor's unread notifications (of ``lead``, or all) read; return how many.

    Needs "lead.view"; only the actor's own notifications change.
    """
    actor.require(VIEW_PERMISSION)
    if actor.user is None:
        return 0
    rows = LeadNotification.objects.filter(
        organization=actor.organization, user=actor.user, read_at__isnull=True
    )
    if lead is not None:
        rows = rows.filter(lead=lead)
    moment = now or timezone.now()
    return rows.update(read_at=moment, updated_at=moment)
