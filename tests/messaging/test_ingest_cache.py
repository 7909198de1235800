"""Webhook ingest: the per-process caches (channel, failed customer lookups) and the
statements a webhook costs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from telcodesk.customers.models import ContactPoint
from telcodesk.customers.services import customer_create
from telcodesk.messaging import selectors
from telcodesk.messaging.models import Conversation, Message, WebhookEvent
from tests.conftest import World

from .helpers import make_channel, message_body, post_signed

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _deliver(client: Client, capture: Capture, channel: Any, body: Any, **kw: Any) -> Any:
    with capture(execute=True):
        return post_signed(client, channel, body, **kw)


def _sql(queries: CaptureQueriesContext, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if f'"{table}"' in q["sql"]]


def test_the_channel_is_read_once_then_served_from_the_cache(world: World, client: Client) -> None:
    channel = make_channel(world.operator)
    assert post_signed(client, channel, message_body(wamid="wamid.1")).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post_signed(client, channel, message_body(wamid="wamid.2")).status_code == 200
    assert _sql(queries, "messaging_channel") == []
    assert WebhookEvent.objects.count() == 2


def test_a_new_app_secret_applies_to_the_next_webhook(world: World, client: Client) -> None:
    channel = make_channel(world.operator)
    assert post_signed(client, channel, message_body(wamid="wamid.1")).status_code == 200
    channel.app_secret = "rotated-secret-9876543210"
    channel.save()  # post_save clears this process's entry
    old = post_signed(client, channel, message_body(wamid="wamid.2"))
    new = post_signed(client, channel, message_body(wamid="wamid.3"), secret=channel.app_secret)
    assert (old.status_code, new.status_code) == (403, 200)
    assert WebhookEvent.objects.count() == 2


def test_a_deactivated_or_deleted_channel_answers_404_at_once(world: World, client: Client) -> None:
    channel = make_channel(world.operator)
    other = make_channel(world.operator, phone_number_id="5550001")
    assert post_signed(client, channel, message_body()).status_code == 200
    assert post_signed(client, other, message_body()).status_code == 200
    channel.is_active = False
    channel.save()
    assert post_signed(client, channel, message_body(wamid="wamid.x")).status_code == 404
    other_pk = other.pk
    other.delete()
    other.pk = other_pk
    assert post_signed(client, other, message_body(wamid="wamid.y")).status_code == 404


def test_other_processes_see_a_change_when_the_entry_expires(
    world: World, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(world.operator)
    assert post_signed(client, channel, message_body(wamid="wamid.1")).status_code == 200
    # A change made elsewhere (another process: no signal here) ...
    type(channel).objects.filter(pk=channel.pk).update(app_secret="changed-elsewhere-000")
    assert post_signed(client, channel, message_body(wamid="wamid.2")).status_code == 200
    # ... applies once the entry is older than CHANNEL_CACHE_SECONDS.
    clock = selectors.time.monotonic() + selectors.CHANNEL_CACHE_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock)
    assert post_signed(client, channel, message_body(wamid="wamid.3")).status_code == 403
    response = post_signed(
        client, channel, message_body(wamid="wamid.4"), secret="changed-elsewhere-000"
    )
    assert response.status_code == 200


def test_an_unknown_number_is_not_looked_up_again_for_each_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.1"))
    with CaptureQueriesContext(connection) as queries:
        _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.2"))
    assert _sql(queries, "customers_contactpoint") == []
    assert Conversation.objects.get().customer is None
    # A contact point saved meanwhile clears the remembered miss: linked on the next one.
    customer = customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=[{"raw": "71234567", "is_whatsapp": True}],
    )
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.3"))
    assert Conversation.objects.get().customer == customer


def test_a_remembered_miss_expires(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.1"))
    customer = customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=[{"raw": "71234567", "is_whatsapp": True}],
    )
    # Registered by another process (no signal here): the miss is still remembered ...
    selectors._customer_misses[(world.operator.pk, "59171234567")] = (
        selectors.time.monotonic() + selectors.CUSTOMER_MISS_CACHE_SECONDS
    )
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.2"))
    assert Conversation.objects.get().customer is None
    # ... until it expires.
    clock = selectors.time.monotonic() + selectors.CUSTOMER_MISS_CACHE_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.3"))
    assert Conversation.objects.get().customer == customer
    assert ContactPoint.objects.filter(customer=customer).exists()


def test_statements_per_webhook(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    """Regression guard for the ingest path (was 22 / 21 / 12 with the channel read)."""
    channel = make_channel(world.operator)
    post_signed(client, channel, message_body(wamid="wamid.warm", wa_id="59170000009"))
    counts = []
    for wamid in ("wamid.1", "wamid.2", "wamid.2"):  # new sender, known, redelivery
        with CaptureQueriesContext(connection) as queries:
            _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid=wamid))
        counts.append(len(queries))
    assert counts[0] <= 12, counts
    assert counts[1] <= 9, counts
    assert counts[2] <= 8, counts
    assert Message.objects.count() == 2
    assert Conversation.objects.get(external_address="59171234567").unread_count == 2
