"""Messaging tasks: thin, take ids, idempotent."""

from __future__ import annotations

from celery import shared_task

from telcodesk.core.tasks import CoalescedWake
from telcodesk.messaging.webhooks import (
    webhook_event_process,
    webhook_events_drain,
    webhook_events_process_pending,
)


@shared_task(name="telcodesk.messaging.process_webhook_event")
def process_webhook_event(event_id: int) -> str | None:
    """Apply one stored webhook event (enqueued on commit by the webhook view)."""
    event = webhook_event_process(event_id=event_id)
    return event.state if event is not None else None


@shared_task(name="telcodesk.messaging.process_pending_webhook_events")
def process_pending_webhook_events() -> int:
    """The sweep: events still pending a minute after they arrived (lost or crashed)."""
    return webhook_events_process_pending()


@shared_task(name="telcodesk.messaging.send_outbox_message")
def send_outbox_message(message_id: int) -> str:
    """Send one queued outbound message (enqueued on commit by the send services)."""
    from telcodesk.messaging.outbox import outbox_message_send

    return outbox_message_send(message_id=message_id)


@shared_task(name="telcodesk.messaging.sweep_outbox")
def sweep_outbox() -> int:
    """Re-enqueue due or stuck outbox messages (schedule it on the periodic tick)."""
    from telcodesk.messaging.outbox import outbox_sweep

    return outbox_sweep()


@shared_task(name="telcodesk.messaging.poll_email")
def poll_email() -> int:
    """Fetch unseen mails over IMAP for every e-mail channel that has IMAP settings.

    Scheduled by beat when TELCODESK_EMAIL_POLL_SECONDS is set (see docs/email.md).
    """
    from telcodesk.messaging.email import email_channels_poll

    return sum(result.fetched for result in email_channels_poll())


@shared_task(name="telcodesk.messaging.drain_webhook_events")
def drain_webhook_events() -> int:
    """Apply pending webhook events in batches (woken by the webhook view, see
    ``drain_wake``); when time runs out with events left, it sends itself again."""
    handled, more = webhook_events_drain()
    if more:
        drain_webhook_events.delay()
    return handled


# One broker message per process every 20 ms at most, however fast webhooks arrive.
drain_wake = CoalescedWake(drain_webhook_events, interval=0.02)
