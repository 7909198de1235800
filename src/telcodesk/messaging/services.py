"""Every write of the messaging app.

Inbound writes come from provider webhooks (no human actor): they are idempotent on
the provider's ids, so applying the same webhook twice, or concurrently in two workers,
leaves the same rows as applying it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.db import connection, connections, router, transaction
from django.db.models import Model, Q
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext_noop

from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.customers.services import timeline_add
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    MarketingPreferenceEvent,
    Message,
    MessageStatus,
    MessageStatusEvent,
    SmsProvider,
    Template,
    TemplateStatusEvent,
    WebhookEvent,
)
from telcodesk.messaging.providers.whatsapp_cloud import (
    InboundMessage,
    MarketingPreference,
    StatusUpdate,
    TemplateStatus,
)
from telcodesk.messaging.selectors import customer_for_whatsapp_id, whatsapp_id_phone_forms

# Inbound kinds that are not a customer writing to us: they neither open the 24-hour
# window, nor count as unread, nor go to the customer's timeline.
NOT_CONVERSATIONAL = frozenset(
    {Message.Kind.SYSTEM, Message.Kind.EDIT, Message.Kind.REVOKE, Message.Kind.REACTION}
)
# Provider statuses and the message status each one means.
PROVIDER_STATUSES: dict[str, str] = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "played": MessageStatus.READ,  # a voice message played has been read
    "failed": MessageStatus.FAILED,
    # Twilio: the carrier could not deliver (ErrorCode says why: 30003 unreachable...).
    "undelivered": MessageStatus.FAILED,
}
# Breaks ties between statuses with the same timestamp (Meta's are whole seconds).
STATUS_RANK: dict[str, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
    MessageStatus.FAILED: 5,
}
HEADERS_KEPT = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Hub-Signature-256",
    "X-Twilio-Signature",
    "I-Twilio-Idempotency-Token",
    "X-Request-ID",
)
PREVIEW_LENGTH = 160

# Called with (message, conversation) for every new conversational inbound message,
# inline, inside the transaction that stores it (so their effects commit or roll back
# with the message, and a redelivered webhook does not call them again). Other apps
# register here (the pipelines app: lead for the phone, offer replies, timers) so that
# messaging imports none of them.
InboundHandler = Callable[[Message, Conversation], object]
_INBOUND_HANDLERS: list[InboundHandler] = []
# Handlers that may claim a message: they run first, and when one returns something
# other than None (the survey the reply answered) the message is theirs and the other
# handlers do not see it (a score typed for an NPS survey is no reply to a lead's offer).
_INBOUND_CLAIMERS: list[InboundHandler] = []


def _handler_name(func: InboundHandler) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def register_inbound_handler(func: InboundHandler, *, claims: bool = False) -> InboundHandler:
    """Run ``func(message, conversation)`` after each new inbound message is stored.

    With ``claims=True`` it runs before the others and a non-None answer keeps the
    message from them. Registering the same function twice registers it once.
    """
    handlers = _INBOUND_CLAIMERS if claims else _INBOUND_HANDLERS
    name = _handler_name(func)
    if all(_handler_name(h) != name for h in (*_INBOUND_CLAIMERS, *_INBOUND_HANDLERS)):
        handlers.append(func)
    return func


# --- values safe for every database -------------------------------------------------


def db_text(value: str) -> str:
    """``value`` without NUL characters and lone surrogates (PostgreSQL refuses both)."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def db_json(value: Any) -> Any:
    """A JSON value whose strings are db_text-safe (for jsonb)."""
    if isinstance(value, str):
        return db_text(value)
    if isinstance(value, dict):
        return {db_text(str(key)): db_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [db_json(item) for item in value]
    return value


# The INSERT statement of each (model, alias, conflict): compiled once, its parameters
# computed per row the way the compiler computes them (pre_save, get_db_prep_save).
_insert_statements: dict[tuple[type[Model], str, str, bool], str] = {}


def _insert_statement(model: type[Model], alias: str, conflict: str, with_pk: bool) -> str:
    key = (model, alias, conflict, with_pk)
    statement = _insert_statements.get(key)
    if statement is None:
        fields = _insert_fields(model, with_pk)
        query = InsertQuery(model)
        query.insert_values(fields, [model()])
        [(sql, _params)] = query.get_compiler(using=alias).as_sql()
        pk_column = connections[alias].ops.quote_name(model._meta.pk.column)
        statement = f"{sql} ON CONFLICT {conflict} DO NOTHING RETURNING {pk_column}"
        # Only plain placeholders can take parameters computed outside the compiler.
        if sql.count("%s") == len(fields) and not any(
            hasattr(field, "get_placeholder") for field in fields
        ):
            _insert_statements[key] = statement
    return statement


def _insert_fields(model: type[Model], with_pk: bool) -> list[Any]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated]
    return fields if with_pk else [f for f in fields if f is not meta.pk]


