"""The e-mail channel: sending through the outbox, templates, and threading replies in.

Outbound: ``email_send`` and ``email_send_template`` queue an outbound ``Message`` (kind
"email") in the same outbox as WhatsApp; ``messaging.outbox`` hands it to the SMTP
sender. Everything the mail's headers need is decided here and kept in the payload: the
Message-ID (``<td.{idempotency key}@{from domain}>``, stable across retries), the Date,
the Reply-To with the conversation's token (``replies+{token}@{reply domain}``) and the
threading headers of the customer's last mail.

Inbound: a raw RFC 822 mail (from the signed webhook, ``email_views``, or from IMAP
polling) is stored first as a ``WebhookEvent`` and applied after commit by
``email_event_apply``. A reply joins its conversation by, in order: In-Reply-To /
References naming a mail of the channel, the Reply-To token in a recipient address, the
sender's address. The mail's Message-ID makes it idempotent: a redelivery adds nothing.
Reading the mail itself (text, HTML as text, attachments) is ``messaging.email_reading``;
its files are read back from the stored raw mail by ``email_attachment_fetch``.
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import NotFound
from telcodesk.core.tasks import enqueue_on_commit
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import ContactPoint, Customer, TimelineEvent
from telcodesk.customers.services import timeline_add
from telcodesk.messaging import services
from telcodesk.messaging.email_reading import (
    InboundEmail,
    attachment_data,
    attachment_filename,
    attachment_parts,
    email_address_normalize,
    mail_parse,
    parse_email,
)
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    EmailSecurity,
    EmailTemplate,
    Message,
    MessageStatus,
    WebhookEvent,
)
from telcodesk.messaging.providers.imap import ImapError, ImapMailbox, ImapSettings
from telcodesk.messaging.providers.smtp import configured_ca_file
from telcodesk.messaging.sending import SendRefused

logger = logging.getLogger("telcodesk.messaging")

MAX_SUBJECT_LENGTH = 255
MAX_BODY_LENGTH = 100_000
MESSAGE_ID_PREFIX = "td."
REPLY_LOCAL_PART = "replies"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HOSTNAME = re.compile(
    r"(?=.{1,190}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_TOKEN_IN_ADDRESS = re.compile(r"\+([0-9a-f]{16})@", re.IGNORECASE)
BODY_ENCODING_HEADER = "X-Telcodesk-Body-Encoding"
SOURCE_HEADER = "X-Telcodesk-Source"


# --- addresses and settings ------------------------------------------------------------------


def email_channel_settings_errors(channel: Channel) -> dict[str, list[str]]:
    """What is wrong with an e-mail channel's settings, per field (empty when fine)."""
    errors: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    if not channel.smtp_host.strip():
        add("smtp_host", _("Enter the SMTP server's host name (e.g. smtp.example.com)."))
    if channel.smtp_security not in EmailSecurity.values:
        add("smtp_security", _("Choose none, STARTTLS or implicit TLS."))
    if not 1 <= int(channel.smtp_port or 0) <= 65535:
        add("smtp_port", _("Enter a port between 1 and 65535 (587 for STARTTLS, 465 for TLS)."))
    if bool(channel.smtp_username) != bool(channel.smtp_password):
        add("smtp_password", _("Give both the SMTP user name and password, or neither."))
    if not email_address_normalize(channel.email_from_address):
        add("email_from_address", _("Enter the address mails are sent from (name@domain)."))
    if channel.email_reply_domain and not _HOSTNAME.fullmatch(channel.email_reply_domain):
        add("email_reply_domain", _("Enter a domain name such as replies.example.com."))
    if channel.email_reply_address and not email_address_normalize(channel.email_reply_address):
        add(
            "email_reply_address",
            _("Enter a valid reply address (name@domain), or leave it empty."),
        )
    if channel.imap_host:
        if not 1 <= int(channel.imap_port or 0) <= 65535:
            add("imap_port", _("Enter a port between 1 and 65535 (993 for IMAP over TLS)."))
        if not channel.imap_username or not channel.imap_password:
            add("imap_username", _("IMAP polling needs the mailbox's user name and password."))
    return errors


def email_channel_for(*, organization: Organization) -> Channel | None:
    """The organization's active e-mail channel (the oldest, if it has several)."""
    return (
        Channel.objects.select_related("organization")
        .filter(organization=organization, kind=Channel.Kind.EMAIL, is_active=True)
        .exclude(smtp_host="")
        .order_by("pk")
        .first()
    )


