"""The SMS channel (Twilio Programmable Messaging): settings, conversations, inbound.

Outbound SMS go through the same outbox as WhatsApp: ``sms_sending`` (called by
``sending.message_send_*`` for a conversation of an SMS channel) stores the Twilio form
fields in ``Message.payload``; ``outbox`` hands them to ``TwilioSmsClient``.

Inbound: the signed webhooks (``sms_views``) are stored raw as a ``WebhookEvent``
(provider ``twilio_sms``) and applied after commit by ``sms_event_apply``: a message
from the customer becomes a ``Message`` (idempotent on its ``MessageSid``) in the
conversation with the sender's number, and runs the inbound handlers; a status callback
updates the outbound message (the furthest status in the lifecycle wins).

Numbered options: buttons and list rows sent to an SMS conversation become numbered
lines; when the customer answers with one of the numbers, the inbound message carries
the option's id in ``reply_payload`` (kind "interactive", or "button" for a template's
quick reply), like a tapped WhatsApp button.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import ContactPoint, Customer
from telcodesk.customers.phones import InvalidPhone, is_mobile, normalize_phone
from telcodesk.messaging import services
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    Message,
    MessageStatus,
    WebhookEvent,
)
from telcodesk.messaging.providers import twilio_sms

# Where the options of an outbound message are kept in its payload (not a Twilio field).
OPTIONS_KEY = "telcodesk_options"
_NUMBER_REPLY = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")
OPT_IN_TYPES = frozenset({"START"})
OPT_OUT_TYPES = frozenset({"STOP"})
UNSUBSCRIBED_TIMELINE = gettext_noop(
    "SMS marketing consent withdrawn: Twilio reports the number unsubscribed (it texted STOP)."
)


# --- channel settings --------------------------------------------------------------------


def sms_channel_settings_errors(channel: Channel) -> dict[str, list[str]]:
    """What is wrong with an SMS channel's settings, per field (empty when fine)."""
    errors: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    if not twilio_sms.ACCOUNT_SID.fullmatch(channel.sms_account_sid):
        add(
            "sms_account_sid",
            _("Enter the Account SID from the Twilio console: AC followed by 32 hex digits."),
        )
    if not channel.sms_auth_token.strip():
        add("sms_auth_token", _("Enter the account's auth token (Twilio console, Account info)."))
    sender, service = channel.sms_from.strip(), channel.sms_messaging_service_sid.strip()
    if not sender and not service:
        add(
            "sms_from",
            _("Enter the Twilio number messages are sent from, or a messaging service SID."),
        )
    if sender and not twilio_sms.SENDER.fullmatch(sender):
        add(
            "sms_from",
            _("Enter the number in international format (+14155550100) or a sender name."),
        )
    if service and not twilio_sms.MESSAGING_SERVICE_SID.fullmatch(service):
        add(
            "sms_messaging_service_sid",
            _("Enter the messaging service SID: MG followed by 32 hex digits, or leave it empty."),
        )
    if not channel.sms_api_base_url.strip():
        add("sms_api_base_url", _("Enter https://api.twilio.com (or the sandbox's URL)."))
    return errors


def sms_channel_for(*, organization: Organization) -> Channel | None:
    """The organization's active SMS channel (the oldest, if it has several)."""
    return (
        Channel.objects.select_related("organization")
        .filter(organization=organization, kind=Channel.Kind.SMS, is_active=True)
        .exclude(sms_account_sid="")
        .order_by("pk")
        .first()
    )


def sms_status_callback_url(channel: Channel) -> str:
    """The StatusCallback we give Twilio for each send, "" when no public URL is set."""
    base = channel.sms_webhook_base_url.strip().rstrip("/")
    if not base:
        return ""
    return base + reverse("messaging:twilio_status", args=[channel.pk])


# --- the customer's SMS conversation -------------------------------------------------------


def _customer_visible(organization: Organization, customer: Customer) -> bool:
    return (
        Customer.objects.filter(pk=customer.pk)
        .filter(Q(organization=organization) | Q(assignments__reseller=organization))
        .exists()
    )


