"""Webhook ingest with TELCODESK_WEBHOOK_PROCESS_THREADS: stored first, answered, then
processed by the web process's background threads; a crash leaves it to the sweep."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from telcodesk.messaging import webhooks
from telcodesk.messaging.models import Conversation, Message, WebhookEvent
from tests.conftest import World

from .helpers import make_channel, message_body, post_signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def background(settings: Any) -> Iterator[None]:
    """Two background threads (their own connections: the test data must commit)."""
    settings.TELCODESK_WEBHOOK_PROCESS_THREADS = 2
    webhooks._background = None
    yield
    processor = webhooks._background
    webhooks._background = None
    if processor is not None:
        processor.stop()


def test_the_default_processes_in_the_request(world: World, client: Client) -> None:
    assert webhooks.background_processor() is None
    channel = make_channel(world.operator)
    assert post_signed(client, channel, message_body()).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert Message.objects.count() == 1


def test_the_event_is_stored_before_the_answer_and_processed_after_it(
    world: World, client: Client, background: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(world.operator)
    release = threading.Event()
    real_process = webhooks.webhook_event_process

    def held(*, event_id: int) -> Any:
        assert release.wait(timeout=20)
        return real_process(event_id=event_id)

    monkeypatch.setattr(webhooks, "webhook_event_process", held)
    response = post_signed(client, channel, message_body())
    assert response.status_code == 200
    # Answered while the thread has not processed it yet: stored, pending, no message.
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PENDING
    assert Message.objects.count() == 0
    release.set()
    processor = webhooks.background_processor()
    assert processor is not None and processor.drain(timeout=20)
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert Message.objects.get().webhook_event_id == event.pk


def test_redeliveries_in_the_background_store_one_message(
    world: World, client: Client, background: None
) -> None:
    channel = make_channel(world.operator)
    for _delivery in range(5):
        assert post_signed(client, channel, message_body()).status_code == 200
    processor = webhooks.background_processor()
    assert processor is not None and processor.drain(timeout=20)
    assert list(WebhookEvent.objects.values_list("state", flat=True)) == ["processed"]
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_a_crash_before_processing_leaves_the_event_to_the_sweep(
    world: World, client: Client, background: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(world.operator)
    # The process dies with the id in its in-memory queue: it is never processed here.
    monkeypatch.setattr(webhooks.BackgroundProcessor, "submit", lambda self, event_id: True)
    assert post_signed(client, channel, message_body()).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PENDING
    assert Message.objects.count() == 0
    # The periodic sweep (events pending for more than a minute) picks it up.
    assert webhooks.webhook_events_process_pending(older_than_seconds=0) == 1
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert Message.objects.count() == 1


def test_a_full_queue_processes_in_the_request(
    world: World, client: Client, background: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(world.operator)
    monkeypatch.setattr(webhooks.BackgroundProcessor, "submit", lambda self, event_id: False)
    assert post_signed(client, channel, message_body()).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert Message.objects.count() == 1


def test_stopping_processes_what_is_queued(world: World, client: Client, background: None) -> None:
    channel = make_channel(world.operator)
    for n in range(3):
        post_signed(client, channel, message_body(wamid=f"wamid.{n}"))
    processor = webhooks.background_processor()
    assert processor is not None
    processor.stop()
    assert not processor.submit(1)  # stopped: the caller processes in the request
    assert Message.objects.count() == 3
    assert not WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).exists()