def customer_for_email(*, organization: Organization, address: str) -> Customer | None:
    """The one customer of (or assigned to) ``organization`` with this e-mail address."""
    if not address:
        return None
    customer_ids = set(
        ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, value__iexact=address)
        .filter(Q(organization=organization) | Q(customer__assignments__reseller=organization))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    if len(customer_ids) != 1:
        return None  # none, or ambiguous: an agent links it in the inbox
    return Customer.objects.get(pk=customer_ids.pop())


def _customer_visible(organization: Organization, customer: Customer) -> bool:
    return (
        Customer.objects.filter(pk=customer.pk)
        .filter(Q(organization=organization) | Q(assignments__reseller=organization))
        .exists()
    )


def _from_domain(channel: Channel) -> str:
    return email_address_normalize(channel.email_from_address).rpartition("@")[2] or "localhost"


def email_message_id(*, channel: Channel, idempotency_key: str) -> str:
    """The Message-ID of an outbound mail: derived from its idempotency key, so stable."""
    return f"<{MESSAGE_ID_PREFIX}{idempotency_key}@{_from_domain(channel)}>"


def conversation_reply_token(conversation: Conversation) -> str:
    """The conversation's Reply-To token, created on first use (kept once set)."""
    if not conversation.email_reply_token:
        Conversation.objects.filter(pk=conversation.pk, email_reply_token="").update(
            email_reply_token=secrets.token_hex(8), updated_at=timezone.now()
        )
        conversation.refresh_from_db(fields=["email_reply_token"])
    return conversation.email_reply_token


def reply_to_address(*, channel: Channel, token: str) -> str:
    """Where replies go: replies+token@domain, local+token@domain, or "" (not configured)."""
    if channel.email_reply_domain:
        return f"{REPLY_LOCAL_PART}+{token}@{channel.email_reply_domain.lower()}"
    address = email_address_normalize(channel.email_reply_address)
    if address:
        local, _at, domain = address.partition("@")
        return f"{local.split('+')[0]}+{token}@{domain}"
    return ""


# --- sending -------------------------------------------------------------------------------


def _conversation_for_address(
    *, channel: Channel, address: str, customer: Customer | None
) -> Conversation:
    conversation, _created = Conversation.objects.get_or_create(
        channel=channel,
        external_address=address,
        defaults={
            "organization_id": channel.organization_id,
            "customer": customer,
            "display_name": customer.display_name[:200] if customer is not None else "",
        },
    )
    if customer is not None and conversation.customer_id is None:
        Conversation.objects.filter(pk=conversation.pk, customer__isnull=True).update(
            customer=customer, updated_at=timezone.now()
        )
        conversation.refresh_from_db(fields=["customer"])
    return conversation


def _thread_headers(conversation: Conversation) -> tuple[str, str]:
    """In-Reply-To and References for a mail in this conversation (the last mail in)."""
    last = (
        Message.objects.filter(
            conversation=conversation, direction=Message.Direction.INBOUND, kind=Message.Kind.EMAIL
        )
        .order_by("-id")
        .only("payload")
        .first()
    )
    if last is None or not last.payload.get("message_id"):
        return "", ""
    in_reply_to = str(last.payload["message_id"])
    references = " ".join([*last.payload.get("references", [])[-10:], in_reply_to])
    return in_reply_to, references


def _check_subject_and_body(subject: str, body: str) -> tuple[str, str]:
    subject = " ".join(subject.split())
    body = body.replace("\r\n", "\n").strip()
    if not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise SendRefused(
            _("Write a subject of 1 to %(max)d characters.") % {"max": MAX_SUBJECT_LENGTH},
            reason="bad_subject",
        )
    if not body or len(body) > MAX_BODY_LENGTH:
        raise SendRefused(
            _("Write a message of 1 to %(max)d characters.") % {"max": MAX_BODY_LENGTH},
            reason="bad_body",
        )
    return subject, body


