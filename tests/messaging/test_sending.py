"""Sending through the outbox: refusals, the worker, retries, consent, templates, rate."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from telcodesk.automation.models import Timer
from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.customers.services import customer_create
from telcodesk.messaging import outbox
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    Message,
    MessageStatus,
    MessageStatusEvent,
    Template,
    TemplateStatusEvent,
)
from telcodesk.messaging.outbox import failure_decision, outbox_message_send, retry_delay
from telcodesk.messaging.providers.whatsapp_cloud import (
    ProviderError,
    provider_error_from_response,
)
from telcodesk.messaging.sending import (
    SendRefused,
    message_send_interactive,
    message_send_template,
    message_send_text,
)
from telcodesk.messaging.tasks import send_outbox_message
from tests.conftest import World

from .helpers import make_channel, message_body, post_signed
from .outbox_helpers import WA_ID, ScriptedClient, make_conversation, make_template, recent

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _customer(world: World, *, consent: bool) -> Customer:
    customer = customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=[{"raw": "71234567", "is_whatsapp": True}],
    )
    Customer.objects.filter(pk=customer.pk).update(consent_whatsapp=consent)
    customer.refresh_from_db()
    return customer


# --- the services queue a row and enqueue after commit ---------------------------------------


def test_send_text_creates_a_queued_row_and_enqueues_after_commit(
    world: World, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = make_channel(world.operator)
    conversation = make_conversation(channel, last_inbound_at=recent())
    enqueued: list[int] = []
    monkeypatch.setattr(
        send_outbox_message, "delay", lambda message_id: enqueued.append(message_id)
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send_text(
            actor_or_none=world.actor(world.agent), conversation=conversation, body=" Hola "
        )
        assert enqueued == []  # nothing leaves before the commit
    assert enqueued == [message.pk]
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.direction == Message.Direction.OUTBOUND
    assert message.created_by == world.agent
    assert len(message.idempotency_key) == 32
    assert message.payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": "Hola"},
    }


def test_it_refuses_a_session_message_outside_the_24_hour_window(world: World) -> None:
    channel = make_channel(world.operator)
    stale = make_conversation(channel, last_inbound_at=timezone.now() - timedelta(hours=25))
    with pytest.raises(SendRefused) as refused:
        message_send_text(actor_or_none=None, conversation=stale, body="Hola")
    assert refused.value.reason == "needs_template"
    assert "needs an approved template" in refused.value.message
    with pytest.raises(SendRefused):
        message_send_interactive(
            actor_or_none=None, conversation=stale, body="¿Seguimos?", buttons=[("si", "Sí")]
        )
    never = make_conversation(channel, wa_id="59170000000", last_inbound_at=None)
    with pytest.raises(SendRefused):
        message_send_text(actor_or_none=None, conversation=never, body="Hola")
    assert not Message.objects.exists()


def test_it_hides_conversations_of_another_organization(world: World) -> None:
    from telcodesk.core.errors import NotFound

    channel = make_channel(world.operator)
    conversation = make_conversation(channel, last_inbound_at=recent())
    with pytest.raises(NotFound):
        message_send_text(
            actor_or_none=world.actor(world.outsider), conversation=conversation, body="Hola"
        )
    assert not Message.objects.exists()


def test_a_template_fills_its_parameters_from_the_customer(world: World) -> None:
    channel = make_channel(world.operator)
    customer = _customer(world, consent=False)
    conversation = make_conversation(channel, customer=customer)
    template = make_template(channel)
    message = message_send_template(
        actor_or_none=None, conversation=conversation, template=template
    )
    assert message.kind == Message.Kind.TEMPLATE
    assert message.body == "Hola Juana, ¡tenemos cobertura de fibra en tu zona!"
    assert message.payload["template"] == {
        "name": "en_cobertura",
        "language": {"code": "es_AR"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Juana"}]}],
    }


def test_it_refuses_a_template_that_is_not_approved(world: World) -> None:
    channel = make_channel(world.operator)
    conversation = make_conversation(channel)
    template = make_template(channel, status=Template.Status.PENDING)
    with pytest.raises(SendRefused) as refused:
        message_send_template(
            actor_or_none=None, conversation=conversation, template=template, params=["Ana"]
        )
    assert refused.value.reason == "template_not_approved"


def test_it_refuses_marketing_without_consent_and_allows_it_with_consent(world: World) -> None:
    channel = make_channel(world.operator)
    template = make_template(channel, category=Template.Category.MARKETING, name="promo")
    customer = _customer(world, consent=False)
    without = make_conversation(channel, customer=customer)
    with pytest.raises(SendRefused) as refused:
        message_send_template(actor_or_none=None, conversation=without, template=template)
    assert refused.value.reason == "no_marketing_consent"
    Customer.objects.filter(pk=customer.pk).update(consent_whatsapp=True)
    without.refresh_from_db()
    assert message_send_template(actor_or_none=None, conversation=without, template=template)
    nobody = make_conversation(channel, wa_id="59170000001")
    with pytest.raises(SendRefused):
        message_send_template(
            actor_or_none=None, conversation=nobody, template=template, params=["Ana"]
        )


def test_an_opt_out_keyword_withdraws_marketing_consent(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    customer = _customer(world, consent=True)
    channel = make_channel(world.operator)
    template = make_template(channel, category=Template.Category.MARKETING, name="promo")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, channel, message_body(text="  baja! "))
    conversation = Conversation.objects.get()
    customer.refresh_from_db()
    assert customer.consent_whatsapp is False
    assert conversation.marketing_opt_out_at is not None
    entry = TimelineEvent.objects.get(
        customer=customer, kind=TimelineEvent.Kind.CHANGE, summary__contains="consent withdrawn"
    )
    assert entry.summary == "WhatsApp marketing consent withdrawn: the customer wrote “baja!”."
    # Even if someone ticks the consent again by hand, the recorded opt-out holds.
    Customer.objects.filter(pk=customer.pk).update(consent_whatsapp=True)
    conversation.refresh_from_db()
    with pytest.raises(SendRefused) as refused:
        message_send_template(actor_or_none=None, conversation=conversation, template=template)
    assert refused.value.reason == "no_marketing_consent"


def test_an_ordinary_text_and_custom_keywords(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator, opt_out_keywords=["CANCELAR"])
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, channel, message_body(text="STOP", wamid="wamid.A"))
    assert Conversation.objects.get().marketing_opt_out_at is None
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, channel, message_body(text="cancelar", wamid="wamid.B"))
    assert Conversation.objects.get().marketing_opt_out_at is not None


def test_template_status_webhooks_update_the_template(world: World) -> None:
    from telcodesk.messaging import services
    from telcodesk.messaging.providers.whatsapp_cloud import TemplateStatus

    channel = make_channel(world.operator)
    template = make_template(channel, status=Template.Status.PENDING)
    at = timezone.now()

    def update(event: str, when: Any) -> None:
        services.template_status_record(
            channel=channel,
            event=TemplateStatus(
                field="message_template_status_update",
                waba_id=channel.waba_id,
                template_id="99887766",
                name="en_cobertura",
                language="es_AR",
                occurred_at=when,
                raw={},
                event=event,
                reason="NONE",
            ),
        )

    update("APPROVED", at)
    template.refresh_from_db()
    assert (template.status, template.provider_template_id) == (
        Template.Status.APPROVED,
        "99887766",
    )
    update("REJECTED", at - timedelta(minutes=1))  # older: kept as history only
    template.refresh_from_db()
    assert template.status == Template.Status.APPROVED
    update("PAUSED", at + timedelta(minutes=1))
    template.refresh_from_db()
    assert template.status == Template.Status.PAUSED
    assert TemplateStatusEvent.objects.count() == 3


# --- the worker ---------------------------------------------------------------------------------


def _queued(world: World) -> Message:
    channel = make_channel(world.operator)
    conversation = make_conversation(channel, last_inbound_at=recent())
    return message_send_text(actor_or_none=None, conversation=conversation, body="Hola")


def test_the_worker_sends_and_stores_the_wamid(world: World) -> None:
    message = _queued(world)
    client = ScriptedClient("wamid.OK1")
    assert outbox_message_send(message_id=message.pk, client=client) == "sent"
    message.refresh_from_db()
    assert (message.status, message.provider_message_id, message.attempts) == (
        MessageStatus.SENT,
        "wamid.OK1",
        1,
    )
    assert client.payloads == [message.payload]
    assert message.conversation.last_outbound_at is not None


def test_a_second_worker_on_the_same_message_sends_nothing(world: World) -> None:
    message = _queued(world)
    first, second = ScriptedClient("wamid.OK1"), ScriptedClient("wamid.OK2")
    assert outbox_message_send(message_id=message.pk, client=first) == "sent"
    assert outbox_message_send(message_id=message.pk, client=second) == "skipped"
    assert second.payloads == []


def test_the_body_sent_carries_the_key_and_is_kept_with_every_outcome(world: World) -> None:
    message = _queued(world)
    conversation = message.conversation
    others = [
        message_send_text(actor_or_none=None, conversation=conversation, body=f"Hola {n}")
        for n in range(2)
    ]
    outcomes = {
        "sent": ScriptedClient("wamid.K1"),
        "failed": ScriptedClient(ProviderError(100, "(#100) Invalid parameter", retryable=False)),
        "retry": ScriptedClient(ProviderError(130429, "(#130429) Rate limit", retryable=True)),
    }
    for row, (outcome, client) in zip([message, *others], outcomes.items(), strict=True):
        assert "biz_opaque_callback_data" not in row.payload
        assert outbox_message_send(message_id=row.pk, client=client) == outcome
        row.refresh_from_db()
        assert client.payloads == [row.payload]
        assert row.payload["biz_opaque_callback_data"] == row.idempotency_key


def test_statuses_that_came_before_the_answer_apply_when_the_send_is_recorded(
    world: World,
) -> None:
    message = _queued(world)
    later = timezone.now() + timedelta(seconds=30)
    MessageStatusEvent.objects.create(
        organization=message.organization,
        channel=message.channel,
        provider_message_id="wamid.EARLY",
        status="delivered",
        occurred_at=later,
    )
    assert outbox_message_send(message_id=message.pk, client=ScriptedClient("wamid.EARLY")) == (
        "sent"
    )
    message.refresh_from_db()
    assert (message.status, message.status_at, message.provider_message_id) == (
        MessageStatus.DELIVERED,
        later,
        "wamid.EARLY",
    )
    assert MessageStatusEvent.objects.get().message_id == message.pk


def test_a_send_costs_five_sql_statements(
    world: World, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    # claim UPDATE; SELECT the message with its channel; UPDATE to sent with the wamid
    # and the body; EXISTS early statuses; UPDATE the conversation (+ the transaction's
    # savepoint and release, inside the test's own transaction).
    message = _queued(world)
    monkeypatch.setattr(outbox, "send_slot_wait", lambda **kwargs: True)
    with django_assert_num_queries(7):
        assert outbox_message_send(message_id=message.pk, client=ScriptedClient("wamid.Q")) == (
            "sent"
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_a_message_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Autocommit: the send would be enqueued at once; here the workers are the threads.
    monkeypatch.setattr(send_outbox_message, "delay", lambda message_id: None)
    message = _queued(world)
    workers = 4
    barrier = threading.Barrier(workers)
    clients = [ScriptedClient(f"wamid.W{n}") for n in range(workers)]
    outcomes: list[str] = []

    def work(client: ScriptedClient) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(outbox_message_send(message_id=message.pk, client=client))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["sent"] + ["skipped"] * (workers - 1)
    assert sum(len(client.payloads) for client in clients) == 1


@pytest.mark.parametrize(
    ("code", "status", "retry"),
    [
        (130429, 400, True),  # throughput
        (131056, 400, True),  # pair rate
        (131000, 500, True),  # server error
        (None, 503, True),
        (100, 400, False),  # invalid parameter: cannot succeed
        (131026, 400, False),  # undeliverable
        (190, 401, False),  # bad token
    ],
)
def test_retry_decisions_per_error_code(code: int | None, status: int, retry: bool) -> None:
    body = b'{"error": {"message": "x", "code": %d}}' % code if code else b"<html>oops</html>"
    error = provider_error_from_response(status, body)
    assert error.code == code
    assert failure_decision(error, attempts=1).retry is retry


def test_timeouts_retry_and_retries_are_bounded_with_backoff() -> None:
    timeout = ProviderError(None, "network error: timed out", retryable=True)
    assert failure_decision(timeout, attempts=1).retry is True
    assert failure_decision(timeout, attempts=outbox.MAX_ATTEMPTS).retry is False
    assert [retry_delay(n).total_seconds() for n in range(1, 7)] == [5, 20, 80, 320, 900, 900]


def test_131047_fails_the_message_as_needing_a_template(world: World) -> None:
    message = _queued(world)
    error = ProviderError(131047, "(#131047) Re-engagement message", retryable=False)
    assert outbox_message_send(message_id=message.pk, client=ScriptedClient(error)) == "failed"
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_title) == (
        MessageStatus.FAILED,
        131047,
        "needs an approved template",
    )


def test_a_retryable_error_requeues_with_a_timer_and_the_timer_resends(
    world: World, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telcodesk.automation.tick import timer_claim, timer_fire

    message = _queued(world)
    error = ProviderError(130429, "(#130429) Rate limit hit", retryable=True)
    assert outbox_message_send(message_id=message.pk, client=ScriptedClient(error)) == "retry"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (
        MessageStatus.QUEUED,
        1,
        130429,
    )
    timer = Timer.objects.get(kind=outbox.TIMER_KIND, target_id=message.pk)
    assert timer.due_at == message.next_attempt_at
    assert message.next_attempt_at is not None
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=4)
    # Not due yet: a worker woken early does nothing.
    assert outbox_message_send(message_id=message.pk, client=ScriptedClient("wamid.X")) == "skipped"
    enqueued: list[int] = []
    monkeypatch.setattr(
        send_outbox_message, "delay", lambda message_id: enqueued.append(message_id)
    )
    assert timer_claim(timer_id=timer.pk, now=timer.due_at)
    with django_capture_on_commit_callbacks(execute=True):
        timer_fire(timer.pk, now=timer.due_at)
    assert enqueued == [message.pk]
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox_message_send(message_id=message.pk, client=ScriptedClient("wamid.X")) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (MessageStatus.SENT, 2, None)


def test_a_4xx_that_cannot_succeed_fails_at_once(world: World) -> None:
    message = _queued(world)
    error = provider_error_from_response(
        400, b'{"error": {"message": "(#100) Invalid parameter", "code": 100}}'
    )
    assert outbox_message_send(message_id=message.pk, client=ScriptedClient(error)) == "failed"
    message.refresh_from_db()
    assert (message.status, message.error_code, message.attempts) == (MessageStatus.FAILED, 100, 1)
    assert not Timer.objects.exists()


# --- rate limit ---------------------------------------------------------------------------------


# The limiter itself: tests/messaging/test_ratelimit.py.


def test_a_throttled_message_goes_back_to_the_queue_without_using_an_attempt(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _queued(world)
    monkeypatch.setattr(outbox, "send_slot_wait", lambda **kwargs: False)
    assert outbox_message_send(message_id=message.pk, client=ScriptedClient()) == "throttled"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    assert Timer.objects.filter(kind=outbox.TIMER_KIND, target_id=message.pk).count() == 1


def test_the_sweep_requeues_a_message_a_killed_worker_left_sending(world: World) -> None:
    message = _queued(world)
    long_ago = timezone.now() - timedelta(minutes=10)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=long_ago, attempts=1
    )
    assert outbox.outbox_sweep() == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED


def test_channels_default_to_80_messages_per_second(world: World) -> None:
    assert make_channel(world.operator).rate_limit_per_second == 80
    assert Channel.objects.get().opt_out_keywords == ["BAJA", "STOP", "SAIR"]
