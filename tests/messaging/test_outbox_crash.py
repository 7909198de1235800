"""A worker killed with SIGKILL in the middle of an outbox batch loses nothing.

A real worker process (``telcodesk outbox_send``) sends a batch of queued WhatsApp
messages to the sandbox Graph API served on loopback (the live server), which answers
each send after a pause, so the kill lands mid-batch. A second worker puts back what the
dead one left in ``sending`` and finishes. Every message ends sent; at most the one in
flight reached the sandbox twice, and the repeat carries the same idempotency key in
``biz_opaque_callback_data`` (recorded by the sandbox), so it is recognisable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from pytest_django.live_server_helper import LiveServer

from telcodesk.messaging.models import Message, MessageStatus, SandboxMessage
from telcodesk.messaging.providers.sandbox import sandbox_phone_message
from telcodesk.messaging.sending import message_send_text
from telcodesk.messaging.tasks import send_outbox_message
from tests.conftest import World

from .helpers import make_channel
from .outbox_helpers import WA_ID, make_conversation, recent

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
BATCH = 10
KILL_AFTER_SENT = 3
SANDBOX_LATENCY_SECONDS = 0.5


def _database_url_for_this_test_db() -> str:
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(params['NAME']).resolve()}"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    user = params.get("USER") or "postgres"
    return f"postgresql://{user}@{host}:{port}/{params['NAME']}"


def _worker_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_this_test_db(),
        "TELCODESK_VAR_DIR": str(tmp_path),
        "TELCODESK_LOG_LEVEL": "WARNING",
    }
    env.pop("TELCODESK_BROKER_URL", None)  # no broker: tasks run in the worker process
    return env


def _worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "telcodesk.cli", "outbox_send", *args]


def _sent(ids: list[int]) -> int:
    return Message.objects.filter(pk__in=ids, status=MessageStatus.SENT).count()


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_one_in_flight(
    world: World,
    live_server: LiveServer,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings.TELCODESK_SANDBOX_STATUS_WEBHOOKS = False
    settings.TELCODESK_SANDBOX_LATENCY_SECONDS = SANDBOX_LATENCY_SECONDS
    # The rows are the outbox; here the worker processes send them, not this process.
    monkeypatch.setattr(send_outbox_message, "delay", lambda message_id: None)
    channel = make_channel(
        world.operator, api_base_url=live_server.url + "/messaging/sandbox/graph"
    )
    sandbox_phone_message(channel=channel, wa_id=WA_ID, name="Juana", text="Hola")
    conversation = make_conversation(channel, last_inbound_at=recent())
    messages = [
        message_send_text(actor_or_none=None, conversation=conversation, body=f"Mensaje {n}")
        for n in range(BATCH)
    ]
    ids = [message.pk for message in messages]
    keys = {message.idempotency_key for message in messages}
    assert len(keys) == BATCH

    log = tmp_path / "first-worker.log"
    with log.open("wb") as out:
        first = subprocess.Popen(
            _worker_command(), cwd=ROOT, env=_worker_env(tmp_path), stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 120  # a safety net, not an expectation
        while _sent(ids) < KILL_AFTER_SENT and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.poll() is None, log.read_text(errors="replace")[-3000:]
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(30)
    assert first.returncode == -signal.SIGKILL

    sent_at_kill = _sent(ids)
    in_flight = list(Message.objects.filter(pk__in=ids, status=MessageStatus.SENDING))
    assert KILL_AFTER_SENT <= sent_at_kill < BATCH  # the kill landed mid-batch
    assert len(in_flight) <= 1
    assert Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED).count() == (
        BATCH - sent_at_kill - len(in_flight)
    )

    # The recovery: put back what the dead worker held, then a second worker finishes.
    settings.TELCODESK_SANDBOX_LATENCY_SECONDS = 0
    second = subprocess.run(
        _worker_command("--stale-seconds", "0"),
        cwd=ROOT,
        env=_worker_env(tmp_path),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert second.returncode == 0, second.stderr.decode(errors="replace")[-3000:]

    statuses = list(Message.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == [MessageStatus.SENT] * BATCH
    delivered = list(
        SandboxMessage.objects.filter(
            phone_number_id=channel.phone_number_id,
            direction=SandboxMessage.Direction.TO_PHONE,
        ).values_list("payload", flat=True)
    )
    delivered_keys = [payload.get("biz_opaque_callback_data") for payload in delivered]
    assert set(delivered_keys) == keys  # none lost, every one recognisable by its key
    repeated = {key for key in delivered_keys if delivered_keys.count(key) > 1}
    assert len(delivered_keys) - len(set(delivered_keys)) <= 1  # at most one repeat...
    assert repeated <= {message.idempotency_key for message in in_flight}  # ...the in-flight one
    for message in Message.objects.filter(pk__in=ids):
        assert message.payload["biz_opaque_callback_data"] == message.idempotency_key
        assert message.provider_message_id.startswith("wamid.")