def email_send(
    *,
    actor_or_none: Actor | None,
    organization: Organization,
    to_address: str,
    subject: str,
    body: str,
    customer: Customer | None = None,
    language: str = "es",
    conversation: Conversation | None = None,
) -> Message:
    """Queue an e-mail to ``to_address`` on the organization's e-mail channel.

    Creates (or reuses) the e-mail conversation with that address, links ``customer``
    to it when it has none, and puts an outbound message in the outbox (sent after the
    caller's transaction commits). Raises SendRefused ("no_email_channel",
    "bad_address", "bad_subject", "bad_body", "bad_conversation") or NotFound.
    """
    if actor_or_none is not None and actor_or_none.organization.pk != organization.pk:
        raise NotFound(_("This organization does not exist or is not yours."))
    if customer is not None and not _customer_visible(organization, customer):
        raise NotFound(_("This customer does not exist or is not yours."))
    if conversation is not None:
        channel = conversation.channel
        if conversation.organization_id != organization.pk or channel.kind != Channel.Kind.EMAIL:
            raise SendRefused(
                _("This conversation is not an e-mail conversation of this organization."),
                reason="bad_conversation",
            )
        if not channel.is_active:
            raise SendRefused(
                _("The e-mail channel is switched off. Ask an administrator to activate it."),
                reason="no_email_channel",
            )
    else:
        found = email_channel_for(organization=organization)
        if found is None:
            raise SendRefused(
                _(
                    "This organization has no active e-mail channel. Ask an administrator "
                    "to set one up (SMTP server and from address), or use another channel."
                ),
                reason="no_email_channel",
            )
        channel = found
    address = email_address_normalize(to_address)
    if not address:
        raise SendRefused(
            _("“%(address)s” is not a valid e-mail address. Check it and try again.")
            % {"address": to_address[:254]},
            reason="bad_address",
        )
    if conversation is not None and conversation.external_address != address:
        raise SendRefused(
            _("The address does not match the conversation's address (%(address)s).")
            % {"address": conversation.external_address},
            reason="bad_conversation",
        )
    subject, body = _check_subject_and_body(subject, body)
    if conversation is None:
        conversation = _conversation_for_address(
            channel=channel, address=address, customer=customer
        )
    return _email_outbox_add(
        actor=actor_or_none,
        channel=channel,
        conversation=conversation,
        subject=subject,
        body=body,
        language=language,
    )


@transaction.atomic
def _email_outbox_add(
    *,
    actor: Actor | None,
    channel: Channel,
    conversation: Conversation,
    subject: str,
    body: str,
    language: str,
) -> Message:
    from telcodesk.messaging.tasks import send_outbox_message

    now = timezone.now()
    key = uuid.uuid4().hex
    in_reply_to, references = _thread_headers(conversation)
    payload: dict[str, Any] = {
        "from_address": email_address_normalize(channel.email_from_address),
        "from_name": channel.email_from_name,
        "to": conversation.external_address,
        "subject": subject,
        "body": body,
        "message_id": email_message_id(channel=channel, idempotency_key=key),
        "date": formatdate(now.timestamp(), usegmt=True),
        "reply_to": reply_to_address(channel=channel, token=conversation_reply_token(conversation)),
        "in_reply_to": in_reply_to,
        "references": references,
        "language": language[:16],
    }
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        channel=channel,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.EMAIL,
        body=services.db_text(body),
        payload=services.db_json(payload),
        status=MessageStatus.QUEUED,
        status_at=now,
        next_attempt_at=now,
        idempotency_key=key,
        created_by=actor.user if actor is not None else None,
    )
    enqueue_on_commit(send_outbox_message, message.pk)
    return message


# --- templates -----------------------------------------------------------------------------


def email_template_pick(
    *, organization: Organization, name: str, language: str
) -> EmailTemplate | None:
    """The active template ``name`` in ``language``, else its base language ("es" for
    "es_AR"), else the organization's default language."""
    base = language.replace("-", "_").split("_")[0]
    candidates = list(dict.fromkeys([language, base, organization.default_language]))
    by_language = {
        template.language: template
        for template in EmailTemplate.objects.filter(
            organization=organization, name=name, is_active=True, language__in=candidates
        )
    }
    for candidate in candidates:
        if candidate in by_language:
            return by_language[candidate]
    return None


def email_template_render(text: str, context: Mapping[str, object]) -> str:
    """``text`` with ``{name}`` placeholders filled from ``context``.

    Raises SendRefused("missing_param") naming the first placeholder with no value.
    """
    missing = [name for name in PLACEHOLDER.findall(text) if str(context.get(name) or "") == ""]
    if missing:
        raise SendRefused(
            _("The template needs “%(field)s”, which was not given. Give it and try again.")
            % {"field": missing[0]},
            reason="missing_param",
        )
    return PLACEHOLDER.sub(lambda match: str(context[match.group(1)]), text)


