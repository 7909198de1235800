"""The outbox worker: claim a queued outbound message, send it, record the outcome.

A worker claims a message with a conditional update (``queued`` → ``sending``, checking
the row count), so two workers given the same id send it once. The HTTP call happens
outside any transaction. Retryable failures (130429, 131056, 5xx, timeouts) put the
row back to ``queued`` with ``next_attempt_at`` and a timer that wakes it then
(bounded attempts, exponential backoff); other errors fail the message for good.

The sender depends on the channel's kind: the Cloud API client for WhatsApp, SMTP for
e-mail (``providers.smtp``: a 4xx reply or a dropped connection retries, 5xx fails),
Twilio's REST API for SMS (``providers.twilio_sms``: 429, 20429, 5xx and timeouts
retry; 21211 invalid number, 21614 not a mobile and other 4xx fail at once; 21610, an
unsubscribed recipient, fails and records the opt-out).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from telcodesk.automation.services import timer_schedule
from telcodesk.core.tasks import enqueue_on_commit
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    Message,
    MessageStatus,
    MessageStatusEvent,
)
from telcodesk.messaging.providers.smtp import SmtpSender
from telcodesk.messaging.providers.twilio_sms import UNSUBSCRIBED, TwilioSmsClient
from telcodesk.messaging.providers.whatsapp_cloud import (
    OUTSIDE_WINDOW_CODE,
    ProviderError,
    SendResult,
    WhatsAppCloudClient,
)
from telcodesk.messaging.ratelimit import send_slot_wait
from telcodesk.messaging.services import message_provider_id_assign

logger = logging.getLogger("telcodesk.messaging")

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 15 * 60
THROTTLE_RETRY_SECONDS = 1
STALE_SENDING_SECONDS = 5 * 60
TIMER_KIND = "messaging.outbox_send"
# The Cloud API's free field echoed back in status webhooks (max 512 characters).
CALLBACK_DATA_FIELD = "biz_opaque_callback_data"
# Stored in English, translated where shown (like the provider's own titles).
NEEDS_TEMPLATE_TITLE = gettext_noop("needs an approved template")


class MessageSender(Protocol):
    def send(self, payload: dict[str, Any]) -> SendResult: ...


@dataclass(frozen=True)
class FailureDecision:
    retry: bool
    delay: timedelta
    title: str


def retry_delay(attempts: int) -> timedelta:
    """Backoff after ``attempts`` failed attempts: 5 s, 20 s, 80 s... capped at 15 min."""
    seconds = BACKOFF_BASE_SECONDS * 4 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_MAX_SECONDS))


def failure_decision(error: ProviderError, *, attempts: int) -> FailureDecision:
    """What to do after a failed attempt: retry later (when) or fail with which title."""
    if error.code == OUTSIDE_WINDOW_CODE:
        return FailureDecision(retry=False, delay=timedelta(0), title=NEEDS_TEMPLATE_TITLE)
    if error.retryable and attempts < MAX_ATTEMPTS:
        return FailureDecision(retry=True, delay=retry_delay(attempts), title=error.title)
    return FailureDecision(retry=False, delay=timedelta(0), title=error.title)


def client_for_channel(channel: Channel) -> MessageSender:
    """The sender for a channel's kind: SMTP for e-mail, Twilio for SMS, the Cloud API
    client otherwise."""
    if channel.kind == Channel.Kind.SMS:
        return TwilioSmsClient(
            base_url=channel.sms_api_base_url,
            account_sid=channel.sms_account_sid,
            auth_token=channel.sms_auth_token,
            timeout=float(getattr(settings, "TELCODESK_SMS_TIMEOUT_SECONDS", 10)),
        )
    if channel.kind == Channel.Kind.EMAIL:
        return SmtpSender(
            host=channel.smtp_host,
            port=int(channel.smtp_port),
            security=channel.smtp_security,
            username=channel.smtp_username,
            password=channel.smtp_password,
            envelope_from=channel.email_from_address,
            timeout=float(getattr(settings, "TELCODESK_EMAIL_TIMEOUT_SECONDS", 20)),
        )
    return WhatsAppCloudClient(
        base_url=channel.api_base_url,
        version=channel.api_version,
        phone_number_id=channel.phone_number_id,
        access_token=channel.access_token,
        timeout=float(getattr(settings, "TELCODESK_WHATSAPP_TIMEOUT_SECONDS", 10)),
    )


def outbox_message_claim(*, message_id: int, now: datetime) -> bool:
    """Claim a due queued message for sending (True for exactly one caller)."""
    return (
        Message.objects.filter(
            pk=message_id, direction=Message.Direction.OUTBOUND, status=MessageStatus.QUEUED
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            status=MessageStatus.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
        == 1
    )


def _wake_at(message: Message, due_at: datetime) -> None:
    """Put a timer that re-enqueues the message at ``due_at`` (durable retry)."""
    timer_schedule(
        organization=message.organization,
        kind=TIMER_KIND,
        target_type="messaging.message",
        target_id=message.pk,
        due_at=due_at,
        dedupe_key=f"outbox:{message.pk}:{message.attempts}:{due_at.timestamp():.0f}",
    )


@transaction.atomic
def _requeue(
    message: Message,
    *,
    due_at: datetime,
    count_attempt: bool,
    error: ProviderError | None,
    payload: dict[str, Any] | None = None,
) -> None:
    fields: dict[str, object] = {
        "status": MessageStatus.QUEUED,
        "next_attempt_at": due_at,
        "updated_at": timezone.now(),
    }
    if not count_attempt:
        fields["attempts"] = F("attempts") - 1
    if error is not None:
        fields.update(
            error_code=error.code, error_title=error.title[:255], error_details=error.details
        )
    if payload is not None:
        fields["payload"] = payload
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(**fields)
    message.refresh_from_db(fields=["attempts"])
    _wake_at(message, due_at)


def _fail(
    message: Message,
    *,
    error: ProviderError,
    title: str,
    payload: dict[str, Any] | None = None,
) -> None:
    now = timezone.now()
    fields: dict[str, object] = {
        "status": MessageStatus.FAILED,
        "status_at": now,
        "error_code": error.code,
        "error_title": title[:255],
        "error_details": error.details or error.title,
        "next_attempt_at": None,
        "updated_at": now,
    }
    if payload is not None:
        fields["payload"] = payload
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(**fields)


def _record_sent(message: Message, wamid: str, *, payload: dict[str, Any] | None = None) -> None:
    """Sent, the provider's id and the payload sent in one ``UPDATE``, then the
    conversation; statuses that arrived before the answer are applied only if any."""
    now = timezone.now()
    fields: dict[str, object] = {
        "status": MessageStatus.SENT,
        # Whole seconds, like the provider's timestamps: a "delivered" in the same
        # second still counts as newer than our "sent".
        "status_at": now.replace(microsecond=0),
        "provider_message_id": wamid,
        "next_attempt_at": None,
        "error_code": None,
        "error_title": "",
        "error_details": "",
        "updated_at": now,
    }
    if payload is not None:
        fields["payload"] = payload
    with transaction.atomic():
        recorded = Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            **fields
        )
        if (
            not recorded  # no longer ours (requeued as stale): record the id the long way
            or MessageStatusEvent.objects.filter(
                channel_id=message.channel_id, provider_message_id=wamid, message=None
            ).exists()
        ):
            if not recorded and payload is not None:
                Message.objects.filter(pk=message.pk).update(payload=payload)
            message.refresh_from_db()
            message_provider_id_assign(message=message, provider_message_id=wamid)
        Conversation.objects.filter(pk=message.conversation_id).filter(
            Q(last_outbound_at__isnull=True) | Q(last_outbound_at__lt=now)
        ).update(last_outbound_at=now)


def _payload_to_send(message: Message) -> dict[str, Any] | None:
    """The body with our idempotency key in ``biz_opaque_callback_data``, if it changes.

    Meta echoes the field in the status webhooks of the message, so a send repeated
    after a crash (the at-least-once edge of ``outbox_sweep``) is recognisable by the
    key. The body is stored on the row with the outcome (the same ``UPDATE``), so the
    payload kept is the payload sent. None when there is nothing to add (e-mail, or
    the key is already there).
    """
    if (
        message.channel.kind != Channel.Kind.WHATSAPP_CLOUD
        or not message.idempotency_key
        or message.payload.get(CALLBACK_DATA_FIELD) == message.idempotency_key
    ):
        return None
    return {**message.payload, CALLBACK_DATA_FIELD: message.idempotency_key}


def outbox_message_send(
    *, message_id: int, client: MessageSender | None = None, max_wait_seconds: float = 2.0
) -> str:
    """Send one queued message if it is due and nobody else claimed it.

    Returns the outcome: "sent", "retry", "failed", "throttled" or "skipped".
    """
    now = timezone.now()
    if not outbox_message_claim(message_id=message_id, now=now):
        return "skipped"
    # The organization is read only on the rare requeue paths (its timer): lazily.
    message = Message.objects.select_related("channel").get(pk=message_id)
    channel = message.channel
    if not send_slot_wait(channel=channel, max_wait_seconds=max_wait_seconds):
        due = timezone.now() + timedelta(seconds=THROTTLE_RETRY_SECONDS)
        _requeue(message, due_at=due, count_attempt=False, error=None)
        return "throttled"
    payload = _payload_to_send(message)
    try:
        result = (client or client_for_channel(channel)).send(
            payload if payload is not None else message.payload
        )
    except ProviderError as error:
        decision = failure_decision(error, attempts=message.attempts)
        logger.info(
            "outbox send failed",
            extra={"message_id": message.pk, "code": error.code, "retry": decision.retry},
        )
        if decision.retry:
            _requeue(
                message,
                due_at=timezone.now() + decision.delay,
                count_attempt=True,
                error=error,
                payload=payload,
            )
            return "retry"
        _fail(message, error=error, title=decision.title, payload=payload)
        if channel.kind == Channel.Kind.SMS and error.code == UNSUBSCRIBED:
            from telcodesk.messaging.sms import sms_unsubscribed_record

            sms_unsubscribed_record(message=message)
        return "failed"
    _record_sent(message, result.wamid, payload=payload)
    return "sent"


def outbox_stale_requeue(
    *, now: datetime | None = None, stale_after: timedelta | None = None
) -> int:
    """Put back to ``queued`` the messages claimed more than ``stale_after`` ago (default
    STALE_SENDING_SECONDS) and never recorded as sent: their worker died. Returns how
    many. A shorter ``stale_after`` is only safe when no other worker is sending.
    """
    now = now or timezone.now()
    stale_after = (
        stale_after if stale_after is not None else timedelta(seconds=STALE_SENDING_SECONDS)
    )
    return Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status=MessageStatus.SENDING,
        provider_message_id="",
        claimed_at__lt=now - stale_after,
    ).update(status=MessageStatus.QUEUED, next_attempt_at=now, updated_at=now)


def outbox_due_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of the queued outbound messages due now, oldest due first."""
    return list(
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            status=MessageStatus.QUEUED,
            next_attempt_at__lte=now or timezone.now(),
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Re-enqueue what a lost broker message or a killed worker left behind.

    Messages stuck in ``sending`` longer than STALE_SENDING_SECONDS without a provider
    id go back to ``queued`` (the provider may have got the first try: WhatsApp has no
    idempotency key, so this is the at-least-once edge; the repeat carries the same key
    in ``biz_opaque_callback_data``, and an e-mail the same Message-ID), and due queued
    messages are
    enqueued. Returns how many were enqueued. Run from the periodic tick.
    """
    from telcodesk.messaging.tasks import send_outbox_message

    now = now or timezone.now()
    outbox_stale_requeue(now=now)
    ids = outbox_due_ids(now=now, limit=limit)
    with transaction.atomic():
        for message_id in ids:
            enqueue_on_commit(send_outbox_message, message_id)
    return len(ids)
