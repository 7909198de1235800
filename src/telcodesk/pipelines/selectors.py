"""Reads of pipelines and leads, scoped to the actor's organization.

A lead belongs to the organization that works it (a reseller's leads are the
reseller's); anything of another organization is NotFound. Seeing leads needs
"lead.view".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Invoice
from telcodesk.pipelines.models import (
    Lead,
    LeadTask,
    LossReason,
    Pipeline,
    QueueRole,
    Stage,
    StageKind,
)
from telcodesk.pipelines.rules import (
    Decision,
    OverdueInvoice,
    carrier_offer,
    debt_check,
    permanence_check,
    riser_needed,
)
from telcodesk.pipelines.tabs import choice_label

VIEW_PERMISSION = "lead.view"
BOARD_COLUMN_LIMIT = 50
# "Aguardando datos" without a reply after this long: call the customer (the stage's
# sla_minutes overrides it).
AWAITING_DATA_DEFAULT = timedelta(minutes=15)

# Whether an organization has a pipeline in use, asked by every inbound message
# (pipelines.inbound): cached per process for this long. Saving or deleting a pipeline
# in this process (pack sync included) forgets the organization's entry at once
# (signals in apps.py); other processes see the change when their entry expires.
PIPELINES_IN_USE_CACHE_SECONDS = 5.0
_pipelines_in_use: dict[int, tuple[float, bool]] = {}
_pipelines_in_use_lock = threading.Lock()


def pipelines_visible(*, actor: Actor) -> QuerySet[Pipeline]:
    actor.require(VIEW_PERMISSION)
    return Pipeline.objects.filter(organization=actor.organization, is_active=True)


def organization_has_pipelines(*, organization_id: int) -> bool:
    """Whether the organization has an active pipeline (a system read, no actor).

    Both answers are cached per process for ``PIPELINES_IN_USE_CACHE_SECONDS``, keyed
    by the organization: an inbound message of an organization without pipelines costs
    no query either. A pipeline changed with ``QuerySet.update`` (no signal) is seen
    when the entry expires, or after ``pipelines_in_use_cache_clear``.
    """
    now = time.monotonic()
    cached = _pipelines_in_use.get(organization_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    in_use = Pipeline.objects.filter(organization_id=organization_id, is_active=True).exists()
    with _pipelines_in_use_lock:
        _pipelines_in_use[organization_id] = (now + PIPELINES_IN_USE_CACHE_SECONDS, in_use)
    return in_use


def pipelines_in_use_cache_clear(*, organization_id: int | None = None) -> None:
    """Forget whether ``organization_id`` has pipelines (every organization when None)."""
    with _pipelines_in_use_lock:
        if organization_id is None:
            _pipelines_in_use.clear()
        else:
            _pipelines_in_use.pop(organization_id, None)


def pipeline_get(*, actor: Actor, pipeline_id: int) -> Pipeline:
    actor.require(VIEW_PERMISSION)
    pipeline = Pipeline.objects.filter(organization=actor.organization, pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound(_("No such pipeline. Choose one of your organization's pipelines."))
    return pipeline


def leads_visible(*, actor: Actor) -> QuerySet[Lead]:
    actor.require(VIEW_PERMISSION)
    return Lead.objects.filter(organization=actor.organization)


def _check_lead(actor: Actor, lead: Lead) -> None:
    """For reads about a lead the caller already has: the permission and the tenant."""
    actor.require(VIEW_PERMISSION)
    if lead.organization_id != actor.organization.pk:
        raise NotFound(_("No such lead. It may have been removed; reload the board."))


def lead_get(*, actor: Actor, lead_id: int) -> Lead:
    lead = (
        leads_visible(actor=actor)
        .select_related("pipeline", "stage", "owner", "team", "customer", "loss_reason")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound(_("No such lead. It may have been removed; reload the board."))
    return lead


# --- the board ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFilters:
    owner_id: int | None = None
    team_id: int | None = None
    source: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    # Only the leads lost with the system's "Razón no definida" (the supervisor's list).
    undefined_reason: bool = False


@dataclass
class BoardColumn:
    stage: Stage
    count: int
    value: Decimal
    leads: list[Lead] = field(default_factory=list)


def _filtered(leads: QuerySet[Lead], filters: LeadFilters | None) -> QuerySet[Lead]:
    if filters is None:
        return leads
    if filters.owner_id is not None:
        leads = leads.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        leads = leads.filter(team_id=filters.team_id)
    if filters.source:
        leads = leads.filter(source=filters.source)
    if filters.created_after is not None:
        leads = leads.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        leads = leads.filter(created_at__lt=filters.created_before)
    if filters.undefined_reason:
        leads = leads.filter(loss_reason__is_system=True)
    return leads


def leads_by_stage(
    *, actor: Actor, pipeline: Pipeline, filters: LeadFilters | None = None
) -> list[BoardColumn]:
    """The board: one column per stage in rank order, with its count, value and first leads.

    Inactive stages appear only while leads are still in them. Each column lists at
    most BOARD_COLUMN_LIMIT leads, the longest in the stage first.
    """
    pipeline = pipeline_get(actor=actor, pipeline_id=pipeline.pk)
    leads = _filtered(leads_visible(actor=actor).filter(pipeline=pipeline), filters)
    totals = {
        row["stage_id"]: (row["n"], row["value"] or Decimal("0"))
        for row in leads.values("stage_id").annotate(n=Count("pk"), value=Sum("value"))
    }
    columns: list[BoardColumn] = []
    for stage in Stage.objects.filter(pipeline=pipeline).order_by("position", "id"):
        count, value = totals.get(stage.pk, (0, Decimal("0")))
        if not stage.is_active and count == 0:
            continue
        columns.append(
            BoardColumn(
                stage=stage,
                count=count,
                value=value,
                leads=list(
                    leads.filter(stage=stage)
                    .select_related("owner", "loss_reason")
                    .order_by("stage_entered_at", "id")[:BOARD_COLUMN_LIMIT]
                )
                if count
                else [],
            )
        )
    return columns


def leads_with_undefined_reason(*, actor: Actor) -> QuerySet[Lead]:
    """Leads the system closed with its own reason, waiting for an agent's real one."""
    return leads_visible(actor=actor).filter(loss_reason__is_system=True)


