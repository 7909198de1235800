"""Processing stored webhook events (after the POST that stored them has answered).

A worker claims a pending event by locking its row (``SELECT ... FOR UPDATE SKIP
LOCKED`` on PostgreSQL; SQLite serialises writers anyway), applies every parsed event
in the same transaction and marks it processed. A crash rolls everything back and the
event stays pending for the sweep (``webhook_events_process_pending``); an error marks
it failed with the reason, and the webhook has long been answered 200 either way.

Without a broker, ``TELCODESK_WEBHOOK_PROCESS_THREADS`` (opt-in) hands the stored
event's id to a small pool of threads in the web process (``webhook_event_submit``)
instead of processing it before the response. The queue is bounded; when it is full
the event is processed in the request, as without the setting. The event is already
committed when its id is queued, so a crash loses only the in-memory queue: the sweep
processes what stayed pending.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from telcodesk.messaging import services
from telcodesk.messaging.models import Channel, WebhookEvent
from telcodesk.messaging.providers.whatsapp_cloud import (
    InboundMessage,
    MarketingPreference,
    ParsedEvent,
    StatusUpdate,
    TemplateStatus,
    Unhandled,
    event_label,
    parse_body,
    parse_webhook,
)
from telcodesk.messaging.selectors import channel_for_phone_number

logger = logging.getLogger("telcodesk.messaging")

MAX_ERROR_LENGTH = 2000


def _apply(event: ParsedEvent, *, channel: Channel, webhook_event: WebhookEvent) -> str:
    """Apply one parsed event; returns "" when applied, else why it was not."""
    if isinstance(event, Unhandled):
        return f"{event.field or 'body'}: {event.reason}"
    # Template updates concern the whole WhatsApp Business Account: the receiving channel.
    phone_number_id = "" if isinstance(event, TemplateStatus) else event.phone_number_id
    target = channel_for_phone_number(receiving=channel, phone_number_id=phone_number_id)
    if target is None:
        return f"phone number {phone_number_id} is not this app's channel"
    if isinstance(event, InboundMessage):
        services.inbound_message_record(channel=target, event=event, webhook_event=webhook_event)
    elif isinstance(event, StatusUpdate):
        services.message_status_record(channel=target, event=event, webhook_event=webhook_event)
    elif isinstance(event, TemplateStatus):
        services.template_status_record(channel=target, event=event, webhook_event=webhook_event)
    elif isinstance(event, MarketingPreference):
        services.marketing_preference_record(
            channel=target, event=event, webhook_event=webhook_event
        )
    return ""


def _apply_whatsapp(event: WebhookEvent) -> tuple[list[str], list[str], int]:
    """Apply a Cloud API body: (labels of what it held, notes, how many were applied)."""
    parsed = parse_webhook(parse_body(event.body.encode("utf-8")))
    notes: list[str] = []
    applied = 0
    if event.channel is None:
        notes.append("the channel was deleted")
    else:
        for item in parsed:
            note = _apply(item, channel=event.channel, webhook_event=event)
            if note:
                notes.append(note)
            else:
                applied += 1
    return [event_label(item) for item in parsed], notes, applied


def webhook_event_process(*, event_id: int) -> WebhookEvent | None:
    """Apply a pending webhook event; None if it is not pending (done, or claimed).

    Idempotent: a second call for the same event does nothing, and applying the same
    body stored twice (a redelivery) creates no second message.
    """
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("channel__organization")
                .filter(pk=event_id, state=WebhookEvent.State.PENDING)
                .first()
            )
            if event is None:
                return None
            if event.provider == Channel.Kind.EMAIL:
                from telcodesk.messaging.email import email_event_apply

                kinds, notes, applied = email_event_apply(event)
            else:
                kinds, notes, applied = _apply_whatsapp(event)
            event.kinds = kinds
            event.state = WebhookEvent.State.PROCESSED if applied else WebhookEvent.State.IGNORED
            event.error = "\n".join(dict.fromkeys(notes))[:MAX_ERROR_LENGTH]
            event.attempts += 1
            event.processed_at = timezone.now()
            event.save(update_fields=["kinds", "state", "error", "attempts", "processed_at"])
            return event
    except Exception as exc:
        # Everything the event did was rolled back; keep why, for the admin and a retry.
        logger.exception("webhook event failed", extra={"webhook_event_id": event_id})
        WebhookEvent.objects.filter(pk=event_id, state=WebhookEvent.State.PENDING).update(
            state=WebhookEvent.State.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH],
            attempts=F("attempts") + 1,
            processed_at=timezone.now(),
        )
        return WebhookEvent.objects.filter(pk=event_id).first()


def webhook_events_process_pending(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Process pending events left behind (a lost broker message, a killed worker).

    Run from the periodic tick; returns how many events it processed.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for event_id in ids if webhook_event_process(event_id=event_id) is not None)


# --- opt-in background processing in the web process (no broker) ---------------------

BACKGROUND_QUEUE_SIZE = 1000
BACKGROUND_DRAIN_SECONDS = 5.0


class BackgroundProcessor:
    """A bounded queue of event ids and the daemon threads that process them."""

    STOP = -1

    def __init__(self, *, threads: int, capacity: int = BACKGROUND_QUEUE_SIZE) -> None:
        self.queue: queue.Queue[int] = queue.Queue(maxsize=capacity)
        self.stopped = False
        self.pid = os.getpid()
        self.threads = [
            threading.Thread(target=self._run, name=f"webhook-events-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, event_id: int) -> bool:
        """Queue ``event_id``; False when the queue is full or the pool stopped."""
        if self.stopped:
            return False
        try:
            self.queue.put_nowait(event_id)
        except queue.Full:
            return False
        return True

    def _run(self) -> None:
        while True:
            event_id = self.queue.get()
            if event_id == self.STOP:
                connection.close()
                self.queue.task_done()
                return
            try:
                webhook_event_process(event_id=event_id)
            except Exception:  # webhook_event_process keeps its own errors; be safe
                logger.exception("webhook event thread", extra={"webhook_event_id": event_id})
            finally:
                # Like the end of a request: no connection kept past CONN_MAX_AGE or
                # across a database restart.
                close_old_connections()
                self.queue.task_done()

    def drain(self, timeout: float = BACKGROUND_DRAIN_SECONDS) -> bool:
        """Wait up to ``timeout`` seconds for the queue to empty; True if it did."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout: float = BACKGROUND_DRAIN_SECONDS) -> None:
        """Process what is queued (up to ``timeout``), then end the threads; events
        still queued stay pending for the sweep."""
        self.stopped = True
        self.drain(timeout)
        for _thread in self.threads:
            try:
                self.queue.put(self.STOP, timeout=timeout)
            except queue.Full:
                break
        for thread in self.threads:
            thread.join(timeout)


_background: BackgroundProcessor | None = None
_background_lock = threading.Lock()


def background_processor() -> BackgroundProcessor | None:
    """This process's pool (started on first use, again after a fork), or None if off."""
    global _background
    threads = int(getattr(settings, "TELCODESK_WEBHOOK_PROCESS_THREADS", 0) or 0)
    if threads <= 0:
        return None
    processor = _background
    if processor is not None and processor.pid == os.getpid():
        return processor
    with _background_lock:
        if _background is None or _background.pid != os.getpid():
            _background = BackgroundProcessor(threads=threads)
            atexit.register(_background.stop)
        return _background


def webhook_event_submit(*, event_id: int) -> None:
    """Process a committed event in the background threads, or here if they are off or
    their queue is full."""
    processor = background_processor()
    if processor is None or not processor.submit(event_id):
        webhook_event_process(event_id=event_id)