def email_send_template(
    *,
    actor_or_none: Actor | None,
    organization: Organization,
    to_address: str,
    template_name: str,
    language: str,
    context: dict[str, Any],
    customer: Customer | None = None,
) -> Message:
    """Queue the e-mail template ``template_name`` rendered in ``language`` (or the
    organization's default language when it has no version in that one).

    ``context`` fills the ``{placeholders}``; ``customer_name`` defaults to the
    customer's name. Raises SendRefused("no_template", "missing_param", and those of
    ``email_send``).
    """
    template = email_template_pick(organization=organization, name=template_name, language=language)
    if template is None:
        raise SendRefused(
            _(
                "There is no e-mail template “%(name)s” in %(language)s nor in the "
                "organization's default language. Create it or pick another template."
            )
            % {"name": template_name, "language": language},
            reason="no_template",
        )
    values: dict[str, object] = {}
    if customer is not None:
        values["customer_name"] = customer.display_name
        values["customer_first_name"] = customer.first_name
    values["organization"] = organization.name
    values.update(context)
    return email_send(
        actor_or_none=actor_or_none,
        organization=organization,
        to_address=to_address,
        subject=email_template_render(template.subject, values),
        body=email_template_render(template.body, values),
        customer=customer,
        language=template.language,
    )


# --- threading and storing a mail ----------------------------------------------------------


def _conversation_by_thread(channel: Channel, mail: InboundEmail) -> Conversation | None:
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if not ids:
        return None
    keys = [
        item[len(MESSAGE_ID_PREFIX) :].split("@")[0]
        for item in ids
        if item.startswith(MESSAGE_ID_PREFIX)
    ]
    match = (
        Message.objects.filter(channel=channel)
        .filter(Q(provider_message_id__in=ids) | Q(idempotency_key__in=[k for k in keys if k]))
        .select_related("conversation")
        .order_by("-id")
        .first()
    )
    return match.conversation if match is not None else None


def _conversation_by_token(channel: Channel, mail: InboundEmail) -> Conversation | None:
    tokens = [
        found.group(1).lower()
        for address in mail.recipients
        if (found := _TOKEN_IN_ADDRESS.search(address))
    ]
    if not tokens:
        return None
    return Conversation.objects.filter(channel=channel, email_reply_token__in=tokens).first()


def conversation_for_inbound_email(*, channel: Channel, mail: InboundEmail) -> Conversation:
    """The conversation a mail belongs to: its thread, our Reply-To token, its sender."""
    conversation = _conversation_by_thread(channel, mail) or _conversation_by_token(channel, mail)
    if conversation is not None:
        return conversation
    conversation, _created = Conversation.objects.get_or_create(
        channel=channel,
        external_address=mail.from_address,
        defaults={
            "organization_id": channel.organization_id,
            "display_name": services.db_text(mail.from_name)[:200],
        },
    )
    return conversation


def _inbound_payload(mail: InboundEmail, source: str) -> dict[str, Any]:
    return {
        "message_id": f"<{mail.message_id}>",
        "from": mail.from_address,
        "from_name": mail.from_name,
        "to": mail.to,
        "cc": mail.cc,
        "subject": mail.subject,
        "in_reply_to": [f"<{item}>" for item in mail.in_reply_to],
        "references": [f"<{item}>" for item in mail.references][-20:],
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in mail.attachments
        ],
        "full_text": mail.full_text[:MAX_BODY_LENGTH],
        "source": source,
    }


