"""What an inbound WhatsApp message does to the leads (the Kommo document's automations).

``lead_inbound_apply`` is registered with ``messaging.services.register_inbound_handler``
in ``PipelinesConfig.ready`` and runs inline, inside the transaction that stores a new
conversational inbound message, so the lead, the move and the timer changes commit or
roll back with the message (and a redelivered webhook, which stores nothing, does
nothing here either). For an organization with pipelines:

1. The open lead of the sender's phone (E.164; Argentine numbers with or without the
   mobile 9 match) in the organization is found; without one, a lead is created in the
   organization's entry pipeline (``entry: true`` in the pack; FIBRA for the Claro
   reseller) at its first open non-system stage, source "channel", owned by the
   conversation's assigned agent (or nobody). No entry pipeline: no new lead.
2. The lead's ``last_inbound_at`` is bumped and the lead is linked to the conversation.
3. A reply from a customer whose lead already existed cancels its "no reply" timers
   ("Aguardando datos") and, when the lead sits in an offer stage (``sends_offer``),
   moves it automatically to the pipeline's "Respondió oferta" stage
   (queue_role ``replied_offer``), recorded as an automatic stage change.
"""

from __future__ import annotations

import logging

from django.db.models import Q

from telcodesk.accounts.roles import Role
from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.phones import phone_query_forms
from telcodesk.messaging.models import Conversation, Message
from telcodesk.pipelines.models import Lead, LeadSource, Pipeline, QueueRole, Stage, StageKind
from telcodesk.pipelines.services import lead_create, lead_move_automatically
from telcodesk.pipelines.timers import stage_timers_cancel

logger = logging.getLogger("telcodesk.pipelines")

# Stored in English (the history shows what the system did, not a translated label).
OFFER_REPLY_REASON = "The customer answered the offer"


def _open_lead(*, organization_id: int, phones: list[str]) -> Lead | None:
    return (
        Lead.objects.select_related("stage", "pipeline", "organization")
        .filter(
            organization_id=organization_id,
            phone__in=phones,
            won_at__isnull=True,
            lost_at__isnull=True,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _entry_stage(pipeline: Pipeline) -> Stage | None:
    return (
        Stage.objects.filter(
            pipeline=pipeline, kind=StageKind.OPEN, is_active=True, is_system=False
        )
        .order_by("position", "id")
        .first()
    )


def _replied_offer_stage(lead: Lead) -> Stage | None:
    return (
        Stage.objects.filter(
            pipeline_id=lead.pipeline_id,
            queue_role=QueueRole.REPLIED_OFFER,
            kind=StageKind.OPEN,
            is_active=True,
        )
        .order_by("position", "id")
        .first()
    )


def _lead_create(conversation: Conversation, phone: str) -> Lead | None:
    organization = conversation.organization
    pipeline = (
        Pipeline.objects.filter(organization=organization, is_active=True, is_entry=True)
        .order_by("position", "id")
        .first()
    )
    if pipeline is None:
        return None
    stage = _entry_stage(pipeline)
    if stage is None:
        return None
    owner = conversation.assigned_user
    if owner is not None and not owner.memberships.filter(organization=organization).exists():
        owner = None
    actor = Actor(organization=organization, role=Role.ADMIN, label="whatsapp")
    result = lead_create(
        actor=actor,
        pipeline=pipeline,
        name=conversation.display_name,
        phone=phone,
        source=LeadSource.CHANNEL,
        owner=owner,
        customer=conversation.customer,
        stage=stage,
        source_ref=f"channel:{conversation.channel_id}",
    )
    return result.lead if result.created else None


def lead_inbound_apply(message: Message, conversation: Conversation) -> Lead | None:
    """Apply a new inbound message to the sender's lead; returns the lead, if any."""
    organization_id = conversation.organization_id
    phone = conversation.phone_e164
    if not phone:
        return None
    if not Pipeline.objects.filter(organization_id=organization_id, is_active=True).exists():
        return None
    region = conversation.channel.organization.country or "US"
    phones = phone_query_forms(phone, region=region) or [phone]
    lead = _open_lead(organization_id=organization_id, phones=phones)
    created = False
    if lead is None:
        lead = _lead_create(conversation, phone)
        if lead is None:
            return None
        created = True
        lead = Lead.objects.select_related("stage", "pipeline", "organization").get(pk=lead.pk)
    at = message.sent_at or message.created_at
    Lead.objects.filter(pk=lead.pk).filter(
        Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=at)
    ).update(last_inbound_at=at)
    Lead.objects.filter(pk=lead.pk, conversation__isnull=True).update(conversation=conversation)
    if created:
        return lead
    stage_timers_cancel(lead=lead)
    if lead.stage.sends_offer:
        target = _replied_offer_stage(lead)
        if target is not None:
            try:
                lead = lead_move_automatically(
                    lead=lead, to_stage=target, note=OFFER_REPLY_REASON, now=at
                )
            except ValidationFailed as exc:
                # A rule refused the move (e.g. the greeting is still missing): keep the
                # message and the lead as they are.
                logger.info("offer reply not applied to lead %s: %s", lead.pk, exc)
    return lead
