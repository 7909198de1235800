"""Webhook processing by workers: the request stores the event and wakes a drain; the
drain applies pending events in batches, each in its own savepoint."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from telcodesk.messaging import services, tasks, webhooks
from telcodesk.messaging.models import Conversation, Message, WebhookEvent
from tests.conftest import World

from .helpers import make_channel, message_body, post_signed

Capture = Any


@pytest.fixture
def workers_mode(settings: Any) -> None:
    """As with TELCODESK_BROKER_URL set: tasks go to a broker (the in-memory one)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert webhooks.webhook_processing_mode() == webhooks.ProcessingMode.WORKERS


def _bodies(count: int, *, senders: int = 3) -> list[dict[str, Any]]:
    return [
        message_body(wamid=f"wamid.drain-{n}", wa_id=f"5917000000{n % senders}", text=f"m{n}")
        for n in range(count)
    ]


def test_with_workers_the_request_stores_the_event_and_wakes_a_drain_after_commit(
    world: World,
    client: Client,
    workers_mode: None,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    woken: list[str] = []
    monkeypatch.setattr(tasks.drain_wake, "wake", lambda: woken.append("wake"))
    channel = make_channel(world.operator)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, channel, message_body()).status_code == 200
    assert woken == ["wake"]
    event = WebhookEvent.objects.get()
    assert (event.state, Message.objects.count()) == ("pending", 0)
    assert webhooks.webhook_events_drain() == (1, False)
    event.refresh_from_db()
    assert (event.state, event.attempts) == ("processed", 1)
    assert Message.objects.get().webhook_event_id == event.pk


def test_the_drain_applies_every_pending_event_in_batches(
    world: World, client: Client, workers_mode: None
) -> None:
    channel = make_channel(world.operator)
    for body in _bodies(7):
        assert post_signed(client, channel, body).status_code == 200
    assert webhooks.webhook_events_drain(batch=3) == (7, False)
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}
    assert Message.objects.count() == 7
    unread = dict(Conversation.objects.values_list("external_address", "unread_count"))
    assert unread == {"59170000000": 3, "59170000001": 2, "59170000002": 2}
    assert webhooks.webhook_events_drain() == (0, False)


def test_a_drain_out_of_time_says_events_may_be_left(
    world: World, client: Client, workers_mode: None
) -> None:
    channel = make_channel(world.operator)
    for body in _bodies(4):
        post_signed(client, channel, body)
    assert webhooks.webhook_events_drain(batch=2, max_seconds=0) == (2, True)
    assert WebhookEvent.objects.filter(state="pending").count() == 2


def test_a_failing_event_is_marked_failed_and_the_rest_of_its_batch_is_applied(
    world: World, client: Client, workers_mode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(world.operator)
    for body in _bodies(3):
        post_signed(client, channel, body)
    real = services.inbound_message_record

    def broken(**kwargs: Any) -> Any:
        result = real(**kwargs)  # its writes must be undone with the event's savepoint
        if kwargs["event"].provider_message_id == "wamid.drain-1":
            raise RuntimeError("handler bug")
        return result

    monkeypatch.setattr(services, "inbound_message_record", broken)
    assert webhooks.webhook_events_drain() == (3, False)
    states = dict(WebhookEvent.objects.values_list("body", "state"))
    by_wamid = {
        json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]: state
        for body, state in states.items()
    }
    assert by_wamid == {
        "wamid.drain-0": "processed",
        "wamid.drain-1": "failed",
        "wamid.drain-2": "processed",
    }
    failed = WebhookEvent.objects.get(state="failed")
    assert (failed.error, failed.attempts) == ("RuntimeError: handler bug", 1)
    assert sorted(Message.objects.values_list("provider_message_id", flat=True)) == [
        "wamid.drain-0",
        "wamid.drain-2",
    ]


def test_a_transient_database_error_leaves_the_event_to_be_processed_alone(
    world: World, client: Client, workers_mode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(world.operator)
    for body in _bodies(2):
        post_signed(client, channel, body)
    real = services.inbound_message_record
    failures = ["deadlock detected"]

    def deadlocked_once(**kwargs: Any) -> Any:
        if kwargs["event"].provider_message_id == "wamid.drain-0" and failures:
            raise OperationalError(failures.pop())
        return real(**kwargs)

    monkeypatch.setattr(services, "inbound_message_record", deadlocked_once)
    assert webhooks.webhook_events_drain() == (2, False)
    assert set(WebhookEvent.objects.values_list("state", "attempts")) == {("processed", 1)}
    assert Message.objects.count() == 2


def test_a_redelivered_body_is_stored_once_and_a_new_body_for_the_same_message_is_not_applied(
    world: World, client: Client, workers_mode: None
) -> None:
    channel = make_channel(world.operator)
    for _delivery in range(5):
        assert post_signed(client, channel, message_body()).status_code == 200
    # Same message id in a body that differs (another timestamp): a second event, no message.
    assert post_signed(client, channel, message_body(timestamp=1_700_000_100)).status_code == 200
    assert WebhookEvent.objects.count() == 2
    assert webhooks.webhook_events_drain() == (2, False)
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_apply_each_event_exactly_once(
    world: World, client: Client, workers_mode: None
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("side-by-side claims need SKIP LOCKED (PostgreSQL); SQLite has one writer")
    channel = make_channel(world.operator)
    for body in _bodies(120, senders=40):
        post_signed(client, channel, body)
    handled: list[int] = []
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            handled.append(webhooks.webhook_events_drain(batch=10)[0])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(handled) == 120
    assert set(WebhookEvent.objects.values_list("state", "attempts")) == {("processed", 1)}
    assert Message.objects.count() == 120
    assert sum(Conversation.objects.values_list("unread_count", flat=True)) == 120