def leads_with_undefined_reason_count(*, actor: Actor) -> int:
    """The supervisor's figure: leads lost with "Razón no definida" (the goal is zero)."""
    return leads_with_undefined_reason(actor=actor).count()


def undefined_reason_counts_by_pipeline(*, actor: Actor) -> dict[int, int]:
    """Pipeline id -> leads lost with "Razón no definida" in it (pipelines with none left out)."""
    rows = (
        leads_with_undefined_reason(actor=actor)
        .values("pipeline_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["pipeline_id"]: row["n"] for row in rows}


def leads_same_phone(*, actor: Actor, lead: Lead) -> list[Lead]:
    """The other leads of the lead's phone that are open, or won in the last 30 days (a
    sale in process), in any pipeline of the organization, newest first, with their
    owner: who else works this customer ("hecha desde otro agente")."""
    from telcodesk.customers.phones import phone_query_forms
    from telcodesk.pipelines.services import SALE_IN_PROCESS

    _check_lead(actor, lead)
    phones = phone_query_forms(lead.phone, region=actor.organization.country) or [lead.phone]
    since = timezone.now() - SALE_IN_PROCESS
    return list(
        leads_visible(actor=actor)
        .filter(phone__in=phones)
        .filter(Q(won_at__isnull=True, lost_at__isnull=True) | Q(won_at__gte=since))
        .exclude(pk=lead.pk)
        .select_related("pipeline", "stage", "owner")
        .order_by("-created_at", "-id")
    )


def loss_reasons_for(*, actor: Actor, pipeline: Pipeline) -> list[LossReason]:
    """The reasons an agent may choose when losing a lead of ``pipeline``, with guidance."""
    pipeline = pipeline_get(actor=actor, pipeline_id=pipeline.pk)
    return list(
        LossReason.objects.filter(pipeline=pipeline, is_active=True, is_system=False).order_by(
            "position", "id"
        )
    )


# --- my queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    lead: Lead
    # 1: replied to an offer; 2: awaiting data past its time (call now); 3: follow-up due.
    priority: int
    reason: str
    since: datetime
    # The open "call the customer" task that put the lead here, when one did.
    task: LeadTask | None = None


def _awaiting_limit(stage: Stage) -> timedelta:
    return timedelta(minutes=stage.sla_minutes) if stage.sla_minutes else AWAITING_DATA_DEFAULT


def my_queue(*, actor: Actor, now: datetime | None = None) -> list[QueueItem]:
    """The open leads the actor owns that need them now, in the procedure's order.

    1. leads in a ``replied_offer`` stage (the customer answered an offer), the oldest
       answer first;
    2. leads in an ``awaiting_data`` stage with no reply for longer than the stage's
       SLA (15 minutes by default) since they entered it: call the customer now;
    3. leads in a ``follow_up`` stage whose follow-up is due (``follow_up_at``, or
       entering the stage when it is not set).
    """
    actor.require(VIEW_PERMISSION)
    now = now or timezone.now()
    if actor.user is None:
        return []
    leads = (
        leads_visible(actor=actor)
        .filter(
            owner=actor.user,
            won_at__isnull=True,
            lost_at__isnull=True,
            stage__kind=StageKind.OPEN,
        )
        .exclude(stage__queue_role="")
        .select_related("stage", "pipeline", "customer", "proposed_loss_reason")
    )
    items: list[QueueItem] = []
    for lead in leads:
        role = lead.stage.queue_role
        if role == QueueRole.REPLIED_OFFER:
            since = lead.last_inbound_at or lead.stage_entered_at
            items.append(
                QueueItem(
                    lead,
                    1,
                    _('Replied to the offer ("%(stage)s"): answer first.')
                    % {"stage": lead.stage.name},
                    since,
                )
            )
        elif role == QueueRole.AWAITING_DATA:
            replied = (
                lead.last_inbound_at is not None and lead.last_inbound_at >= lead.stage_entered_at
            )
            waited = now - lead.stage_entered_at
            if not replied and waited >= _awaiting_limit(lead.stage):
                items.append(
                    QueueItem(
                        lead,
                        2,
                        _(
                            "No reply for %(minutes)d minutes since the data was asked for: "
                            "call the customer now."
                        )
                        % {"minutes": int(waited.total_seconds() // 60)},
                        lead.stage_entered_at,
                    )
                )
        elif role == QueueRole.FOLLOW_UP:
            due = lead.follow_up_at or lead.stage_entered_at
            if lead.proposed_loss_reason is not None:
                reason = _(
                    "No answer after the first contact and the follow-ups: call the customer, "
                    'then lose the lead with "%(reason)s" if they still do not answer.'
                ) % {"reason": lead.proposed_loss_reason.name}
            else:
                reason = _('Follow-up due ("%(stage)s").') % {"stage": lead.stage.name}
            if due <= now:
                items.append(QueueItem(lead, 3, reason, due))
    # An open "call the customer" task puts the lead in "call now" even when the stage
    # alone would not: one that is due, or one a timer made (15 minutes without a
    # reply, the follow-ups exhausted, an unpaid order), which exists only because its
    # time came.
    listed = {item.lead.pk for item in items if item.priority <= 2}
    tasks = (
        LeadTask.objects.filter(
            Q(due_at__lte=now) | Q(source_timer_id__isnull=False),
            assigned_to=actor.user,
            kind=LeadTask.Kind.CALL_CUSTOMER,
            done_at__isnull=True,
            lead__organization=actor.organization,
            lead__won_at__isnull=True,
            lead__lost_at__isnull=True,
        )
        .select_related("lead__stage", "lead__pipeline", "lead__customer")
        .select_related("lead__proposed_loss_reason")
        .order_by("due_at", "id")
    )
    for task in tasks:
        if task.lead_id in listed:
            continue
        listed.add(task.lead_id)
        items = [item for item in items if item.lead.pk != task.lead_id]
        items.append(QueueItem(task.lead, 2, task.title, task.due_at, task))
    items.sort(key=lambda item: (item.priority, item.since, item.lead.pk))
    return items


# --- the rules of a lead ------------------------------------------------------------------


def overdue_invoices_for_document(
    *, organization_ids: list[int], document: str, today: date
) -> list[OverdueInvoice]:
    """Open overdue invoices of the customers with this document number (plain data)."""
    if not document:
        return []
    invoices = (
        Invoice.objects.filter(
            organization_id__in=organization_ids,
            customer__documents__number=document,
            is_void=False,
            due_on__lt=today,
        )
        .distinct()
        .order_by("due_on", "id")
    )
    return [
        OverdueInvoice(
            number=invoice.number,
            outstanding=invoice.outstanding,
            currency=invoice.currency,
            days_overdue=invoice.days_overdue_on(today),
        )
        for invoice in invoices
        if invoice.status_on(today) == Invoice.Status.OVERDUE
    ]


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    return None


def lead_rule_decisions(
    *, actor: Actor, lead: Lead, today: date | None = None
) -> dict[str, Decision]:
    """Run the rules the lead's pipeline configures on the lead's data.

    The debt rule looks at the invoices of the lead's organization and of the operators
    it works for, under the lead's document number; the decision carries only the
    invoice numbers, amounts and days, not the customer.
    """
    lead = lead_get(actor=actor, lead_id=lead.pk)
    today = today or timezone.localdate()
    rules: dict[str, Any] = lead.pipeline.rules or {}
    data = lead.data
    decisions: dict[str, Decision] = {}
    if "riser" in rules:
        riser = rules["riser"]
        has_box = data.get("has_box")
        decisions["riser"] = riser_needed(
            has_box=has_box if isinstance(has_box, bool) else None,
            floors=_int_or_none(data.get("floors")),
            apartments=_int_or_none(data.get("apartments")),
            max_floors=riser["max_floors"],
            max_apartments=riser["max_apartments"],
            stage=riser["stage"],
        )
    if "debt" in rules:
        organization_ids = [
            lead.organization_id,
            *lead.organization.operators.values_list("pk", flat=True),
        ]
        decisions["debt"] = debt_check(
            document=lead.document,
            overdue=overdue_invoices_for_document(
                organization_ids=organization_ids, document=lead.document, today=today
            ),
            stage=rules["debt"]["stage"],
        )
    if "carrier_offer" in rules:
        offer = rules["carrier_offer"]
        wants_new_line = data.get("wants_new_line")
        carrier = data.get("current_carrier")
        decisions["carrier_offer"] = carrier_offer(
            carrier=carrier,
            carrier_label=choice_label(lead.pipeline.tab_fields().get("current_carrier"), carrier),
            line_type=data.get("line_type"),
            wants_new_line=wants_new_line if isinstance(wants_new_line, bool) else None,
            by_carrier=offer.get("by_carrier", {}),
            prepaid=offer.get("prepaid"),
            new_line=offer.get("new_line"),
            unknown=offer.get("unknown"),
        )
    if "permanence" in rules:
        permanence = rules["permanence"]
        decisions["permanence"] = permanence_check(
            days_with_carrier=_int_or_none(data.get("days_with_carrier")),
            min_days=permanence["min_days"],
            stage=permanence["stage"],
        )
    return decisions


def agents_of(*, actor: Actor) -> list[tuple[int, str]]:
    """(user id, name) of the members of the actor's organization, for the agent filter."""
    from telcodesk.accounts.models import Membership

    actor.require(VIEW_PERMISSION)
    memberships = (
        Membership.objects.filter(organization=actor.organization)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    return [(m.user.pk, m.user.get_full_name() or m.user.get_username()) for m in memberships]


def teams_of(*, actor: Actor) -> list[tuple[int, str]]:
    """(team id, name) of the actor's organization, for the team filter."""
    from telcodesk.accounts.models import Team

    actor.require(VIEW_PERMISSION)
    return list(
        Team.objects.filter(organization=actor.organization)
        .order_by("name")
        .values_list("pk", "name")
    )


def leads_filtered(
    *, actor: Actor, pipeline: Pipeline, filters: LeadFilters, stage_id: int | None = None
) -> QuerySet[Lead]:
    """The pipeline's leads with the board's filters, newest first (the list view)."""
    leads = leads_visible(actor=actor).filter(pipeline=pipeline)
    if stage_id is not None:
        leads = leads.filter(stage_id=stage_id)
    return (
        _filtered(leads, filters)
        .select_related("stage", "owner", "team", "loss_reason")
        .order_by("-created_at", "-id")
    )


def stages_to_move_to(*, pipeline: Pipeline) -> list[Stage]:
    """The stages an agent may drag a lead into: open, active, not system, in rank order."""
    return list(
        Stage.objects.filter(
            pipeline=pipeline, kind=StageKind.OPEN, is_active=True, is_system=False
        ).order_by("position", "id")
    )


# --- the lead's timeline and notifications ------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "stage", "automation" or "task"
    item: Any


def lead_tasks_open(*, actor: Actor, lead: Lead) -> list[LeadTask]:
    """The lead's tasks not done yet, the most urgent first."""
    _check_lead(actor, lead)
    return list(
        LeadTask.objects.filter(lead=lead, done_at__isnull=True)
        .select_related("assigned_to")
        .order_by("due_at", "id")
    )


def lead_timeline(*, actor: Actor, lead: Lead) -> list[TimelineEntry]:
    """Stage history, automation runs and tasks of ``lead``, newest first."""
    from telcodesk.pipelines.models import AutomationRun, LeadStageChange, LeadTask

    _check_lead(actor, lead)
    entries = [
        TimelineEntry(change.at, "stage", change)
        for change in LeadStageChange.objects.filter(lead=lead).select_related(
            "from_stage", "to_stage", "actor", "loss_reason"
        )
    ]
    entries += [
        TimelineEntry(run.at, "automation", run) for run in AutomationRun.objects.filter(lead=lead)
    ]
    entries += [
        TimelineEntry(task.created_at, "task", task)
        for task in LeadTask.objects.filter(lead=lead).select_related("assigned_to")
    ]
    order = {"stage": 0, "automation": 1, "task": 2}
    entries.sort(key=lambda e: (e.at, order[e.kind], e.item.pk), reverse=True)
    return entries


def notifications_unread(*, actor: Actor, lead: Lead | None = None) -> QuerySet[Any]:
    """The actor's unread lead notifications (of one lead, if given), newest first."""
    from telcodesk.pipelines.models import LeadNotification

    if actor.user is None:
        return LeadNotification.objects.none()
    rows = LeadNotification.objects.filter(
        organization=actor.organization, user=actor.user, read_at__isnull=True
    ).select_related("lead")
    if lead is not None:
        rows = rows.filter(lead=lead)
    return rows.order_by("-created_at", "-id")


def lead_recent_messages(*, actor: Actor, lead: Lead, limit: int = 8) -> list[Any]:
    """The last ``limit`` messages of the lead's conversation, oldest first (lead page).

    Empty for a role that may not read conversations ("conversation.view").
    """
    from telcodesk.messaging.models import Message

    _check_lead(actor, lead)
    if lead.conversation_id is None or not actor.can("conversation.view"):
        return []
    recent = list(
        Message.objects.filter(
            conversation_id=lead.conversation_id, organization_id=lead.organization_id
        ).order_by("-created_at", "-id")[:limit]
    )
    return recent[::-1]
