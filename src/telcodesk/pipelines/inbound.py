"""What an inbound WhatsApp message does to the leads (the Kommo document's automations).

``lead_inbound_apply`` is registered with ``messaging.services.register_inbound_handler``
in ``PipelinesConfig.ready`` and runs inline, inside the transaction that stores a new
conversational inbound message, so the lead, the move and the timer changes commit or
roll back with the message (and a redelivered webhook, which stores nothing, does
nothing here either). For an organization with pipelines:

1. The open lead of the sender's phone (E.164; Argentine numbers with or without the
   mobile 9 match) in the organization is found; without one, a lead is created by the
   system (``lead_create_automatically``) in the organization's entry pipeline
   (``entry: true`` in the pack; FIBRA for the Claro reseller) at its first open
   non-system stage, source "channel", owned by the
   conversation's assigned agent (or nobody). No entry pipeline: no new lead.
2. The lead's ``last_inbound_at`` is bumped and the lead is linked to the conversation.
3. A reply from a customer whose lead already existed cancels the lead's waits that a
   reply ends (``start_timer`` with ``cancel_on_reply``, e.g. "Aguardando datos"),
   resets its daily follow-up (count and proposed loss), and runs the pipeline's
   ``customer_replied`` automations (pipelines.automations): for the Claro reseller, a
   reply on an offer stage (``sends_offer``) moves the lead to "Respondió oferta"
   (the top of the owner's queue) and notifies the owner.
"""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from telcodesk.customers.phones import phone_query_forms
from telcodesk.messaging.models import Conversation, Message
from telcodesk.pipelines.automations import automations_after_reply, lead_waits_cancel
from telcodesk.pipelines.models import Lead, LeadSource, Pipeline, Stage, StageKind
from telcodesk.pipelines.services import lead_create_automatically, lead_lock

logger = logging.getLogger("telcodesk.pipelines")


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


def _closed_leads_waits_cancel(*, organization_id: int, phones: list[str]) -> None:
    """A reply also ends the waits of the phone's closed leads (e.g. "No realizó el pago")."""
    from telcodesk.automation.models import Timer
    from telcodesk.pipelines.automations import TARGET_TYPE, WAIT_REPLY_KIND

    closed = Lead.objects.filter(organization_id=organization_id, phone__in=phones).filter(
        Q(won_at__isnull=False) | Q(lost_at__isnull=False)
    )
    Timer.objects.filter(
        organization_id=organization_id,
        kind=WAIT_REPLY_KIND,
        target_type=TARGET_TYPE,
        target_id__in=closed.values("pk"),
        state=Timer.State.PENDING,
    ).update(state=Timer.State.CANCELLED, updated_at=timezone.now())


def _entry_stage(pipeline: Pipeline) -> Stage | None:
    return (
        Stage.objects.filter(
            pipeline=pipeline, kind=StageKind.OPEN, is_active=True, is_system=False
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
    result = lead_create_automatically(
        organization=organization,
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
    _closed_leads_waits_cancel(organization_id=organization_id, phones=phones)
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
    lead = lead_lock(lead=lead)
    lead_waits_cancel(lead=lead, replied=True)
    if lead.follow_up_count or lead.proposed_loss_reason_id:
        Lead.objects.filter(pk=lead.pk).update(
            follow_up_count=0,
            proposed_loss_reason=None,
            proposed_at=None,
            updated_at=timezone.now(),
        )
    # A move refused by a rule (e.g. the greeting still missing) is recorded as a failed
    # run on the lead; the message is kept either way.
    automations_after_reply(lead=lead, message=message, offer_stage=lead.stage.sends_offer, at=at)
    lead.refresh_from_db()
    return lead