def customer_sms_phone(*, customer: Customer) -> str:
    """The customer's number for SMS: the primary mobile, else any mobile ("" if none).

    Landlines are skipped: Twilio refuses them (21614).
    """
    phones = ContactPoint.objects.filter(customer=customer, kind=ContactPoint.Kind.PHONE).order_by(
        "-is_primary", "id"
    )
    mobiles = [p for p in phones if p.label == ContactPoint.Label.MOBILE and is_mobile(p.value)]
    others = [p for p in phones if p.label != ContactPoint.Label.MOBILE and is_mobile(p.value)]
    chosen = mobiles or others
    return chosen[0].value if chosen else ""


def sms_address(e164: str) -> str:
    """How an SMS conversation keys a number: its E.164 digits, as WhatsApp ids are."""
    return e164.lstrip("+")


def sms_conversation_for_customer(
    *,
    actor_or_none: Actor | None,
    customer: Customer,
    organization: Organization | None = None,
    phone: str = "",
) -> Conversation | None:
    """The conversation with ``customer`` on the organization's SMS channel, created on
    first use; None when the organization has no active SMS channel or the customer no
    mobile number.

    For an actor: ``conversation.reply`` and the actor's organization (a customer the
    organization neither owns nor is assigned is NotFound). Without one (automations,
    the visits and NPS helpers), ``organization`` or else the customer's own. ``phone``
    picks one of the customer's numbers; by default their primary mobile. A known
    conversation with that number keeps its customer; a conversation without one is
    linked to this customer.
    """
    if actor_or_none is not None:
        actor_or_none.require("conversation.reply")
        if organization is not None and organization.pk != actor_or_none.organization.pk:
            raise NotFound(_("This customer does not exist or is not yours."))
        organization = actor_or_none.organization
    organization = organization or customer.organization
    if not _customer_visible(organization, customer):
        raise NotFound(_("This customer does not exist or is not yours."))
    channel = sms_channel_for(organization=organization)
    if channel is None:
        return None
    region = organization.country or "US"
    if phone:
        try:
            e164 = normalize_phone(phone, region=region)
        except InvalidPhone as exc:
            raise ValidationFailed(str(exc), details={"phone": [str(exc)]}) from exc
        if not ContactPoint.objects.filter(
            customer=customer, kind=ContactPoint.Kind.PHONE, value=e164
        ).exists():
            message = _("This number is not one of the customer's phones. Add it first.")
            raise ValidationFailed(message, details={"phone": [message]})
    else:
        e164 = customer_sms_phone(customer=customer)
        if not e164:
            return None
    conversation, _created = Conversation.objects.select_related("channel").get_or_create(
        channel=channel,
        external_address=sms_address(e164),
        defaults={
            "organization_id": channel.organization_id,
            "customer": customer,
            "phone_e164": e164,
            "display_name": customer.display_name[:200],
        },
    )
    if conversation.customer_id is None:
        Conversation.objects.filter(pk=conversation.pk, customer__isnull=True).update(
            customer=customer, updated_at=timezone.now()
        )
        conversation.refresh_from_db(fields=["customer"])
    return conversation


# --- outbound: the Twilio form fields ---------------------------------------------------------


def sms_to(conversation: Conversation) -> str:
    """The ``To`` of a send: the conversation's E.164 number."""
    if conversation.phone_e164:
        return conversation.phone_e164
    address = conversation.external_address
    return "+" + address if address.isdigit() else address


