"""Two workers applying redeliveries of the same message at the same time."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.utils import timezone

from telcodesk.messaging.models import Conversation, Message, WebhookEvent
from telcodesk.messaging.webhooks import webhook_event_process
from tests.conftest import World

from .helpers import make_channel, message_body

WORKERS = 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_on_redeliveries_store_one_message(world: World) -> None:
    channel = make_channel(world.operator)
    body = json.dumps(message_body())
    event_ids = [
        WebhookEvent.objects.create(
            channel=channel, received_at=timezone.now(), signature_valid=True, body=body
        ).pk
        for _worker in range(WORKERS)
    ]
    barrier = threading.Barrier(WORKERS)
    states: list[str] = []

    def work(event_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            event = webhook_event_process(event_id=event_id)
            states.append(event.state if event else "skipped")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(event_id,)) for event_id in event_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(states) == ["processed"] * WORKERS
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
