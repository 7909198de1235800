"""The daily follow-up (Kommo's "bot seguimiento"), one durable timer per pipeline.

A pipeline with ``follow_up`` in its pack ({at: "10:00", stage: Seguimiento, bot:
/seguimiento, max_follow_ups: 2, abandon_reason: Abandono gestión}) has one pending
``pipelines.daily_follow_up`` timer, due at the next ``at`` in the organization's time
zone (zoneinfo: a DST change moves the UTC instant, not the local hour). It is
scheduled when the pack is synced, and each firing schedules the next day's (its dedupe
key carries the local date, so a firing run twice schedules one next timer).

When it fires, at ``at`` on day D (organization-local dates):

1. Open leads of the pipeline, in an open non-system stage, not followed up yet, whose
   last inbound was on D-1 and that we answered after it (``last_outbound_at >
   last_inbound_at``: the customer went silent) move automatically to the follow-up
   stage and get the follow-up bot (its template outside the 24-hour window);
   ``follow_up_count`` becomes 1.
2. Leads in the follow-up stage followed up before D and silent since the last one:
   while ``follow_up_count < max_follow_ups`` they get another follow-up (count + 1);
   at the maximum (the first contact plus two follow-ups, the document's rule) the
   lead is proposed for the abandon reason: ``proposed_loss_reason`` is set and its
   owner gets a call task; the agent closes it with one click (lead_lose).

A reply from the customer (pipelines.inbound) resets the count and the proposal.
Every step is an AutomationRun (key ``follow-up``, trigger ``timer:<id>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from telcodesk.automation.models import Timer
from telcodesk.automation.services import timer_schedule
from telcodesk.pipelines.models import Lead, LeadTask, LossReason, Pipeline, Stage, StageKind

FOLLOW_UP_KIND = "pipelines.daily_follow_up"
TARGET_TYPE = "pipelines.pipeline"
AUTOMATION_KEY = "follow-up"
ABANDON_TASK_TITLE = gettext_noop(
    "Call the customer: no answer after the first contact and %(count)d follow-ups. If "
    'they still do not answer, lose the lead with "%(reason)s".'
)


@dataclass
class FollowUpResult:
    moved: int = 0
    followed_up: int = 0
    proposed: int = 0


def _zone(pipeline: Pipeline) -> ZoneInfo:
    return ZoneInfo(pipeline.organization.time_zone or "UTC")


def _hour_minute(spec: dict[str, object]) -> tuple[int, int]:
    hours, minutes = str(spec["at"]).split(":")
    return int(hours), int(minutes)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def follow_up_next_due(*, after: datetime, zone: ZoneInfo, hour: int, minute: int) -> datetime:
    """The first local ``hour:minute`` strictly after ``after`` (aware, in UTC)."""
    day = after.astimezone(zone).date()
    for offset in range(3):
        local = datetime.combine(day + timedelta(days=offset), time(hour, minute), tzinfo=zone)
        # A local time skipped by a DST change resolves to the instant just after it.
        due = local.astimezone(UTC)
        if due > after:
            return due
    raise AssertionError("unreachable: a local time exists within three days")


def follow_up_schedule(*, pipeline: Pipeline, after: datetime | None = None) -> Timer | None:
    """Make sure the pipeline's next follow-up timer exists (or none, without follow_up).

    Call inside the pack sync's transaction, or from the firing (``after`` = its time).
    A pending timer at another time (the pack changed ``at``) is cancelled.
    """
    pending = Timer.objects.filter(
        organization_id=pipeline.organization_id,
        kind=FOLLOW_UP_KIND,
        target_type=TARGET_TYPE,
        target_id=pipeline.pk,
        state=Timer.State.PENDING,
    )
    spec = pipeline.follow_up or {}
    if not spec or not pipeline.is_active:
        pending.update(state=Timer.State.CANCELLED, updated_at=timezone.now())
        return None
    zone = _zone(pipeline)
    hour, minute = _hour_minute(spec)
    due = follow_up_next_due(after=after or timezone.now(), zone=zone, hour=hour, minute=minute)
    current = pending.filter(due_at=due).first()
    if current is not None:
        return current
    pending.update(state=Timer.State.CANCELLED, updated_at=timezone.now())
    local = due.astimezone(zone)
    return timer_schedule(
        organization=pipeline.organization,
        kind=FOLLOW_UP_KIND,
        target_type=TARGET_TYPE,
        target_id=pipeline.pk,
        due_at=due,
        payload={"date": local.date().isoformat(), "at": f"{hour:02d}:{minute:02d}"},
        dedupe_key=f"pipeline:{pipeline.pk}:follow-up:{local:%Y-%m-%dT%H%M}",
    )


def follow_up_fire(timer: Timer) -> None:
    """The timer handler: run the day's follow-up, then schedule the next day's."""
    pipeline = (
        Pipeline.objects.select_related("organization")
        .filter(pk=timer.target_id, organization_id=timer.organization_id)
        .first()
    )
    if pipeline is None or not pipeline.is_active or not pipeline.follow_up:
        return
    follow_up_run(pipeline=pipeline, at=timer.due_at, trigger=f"timer:{timer.pk}")
    follow_up_schedule(pipeline=pipeline, after=timer.due_at)


def follow_up_run(*, pipeline: Pipeline, at: datetime, trigger: str) -> FollowUpResult:
    """Apply the follow-up rules of ``pipeline`` as of ``at`` (inside a transaction)."""
    from telcodesk.pipelines.automations import RunContext, action_run
    from telcodesk.pipelines.services import lead_lock_by_id

    result = FollowUpResult()
    spec = pipeline.follow_up
    stage = Stage.objects.filter(pipeline=pipeline, name=spec["stage"], is_active=True).first()
    reason = LossReason.objects.filter(
        pipeline=pipeline, name=spec["abandon_reason"], is_active=True
    ).first()
    if stage is None or reason is None:
        return result
    bot_name = str(spec["bot"])
    max_follow_ups = int(str(spec.get("max_follow_ups", 2)))
    zone = _zone(pipeline)
    today = at.astimezone(zone).date()
    today_starts = _local_midnight(today, zone)
    yesterday_starts = _local_midnight(today - timedelta(days=1), zone)
    open_leads = Lead.objects.filter(
        pipeline=pipeline,
        won_at__isnull=True,
        lost_at__isnull=True,
        stage__kind=StageKind.OPEN,
        stage__is_system=False,
    )
    first_ids = list(
        open_leads.filter(
            follow_up_count=0,
            last_inbound_at__gte=yesterday_starts,
            last_inbound_at__lt=today_starts,
            last_outbound_at__gt=F("last_inbound_at"),
        ).values_list("pk", flat=True)
    )
    later_ids = list(
        open_leads.filter(stage=stage, follow_up_count__gte=1, last_follow_up_at__lt=today_starts)
        .filter(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=F("last_follow_up_at")))
        .values_list("pk", flat=True)
    )
    send = {"action": "send_bot", "bot": bot_name}
    for lead_id in first_ids:
        lead = lead_lock_by_id(organization_id=pipeline.organization_id, lead_id=lead_id)
        if lead is None or not lead.is_open:
            continue
        ctx = RunContext(lead=lead, automation_key=AUTOMATION_KEY, trigger=trigger, at=at)
        if lead.stage_id != stage.pk:
            action_run(ctx, 0, {"action": "move_to", "stage": stage.name})
            result.moved += 1
        action_run(ctx, 1, send)
        Lead.objects.filter(pk=lead.pk).update(
            follow_up_count=1, last_follow_up_at=at, follow_up_at=at, updated_at=timezone.now()
        )
        result.followed_up += 1
    for lead_id in later_ids:
        lead = lead_lock_by_id(organization_id=pipeline.organization_id, lead_id=lead_id)
        if lead is None or not lead.is_open:
            continue
        ctx = RunContext(lead=lead, automation_key=AUTOMATION_KEY, trigger=trigger, at=at)
        if lead.follow_up_count < max_follow_ups:
            action_run(ctx, 1, send)
            Lead.objects.filter(pk=lead.pk).update(
                follow_up_count=lead.follow_up_count + 1,
                last_follow_up_at=at,
                follow_up_at=at,
                updated_at=timezone.now(),
            )
            result.followed_up += 1
        elif lead.proposed_loss_reason_id is None:
            Lead.objects.filter(pk=lead.pk).update(
                proposed_loss_reason=reason, proposed_at=at, updated_at=timezone.now()
            )
            title = ABANDON_TASK_TITLE % {"count": max_follow_ups, "reason": reason.name}
            action_run(
                ctx,
                2,
                {
                    "action": "create_task",
                    "title": title,
                    "kind": LeadTask.Kind.CALL_CUSTOMER,
                    "priority": LeadTask.Priority.HIGH,
                },
            )
            result.proposed += 1
    return result