@transaction.atomic
def inbound_email_record(
    *,
    channel: Channel,
    mail: InboundEmail,
    webhook_event: WebhookEvent | None = None,
    source: str = "webhook",
) -> tuple[Message, bool]:
    """Store a received mail once (idempotent on its Message-ID); (message, is new).

    A new mail bumps its conversation (unread, last inbound, reopened), links the
    sender's customer by e-mail address, writes the customer's timeline and runs the
    registered inbound handlers, like an inbound WhatsApp message.
    """
    provider_id = services.db_text(mail.message_id)[:191]
    existing = Message.objects.filter(channel=channel, provider_message_id=provider_id).first()
    if existing is not None:
        return existing, False
    conversation = conversation_for_inbound_email(channel=channel, mail=mail)
    now = timezone.now()
    received_at = min(mail.sent_at, now) if mail.sent_at is not None else now
    message, created = Message.objects.get_or_create(
        channel=channel,
        provider_message_id=provider_id,
        defaults={
            "organization_id": channel.organization_id,
            "conversation": conversation,
            "direction": Message.Direction.INBOUND,
            "kind": Message.Kind.EMAIL,
            "status": MessageStatus.RECEIVED,
            "status_at": received_at,
            "sent_at": received_at,
            "body": services.db_text(mail.text)[:MAX_BODY_LENGTH],
            "payload": services.db_json(_inbound_payload(mail, source)),
            "reply_to_provider_id": services.db_text(
                mail.in_reply_to[0] if mail.in_reply_to else ""
            )[:191],
            "webhook_event": webhook_event,
        },
    )
    if not created:
        return message, False
    services.conversation_inbound_bump(conversation=conversation, received_at=received_at)
    if conversation.customer_id is None and conversation.external_address == mail.from_address:
        customer = customer_for_email(organization=channel.organization, address=mail.from_address)
        if customer is not None:
            Conversation.objects.filter(pk=conversation.pk, customer__isnull=True).update(
                customer=customer, updated_at=timezone.now()
            )
            conversation.refresh_from_db(fields=["customer"])
    if conversation.customer is not None:
        timeline_add(
            actor=None,
            customer=conversation.customer,
            kind=TimelineEvent.Kind.MESSAGE,
            message=gettext_noop("E-mail received from %(address)s: %(subject)s"),
            params={"address": mail.from_address, "subject": mail.subject[:160]},
            data={
                "channel_id": channel.pk,
                "conversation_id": conversation.pk,
                "message_id": message.pk,
            },
            at=received_at,
        )
    keyword = email_opt_out_keyword(channel=channel, mail=mail)
    if keyword:
        services.conversation_opt_out_record(
            conversation=conversation, message=message, at=received_at, keyword=keyword
        )
    services.inbound_handlers_run(message, conversation)
    return message, True


REPLY_PREFIX = re.compile(r"^\s*((re|aw|rv|res|fw|fwd|enc)\s*:\s*)+", re.IGNORECASE)


def email_opt_out_keyword(*, channel: Channel, mail: InboundEmail) -> str:
    """The opt-out keyword ("BAJA", "STOP"...) a mail consists of, else "".

    Either the subject (without "Re:" and the like) or the first non-empty line of the
    reply's own text is the keyword alone, as people answer a mailing.
    """
    subject = REPLY_PREFIX.sub("", mail.subject or "")
    first_line = next((line for line in (mail.text or "").splitlines() if line.strip()), "")
    for candidate in (subject, first_line):
        if services.is_opt_out(channel=channel, text=candidate):
            return candidate.strip()
    return ""


# --- raw mails in: stored first, applied after commit ----------------------------------------


