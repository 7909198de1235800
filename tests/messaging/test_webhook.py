"""The WhatsApp webhook: handshake, refusals, idempotency, statuses, customer linking."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from telcodesk.accounts.models import User
from telcodesk.customers.models import TimelineEvent
from telcodesk.customers.services import customer_create
from telcodesk.messaging import services, webhooks
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    Message,
    MessageStatus,
    MessageStatusEvent,
    WebhookEvent,
)
from telcodesk.messaging.providers.whatsapp_cloud import (
    InboundMessage,
    StatusUpdate,
    Unhandled,
    parse_webhook,
    signature_for,
)
from tests.conftest import World

from .helpers import (
    APP_SECRET,
    VERIFY_TOKEN,
    make_channel,
    message_body,
    post_signed,
    status_body,
    webhook_url,
)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _security_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        getattr(record, "reason", "")
        for record in caplog.records
        if record.name == "telcodesk.security"
    ]


def _outbound(channel: Channel, *, wamid: str = "") -> Message:
    conversation, _created = Conversation.objects.get_or_create(
        organization=channel.organization, channel=channel, external_address="59171234567"
    )
    return Message.objects.create(
        organization=channel.organization,
        channel=channel,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        provider_message_id=wamid,
        kind=Message.Kind.TEXT,
        body="Tenemos cobertura en tu zona",
        status=MessageStatus.SENDING,
    )


def _deliver(
    client: Client, capture: Capture, channel: Channel, body: bytes | dict[str, Any], **kw: Any
) -> Any:
    with capture(execute=True):
        response = post_signed(client, channel, body, **kw)
    return response


# --- handshake -----------------------------------------------------------------------


def test_the_handshake_echoes_the_challenge_when_the_token_matches(
    world: World, client: Client
) -> None:
    channel = make_channel(world.operator)
    response = client.get(
        webhook_url(channel.pk),
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_the_handshake_is_refused_with_a_bad_token_or_mode(
    world: World, client: Client, params: dict[str, str]
) -> None:
    channel = make_channel(world.operator)
    response = client.get(webhook_url(channel.pk), params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_a_channel_without_a_verify_token_refuses_the_handshake(
    world: World, client: Client
) -> None:
    channel = make_channel(world.operator, verify_token="")
    response = client.get(
        webhook_url(channel.pk),
        {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
    )
    assert response.status_code == 403


# --- refusals store nothing ----------------------------------------------------------------


def test_an_unknown_or_inactive_channel_answers_404_and_stores_nothing(
    world: World, client: Client
) -> None:
    inactive = make_channel(world.operator, is_active=False)
    body = json.dumps(message_body()).encode()
    for channel_id in (inactive.pk, inactive.pk + 999):
        response = client.post(
            webhook_url(channel_id),
            data=body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature_for(APP_SECRET, body)},
        )
        assert response.status_code == 404
        assert client.get(webhook_url(channel_id), {"hub.mode": "subscribe"}).status_code == 404
    assert WebhookEvent.objects.count() == 0
    assert Message.objects.count() == 0


def test_an_unsigned_webhook_is_refused_and_logged(
    world: World, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    channel = make_channel(world.operator)
    caplog.set_level(logging.WARNING, logger="telcodesk.security")
    response = client.post(
        webhook_url(channel.pk),
        data=json.dumps(message_body()),
        content_type="application/json",
        headers={"X-Request-ID": "req-unsigned-0001"},
    )
    assert response.status_code == 403
    assert WebhookEvent.objects.count() == 0
    assert Conversation.objects.count() == 0
    [record] = [r for r in caplog.records if r.name == "telcodesk.security"]
    assert record.reason == "missing signature"  # type: ignore[attr-defined]
    assert record.request_id == "req-unsigned-0001"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "signature",
    [
        signature_for("another-apps-secret", json.dumps(message_body()).encode()),
        signature_for(APP_SECRET, b'{"object": "something else"}'),
        "sha256=",
        "sha1=" + "0" * 40,
        "sha256=" + "zz" * 32,
        "sha256=ñandú",
    ],
)
def test_a_wrongly_signed_webhook_is_refused_and_stores_nothing(
    world: World, client: Client, signature: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = make_channel(world.operator)
    caplog.set_level(logging.WARNING, logger="telcodesk.security")
    response = post_signed(client, channel, message_body(), signature=signature)
    assert response.status_code == 403
    assert WebhookEvent.objects.count() == 0
    assert _security_reasons(caplog) == ["bad signature"]


def test_a_channel_without_an_app_secret_accepts_nothing(world: World, client: Client) -> None:
    channel = make_channel(world.operator, app_secret="")
    response = post_signed(client, channel, message_body(), secret="")
    assert response.status_code == 403
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (json.dumps(message_body()).encode()[:-7], "not json"),
        (b"object=whatsapp_business_account&entry=1", "not json"),
        (b"", "not json"),
        (b"\xff\xfe{}", "not json"),
        (b'{"entry": NaN}', "not json"),
        (b"[" * 100_000 + b"]" * 100_000, "not json"),
        (b'["a list", "not an object"]', "not a json object"),
    ],
    ids=["truncated", "form", "empty", "not-utf8", "nan", "deep", "array"],
)
def test_signed_bodies_that_are_not_a_json_object_are_refused(
    world: World,
    client: Client,
    raw: bytes,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = make_channel(world.operator)
    caplog.set_level(logging.WARNING, logger="telcodesk.security")
    response = post_signed(client, channel, raw)
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert _security_reasons(caplog) == [reason]


def test_an_oversized_webhook_is_refused_before_its_signature_is_checked(
    world: World, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    channel = make_channel(world.operator)
    body = message_body(text="x" * (1024 * 1024))
    caplog.set_level(logging.WARNING, logger="telcodesk.security")
    response = post_signed(client, channel, body)
    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0
    assert _security_reasons(caplog) == ["body too large"]


def test_the_size_limit_is_configurable(world: World, client: Client, settings: Any) -> None:
    settings.TELCODESK_WHATSAPP_WEBHOOK_MAX_BYTES = 200
    channel = make_channel(world.operator)
    assert post_signed(client, channel, message_body()).status_code == 413
    assert post_signed(client, channel, {"object": "whatsapp_business_account"}).status_code == 200
    assert WebhookEvent.objects.count() == 1


# --- inbound messages ---------------------------------------------------------------------


def test_an_inbound_text_creates_a_conversation_and_a_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    client.defaults["HTTP_X_REQUEST_ID"] = "req-inbound-000001"
    response = _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.kinds, event.signature_valid) == (
        "processed",
        ["message:text"],
        True,
    )
    assert sorted(event.headers) == [
        "Content-Length",
        "Content-Type",
        "X-Hub-Signature-256",
        "X-Request-ID",
    ]
    assert event.headers["X-Hub-Signature-256"].startswith("sha256=")
    assert event.request_id == event.headers["X-Request-ID"] == "req-inbound-000001"
    message = Message.objects.get()
    assert (message.direction, message.kind, message.body, message.status) == (
        "in",
        "text",
        "Hola, quiero fibra",
        "received",
    )
    assert message.sent_at == _at(1_700_000_000)
    assert message.organization == world.operator
    conversation = message.conversation
    assert (conversation.external_address, conversation.display_name) == (
        "59171234567",
        "Juana Mamani",
    )
    assert conversation.phone_e164 == "+59171234567"
    assert (conversation.unread_count, conversation.last_inbound_at) == (1, _at(1_700_000_000))
    assert conversation.customer is None


def test_five_redeliveries_make_one_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    for _attempt in range(5):
        response = _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
        assert response.status_code == 200
    # The same bytes again are not stored again: one event, one message.
    assert list(WebhookEvent.objects.values_list("state", flat=True)) == ["processed"]
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_processing_an_event_twice_does_nothing_the_second_time(
    world: World, client: Client
) -> None:
    channel = make_channel(world.operator)
    post_signed(client, channel, message_body())  # callbacks not run: the event stays pending
    event = WebhookEvent.objects.get()
    assert event.state == "pending"
    assert webhooks.webhook_event_process(event_id=event.pk) is not None
    assert webhooks.webhook_event_process(event_id=event.pk) is None
    assert Message.objects.count() == 1


def test_the_sweep_processes_events_left_pending(world: World, client: Client) -> None:
    channel = make_channel(world.operator)
    post_signed(client, channel, message_body())
    post_signed(client, channel, message_body(wamid="wamid.second"))
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    post_signed(client, channel, message_body(wamid="wamid.fresh"))
    assert webhooks.webhook_events_process_pending() == 2
    assert Message.objects.count() == 2
    assert WebhookEvent.objects.filter(state="pending").count() == 1


def test_a_processing_error_marks_the_event_failed_and_still_answers_200(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = make_channel(world.operator)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "inbound_message_record", broken)
    response = _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.error, event.attempts) == (
        "failed",
        "RuntimeError: database on fire",
        1,
    )
    assert Conversation.objects.count() == 0


def test_new_messages_count_as_unread_and_reopen_the_conversation(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(timestamp=2000))
    Conversation.objects.update(status=Conversation.Status.CLOSED)
    # An older message delivered late does not move last_inbound_at back.
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        channel,
        message_body(wamid="wamid.older", timestamp=1000),
    )
    conversation = Conversation.objects.get()
    assert (conversation.unread_count, conversation.status) == (2, "open")
    assert conversation.last_inbound_at == _at(2000)


def test_a_message_for_another_number_of_another_app_is_ignored(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    make_channel(world.other_operator, phone_number_id="999000", app_secret="other-secret")
    body = message_body(phone_number_id="999000")
    assert _deliver(client, django_capture_on_commit_callbacks, channel, body).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == "ignored"
    assert "999000" in event.error
    assert Message.objects.count() == 0


def test_a_message_for_another_number_of_the_same_app_goes_to_that_channel(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    sibling = make_channel(world.operator, phone_number_id="999001", name="WhatsApp soporte")
    body = message_body(phone_number_id="999001")
    _deliver(client, django_capture_on_commit_callbacks, channel, body)
    assert Message.objects.get().channel == sibling


def test_edits_and_deletions_apply_to_the_original_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.o"))
    edit = message_body(wamid="wamid.e", timestamp=1_700_000_100)
    edit["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": "59171234567",
        "id": "wamid.e",
        "timestamp": "1700000100",
        "type": "edit",
        "edit": {
            "original_message_id": "wamid.o",
            "message": {"type": "text", "text": {"body": "Hola, quiero fibra 600 megas"}},
        },
    }
    _deliver(client, django_capture_on_commit_callbacks, channel, edit)
    original = Message.objects.get(provider_message_id="wamid.o")
    assert (original.body, original.edited_at) == (
        "Hola, quiero fibra 600 megas",
        _at(1_700_000_100),
    )
    revoke = json.loads(json.dumps(edit))
    revoke["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": "59171234567",
        "id": "wamid.r",
        "timestamp": "1700000200",
        "type": "revoke",
        "revoke": {"original_message_id": "wamid.o"},
    }
    _deliver(client, django_capture_on_commit_callbacks, channel, revoke)
    original.refresh_from_db()
    assert original.revoked_at == _at(1_700_000_200)
    assert Conversation.objects.get().unread_count == 1  # edits and deletions are not news


def test_nul_characters_and_lone_surrogates_are_stored_safely(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    raw = json.dumps(message_body(text="a\u0000b\ud800c")).encode()
    assert _deliver(client, django_capture_on_commit_callbacks, channel, raw).status_code == 200
    assert WebhookEvent.objects.get().state == "processed"
    assert Message.objects.get().body == "ab?c"


# --- customers --------------------------------------------------------------------------------


def test_a_conversation_is_linked_to_the_customer_with_that_phone(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    customer = customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=[{"raw": "71234567", "is_whatsapp": True}],
    )
    # Someone of another organization with the same number is not a match.
    customer_create(
        actor=world.actor(world.outsider),
        first_name="Outra",
        last_name="Pessoa",
        phones=[{"raw": "+591 71234567"}],
    )
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
    conversation = Conversation.objects.get()
    assert conversation.customer == customer
    entry = TimelineEvent.objects.get(customer=customer, kind=TimelineEvent.Kind.MESSAGE)
    assert entry.summary == "WhatsApp text received from +59171234567: Hola, quiero fibra"
    assert entry.actor is None
    assert entry.at == _at(1_700_000_000)
    assert entry.data["message_id"] == Message.objects.get().pk
    # A redelivery adds no second timeline entry.
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MESSAGE).count() == 1


def test_a_number_shared_by_two_customers_links_nobody(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    for last_name in ("Mamani", "Quispe"):
        customer_create(
            actor=world.actor(world.agent), last_name=last_name, phones=[{"raw": "71234567"}]
        )
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
    assert Conversation.objects.get().customer is None
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MESSAGE).exists()


def test_a_customer_registered_later_is_linked_on_the_next_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
    customer = customer_create(
        actor=world.actor(world.agent), last_name="Mamani", phones=[{"raw": "71234567"}]
    )
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.2"))
    assert Conversation.objects.get().customer == customer


# --- statuses -----------------------------------------------------------------------------------


def test_statuses_out_of_order_end_in_the_latest_by_timestamp(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    message = _outbound(channel, wamid="wamid.out1")
    for status, ts in (("read", 1300), ("delivered", 1200), ("sent", 1100), ("read", 1300)):
        body = status_body(wamid="wamid.out1", status=status, timestamp=ts)
        response = _deliver(client, django_capture_on_commit_callbacks, channel, body)
        assert response.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.status_at) == ("read", _at(1300))
    history = list(
        MessageStatusEvent.objects.filter(message=message)
        .order_by("occurred_at")
        .values_list("status", flat=True)
    )
    assert history == ["sent", "delivered", "read"]


def test_statuses_with_the_same_second_keep_the_furthest_one(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    message = _outbound(channel, wamid="wamid.same")
    for status in ("read", "delivered", "sent"):
        body = status_body(wamid="wamid.same", status=status, timestamp=1500)
        _deliver(client, django_capture_on_commit_callbacks, channel, body)
    message.refresh_from_db()
    assert message.status == "read"


def test_a_failed_status_keeps_the_error_code_title_and_details(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    message = _outbound(channel, wamid="wamid.fail")
    errors = [
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {
                "details": "More than 24 hours have passed since the customer last replied."
            },
        }
    ]
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        channel,
        status_body(wamid="wamid.fail", status="failed", timestamp=1000, errors=errors),
    )
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_title) == (
        "failed",
        131047,
        "Re-engagement message",
    )
    assert message.error_details.startswith("More than 24 hours")


def test_a_status_before_its_message_is_kept_and_applied_when_the_id_is_known(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    for status, ts in (("delivered", 1200), ("sent", 1100)):
        body = status_body(wamid="wamid.early", status=status, timestamp=ts)
        _deliver(client, django_capture_on_commit_callbacks, channel, body)
    assert set(MessageStatusEvent.objects.values_list("message", flat=True)) == {None}
    assert WebhookEvent.objects.filter(state="processed").count() == 2
    message = _outbound(channel)
    services.message_provider_id_assign(message=message, provider_message_id="wamid.early")
    assert (message.status, message.status_at) == ("delivered", _at(1200))
    assert MessageStatusEvent.objects.filter(message=message).count() == 2


def test_a_status_never_applies_to_an_inbound_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body(wamid="wamid.in"))
    body = status_body(wamid="wamid.in", status="read", timestamp=1_800_000_000)
    _deliver(client, django_capture_on_commit_callbacks, channel, body)
    assert Message.objects.get().status == "received"


# --- what we do not handle ----------------------------------------------------------------------


def test_an_unknown_field_is_kept_raw_as_ignored(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "brand_new_thing", "value": {"x": [1]}}]}],
    }
    assert _deliver(client, django_capture_on_commit_callbacks, channel, body).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.kinds) == ("ignored", ["unhandled:brand_new_thing"])
    assert json.loads(event.body) == body


# --- the pure parser ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {"object": "page", "entry": []},
        {"entry": "nope"},
        {"entry": [None, {"changes": [None, {"field": "messages", "value": None}]}]},
        {"entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": 1}]}}]}]},
        {"entry": [{"changes": [{"field": "messages", "value": {"statuses": [{"id": "x"}]}}]}]},
        {"entry": [{"changes": [{"field": "user_preferences", "value": {"user_preferences": 3}}]}]},
    ],
)
def test_the_parser_never_raises_on_odd_shapes(body: Any) -> None:
    events = parse_webhook(body)
    assert all(isinstance(event, Unhandled) for event in events)


def test_the_parser_types_messages_and_statuses() -> None:
    body = message_body()
    body["entry"][0]["changes"][0]["value"]["statuses"] = status_body(
        wamid="wamid.s", status="DELIVERED", timestamp=5
    )["entry"][0]["changes"][0]["value"]["statuses"]
    message, status = parse_webhook(body)
    assert isinstance(message, InboundMessage)
    assert (message.kind, message.wa_id, message.profile_name, message.body) == (
        "text",
        "59171234567",
        "Juana Mamani",
        "Hola, quiero fibra",
    )
    assert isinstance(status, StatusUpdate)
    assert (status.status, status.occurred_at) == ("delivered", _at(5))


# --- admin ---------------------------------------------------------------------------------------


def test_staff_see_messaging_in_the_admin_read_only(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_channel(world.operator)
    _deliver(client, django_capture_on_commit_callbacks, channel, message_body())
    staff = User.objects.create_superuser("root", "root@example.com", "x-very-long-pass-1")
    client.force_login(staff)
    for model in ("channel", "conversation", "message", "messagestatusevent", "webhookevent"):
        assert client.get(f"/admin/messaging/{model}/").status_code == 200, model
    message = Message.objects.get()
    assert client.get(f"/admin/messaging/message/{message.pk}/change/").status_code == 200
    assert client.get("/admin/messaging/message/add/").status_code == 403
    assert client.get("/admin/messaging/webhookevent/add/").status_code == 403
    assert client.get("/admin/messaging/channel/add/").status_code == 200
    client.force_login(world.agent)
    assert client.get("/admin/messaging/channel/").status_code == 302
