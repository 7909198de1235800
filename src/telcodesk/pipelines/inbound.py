"""What an inbound message does to the leads (the Kommo document's automations).

``lead_inbound_apply`` is registered with ``messaging.services.register_inbound_handler``
in ``PipelinesConfig.ready`` and runs inline, inside the transaction that stores a new
conversational inbound message (WhatsApp or e-mail), so the lead, the move and the
timer changes commit or roll back with the message (and a redelivered webhook, which
stores nothing, does nothing here either). For an organization with pipelines in use
(``selectors.organization_has_pipelines``, cached per process):

1. The sender's open lead in the organization is found:

   * WhatsApp (any conversation with a phone): by the phone (E.164; Argentine numbers
     with or without the mobile 9 match). Without one, a lead is created by the system
     (``lead_create_automatically``) in the organization's entry pipeline (``entry:
     true`` in the pack; FIBRA for the Claro reseller) at its first open non-system
     stage, source "channel", owned by the conversation's assigned agent (or nobody).
     No entry pipeline: no new lead.
   * E-mail (``channel.kind == "email"``): by the conversation's address, compared
     without regard to case with the lead's e-mail (``Lead.email``), the e-mail its
     agent typed in the tab (``data.email``, where the payment reminders go) and the
     e-mail contact points of the lead's linked customer. An unknown e-mail sender gets
     **no** lead: only WhatsApp creates leads on entry (an e-mail address is not enough
     to work a lead, whose contact is a phone); an agent creates it from the inbox.

   The newest open lead wins when several match (one per pipeline may).
2. The lead's ``last_inbound_at`` is bumped and the lead is linked to the conversation
   when it has none. A WhatsApp conversation also replaces a linked e-mail one: the
   lead's conversation is where its bots write, and they write on WhatsApp.
3. A reply cancels the waits a reply ends (``start_timer`` with ``cancel_on_reply``) of
   the sender's closed leads (the phone's, or the address's: "No realizó el pago" tries
   twice more by chat and e-mail), and, from a customer whose lead already existed,
   those of the open lead (e.g. "Aguardando datos"); it resets the lead's daily
   follow-up (count and proposed loss) and runs the pipeline's ``customer_replied``
   automations (pipelines.automations): for the Claro reseller, a reply on an offer
   stage (``sends_offer``) moves the lead to "Respondió oferta" (the top of the owner's
   queue) and notifies the owner. An e-mail reply does all of this like a WhatsApp one.
"""

from __future__ import annotations

import logging

from django.db.models import Q, QuerySet
from django.utils import timezone

from telcodesk.customers.models import ContactPoint
from telcodesk.customers.phones import phone_query_forms
from telcodesk.messaging.email_reading import email_address_normalize
from telcodesk.messaging.models import Channel, Conversation, Message
from telcodesk.pipelines.automations import automations_after_reply, lead_waits_cancel
from telcodesk.pipelines.models import Lead, LeadSource, Pipeline, Stage, StageKind
from telcodesk.pipelines.selectors import organization_has_pipelines
from telcodesk.pipelines.services import lead_create_automatically, lead_lock

logger = logging.getLogger("telcodesk.pipelines")


def _open(leads: QuerySet[Lead]) -> Lead | None:
    return (
        leads.select_related("stage", "pipeline", "organization")
        .filter(won_at__isnull=True, lost_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def _closed_leads_waits_cancel(*, organization_id: int, leads: QuerySet[Lead]) -> None:
    """A reply also ends the waits of the sender's closed leads ("No realizó el pago")."""
    from telcodesk.automation.models import Timer
    from telcodesk.pipelines.automations import TARGET_TYPE, WAIT_REPLY_KIND

    closed = leads.filter(Q(won_at__isnull=False) | Q(lost_at__isnull=False))
    Timer.objects.filter(
        organization_id=organization_id,
        kind=WAIT_REPLY_KIND,
        target_type=TARGET_TYPE,
        target_id__in=closed.values("pk"),
        state=Timer.State.PENDING,
    ).update(state=Timer.State.CANCELLED, updated_at=timezone.now())


def _leads_of_phones(*, organization_id: int, phones: list[str]) -> QuerySet[Lead]:
    return Lead.objects.filter(organization_id=organization_id, phone__in=phones)


def _leads_of_address(*, organization_id: int, address: str) -> QuerySet[Lead]:
    """The organization's leads reached at the e-mail ``address`` (lower case).

    Contact points keep e-mails in lower case: compared as they are, through their
    index. The tab field is text as the agent typed it, hence ``iexact`` there.
    """
    customers = ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, value=address).values(
        "customer_id"
    )
    return Lead.objects.filter(organization_id=organization_id).filter(
        Q(email__iexact=address) | Q(data__email__iexact=address) | Q(customer_id__in=customers)
    )


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
    """Apply a new inbound message to the sender's lead; returns the open lead, if any.

    WhatsApp finds the lead by phone and creates one for a new phone; e-mail finds it by
    address and never creates one (see the module's docstring).
    """
    organization_id = conversation.organization_id
    if not organization_has_pipelines(organization_id=organization_id):
        return None
    if conversation.channel.kind == Channel.Kind.EMAIL:
        address = email_address_normalize(conversation.external_address)
        if not address:
            return None
        leads = _leads_of_address(organization_id=organization_id, address=address)
        _closed_leads_waits_cancel(organization_id=organization_id, leads=leads)
        lead = _open(leads)
        if lead is None:
            return None
        return _reply_apply(lead, message, conversation, created=False)
    phone = conversation.phone_e164
    if not phone:
        return None
    region = conversation.channel.organization.country or "US"
    phones = phone_query_forms(phone, region=region) or [phone]
    leads = _leads_of_phones(organization_id=organization_id, phones=phones)
    _closed_leads_waits_cancel(organization_id=organization_id, leads=leads)
    lead = _open(leads)
    created = False
    if lead is None:
        lead = _lead_create(conversation, phone)
        if lead is None:
            return None
        created = True
        lead = Lead.objects.select_related("stage", "pipeline", "organization").get(pk=lead.pk)
    return _reply_apply(lead, message, conversation, created=created)


def _reply_apply(
    lead: Lead, message: Message, conversation: Conversation, *, created: bool
) -> Lead:
    """Steps 2 and 3 of the module's docstring, for a lead found (or just created)."""
    at = message.sent_at or message.created_at
    Lead.objects.filter(pk=lead.pk).filter(
        Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=at)
    ).update(last_inbound_at=at)
    unlinked = Q(conversation__isnull=True)
    if conversation.channel.kind != Channel.Kind.EMAIL:
        unlinked |= Q(conversation__channel__kind=Channel.Kind.EMAIL)
    Lead.objects.filter(unlinked, pk=lead.pk).update(conversation=conversation)
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