def raw_email_to_text(raw: bytes) -> tuple[str, str]:
    """(text for WebhookEvent.body, encoding): UTF-8 as is, anything else base64."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"
    if "\x00" in text:
        return base64.b64encode(raw).decode("ascii"), "base64"
    return text, "utf-8"


def raw_email_from_event(event: WebhookEvent) -> bytes:
    if event.headers.get(BODY_ENCODING_HEADER) == "base64":
        return base64.b64decode(event.body)
    return event.body.encode("utf-8")


@transaction.atomic
def email_event_store(
    *,
    channel: Channel,
    raw: bytes,
    source: str,
    headers: Mapping[str, str] | None = None,
    request_id: str = "",
) -> WebhookEvent:
    """Keep a raw mail as a WebhookEvent (provider "email"); it is applied after commit."""
    body, encoding = raw_email_to_text(raw)
    kept = {name: str(value)[:500] for name, value in (headers or {}).items()}
    kept[BODY_ENCODING_HEADER] = encoding
    kept[SOURCE_HEADER] = source
    event = WebhookEvent.objects.create(
        channel=channel,
        provider=Channel.Kind.EMAIL,
        received_at=timezone.now(),
        signature_valid=source == "webhook",
        body=body,
        headers=kept,
        request_id=request_id[:64],
    )
    services.webhook_event_schedule(event_id=event.pk)
    return event


@dataclass(frozen=True)
class EmailAttachmentFile:
    data: bytes
    content_type: str
    filename: str


def email_attachment_fetch(*, actor: Actor, message_id: int, index: int) -> EmailAttachmentFile:
    """File ``index`` (0-based, the order of ``payload["attachments"]``) of a received mail.

    Read back from the raw mail as stored (its WebhookEvent): nothing else keeps the
    files. Raises NotFound for a message of another organization, one that is not a
    received mail, an index it does not have, or a mail whose raw copy is gone.
    """
    message = (
        Message.objects.select_related("webhook_event")
        .filter(
            pk=message_id,
            organization=actor.organization,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.EMAIL,
        )
        .first()
    )
    if message is None:
        raise NotFound(_("This mail does not exist or is not yours."))
    listed = message.payload.get("attachments") or []
    if not 0 <= index < len(listed):
        raise NotFound(_("This mail has no attachment number %(number)d.") % {"number": index + 1})
    parsed = (
        mail_parse(raw_email_from_event(message.webhook_event)) if message.webhook_event else None
    )
    parts = list(attachment_parts(parsed)) if parsed is not None else []
    if len(parts) != len(listed):
        raise NotFound(
            _("The original of this mail is no longer kept, so its files cannot be shown.")
        )
    part = parts[index]
    return EmailAttachmentFile(
        data=attachment_data(part),
        content_type=part.get_content_type(),
        filename=attachment_filename(part),
    )


def email_event_apply(event: WebhookEvent) -> tuple[list[str], list[str], int]:
    """Apply a stored mail (inside the caller's transaction): (kinds, notes, applied)."""
    channel = event.channel
    if channel is None:
        return [], ["the channel was deleted"], 0
    mail = parse_email(raw_email_from_event(event))
    if mail is None:
        return ["unparseable"], ["not an e-mail (no sender address)"], 0
    source = str(event.headers.get(SOURCE_HEADER, "webhook"))
    _message, created = inbound_email_record(
        channel=channel, mail=mail, webhook_event=event, source=source
    )
    if not created:
        return ["email"], [f"already stored: <{mail.message_id}>"], 0
    return ["email"], [], 1


# --- IMAP polling --------------------------------------------------------------------------


@dataclass
class PollResult:
    channel_id: int
    fetched: int = 0
    error: str = ""


MailboxFactory = Callable[[ImapSettings], ImapMailbox]


def imap_settings_for(channel: Channel) -> ImapSettings:
    return ImapSettings(
        host=channel.imap_host,
        port=int(channel.imap_port),
        tls=channel.imap_tls,
        username=channel.imap_username,
        password=channel.imap_password,
        folder=channel.imap_folder or "INBOX",
        timeout=float(getattr(settings, "TELCODESK_EMAIL_TIMEOUT_SECONDS", 20)),
        ca_file=configured_ca_file(),
    )


def email_poll(
    *, channel: Channel, mailbox_factory: MailboxFactory = ImapMailbox, limit: int = 200
) -> PollResult:
    """Fetch the unseen mails of the channel's IMAP folder, store each, then flag it seen.

    Each mail is stored (and, after commit, applied) before it is flagged; a mail
    fetched twice is stored twice as a raw event but becomes one message.
    """
    result = PollResult(channel_id=channel.pk)
    try:
        with mailbox_factory(imap_settings_for(channel)) as mailbox:
            for uid in mailbox.unseen_uids()[:limit]:
                raw = mailbox.fetch(uid)
                if raw is None:
                    continue
                email_event_store(
                    channel=channel, raw=raw, source="imap", headers={"X-Imap-Uid": uid}
                )
                mailbox.mark_seen(uid)
                result.fetched += 1
    except ImapError as exc:
        logger.warning(
            "imap poll failed", extra={"channel_id": channel.pk, "error": str(exc)[:300]}
        )
        result.error = str(exc)
    return result


def email_channels_poll(*, channel_id: int | None = None) -> list[PollResult]:
    """Poll every active e-mail channel with an IMAP host (or only ``channel_id``)."""
    channels = Channel.objects.select_related("organization").filter(
        kind=Channel.Kind.EMAIL, is_active=True
    )
    channels = channels.exclude(imap_host="")
    if channel_id is not None:
        channels = channels.filter(pk=channel_id)
    return [email_poll(channel=channel) for channel in channels.order_by("pk")]
