"""The tickets API's request and answer shapes, and how a ticket becomes an answer.

Used by ``tickets.api`` (the endpoints); kept apart so each file has one job.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from ninja import Field, Schema

from telcodesk.accounts.models import User
from telcodesk.core.api_schemas import InputSchema
from telcodesk.tickets import selectors
from telcodesk.tickets.models import (
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCharge,
    TicketComment,
    TicketStatusChange,
)
from telcodesk.tickets.rules import allowed_next

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# --- input ------------------------------------------------------------------------------------


class TicketIn(InputSchema):
    customer_id: int = Field(..., ge=1)
    subscription_id: int | None = Field(None, ge=1, description="one of the customer's services")
    category: str = Field(
        ..., max_length=16, description="technical, administrative, billing, commercial, other"
    )
    subcategory_id: int | None = Field(None, ge=1, description="one of the pack's, same category")
    subject: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    customer_words: str = Field("", max_length=5_000, description="as the customer said it")
    priority: str = Field("normal", max_length=8, description="low, normal, high, urgent")
    channel: str = Field("call", max_length=16, description="call, whatsapp, email, web")
    conversation_id: int | None = Field(None, ge=1, description="where replies go first")
    answers: dict[str, Any] = Field(default_factory=dict, description="field name: value")
    take: bool = Field(True, description="the key's user works the ticket (API keys: no one)")


class TicketPatchIn(InputSchema):
    subject: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    customer_words: str | None = Field(None, max_length=5_000)
    priority: str | None = Field(None, max_length=8)
    category: str | None = Field(None, max_length=16)
    subcategory_id: int | None = Field(None, ge=1, description="null clears it")
    subscription_id: int | None = Field(None, ge=1, description="null clears it")


class StatusIn(InputSchema):
    status: str = Field(..., max_length=16)
    note: str = Field("", max_length=5_000, description="required when reopening")


class AssignIn(InputSchema):
    user_id: int | None = Field(None, description="a member of the organization; null: nobody")
    team_id: int | None = Field(None, description="default: the user's team")


class ReplyIn(InputSchema):
    body: str = Field("", max_length=4096)
    template_id: int | None = Field(
        None, ge=1, description="an approved WhatsApp template (outside the 24-hour window)"
    )
    params: list[str] | None = Field(None, description="the template's parameters, if not its own")


class NoteIn(InputSchema):
    body: str = Field(..., min_length=1, max_length=10_000)


class AnswersIn(InputSchema):
    answers: dict[str, Any] = Field(..., description="field name: value; null or '' clears")


class ChargeIn(InputSchema):
    kind: str = Field(..., max_length=16, description="internal_damage or manipulation")
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    reason: str = Field(..., min_length=1, max_length=2_000)


class DecisionIn(InputSchema):
    note: str = Field("", max_length=2_000)


class TicketQuery(Schema):
    scope: str = Field("", description="mine, team, unassigned, all (supervisors); default mine")
    status: str = Field("", description="one status, 'any', or empty for the open ones")
    category: str = ""
    priority: str = ""
    customer_id: int | None = Field(None, ge=1)
    q: str = Field("", max_length=100, description="a ticket number or words of the subject")
    sla: str = Field(
        "",
        description="breaching_soon (past the warning point, not yet due) or breached; "
        "empty for any",
    )
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


# --- output -----------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str


class TicketSummaryOut(Schema):
    id: int
    number: int
    display_number: str = Field(description="what the customer is told, e.g. T-000123")
    customer_id: int
    customer_name: str
    subscription_id: int | None
    category: str
    subcategory: str | None = Field(description="the subcategory's key")
    subject: str
    priority: str
    status: str
    assigned_user: PersonOut | None
    assigned_team_id: int | None
    channel: str
    created_at: datetime
    status_changed_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None = Field(description="the nearest due moment of a running clock")
    sla_warn_at: datetime | None = Field(description="the nearest warning point")
    sla_breached_at: datetime | None = Field(description="when an SLA clock first breached")
    outage_id: int | None = Field(description="the network outage the ticket is linked to")
    visit_needed: bool = Field(description="false when a known outage explains the problem")
    visit_skip_reason: str = Field(description="why no visit is needed: outage, or empty")


class SlaClockOut(Schema):
    metric: str = Field(description="first_response or resolution")
    state: str = Field(description="running, paused, met or breached")
    policy: str | None = Field(description="the policy's key")
    budget_seconds: int = Field(description="the target, in business seconds")
    remaining_seconds: int | None = Field(
        description="business seconds left now (negative past due); null once met or breached"
    )
    started_at: datetime
    due_at: datetime | None = Field(description="null while paused")
    warn_at: datetime | None
    paused_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    met_at: datetime | None


class SlaEventOut(Schema):
    kind: str = Field(description="warned, breached or escalated")
    metric: str
    user: PersonOut | None = Field(description="the person told")
    team_id: int | None
    at: datetime


class OutageBriefOut(Schema):
    id: int
    scope: str
    target: str
    description: str
    starts_at: datetime
    estimated_end_at: datetime | None
    ended_at: datetime | None


class DiagnosticBriefOut(Schema):
    id: int
    subscription_id: int
    kind: str
    status: str
    verdict: str
    raw: dict[str, Any]
    recommendation: str
    started_at: datetime


class SlaPolicyOut(Schema):
    key: str
    name: str
    category: str
    subcategory: str | None = Field(description="the subcategory's key; null: any")
    priority: str = Field(description="empty: any")
    first_response_hours: Decimal | None
    resolution_hours: Decimal | None
    warn_before_percent: int | None
    warn_before_minutes: int | None
    escalate_to_team: str = Field(description="a team's name; empty: the supervisors")
    calendar: str | None = Field(description="the calendar's name; null: the default one")


class CommentOut(Schema):
    id: int
    is_public: bool
    body: str
    author: str
    created_at: datetime
    send_status: str = Field(description="public replies: sent or refused; notes: empty")
    refusal_reason: str
    refusal_message: str
    sent_via: str = Field(description="whatsapp or email")
    message_id: int | None
    message_status: str = Field(description="the outbox's status: queued, sent, delivered, ...")
    sent_at: datetime | None


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    actor: str
    note: str
    at: datetime


class ChargeOut(Schema):
    id: int
    kind: str
    amount: str
    currency: str
    reason: str
    status: str
    proposed_by: str
    decided_by: str
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    created_at: datetime
    download_url: str = Field(description="the console's download, for signed-in people")


class TicketOut(TicketSummaryOut):
    description: str
    customer_words: str
    answers: dict[str, Any]
    conversation_id: int | None
    allowed_statuses: list[str] = Field(description="the statuses it may move to now")
    comments: list[CommentOut]
    history: list[StatusChangeOut]
    charges: list[ChargeOut]
    attachments: list[AttachmentOut]
    sla_clocks: list[SlaClockOut]
    sla_events: list[SlaEventOut]
    outage: OutageBriefOut | None
    diagnostic_runs: list[DiagnosticBriefOut]


class TicketPage(Schema):
    items: list[TicketSummaryOut]
    count: int
    page: int
    pages: int


class ChoiceOut(Schema):
    value: str
    label: str


class AnswerFieldOut(Schema):
    key: str
    label: str
    type: str = Field(description="text, choice, yes_no, number or date")
    choices: list[ChoiceOut]


# --- answers ----------------------------------------------------------------------------------


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def _name(user: User | None, label: str = "") -> str:
    if user is None:
        return label
    return user.get_full_name() or user.get_username()


def ticket_summary_out(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "display_number": ticket.display_number,
        "customer_id": ticket.customer_id,
        "customer_name": ticket.customer.display_name,
        "subscription_id": ticket.subscription_id,
        "category": ticket.category,
        "subcategory": ticket.subcategory.key if ticket.subcategory else None,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "status": ticket.status,
        "assigned_user": _person(ticket.assigned_user),
        "assigned_team_id": ticket.assigned_team_id,
        "channel": ticket.channel,
        "created_at": ticket.created_at,
        "status_changed_at": ticket.status_changed_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "sla_due_at": ticket.sla_due_at,
        "sla_warn_at": ticket.sla_warn_at,
        "sla_breached_at": ticket.sla_breached_at,
        "outage_id": ticket.outage_id,
        "visit_needed": ticket.visit_needed,
        "visit_skip_reason": ticket.visit_skip_reason,
    }


def _clock_out(view: selectors.ClockView) -> dict[str, Any]:
    clock = view.clock
    return {
        "metric": clock.metric,
        "state": clock.state,
        "policy": clock.policy.key if clock.policy else None,
        "budget_seconds": int(clock.budget.total_seconds()),
        "remaining_seconds": (
            int(view.remaining.total_seconds()) if view.remaining is not None else None
        ),
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "paused_at": clock.paused_at,
        "warned_at": clock.warned_at,
        "breached_at": clock.breached_at,
        "met_at": clock.met_at,
    }


def _sla_event_out(event: Any) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "metric": event.clock.metric,
        "user": _person(event.user),
        "team_id": event.team_id,
        "at": event.at,
    }


def _outage_out(ticket: Ticket) -> dict[str, Any] | None:
    outage = ticket.outage if ticket.outage_id is not None else None
    if outage is None:
        return None
    return {
        "id": outage.pk,
        "scope": outage.scope,
        "target": outage.scope_label,
        "description": outage.description,
        "starts_at": outage.starts_at,
        "estimated_end_at": outage.estimated_end_at,
        "ended_at": outage.ended_at,
    }


def _diagnostic_out(run: Any) -> dict[str, Any]:
    return {
        "id": run.pk,
        "subscription_id": run.subscription_id,
        "kind": run.kind,
        "status": run.status,
        "verdict": run.verdict,
        "raw": run.raw or {},
        "recommendation": str(run.recommendation_text),
        "started_at": run.started_at,
    }


def sla_policy_out(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "key": policy.key,
        "name": policy.name,
        "category": policy.category,
        "subcategory": policy.subcategory.key if policy.subcategory else None,
        "priority": policy.priority,
        "first_response_hours": policy.first_response_hours,
        "resolution_hours": policy.resolution_hours,
        "warn_before_percent": policy.warn_before_percent,
        "warn_before_minutes": policy.warn_before_minutes,
        "escalate_to_team": policy.escalate_to_team,
        "calendar": policy.calendar.name if policy.calendar else None,
    }


def comment_out(comment: TicketComment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "is_public": comment.is_public,
        "body": comment.body,
        "author": _name(comment.author, comment.author_label),
        "created_at": comment.created_at,
        "send_status": comment.send_status,
        "refusal_reason": comment.refusal_reason,
        "refusal_message": comment.refusal_message,
        "sent_via": comment.sent_via,
        "message_id": comment.message_id,
        "message_status": comment.message.status if comment.message else "",
        "sent_at": comment.sent_at,
    }


def _history_out(change: TicketStatusChange) -> dict[str, Any]:
    return {
        "from_status": change.from_status,
        "to_status": change.to_status,
        "actor": _name(change.actor, change.actor_label),
        "note": change.note,
        "at": change.at,
    }


def charge_out(charge: TicketCharge) -> dict[str, Any]:
    return {
        "id": charge.pk,
        "kind": charge.kind,
        "amount": str(charge.amount),
        "currency": charge.currency,
        "reason": charge.reason,
        "status": charge.status,
        "proposed_by": _name(charge.proposed_by),
        "decided_by": _name(charge.decided_by),
        "decided_at": charge.decided_at,
        "decision_note": charge.decision_note,
        "created_at": charge.created_at,
    }


def _attachment_out(attachment: TicketAttachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "created_at": attachment.created_at,
        "download_url": reverse("tickets:attachment", args=[attachment.ticket_id, attachment.pk]),
    }


def ticket_out(ticket: Ticket) -> dict[str, Any]:
    return {
        **ticket_summary_out(ticket),
        "description": ticket.description,
        "customer_words": ticket.customer_words,
        "answers": ticket.answers,
        "conversation_id": ticket.conversation_id,
        "allowed_statuses": list(allowed_next(ticket.status)),
        "comments": [comment_out(c) for c in selectors.ticket_comments(ticket=ticket)],
        "history": [_history_out(h) for h in selectors.ticket_history(ticket=ticket)],
        "charges": [charge_out(c) for c in selectors.ticket_charges(ticket=ticket)],
        "attachments": [_attachment_out(a) for a in selectors.ticket_attachments(ticket=ticket)],
        "sla_clocks": [_clock_out(v) for v in selectors.ticket_sla_clocks(ticket=ticket)],
        "sla_events": [_sla_event_out(e) for e in selectors.ticket_sla_events(ticket=ticket)],
        "outage": _outage_out(ticket),
        "diagnostic_runs": [
            _diagnostic_out(run) for run in selectors.ticket_diagnostic_runs(ticket=ticket)
        ],
    }
