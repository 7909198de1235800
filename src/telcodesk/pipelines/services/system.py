"""The system's writes to a lead: no actor, for automations, bots, timers and the
online store's intake.

They do not check a permission: the caller is the system itself (an automation of the
pack, a timer, an inbound message, an integration whose own permission was checked,
e.g. "lead.intake" for the store). They still take the lead's organization from the
lead and keep every rule that is not about who acts (the greeting, the pipeline).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization, User
from telcodesk.core.errors import ValidationFailed
from telcodesk.customers.models import Customer
from telcodesk.pipelines.models import Lead, LossReason, Pipeline, Stage, StageKind
from telcodesk.pipelines.rules import stage_transition
from telcodesk.pipelines.services.creation import (
    CENTS,
    customer_check_of,
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
from telcodesk.pipelines.tabs import tab_data_clean


def lead_create_automatically(
    *,
    organization: Organization,
    pipeline: Pipeline,
    name: str,
    phone: str,
    source: str,
    document: str = "",
    email: str = "",
    owner: User | None = None,
    customer: Customer | None = None,
    data: dict[str, Any] | None = None,
    stage: Stage | None = None,
    source_ref: str = "",
    value: Decimal | None = None,
    now: datetime | None = None,
) -> LeadCreateResult:
    """Create a lead for the system (a first inbound message, an online store click).

    The same checks and duplicate rule as ``lead_create`` ("hecha desde otro agente":
    the existing lead comes back as ``duplicate_of`` and nothing is written), without a
    permission; a system stage ("Links de pago") may be the start stage. ``customer``
    must be one the organization sees and ``owner`` one of its members. The entry in
    the stage history is ``automatic``, by nobody.
    """
    customer_check_of(organization, customer)
    return lead_insert(
        organization=organization,
        user=None,
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
        system_stage_allowed=True,
    )


def lead_update_automatically(
    *,
    lead: Lead,
    data: dict[str, Any] | None = None,
    value: Decimal | None = None,
    email: str = "",
    customer: Customer | None = None,
) -> Lead:
    """Update what an integration knows of an existing lead (the store's new order).

    ``data`` is merged into the tabs, each value checked (``lead_update_data``'s rules);
    ``value`` replaces the value; a non-empty ``email`` replaces the lead's e-mail; a
    ``customer`` is linked only when the lead has none (an agent's link is kept).
    Nothing is written when nothing changes; a bad value refuses everything.
    """
    with transaction.atomic():
        locked = lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)
        fields: list[str] = []
        if data:
            clean = tab_data_clean(locked.pipeline.tab_fields(), data, locked.data)
            if clean != locked.data:
                locked.data = clean
                fields.append("data")
        if value is not None:
            if not value.is_finite() or value < 0:
                message = _("The value of a lead is an amount of zero or more.")
                raise ValidationFailed(message, details={"value": [message]})
            if value.quantize(CENTS) != locked.value:
                locked.value = value.quantize(CENTS)
                fields.append("value")
        if email and email_clean(email) != locked.email:
            locked.email = email_clean(email)
            fields.append("email")
        if customer is not None and locked.customer_id is None:
            customer_check_of(locked.organization, customer)
            locked.customer = customer
            fields.append("customer")
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
    return locked


def lead_close_automatically(*, lead: Lead, note: str, now: datetime | None = None) -> Lead:
    """Close an open lead as lost with the pipeline's system reason ("Razón no definida").

    For automations (e.g. a lead abandoned for days). The lead is flagged until an agent
    replaces the reason with lead_lose. Idempotent: a closed lead is left as it is.
    """
    with transaction.atomic():
        locked = lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)
        if not locked.is_open:
            return locked
        reason = LossReason.objects.filter(pipeline=locked.pipeline, is_system=True).first()
        if reason is None:
            raise ValidationFailed(
                _(
                    "The pipeline %(pipeline)s has no system loss reason; mark one with "
                    "is_system in its pack."
                )
                % {"pipeline": locked.pipeline.name}
            )
        target = closing_stage(locked.pipeline, StageKind.LOST)
        at = moment(now)
        locked.loss_reason = reason
        locked.lost_at = at
        stage_change_record(
            lead=locked,
            to_stage=target,
            actor=None,
            at=at,
            reason=note.strip(),
            automatic=True,
            loss_reason=reason,
            extra_fields=("loss_reason", "lost_at"),
        )
    return locked


def lead_move_automatically(
    *, lead: Lead, to_stage: Stage, note: str, now: datetime | None = None
) -> Lead:
    """Move an open lead to an open stage of its pipeline, system stages included.

    For bots and automations ("Respondió oferta" when the customer answers an offer,
    "Links de pago" from the online store). The greeting requirement still holds.
    """
    with transaction.atomic():
        locked = lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)
        target = Stage.objects.get(pk=to_stage.pk)
        if not locked.is_open:
            message = _("The lead is closed; reopen it before moving it.")
            raise ValidationFailed(message, details={"stage": [message]})
        decision = stage_transition(
            current=stage_facts(locked.stage),
            target=stage_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=False,
        )
        if not decision.allowed:
            raise refusal(decision)
        stage_change_record(
            lead=locked, to_stage=target, actor=None, at=moment(now), reason=note, automatic=True
        )
    return locked


def lead_greeting_record(*, lead: Lead, at: datetime | None = None) -> Lead:
    """Note that the greeting went out (the messaging app calls this); the first one counts."""
    with transaction.atomic():
        locked = lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)
        if locked.greeting_sent_at is None:
            locked.greeting_sent_at = moment(at)
            locked.save(update_fields=["greeting_sent_at", "updated_at"])
    return locked
