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
import json
import logging
import os
import queue
import threading
import time
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from telcodesk.messaging import services
from telcodesk.messaging.models import Channel, SmsProvider, WebhookEvent
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
# Stored bodies that are not Cloud API JSON (each kind is applied by its own module).
NOT_CLOUD_API = frozenset({Channel.Kind.EMAIL, SmsProvider.TWILIO})


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


def _parse_whatsapp(event: WebhookEvent) -> list[ParsedEvent]:
    return parse_webhook(parse_body(event.body.encode("utf-8")))


def _apply_whatsapp(
    event: WebhookEvent, parsed: list[ParsedEvent] | None = None
) -> tuple[list[str], list[str], int]:
    """Apply a Cloud API body: (labels of what it held, notes, how many were applied)."""
    if parsed is None:
        parsed = _parse_whatsapp(event)
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


PROCESSED_FIELDS = ["kinds", "state", "error", "attempts", "processed_at"]


def _apply_event(event: WebhookEvent, parsed: list[ParsedEvent] | None = None) -> None:
    """Apply a locked pending event and set its outcome fields (not saved)."""
    if event.provider == Channel.Kind.EMAIL:
        from telcodesk.messaging.email import email_event_apply

        kinds, notes, applied = email_event_apply(event)
    elif event.provider == SmsProvider.TWILIO:
        from telcodesk.messaging.sms import sms_event_apply

        kinds, notes, applied = sms_event_apply(event)
    else:
        kinds, notes, applied = _apply_whatsapp(event, parsed)
    event.kinds = kinds
    event.state = WebhookEvent.State.PROCESSED if applied else WebhookEvent.State.IGNORED
    event.error = "\n".join(dict.fromkeys(notes))[:MAX_ERROR_LENGTH]
    event.attempts += 1
    event.processed_at = timezone.now()


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


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
            _apply_event(event)
            event.save(update_fields=PROCESSED_FIELDS)
            return event
    except Exception as exc:
        # Everything the event did was rolled back; keep why, for the admin and a retry.
        logger.exception("webhook event failed", extra={"webhook_event_id": event_id})
        WebhookEvent.objects.filter(pk=event_id, state=WebhookEvent.State.PENDING).update(
            state=WebhookEvent.State.FAILED,
            error=_failure(exc),
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


# --- processing in batches (workers) ------------------------------------------------------


class ProcessingMode(StrEnum):
    REQUEST = "request"  # no broker: after the commit, before the answer
    THREADS = "threads"  # no broker, TELCODESK_WEBHOOK_PROCESS_THREADS: background threads
    WORKERS = "workers"  # a broker: the request wakes a drain task (webhook_events_drain)


def webhook_processing_mode() -> ProcessingMode:
    if not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return ProcessingMode.WORKERS
    if int(getattr(settings, "TELCODESK_WEBHOOK_PROCESS_THREADS", 0) or 0) > 0:
        return ProcessingMode.THREADS
    return ProcessingMode.REQUEST


DRAIN_BATCH = 100
DRAIN_SECONDS = 10.0


def _lock_order(event: WebhookEvent, parsed: list[ParsedEvent] | None) -> tuple[int, str, int]:
    """Where an event goes in its batch: by the customer it is about (the conversation
    row it updates), so that two batches lock conversations in the same order and never
    wait for each other in a cycle."""
    for item in parsed or ():
        if isinstance(item, InboundMessage):
            return (0, item.wa_id or item.user_id, event.pk)
        if isinstance(item, StatusUpdate):
            return (0, item.recipient_id, event.pk)
    return (1, "", event.pk)


def _is_transient(exc: BaseException) -> bool:
    """A deadlock, a serialization failure or a lock timeout: worth trying again alone."""
    return isinstance(exc, OperationalError)


def _drain_batch(batch: int) -> tuple[int, list[int]]:
    """Claim up to ``batch`` pending events and apply them in one transaction.

    Each event runs in its own savepoint: an error undoes only that event's work and
    marks it failed, with the reason; a transient database error (a deadlock) leaves it
    pending, and its id is returned to be processed alone. One ``UPDATE`` records every
    outcome, one commit makes it all durable. Returns (events handled, ids to retry).
    """
    retry: list[int] = []
    with transaction.atomic():
        events = list(
            WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel__organization")
            .filter(state=WebhookEvent.State.PENDING)
            .order_by("pk")[:batch]
        )
        if not events:
            return 0, retry
        work: list[tuple[WebhookEvent, list[ParsedEvent] | None]] = []
        for event in events:
            parsed: list[ParsedEvent] | None = None
            if event.provider not in NOT_CLOUD_API:
                try:
                    parsed = _parse_whatsapp(event)
                except ValueError:
                    parsed = None  # stored bodies were checked; _apply_event will say why
            work.append((event, parsed))
        work.sort(key=lambda pair: _lock_order(*pair))
        done: list[WebhookEvent] = []
        for event, parsed in work:
            try:
                with transaction.atomic():  # the event's savepoint
                    _apply_event(event, parsed)
            except Exception as exc:
                if _is_transient(exc):
                    retry.append(event.pk)
                    continue
                logger.exception("webhook event failed", extra={"webhook_event_id": event.pk})
                event.state = WebhookEvent.State.FAILED
                event.error = _failure(exc)
                event.attempts += 1
                event.processed_at = timezone.now()
            done.append(event)
        _outcomes_save(done)
    return len(events), retry


def _outcomes_save(events: list[WebhookEvent]) -> None:
    """Save the outcome fields of ``events``: one ``UPDATE`` per distinct outcome (a
    batch of inbound messages has one or two), not a CASE per row and field."""
    groups: dict[tuple[str, str, str, int], list[int]] = {}
    for event in events:
        key = (event.state, json.dumps(event.kinds), event.error, event.attempts)
        groups.setdefault(key, []).append(event.pk)
    now = timezone.now()
    for (state, kinds, error, attempts), ids in groups.items():
        WebhookEvent.objects.filter(pk__in=ids).update(
            state=state, kinds=json.loads(kinds), error=error, attempts=attempts, processed_at=now
        )


def webhook_events_drain(
    *, batch: int = DRAIN_BATCH, max_seconds: float = DRAIN_SECONDS
) -> tuple[int, bool]:
    """Apply pending events, ``batch`` at a time, until none is left or ``max_seconds``
    have passed. Returns (events handled, whether some may be left).

    Any number of drains may run at once (on PostgreSQL each claims rows the others have
    not locked); a crash rolls back the current batch, which stays pending for the next
    drain or the sweep.
    """
    deadline = time.monotonic() + max_seconds
    handled = 0
    while True:
        count, retry = _drain_batch(batch)
        for event_id in retry:
            webhook_event_process(event_id=event_id)
        handled += count
        if count < batch:
            return handled, False
        if time.monotonic() >= deadline:
            return handled, True


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
