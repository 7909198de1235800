"""Messaging tasks: thin, take ids, idempotent."""

from __future__ import annotations

from celery import shared_task

from telcodesk.messaging.webhooks import webhook_event_process, webhook_events_process_pending


@shared_task(name="telcodesk.messaging.process_webhook_event")
def process_webhook_event(event_id: int) -> str | None:
    """Apply one stored webhook event (enqueued on commit by the webhook view)."""
    event = webhook_event_process(event_id=event_id)
    return event.state if event is not None else None


@shared_task(name="telcodesk.messaging.process_pending_webhook_events")
def process_pending_webhook_events() -> int:
    """The sweep: events still pending a minute after they arrived (lost or crashed)."""
    return webhook_events_process_pending()
