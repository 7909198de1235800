"""The agents' writes to a lead: create, move, win, lose, edit its tabs and contact.

Each takes ``actor`` first (keyword-only) and checks, in this order: the permission
("lead.work"), the organization (a lead of another organization is NotFound), then the
business rule (pipelines.rules), refusing with ValidationFailed whose message says why
and what to do. Each change is one transaction, holds a row lock on the lead (SELECT
... FOR UPDATE), records a LeadStageChange and, when the lead is linked to a customer,
a timeline entry.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from telcodesk.accounts.models import User
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.selectors import customers_visible
from telcodesk.pipelines.models import Lead, LossReason, Pipeline, Stage, StageKind
from telcodesk.pipelines.rules import stage_transition
from telcodesk.pipelines.services.creation import (
    CENTS,
    compact_document,
    email_clean,
    lead_insert,
)
from telcodesk.pipelines.services.duplicates import LeadCreateResult
from telcodesk.pipelines.services.history import (
    closing_stage,
    moment,
    refusal,
    stage_change_record,
    stage_facts,
)
from telcodesk.pipelines.services.locks import lead_locked
from telcodesk.pipelines.tabs import missing_required, tab_data_clean

WORK_PERMISSION = "lead.work"
# Give a lead (or close a task) of another agent: supervisors.
ASSIGN_PERMISSION = "lead.assign"


def _lead_for_actor(*, actor: Actor, lead: Lead) -> Lead:
    actor.require(WORK_PERMISSION)
    return lead_locked(organization_id=actor.organization.pk, lead_id=lead.pk)


def _check_customer(actor: Actor, customer: Customer | None) -> None:
    if customer is not None and not customers_visible(actor=actor).filter(pk=customer.pk).exists():
        raise NotFound(_("No such customer. Search again by name, phone or document."))


# --- create -------------------------------------------------------------------------------


def lead_create(
    *,
    actor: Actor,
    pipeline: Pipeline,
    name: str,
    phone: str,
    document: str = "",
    email: str = "",
    source: str,
    owner: User | None = None,
    customer: Customer | None = None,
    data: dict[str, Any] | None = None,
    stage: Stage | None = None,
    source_ref: str = "",
    value: Decimal | None = None,
    now: datetime | None = None,
) -> LeadCreateResult:
    """Create a lead in ``pipeline`` (its first open stage unless ``stage``).

    A phone that already has an open lead, or a lead won in the last 30 days (a sale
    in process), in the same pipeline is not given a second lead: the result carries
    the existing lead as ``duplicate_of`` (and ``lead``) with its owner, and
    ``duplicate_message`` says who works it ("hecha desde otro agente"). Nothing is
    written in that case. A system stage (e.g. the store's payment links) is never the
    start stage here: only the system puts leads there (lead_create_automatically).
    """
    actor.require(WORK_PERMISSION)
    if pipeline.organization_id != actor.organization.pk:
        raise NotFound(_("No such pipeline. Choose one of your organization's pipelines."))
    _check_customer(actor, customer)
    return lead_insert(
        organization=actor.organization,
        user=actor.user,
        pipeline=pipeline,
        name=name,
        phone=phone,
        document=document,
        email=email,
        source=source,
        owner=owner,
        customer=customer,
        data=data,
        stage=stage,
        source_ref=source_ref,
        value=value,
        now=now,
        system_stage_allowed=False,
    )


# --- move, win, lose ----------------------------------------------------------------------


def _check_target(actor: Actor, lead: Lead, to_stage: Stage) -> None:
    if (
        to_stage.organization_id != actor.organization.pk
        or to_stage.pipeline_id != lead.pipeline_id
    ):
        message = _(
            'The stage "%(stage)s" is not a stage of %(pipeline)s; a lead only moves between '
            "the stages of its own pipeline. Create a lead in the other pipeline instead."
        ) % {"stage": to_stage.name, "pipeline": lead.pipeline.name}
        raise ValidationFailed(message, details={"stage": [message]})


def lead_move(
    *, actor: Actor, lead: Lead, to_stage: Stage, reason: str = "", now: datetime | None = None
) -> Lead:
    """Move ``lead`` to the open stage ``to_stage`` of its pipeline, by hand.

    Refused: a stage of another pipeline or organization; a won or lost stage (use
    lead_win / lead_lose); into or out of a system stage; a stage that requires the
    greeting before ``greeting_sent_at`` is set; a won lead. Moving a lost lead to an
    open stage reopens it (its loss reason is cleared).
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        _check_target(actor, locked, to_stage)
        target = Stage.objects.get(pk=to_stage.pk)
        decision = stage_transition(
            current=stage_facts(locked.stage),
            target=stage_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=True,
        )
        if not decision.allowed:
            raise refusal(decision)
        extra: tuple[str, ...] = ()
        if locked.lost_at is not None:
            locked.lost_at = None
            locked.loss_reason = None
            extra = ("lost_at", "loss_reason")
        stage_change_record(
            lead=locked,
            to_stage=target,
            actor=actor,
            at=moment(now),
            reason=reason.strip(),
            automatic=False,
            extra_fields=extra,
        )
    return locked


def lead_win(*, actor: Actor, lead: Lead, now: datetime | None = None) -> Lead:
    """Close ``lead`` as won, in its pipeline's won stage.

    Its required tab fields must be filled; a lost lead must be reopened first.
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        missing = missing_required(locked.pipeline.tab_fields(), locked.data)
        if missing:
            message = _("Fill in %(fields)s before winning the lead.") % {
                "fields": ", ".join(missing)
            }
            raise ValidationFailed(message, details={"data": [message]})
        target = closing_stage(locked.pipeline, StageKind.WON)
        if locked.lost_at is not None:
            message = _("This lead is lost; reopen it in an open stage before winning it.")
            raise ValidationFailed(message, details={"stage": [message]})
        decision = stage_transition(
            current=stage_facts(locked.stage),
            target=stage_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=True,
            closing=True,
        )
        if not decision.allowed:
            raise refusal(decision)
        at = moment(now)
        locked.won_at = at
        stage_change_record(
            lead=locked,
            to_stage=target,
            actor=actor,
            at=at,
            reason="",
            automatic=False,
            extra_fields=("won_at",),
        )
    return locked


def lead_lose(
    *,
    actor: Actor,
    lead: Lead,
    reason: LossReason | None,
    note: str = "",
    now: datetime | None = None,
) -> Lead:
    """Close ``lead`` as lost with ``reason`` (required), in its pipeline's lost stage.

    The reason must be an active reason of the lead's pipeline and not the system one
    ("Razón no definida"). On a lead already lost this replaces its reason: that is how
    an agent clears a lead the system closed with the undefined reason.
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        if reason is None:
            message = _(
                "Choose why the lead is lost; each reason shows how to counter it before "
                "you give up."
            )
            raise ValidationFailed(message, details={"reason": [message]})
        if (
            reason.pipeline_id != locked.pipeline_id
            or reason.organization_id != actor.organization.pk
        ):
            message = _(
                'The loss reason "%(reason)s" is not a reason of %(pipeline)s; choose one of '
                "its own reasons."
            ) % {"reason": reason.name, "pipeline": locked.pipeline.name}
            raise ValidationFailed(message, details={"reason": [message]})
        reason = LossReason.objects.get(pk=reason.pk)
        if reason.is_system:
            message = _(
                '"%(reason)s" is set only by the system when it closes a lead; choose the '
                "real reason."
            ) % {"reason": reason.name}
            raise ValidationFailed(message, details={"reason": [message]})
        if not reason.is_active:
            message = _('The loss reason "%(reason)s" is no longer in use; choose another.') % {
                "reason": reason.name
            }
            raise ValidationFailed(message, details={"reason": [message]})
        at = moment(now)
        if locked.lost_at is not None:
            if locked.loss_reason_id == reason.pk:
                return locked
            locked.loss_reason = reason
            stage_change_record(
                lead=locked,
                to_stage=locked.stage,
                actor=actor,
                at=at,
                reason=note.strip(),
                automatic=False,
                loss_reason=reason,
                extra_fields=("loss_reason",),
            )
            return locked
        target = closing_stage(locked.pipeline, StageKind.LOST)
        decision = stage_transition(
            current=stage_facts(locked.stage),
            target=stage_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=True,
            closing=True,
        )
        if not decision.allowed:
            raise refusal(decision)
        locked.loss_reason = reason
        locked.lost_at = at
        locked.proposed_loss_reason = None
        locked.proposed_at = None
        stage_change_record(
            lead=locked,
            to_stage=target,
            actor=actor,
            at=at,
            reason=note.strip(),
            automatic=False,
            loss_reason=reason,
            extra_fields=("loss_reason", "lost_at", "proposed_loss_reason", "proposed_at"),
        )
    return locked


def lead_update_data(*, actor: Actor, lead: Lead, data: dict[str, Any]) -> Lead:
    """Merge ``data`` into the lead's tabs, each value checked against its field."""
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        clean = tab_data_clean(locked.pipeline.tab_fields(), data, locked.data)
        if clean != locked.data:
            locked.data = clean
            locked.save(update_fields=["data", "updated_at"])
    return locked


def lead_contact_update(
    *,
    actor: Actor,
    lead: Lead,
    name: str | None = None,
    document: str | None = None,
    value: Decimal | None = None,
    email: str | None = None,
) -> Lead:
    """Correct the lead's contact name, document number, e-mail or value (None: unchanged;
    "" clears the e-mail).

    The phone is the lead's identity (duplicate detection, the conversation): a
    different phone is a different lead.
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        fields: list[str] = []
        if name is not None and name.strip() != locked.name:
            locked.name = name.strip()[:200]
            fields.append("name")
        if document is not None and compact_document(document) != locked.document:
            locked.document = compact_document(document)
            fields.append("document")
        if email is not None and email_clean(email) != locked.email:
            locked.email = email_clean(email)
            fields.append("email")
        if value is not None:
            if value < 0:
                message = _("The value cannot be negative.")
                raise ValidationFailed(message, details={"value": [message]})
            if value.quantize(CENTS) != locked.value:
                locked.value = value.quantize(CENTS)
                fields.append("value")
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
    return locked
