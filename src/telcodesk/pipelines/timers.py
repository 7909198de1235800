"""Durable timers of the pipelines app (imported at start-up by AutomationConfig.ready).

"Aguardando datos" (a stage with queue_role ``awaiting_data``): entering it schedules a
``lead.awaiting_data_no_reply`` timer, due ``sla_minutes`` (15) later, in the same
transaction as the move; a customer reply (pipelines.inbound) or leaving the stage
cancels it; when it fires, the owner gets one high-priority "call the customer" task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime

from telcodesk.automation.models import Timer
from telcodesk.automation.services import register_timer_handler, timer_cancel, timer_schedule
from telcodesk.pipelines.models import Lead, LeadTask, QueueRole, Stage

AWAITING_DATA_KIND = "lead.awaiting_data_no_reply"
TARGET_TYPE = "pipelines.lead"
DEFAULT_AWAITING_MINUTES = 15
CALL_TASK_TITLE = "Call the customer: no reply 15 minutes after asking for the data"


def stage_timers_schedule(*, lead: Lead, stage: Stage, entered_at: datetime, entry_id: int) -> None:
    """Start the timers of ``stage`` for ``lead``, which entered it at ``entered_at``.

    Call inside the transaction of the move; ``entry_id`` (the LeadStageChange of the
    entry) makes the timer one per stage entry.
    """
    if stage.queue_role != QueueRole.AWAITING_DATA:
        return
    minutes = stage.sla_minutes or DEFAULT_AWAITING_MINUTES
    timer_schedule(
        organization=lead.organization,
        kind=AWAITING_DATA_KIND,
        target_type=TARGET_TYPE,
        target_id=lead.pk,
        due_at=entered_at + timedelta(minutes=minutes),
        payload={"stage_id": stage.pk, "entered_at": entered_at.isoformat()},
        dedupe_key=f"lead:{lead.pk}:awaiting_data:{entry_id}",
    )


def stage_timers_cancel(*, lead: Lead) -> int:
    """Cancel the lead's pending "no reply" timers (the customer replied, or it moved on)."""
    return timer_cancel(
        organization=lead.organization,
        kind=AWAITING_DATA_KIND,
        target_type=TARGET_TYPE,
        target_id=lead.pk,
    )


@register_timer_handler(AWAITING_DATA_KIND)
def awaiting_data_no_reply(timer: Timer) -> None:
    """15 minutes in "Aguardando datos" without a reply: a call task for the owner.

    Re-checks the condition (still open, still in the same stage entry, no inbound since)
    and is idempotent: one task per timer, by a unique constraint.
    """
    lead = (
        Lead.objects.select_related("organization")
        .filter(pk=timer.target_id, organization_id=timer.organization_id)
        .first()
    )
    if lead is None or not lead.is_open:
        return
    entered_at = parse_datetime(str(timer.payload.get("entered_at", "")))
    if lead.stage_id != timer.payload.get("stage_id") or entered_at is None:
        return
    if lead.stage_entered_at != entered_at:
        return  # it left the stage and came back: that entry has its own timer
    if lead.last_inbound_at is not None and lead.last_inbound_at > entered_at:
        return  # the customer replied
    LeadTask.objects.get_or_create(
        lead=lead,
        kind=LeadTask.Kind.CALL_CUSTOMER,
        source_timer_id=timer.pk,
        defaults={
            "organization_id": lead.organization_id,
            "title": CALL_TASK_TITLE,
            "priority": LeadTask.Priority.HIGH,
            "due_at": timer.due_at,
            "assigned_to_id": lead.owner_id,
        },
    )