def _insert_or_ignore(obj: Model, *, conflict: str) -> bool:
    """``INSERT obj ... ON CONFLICT <conflict> DO NOTHING RETURNING pk``: True if inserted.

    One statement and no savepoint where ``get_or_create`` needs four; a concurrent
    insert of the same key waits for the other transaction and then does nothing.
    ``conflict`` names the unique index (its columns and, for a partial one, its
    condition), as both PostgreSQL and SQLite (3.35+) take it. Sets ``obj.pk``. The
    statement text is built once per model (this runs for every webhook and message).
    """
    model = type(obj)
    alias = router.db_for_write(model)
    connection = connections[alias]
    with_pk = obj.pk is not None
    fields = _insert_fields(model, with_pk)
    values = [field.pre_save(obj, add=True) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        _insert_statements.pop((model, alias, conflict, with_pk), None)
        query = InsertQuery(model)
        query.insert_values(fields, [obj])
        [(sql, params)] = query.get_compiler(using=alias).as_sql()
        pk_column = connection.ops.quote_name(model._meta.pk.column)
        statement = f"{sql} ON CONFLICT {conflict} DO NOTHING RETURNING {pk_column}"
    else:
        statement = _insert_statement(model, alias, conflict, with_pk)
        params = tuple(
            field.get_db_prep_save(value, connection=connection)
            for field, value in zip(fields, values, strict=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = alias
    return True


# --- raw events ------------------------------------------------------------------------


WEBHOOK_EVENT_CONFLICT = '("channel_id", "body_sha256") WHERE NOT ("body_sha256" = \'\')'


def webhook_event_record(
    *, channel: Channel, body: str, headers: Mapping[str, str], request_id: str = ""
) -> WebhookEvent | None:
    """Store a webhook body whose signature was verified; process it after commit.

    One ``INSERT ... ON CONFLICT DO NOTHING`` (committed on its own in autocommit, or
    with the caller's transaction). A redelivery, the same bytes again, inserts nothing
    and returns None: the first copy is (or will be) processed. Once committed, the
    event is processed according to the mode (see ``webhook_processing_mode``): with a
    broker, a drain task is woken (at most a few broker messages a second, whatever the
    rate of webhooks: the event row is the queue); without one, it is handed to the
    background threads when ``TELCODESK_WEBHOOK_PROCESS_THREADS`` is set, else
    processed right here, before returning.
    """
    raw = body.encode("utf-8")
    event = WebhookEvent(
        channel=channel,
        provider=webhook_provider_of(channel),
        received_at=timezone.now(),
        signature_valid=True,
        body=body,
        body_sha256=hashlib.sha256(raw).hexdigest(),
        # request.headers is case-insensitive; the names are stored as listed here.
        headers={name: headers[name] for name in HEADERS_KEPT if headers.get(name)},
        request_id=request_id[:64],
    )
    if not _insert_or_ignore(event, conflict=WEBHOOK_EVENT_CONFLICT):
        return None
    webhook_event_schedule(event_id=event.pk)
    return event


def webhook_provider_of(channel: Channel) -> str:
    """What a channel's stored webhook bodies are: the channel's kind, or for SMS its
    provider (``twilio_sms``), whose wire format ``webhooks`` then parses."""
    if channel.kind == Channel.Kind.SMS:
        return channel.sms_provider or SmsProvider.TWILIO
    return channel.kind


def webhook_event_schedule(*, event_id: int) -> None:
    """Have a stored event processed once the current transaction commits."""
    from telcodesk.messaging import webhooks

    mode = webhooks.webhook_processing_mode()
    if mode == webhooks.ProcessingMode.WORKERS:
        from telcodesk.messaging.tasks import drain_wake

        drain_wake.wake_on_commit()
    elif mode == webhooks.ProcessingMode.THREADS:
        transaction.on_commit(lambda: webhooks.webhook_event_submit(event_id=event_id))
    else:
        # Embedded mode: what the eager Celery task would do, without its overhead.
        transaction.on_commit(lambda: webhooks.webhook_event_process(event_id=event_id))


# --- conversations and inbound messages -------------------------------------------------


CONVERSATION_CONFLICT = '("channel_id", "external_address")'
# The partial unique index message_unique_provider_id, written as Django creates it.
MESSAGE_CONFLICT = '("channel_id", "provider_message_id") WHERE NOT ("provider_message_id" = \'\')'


def conversation_for_inbound(*, channel: Channel, event: InboundMessage) -> Conversation:
    """The conversation with the sender of ``event``, created on the first message.

    A known conversation is one ``SELECT`` (with its customer); a new one an ``INSERT
    ... ON CONFLICT DO NOTHING`` (and a ``SELECT`` when another worker created it first).
    The returned conversation carries ``channel`` (and its organization) as given.
    """
    address = db_text(event.wa_id or event.user_id)[:254]
    found = Conversation.objects.select_related("customer").filter(
        channel=channel, external_address=address
    )
    conversation = found.first()
    if conversation is None:
        forms = whatsapp_id_phone_forms(event.wa_id, region=channel.organization.country or "US")
        conversation = Conversation(
            organization_id=channel.organization_id,
            channel=channel,
            external_address=address,
            display_name=db_text(event.profile_name)[:200],
            external_user_id=db_text(event.user_id)[:128],
            phone_e164=forms[0] if forms else "",
        )
        if not _insert_or_ignore(conversation, conflict=CONVERSATION_CONFLICT):
            conversation = found.get()
    elif event.profile_name and conversation.display_name != event.profile_name:
        conversation.display_name = db_text(event.profile_name)[:200]
        conversation.save(update_fields=["display_name", "updated_at"])
    # Spare the handlers (conversation.channel.organization) two queries.
    conversation.channel = channel
    if conversation.organization_id == channel.organization_id:
        conversation.organization = channel.organization
    return conversation


def _conversation_link_customer(
    *, conversation: Conversation, wa_id: str, channel: Channel
) -> None:
    if conversation.customer_id is not None or not wa_id:
        return
    customer = customer_for_whatsapp_id(
        organization=channel.organization, wa_id=wa_id, remember_miss=True
    )
    if customer is None:
        return
    # Only if no one linked it meanwhile (an agent in the inbox, another worker).
    linked = Conversation.objects.filter(pk=conversation.pk, customer__isnull=True).update(
        customer=customer, updated_at=timezone.now()
    )
    if linked:
        conversation.customer = customer
    else:
        conversation.refresh_from_db(fields=["customer"])


def _message_fields(event: InboundMessage) -> dict[str, Any]:
    error = event.error
    return {
        "kind": event.kind,
        "body": db_text(event.body),
        "payload": db_json(event.raw),
        "media_id": db_text(event.media_id)[:128],
        "media_mime_type": db_text(event.media_mime_type)[:128],
        "media_filename": db_text(event.media_filename)[:255],
        "media_caption": db_text(event.media_caption),
        "reply_to_provider_id": db_text(event.reply_to)[:191],
        "reply_payload": db_text(event.reply_payload)[:256],
        "error_code": error.code if error else None,
        "error_title": db_text(error.title)[:255] if error else "",
        "error_details": db_text(error.details) if error else "",
    }


@transaction.atomic(savepoint=False)
def inbound_message_record(
    *, channel: Channel, event: InboundMessage, webhook_event: WebhookEvent | None = None
) -> tuple[Message, bool]:
    """Store an inbound message once, whatever the number of deliveries.

    Returns the message and whether it was new. Only a new message bumps the
    conversation (unread count, last inbound time, reopened) and writes the timeline;
    two workers racing on the same message meet at the unique constraint: the message
    is inserted with ``ON CONFLICT DO NOTHING``, so the loser waits for the winner's
    commit, inserts nothing and reads the winner's row. Runs in the caller's
    transaction (no savepoint): an error rolls back the caller's work too.
    """
    conversation = conversation_for_inbound(channel=channel, event=event)
    received_at = event.sent_at or timezone.now()
    provider_message_id = db_text(event.provider_message_id)[:191]
    message = Message(
        organization_id=channel.organization_id,
        channel=channel,
        provider_message_id=provider_message_id,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        status=MessageStatus.RECEIVED,
        status_at=received_at,
        sent_at=received_at,
        webhook_event=webhook_event,
        **_message_fields(event),
    )
    if not provider_message_id:
        message.save(force_insert=True)  # no id to be idempotent on (Meta always sends one)
    elif not _insert_or_ignore(message, conflict=MESSAGE_CONFLICT):
        existing = Message.objects.get(channel=channel, provider_message_id=provider_message_id)
        return existing, False
    if event.kind == Message.Kind.REVOKE and event.reply_to:
        Message.objects.filter(channel=channel, provider_message_id=event.reply_to).update(
            revoked_at=received_at, updated_at=timezone.now()
        )
    if event.kind == Message.Kind.EDIT and event.reply_to:
        Message.objects.filter(channel=channel, provider_message_id=event.reply_to).update(
            body=message.body,
            media_caption=message.media_caption,
            edited_at=received_at,
            updated_at=timezone.now(),
        )
    if event.kind not in NOT_CONVERSATIONAL:
        conversation_inbound_bump(conversation=conversation, received_at=received_at)
    _conversation_link_customer(conversation=conversation, wa_id=event.wa_id, channel=channel)
    if event.kind == Message.Kind.TEXT and is_opt_out(channel=channel, text=message.body):
        conversation_opt_out_record(conversation=conversation, message=message, at=received_at)
    if conversation.customer is not None and event.kind not in NOT_CONVERSATIONAL:
        timeline_add(
            actor=None,
            customer=conversation.customer,
            kind=TimelineEvent.Kind.MESSAGE,
            message=RECEIVED_TIMELINE_TEXTS.get(channel.kind, RECEIVED_WHATSAPP),
            params={
                "kind_label": Message.Kind(message.kind).label,
                "phone": conversation.phone_e164 or conversation.external_address,
                "preview": _preview(message),
            },
            data={
                "channel_id": channel.pk,
                "conversation_id": conversation.pk,
                "message_id": message.pk,
            },
            at=received_at,
        )
    if event.kind not in NOT_CONVERSATIONAL:
        inbound_handlers_run(message, conversation)
    return message, True


RECEIVED_WHATSAPP = gettext_noop("WhatsApp %(kind_label)s received from %(phone)s: %(preview)s")
# The timeline entry of a new inbound message, by the channel's kind.
RECEIVED_TIMELINE_TEXTS: dict[str, str] = {
    Channel.Kind.WHATSAPP_CLOUD: RECEIVED_WHATSAPP,
    Channel.Kind.SMS: gettext_noop("SMS %(kind_label)s received from %(phone)s: %(preview)s"),
}


def conversation_inbound_bump(*, conversation: Conversation, received_at: datetime) -> None:
    """A new message from the customer: one more unread, reopened, last inbound time
    (never moved backwards). One ``UPDATE``, written out: it runs for every inbound
    message, and the ORM's CASE expression costs more to build than the statement to run.
    """
    ops = connection.ops
    table = ops.quote_name(Conversation._meta.db_table)
    now, at = (
        ops.adapt_datetimefield_value(timezone.now()),
        ops.adapt_datetimefield_value(received_at),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET unread_count = unread_count + 1, status = %s, "
            "updated_at = %s, last_inbound_at = CASE WHEN last_inbound_at IS NULL "
            "OR last_inbound_at < %s THEN %s ELSE last_inbound_at END WHERE id = %s",
            [Conversation.Status.OPEN.value, now, at, at, conversation.pk],
        )


def inbound_handlers_run(message: Message, conversation: Conversation) -> None:
    """Run the registered inbound handlers on a new conversational inbound message
    (any channel: WhatsApp, e-mail). Call inside the transaction that stored it."""
    for claimer in list(_INBOUND_CLAIMERS):
        if claimer(message, conversation) is not None:
            return
    for handler in list(_INBOUND_HANDLERS):
        handler(message, conversation)


def conversation_reply_await(*, conversation: Conversation, until: datetime) -> None:
    """Record that an app waits for the customer's reply on ``conversation`` until
    ``until`` (extends, never shortens, the current wait). Call in the transaction of
    the cause (the survey was sent)."""
    Conversation.objects.filter(pk=conversation.pk).filter(
        Q(reply_awaited_until__isnull=True) | Q(reply_awaited_until__lt=until)
    ).update(reply_awaited_until=until)
    if conversation.reply_awaited_until is None or conversation.reply_awaited_until < until:
        conversation.reply_awaited_until = until


def is_opt_out(*, channel: Channel, text: str) -> bool:
    """Whether ``text`` is one of the channel's opt-out keywords ("BAJA", "stop!"...)."""
    word = text.strip().strip(".!¡ ").casefold()
    return bool(word) and word in {str(k).strip().casefold() for k in channel.opt_out_keywords}


# Which consent an opt-out on a channel of this kind withdraws, and how the timeline says it.
OPT_OUT_CONSENTS: dict[str, tuple[str, str]] = {
    Channel.Kind.WHATSAPP_CLOUD: (
        "consent_whatsapp",
        gettext_noop("WhatsApp marketing consent withdrawn: the customer wrote “%(keyword)s”."),
    ),
    Channel.Kind.EMAIL: (
        "consent_email",
        gettext_noop("E-mail marketing consent withdrawn: the customer wrote “%(keyword)s”."),
    ),
    Channel.Kind.SMS: (
        "consent_sms",
        gettext_noop("SMS marketing consent withdrawn: the customer wrote “%(keyword)s”."),
    ),
}


def conversation_opt_out_record(
    *,
    conversation: Conversation,
    message: Message,
    at: datetime,
    keyword: str = "",
    timeline_text: str = "",
) -> bool:
    """Withdraw marketing consent after an opt-out keyword; True when it changed anything.

    Recorded on the conversation (even with no customer linked) and, when a customer is
    linked and had consented on this channel's kind (WhatsApp, e-mail or SMS), on the
    customer with a timeline entry (``timeline_text``, a gettext_noop string with an
    optional ``%(keyword)s``, replaces the default "the customer wrote" entry: the
    provider may be the one reporting the opt-out).
    """
    now = timezone.now()
    changed = bool(
        Conversation.objects.filter(pk=conversation.pk, marketing_opt_out_at__isnull=True).update(
            marketing_opt_out_at=at, updated_at=now
        )
    )
    conversation.refresh_from_db(fields=["marketing_opt_out_at", "customer"])
    customer = conversation.customer
    consent = OPT_OUT_CONSENTS.get(conversation.channel.kind)
    if customer is None or consent is None:
        return changed
    field, text = consent
    text = timeline_text or text
    withdrawn = Customer.objects.filter(pk=customer.pk, **{field: True}).update(
        **{field: False}, consent_updated_at=now, updated_at=now
    )
    if withdrawn:
        customer.refresh_from_db(fields=[field, "consent_updated_at"])
        timeline_add(
            actor=None,
            customer=customer,
            kind=TimelineEvent.Kind.CHANGE,
            message=text,
            params={"keyword": (keyword or message.body).strip()[:40]},
            data={"conversation_id": conversation.pk, "message_id": message.pk},
            at=at,
        )
    return changed or bool(withdrawn)


def _preview(message: Message) -> str:
    text = " ".join((message.body or message.media_filename).split())
    if len(text) > PREVIEW_LENGTH:
        text = text[: PREVIEW_LENGTH - 1] + "…"
    return text


# --- statuses of outbound messages ---------------------------------------------------------


def _is_newer(status: str, at: datetime, *, than_status: str, than_at: datetime | None) -> bool:
    if than_at is None:
        return True
    return (at, STATUS_RANK.get(status, -1)) > (than_at, STATUS_RANK.get(than_status, -1))


def _message_status_apply(*, message_id: int, status_event: MessageStatusEvent) -> bool:
    """Apply a provider status to its message if it is the latest one.

    WhatsApp: the latest by the provider's timestamp (rank breaks ties). SMS: Twilio's
    callbacks carry no timestamp and may arrive in any order, so the one furthest in the
    lifecycle wins (queued < sent < delivered < failed/undelivered). A status that is
    not newer (out of order, or redelivered) is kept in the history but does not change
    the message. Call inside a transaction.
    """
    status = PROVIDER_STATUSES.get(status_event.status)
    if status is None:
        return False
    message = (
        Message.objects.select_for_update(of=("self",)).select_related("channel").get(pk=message_id)
    )
    if message.channel.kind == Channel.Kind.SMS:
        newer = STATUS_RANK.get(status, -1) > STATUS_RANK.get(message.status, -1)
    else:
        newer = _is_newer(
            status,
            status_event.occurred_at,
            than_status=message.status,
            than_at=message.status_at,
        )
    if not newer:
        return False
    message.status = status
    message.status_at = status_event.occurred_at
    if status == MessageStatus.FAILED:
        message.error_code = status_event.error_code
        message.error_title = status_event.error_title
        message.error_details = status_event.error_details
    else:
        message.error_code = None
        message.error_title = ""
        message.error_details = ""
    if status != MessageStatus.FAILED and message.sent_at is None:
        message.sent_at = status_event.occurred_at
    message.save(
        update_fields=[
            "status",
            "status_at",
            "error_code",
            "error_title",
            "error_details",
            "sent_at",
            "updated_at",
        ]
    )
    return True


@transaction.atomic
def message_status_record(
    *, channel: Channel, event: StatusUpdate, webhook_event: WebhookEvent | None = None
) -> tuple[MessageStatusEvent, bool]:
    """Keep a provider status in the history and apply it to its outbound message.

    When the message is not known yet (the status raced the send's response), the
    status stays with ``message`` empty; message_provider_id_assign applies it later.
    Returns the status event and whether it was new.
    """
    provider_id = db_text(event.provider_message_id)[:191]
    message_id = (
        Message.objects.filter(
            channel=channel,
            provider_message_id=provider_id,
            direction=Message.Direction.OUTBOUND,
        )
        .values_list("pk", flat=True)
        .first()
    )
    error = event.error
    status_event, created = MessageStatusEvent.objects.get_or_create(
        channel=channel,
        provider_message_id=provider_id,
        status=db_text(event.status)[:24],
        occurred_at=event.occurred_at or timezone.now(),
        defaults={
            "organization_id": channel.organization_id,
            "message_id": message_id,
            "recipient_id": db_text(event.recipient_id)[:64],
            "error_code": error.code if error else None,
            "error_title": db_text(error.title)[:255] if error else "",
            "error_details": db_text(error.details) if error else "",
            "payload": db_json(event.raw),
            "webhook_event": webhook_event,
        },
    )
    if created and message_id is not None:
        _message_status_apply(message_id=message_id, status_event=status_event)
    return status_event, created


@transaction.atomic
def message_provider_id_assign(*, message: Message, provider_message_id: str) -> Message:
    """Record the provider's id of a sent message and apply statuses that came first.

    The sending code calls this with the id from the provider's answer. Statuses that
    arrived before (kept with no message) are linked now, and the latest one by
    timestamp becomes the message's status.
    """
    message.provider_message_id = provider_message_id
    message.save(update_fields=["provider_message_id", "updated_at"])
    MessageStatusEvent.objects.filter(
        channel_id=message.channel_id, provider_message_id=provider_message_id, message=None
    ).update(message=message, updated_at=timezone.now())
    for status_event in message.status_events.order_by("occurred_at", "id"):
        _message_status_apply(message_id=message.pk, status_event=status_event)
    message.refresh_from_db()
    return message


# --- templates and preferences ------------------------------------------------------------


@transaction.atomic
def template_status_record(
    *, channel: Channel, event: TemplateStatus, webhook_event: WebhookEvent | None = None
) -> tuple[TemplateStatusEvent, bool]:
    """Keep a template update and apply a status change to the matching templates.

    A redelivery of the same update is not added (nor applied) twice.
    """
    status_event, created = TemplateStatusEvent.objects.get_or_create(
        channel=channel,
        field=db_text(event.field)[:64],
        provider_template_id=db_text(event.template_id)[:64],
        event=db_text(event.event)[:64],
        category=db_text(event.category)[:32],
        quality_score=db_text(event.quality_score)[:16],
        occurred_at=event.occurred_at,
        defaults={
            "organization_id": channel.organization_id,
            "name": db_text(event.name)[:512],
            "language": db_text(event.language)[:16],
            "reason": db_text(event.reason),
            "payload": db_json(event.raw),
            "webhook_event": webhook_event,
        },
    )
    if created:
        template_status_apply(status_event=status_event)
    return status_event, created


# Meta's template events and the status each one gives the template.
TEMPLATE_EVENT_STATUSES: dict[str, str] = {
    "APPROVED": Template.Status.APPROVED,
    "REJECTED": Template.Status.REJECTED,
    "PAUSED": Template.Status.PAUSED,
    "PENDING": Template.Status.PENDING,
    "IN_APPEAL": Template.Status.PENDING,
    "PENDING_DELETION": Template.Status.PAUSED,
    "DISABLED": Template.Status.REJECTED,
    "FLAGGED": Template.Status.APPROVED,
    "REINSTATED": Template.Status.APPROVED,
}


def template_status_apply(*, status_event: TemplateStatusEvent) -> int:
    """Set the status of the templates an update names (by id, or name and language).

    An update older than the template's last one changes nothing. Returns how many
    templates changed.
    """
    status = TEMPLATE_EVENT_STATUSES.get(status_event.event.upper())
    if status_event.field != "message_template_status_update" or status is None:
        return 0
    at = status_event.occurred_at or status_event.created_at
    by_name = Q(name=status_event.name, language=status_event.language)
    if status_event.provider_template_id:
        by_name = by_name | Q(provider_template_id=status_event.provider_template_id)
    templates = Template.objects.filter(
        Q(channel_id=status_event.channel_id) | Q(channel__isnull=True),
        by_name,
        organization_id=status_event.organization_id,
    ).filter(Q(status_at__isnull=True) | Q(status_at__lte=at))
    fields: dict[str, Any] = {
        "status": status,
        "status_reason": status_event.reason if status_event.reason.upper() != "NONE" else "",
        "status_at": at,
        "updated_at": timezone.now(),
    }
    changed = 0
    for template in templates:
        if status_event.provider_template_id and not template.provider_template_id:
            template.provider_template_id = status_event.provider_template_id
            template.save(update_fields=["provider_template_id", "updated_at"])
        changed += Template.objects.filter(pk=template.pk).update(**fields)
    return changed


@transaction.atomic
def marketing_preference_record(
    *, channel: Channel, event: MarketingPreference, webhook_event: WebhookEvent | None = None
) -> tuple[MarketingPreferenceEvent, bool]:
    """Keep a user's marketing preference (stop / resume) as reported by Meta.

    The consent increment turns "stop" into a withdrawn marketing consent; until then
    the record is what automations and campaigns must check.
    """
    return MarketingPreferenceEvent.objects.get_or_create(
        channel=channel,
        wa_id=db_text(event.wa_id)[:64],
        value=db_text(event.value)[:32],
        occurred_at=event.occurred_at,
        defaults={
            "organization_id": channel.organization_id,
            "category": db_text(event.category)[:64],
            "detail": db_text(event.detail),
            "payload": db_json(event.raw),
            "webhook_event": webhook_event,
        },
    )
