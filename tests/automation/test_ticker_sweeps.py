"""The embedded ticker also runs beat's sweeps (no broker, no beat): periods and effects."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from telcodesk.automation.ticker import TICK_TASK, PeriodicSweeps
from telcodesk.messaging.models import Message, WebhookEvent
from tests.conftest import World
from tests.messaging.helpers import make_channel, message_body

pytestmark = pytest.mark.django_db

WEBHOOK_SWEEP = "telcodesk.messaging.process_pending_webhook_events"


def test_the_sweeps_are_beats_entries_but_the_tick() -> None:
    sweeps = PeriodicSweeps()
    assert TICK_TASK not in sweeps.entries
    assert sweeps.entries[WEBHOOK_SWEEP] == 60.0
    assert sweeps.entries["telcodesk.messaging.sweep_outbox"] == 60.0


def test_a_webhook_left_pending_by_a_crash_is_processed_on_the_first_round(world: World) -> None:
    channel = make_channel(world.operator)
    body = message_body(wamid="wamid.left-behind", text="Hola, ¿siguen ahí?")
    WebhookEvent.objects.create(
        channel=channel,
        received_at=timezone.now() - timedelta(minutes=5),
        signature_valid=True,
        body=json.dumps(body),
    )
    sweeps = PeriodicSweeps(schedule={"w": {"task": WEBHOOK_SWEEP, "schedule": 60.0}})

    assert sweeps.run_due(now=1000.0) == [WEBHOOK_SWEEP]
    message = Message.objects.get(provider_message_id="wamid.left-behind")
    assert message.body == "Hola, ¿siguen ahí?"
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    # Within its period it does not run again; after it, it does.
    assert sweeps.run_due(now=1059.0) == []
    assert sweeps.run_due(now=1060.0) == [WEBHOOK_SWEEP]
    assert Message.objects.count() == 1


def test_an_unknown_task_is_skipped_and_the_others_still_run(world: World) -> None:
    sweeps = PeriodicSweeps(
        schedule={
            "x": {"task": "telcodesk.nowhere", "schedule": 5.0},
            "w": {"task": WEBHOOK_SWEEP, "schedule": 5.0},
        }
    )
    assert sweeps.run_due(now=0.0) == [WEBHOOK_SWEEP]
