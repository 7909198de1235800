"""Twilio's webhooks on an SMS channel: signatures, idempotency, statuses, opt-outs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.customers.services import customer_create
from telcodesk.messaging import services
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    Message,
    MessageStatus,
    MessageStatusEvent,
    WebhookEvent,
)
from telcodesk.messaging.providers.twilio_sms import (
    EMPTY_TWIML,
    twilio_signature,
    twilio_signature_matches,
)
from tests.conftest import World

from .helpers import make_channel
from .sms_helpers import (
    AUTH_TOKEN,
    CUSTOMER_DIGITS,
    inbound_form,
    inbound_url,
    make_sms_channel,
    post_twilio,
    sms_conversation,
    status_form,
    status_url,
)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
SID = "SM" + "b" * 32


def _deliver(client: Client, capture: Capture, path: str, form: dict[str, str], **kw: Any) -> Any:
    with capture(execute=True):
        return post_twilio(client, path, form, **kw)


def _outbound(channel: Channel, *, sid: str = SID, status: str = MessageStatus.SENT) -> Message:
    conversation = sms_conversation(channel)
    return Message.objects.create(
        organization=channel.organization,
        channel=channel,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        provider_message_id=sid,
        kind=Message.Kind.TEXT,
        body="Su técnico llega mañana",
        status=status,
    )


def _customer(world: World, **profile: Any) -> Customer:
    return customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=[{"raw": "71234567"}],
        **profile,
    )


@pytest.fixture
def recorded_handler() -> Iterator[list[tuple[int, str]]]:
    calls: list[tuple[int, str]] = []

    def sms_test_handler(message: Message, conversation: Conversation) -> None:
        calls.append((message.pk, conversation.channel.kind))

    services.register_inbound_handler(sms_test_handler)
    try:
        yield calls
    finally:
        services._INBOUND_HANDLERS.remove(sms_test_handler)


# --- signatures -------------------------------------------------------------------------


def test_the_signature_matches_twilios_published_example() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    # Order does not matter (names are sorted); the URL with its default port is the same.
    assert twilio_signature_matches(
        "12345",
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        params[::-1],
        ("0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    )
    tampered = [*params[:2], ("Digits", "9999"), *params[3:]]
    assert not twilio_signature_matches("12345", url, tampered, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio_signature_matches(
        "12345", url.replace("bar=2", "bar=3"), params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )
    assert not twilio_signature_matches("12345", url, params, None)
    assert not twilio_signature_matches("", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_a_signed_sms_is_stored_then_applied_and_answered_with_empty_twiml(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    response = _deliver(
        client, django_capture_on_commit_callbacks, inbound_url(channel), inbound_form(sid=SID)
    )
    assert response.status_code == 200
    assert response.content.decode() == EMPTY_TWIML
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    event = WebhookEvent.objects.get()
    assert (event.provider, event.state, event.kinds, event.error) == (
        "twilio_sms",
        "processed",
        ["message:text"],
        "",
    )
    assert sorted(event.headers) == ["Content-Length", "Content-Type", "X-Twilio-Signature"]
    message = Message.objects.get()
    assert (message.direction, message.kind, message.body, message.status) == (
        "in",
        "text",
        "Hola",
        "received",
    )
    assert message.provider_message_id == SID
    assert message.sent_at == event.received_at
    conversation = message.conversation
    assert (conversation.channel, conversation.external_address, conversation.phone_e164) == (
        channel,
        CUSTOMER_DIGITS,
        "+59171234567",
    )
    assert (conversation.unread_count, conversation.last_inbound_at) == (1, event.received_at)


def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_store_nothing(
    world: World, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    channel = make_sms_channel(world.operator)
    form = inbound_form(sid=SID)
    caplog.set_level(logging.WARNING, logger="telcodesk.security")
    missing = post_twilio(client, inbound_url(channel), form, signature="")
    wrong_token = post_twilio(client, inbound_url(channel), form, token="not-the-token")
    # Signed for the status URL, posted to the inbound one: the URL is part of it.
    other_url = twilio_signature(
        AUTH_TOKEN, "http://testserver" + status_url(channel), form.items()
    )
    moved = post_twilio(client, inbound_url(channel), form, signature=other_url)
    assert [missing.status_code, wrong_token.status_code, moved.status_code] == [403, 403, 403]
    assert [getattr(r, "reason", "") for r in caplog.records if r.name == "telcodesk.security"] == [
        "missing signature",
        "bad signature",
        "bad signature",
    ]
    assert WebhookEvent.objects.count() == 0
    assert Message.objects.count() == 0


def test_a_channel_without_an_auth_token_accepts_nothing(world: World, client: Client) -> None:
    channel = make_sms_channel(world.operator)
    Channel.objects.filter(pk=channel.pk).update(sms_auth_token="")
    response = post_twilio(client, inbound_url(channel), inbound_form(), token="")
    assert response.status_code == 403
    assert WebhookEvent.objects.count() == 0


def test_unknown_inactive_and_whatsapp_channels_answer_404(world: World, client: Client) -> None:
    inactive = make_sms_channel(world.operator, is_active=False)
    whatsapp = make_channel(world.operator)
    for channel in (inactive, whatsapp):
        assert post_twilio(client, inbound_url(channel), inbound_form()).status_code == 404
    assert (
        post_twilio(client, "/messaging/twilio/webhook/999999/", inbound_form()).status_code == 404
    )
    assert WebhookEvent.objects.count() == 0


def test_a_body_that_is_not_a_form_is_refused(world: World, client: Client) -> None:
    channel = make_sms_channel(world.operator)
    response = client.post(
        inbound_url(channel),
        data=b'{"Body": "Hola"}',
        content_type="application/json",
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 415
    assert WebhookEvent.objects.count() == 0


def test_five_redeliveries_make_one_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    for _attempt in range(5):
        response = _deliver(
            client, django_capture_on_commit_callbacks, inbound_url(channel), inbound_form(sid=SID)
        )
        assert response.status_code == 200
    assert list(WebhookEvent.objects.values_list("state", flat=True)) == ["processed"]
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_the_same_message_sid_in_another_body_is_stored_once(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
    recorded_handler: list[tuple[int, str]],
) -> None:
    channel = make_sms_channel(world.operator)
    _deliver(
        client, django_capture_on_commit_callbacks, inbound_url(channel), inbound_form(sid=SID)
    )
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        inbound_url(channel),
        inbound_form(sid=SID, FromCity="LA PAZ"),
    )
    assert WebhookEvent.objects.count() == 2
    message = Message.objects.get()
    assert Conversation.objects.get().unread_count == 1
    # The inbound handlers ran once, for the new message, on the SMS conversation.
    assert recorded_handler == [(message.pk, "sms")]


def test_statuses_out_of_order_end_in_the_furthest_one(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    message = _outbound(channel)
    for status in ("delivered", "sent", "queued"):
        response = _deliver(
            client,
            django_capture_on_commit_callbacks,
            status_url(channel),
            status_form(sid=SID, status=status),
        )
        assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert sorted(message.status_events.values_list("status", flat=True)) == [
        "delivered",
        "queued",
        "sent",
    ]
    assert list(WebhookEvent.objects.values_list("kinds", flat=True).order_by("pk")) == [
        ["status:delivered"],
        ["status:sent"],
        ["status:queued"],
    ]


def test_an_undelivered_status_fails_the_message_with_twilios_error(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    message = _outbound(channel)
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        status_url(channel),
        status_form(sid=SID, status="undelivered", ErrorCode="30003"),
    )
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_title, message.error_details) == (
        MessageStatus.FAILED,
        30003,
        "Unreachable destination handset",
        "https://www.twilio.com/docs/errors/30003",
    )


def test_a_status_before_its_message_is_known_is_applied_when_the_sid_is_assigned(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        status_url(channel),
        status_form(sid=SID, status="delivered"),
    )
    assert MessageStatusEvent.objects.get().message is None
    message = _outbound(channel, sid="", status=MessageStatus.SENDING)
    services.message_provider_id_assign(message=message, provider_message_id=SID)
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_a_status_never_applies_to_an_inbound_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    _deliver(
        client, django_capture_on_commit_callbacks, inbound_url(channel), inbound_form(sid=SID)
    )
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        status_url(channel),
        status_form(sid=SID, status="failed", ErrorCode="30008"),
    )
    assert Message.objects.get().status == MessageStatus.RECEIVED


def test_a_webhook_of_another_twilio_account_is_ignored(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    other_account = "AC" + "f" * 32
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        inbound_url(channel),
        inbound_form(sid=SID, AccountSid=other_account),
    )
    event = WebhookEvent.objects.get()
    assert (event.state, event.error) == (
        "ignored",
        f"account {other_account} is not this channel's",
    )
    assert Message.objects.count() == 0


def test_an_mms_keeps_its_first_media(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_sms_channel(world.operator)
    media_url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME" + "c" * 32
    form = inbound_form(
        sid="MM" + "d" * 32,
        body="Así quedó el router",
        NumMedia="1",
        MediaContentType0="image/jpeg",
        MediaUrl0=media_url,
    )
    _deliver(client, django_capture_on_commit_callbacks, inbound_url(channel), form)
    message = Message.objects.get()
    assert (message.kind, message.media_id, message.media_mime_type, message.media_caption) == (
        "image",
        "ME" + "c" * 32,
        "image/jpeg",
        "Así quedó el router",
    )
    assert message.payload["MediaUrl0"] == media_url
    assert WebhookEvent.objects.get().kinds == ["message:media"]


def test_the_customer_is_linked_and_the_timeline_says_sms(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    customer = _customer(world)
    channel = make_sms_channel(world.operator)
    _deliver(
        client, django_capture_on_commit_callbacks, inbound_url(channel), inbound_form(sid=SID)
    )
    assert Conversation.objects.get().customer == customer
    entry = TimelineEvent.objects.get(customer=customer, kind=TimelineEvent.Kind.MESSAGE)
    assert entry.summary == "SMS text received from +59171234567: Hola"


def test_an_opt_out_keyword_withdraws_the_sms_consent(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    customer = _customer(world, consent_sms=True, consent_whatsapp=True)
    channel = make_sms_channel(world.operator)
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        inbound_url(channel),
        inbound_form(sid=SID, body="baja!"),
    )
    conversation = Conversation.objects.get()
    assert conversation.marketing_opt_out_at == Message.objects.get().sent_at
    customer.refresh_from_db()
    assert (customer.consent_sms, customer.consent_whatsapp) == (False, True)
    entries = TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.CHANGE)
    assert [e.summary for e in entries if "consent" in e.summary] == [
        "SMS marketing consent withdrawn: the customer wrote “baja!”."
    ]


def test_twilios_opt_out_type_records_the_opt_out_and_start_lifts_it(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    customer = _customer(world, consent_sms=True)
    channel = make_sms_channel(world.operator)
    # CANCEL is not one of the channel's keywords, but Twilio says it unsubscribed.
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        inbound_url(channel),
        inbound_form(sid="SM" + "1" * 32, body="CANCEL", OptOutType="STOP"),
    )
    conversation = Conversation.objects.get()
    assert conversation.marketing_opt_out_at is not None
    customer.refresh_from_db()
    assert customer.consent_sms is False
    _deliver(
        client,
        django_capture_on_commit_callbacks,
        inbound_url(channel),
        inbound_form(sid="SM" + "2" * 32, body="START", OptOutType="START"),
    )
    conversation.refresh_from_db()
    assert conversation.marketing_opt_out_at is None
    customer.refresh_from_db()
    assert customer.consent_sms is False  # consent comes back only when given again