def sms_payload(
    *, conversation: Conversation, body: str, options: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The form fields Twilio gets (To, From or MessagingServiceSid, Body,
    StatusCallback), decided when the message is queued so every retry sends the same;
    ``options`` (numbered replies) are kept beside them for the reply mapping."""
    channel = conversation.channel
    payload: dict[str, Any] = {"To": sms_to(conversation), "Body": body}
    if channel.sms_messaging_service_sid:
        payload["MessagingServiceSid"] = channel.sms_messaging_service_sid
    else:
        payload["From"] = channel.sms_from
    callback = sms_status_callback_url(channel)
    if callback:
        payload["StatusCallback"] = callback
    if options:
        payload[OPTIONS_KEY] = options
    return payload


@dataclass(frozen=True)
class OptionChosen:
    id: str
    title: str
    reply_kind: str  # Message.Kind.INTERACTIVE or BUTTON
    message: Message  # the outbound message whose options were answered


def sms_option_chosen(*, conversation: Conversation, text: str) -> OptionChosen | None:
    """The option a numeric reply chooses: one of the numbers of the conversation's
    latest outbound message (not failed), if that message offered options."""
    match = _NUMBER_REPLY.fullmatch(text)
    if match is None:
        return None
    last = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.OUTBOUND)
        .exclude(status=MessageStatus.FAILED)
        .order_by("-id")
        .first()
    )
    options = last.payload.get(OPTIONS_KEY) if last is not None else None
    if last is None or not isinstance(options, list):
        return None
    number = int(match.group(1))
    for option in options:
        if isinstance(option, dict) and option.get("number") == number:
            return OptionChosen(
                id=str(option.get("id", "")),
                title=str(option.get("title", "")),
                reply_kind=str(option.get("reply_kind") or Message.Kind.INTERACTIVE),
                message=last,
            )
    return None


def sms_unsubscribed_record(*, message: Message) -> bool:
    """Twilio refused a send with 21610 (the number texted STOP): record the opt-out on
    the conversation and withdraw the customer's SMS consent. True if anything changed."""
    conversation = Conversation.objects.select_related("channel").get(pk=message.conversation_id)
    return services.conversation_opt_out_record(
        conversation=conversation,
        message=message,
        at=timezone.now(),
        timeline_text=UNSUBSCRIBED_TIMELINE,
    )


# --- inbound: applying a stored webhook ---------------------------------------------------------


def sms_event_is_status(params: dict[str, str]) -> bool:
    """Whether a Twilio form is a status callback (else an incoming message)."""
    return bool(params.get("MessageStatus")) and params.get("SmsStatus", "") != "received"


def _inbound_apply(channel: Channel, params: dict[str, str], event: WebhookEvent) -> list[str]:
    parsed = twilio_sms.parse_inbound(params, received_at=event.received_at)
    if not parsed.provider_message_id or not (parsed.wa_id or parsed.user_id):
        return ["message without MessageSid or From"]
    if parsed.kind == Message.Kind.TEXT:
        conversation = services.conversation_for_inbound(channel=channel, event=parsed)
        chosen = sms_option_chosen(conversation=conversation, text=parsed.body)
        if chosen is not None:
            # Like a tapped WhatsApp button: the option's title and id, and the message
            # answered; the digits the customer typed stay in the raw payload.
            parsed = dataclasses.replace(
                parsed,
                kind=chosen.reply_kind,
                body=chosen.title,
                reply_payload=chosen.id,
                reply_to=chosen.message.provider_message_id,
            )
    message, created = services.inbound_message_record(
        channel=channel, event=parsed, webhook_event=event
    )
    opt_type = params.get("OptOutType", "").strip().upper()
    if created and opt_type in OPT_OUT_TYPES:
        # Twilio's Advanced Opt-Out: the number is now unsubscribed on Twilio's side,
        # whatever the keyword (STOP, CANCEL, ...).
        services.conversation_opt_out_record(
            conversation=message.conversation,
            message=message,
            at=message.sent_at or timezone.now(),
            keyword=parsed.body,
        )
    elif created and opt_type in OPT_IN_TYPES:
        # START: Twilio delivers to the number again. The customer's marketing consent
        # stays as it was: only an explicit consent gives it back.
        Conversation.objects.filter(pk=message.conversation_id).update(
            marketing_opt_out_at=None, updated_at=timezone.now()
        )
    return []


def sms_event_apply(event: WebhookEvent) -> tuple[list[str], list[str], int]:
    """Apply a stored Twilio webhook: (labels of what it held, notes, how many applied).

    Call inside the transaction that holds the event's lock (``webhooks``).
    """
    channel = event.channel
    if channel is None:
        return [], ["the channel was deleted"], 0
    params = dict(twilio_sms.form_params(event.body.encode("utf-8")))
    is_status = sms_event_is_status(params)
    label = (
        f"status:{params.get('MessageStatus', '').lower()}"
        if is_status
        else f"message:{'media' if params.get('NumMedia', '0') not in ('', '0') else 'text'}"
    )
    account = params.get("AccountSid", "")
    if account != channel.sms_account_sid:
        return [label], [f"account {account[:40]} is not this channel's"], 0
    if is_status:
        status = twilio_sms.parse_status(params, received_at=event.received_at)
        if not status.provider_message_id:
            return [label], ["status without MessageSid"], 0
        services.message_status_record(channel=channel, event=status, webhook_event=event)
        return [label], [], 1
    notes = _inbound_apply(channel, params, event)
    return [label], notes, 0 if notes else 1
