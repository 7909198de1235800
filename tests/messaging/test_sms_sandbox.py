"""The real Twilio client against the sandbox over HTTP: sends, retries, refusals,
status callbacks back, numbered options answered from the phone simulator."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from telcodesk.automation.models import Timer
from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.customers.services import customer_create
from telcodesk.messaging.models import Channel, Message, MessageStatus, SandboxMessage
from telcodesk.messaging.outbox import TIMER_KIND, client_for_channel, outbox_message_send
from telcodesk.messaging.providers.sandbox_twilio import (
    sandbox_sms_phone_message,
    sandbox_sms_statuses_deliver,
    url_poster,
)
from telcodesk.messaging.providers.twilio_sms import TwilioSmsClient
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError
from telcodesk.messaging.sending import message_send_interactive, message_send_text
from tests.conftest import World

from .sms_helpers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER_DIGITS,
    CUSTOMER_NUMBER,
    SENDER,
    make_sms_channel,
    sms_conversation,
    status_url,
)

pytestmark = pytest.mark.django_db(transaction=True)

SID = re.compile(r"SM[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def _no_status_threads(settings: Any) -> None:
    # Tests post the sandbox's status callbacks themselves (deterministic order).
    settings.TELCODESK_SANDBOX_STATUS_WEBHOOKS = False


def sandbox_sms_channel(world: World, live_server: LiveServer, **fields: Any) -> Channel:
    return make_sms_channel(
        world.operator,
        sms_api_base_url=live_server.url + "/messaging/sandbox/twilio",
        sms_webhook_base_url=live_server.url,
        **fields,
    )


def _customer(world: World, **profile: Any) -> Customer:
    return customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=[{"raw": "71234567"}],
        **profile,
    )


def test_a_text_goes_through_the_real_client_to_the_sandbox_and_callbacks_come_back(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_sms_channel(world, live_server)
    conversation = sms_conversation(channel)  # no 24-hour window on SMS
    # Autocommit: the send is enqueued at once and runs eagerly (no broker in tests).
    message = message_send_text(
        actor_or_none=world.actor(world.agent),
        conversation=conversation,
        body="Su técnico llega mañana entre 9 y 12.",
    )
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert SID.fullmatch(message.provider_message_id)
    callback = live_server.url + status_url(channel)
    assert message.payload == {
        "To": CUSTOMER_NUMBER,
        "Body": "Su técnico llega mañana entre 9 y 12.",
        "From": SENDER,
        "StatusCallback": callback,
    }
    on_phone = SandboxMessage.objects.get(wamid=message.provider_message_id)
    assert (on_phone.direction, on_phone.phone_number_id, on_phone.wa_id, on_phone.text) == (
        SandboxMessage.Direction.TO_PHONE,
        SENDER,
        CUSTOMER_DIGITS,
        "Su técnico llega mañana entre 9 y 12.",
    )
    assert on_phone.payload == message.payload  # what the client posted, field by field

    answers = sandbox_sms_statuses_deliver(sid=message.provider_message_id, post=url_poster())
    assert answers == [200, 200, 200]
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert sorted(message.status_events.values_list("status", flat=True)) == [
        "delivered",
        "queued",
        "sent",
    ]


def test_the_sandbox_answers_like_twilio_and_checks_basic_auth(
    world: World, live_server: LiveServer
) -> None:
    channel = sandbox_sms_channel(world, live_server)
    base = channel.sms_api_base_url
    ok = TwilioSmsClient(base_url=base, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).send(
        {"To": CUSTOMER_NUMBER, "From": SENDER, "Body": "Hola"}
    )
    assert SID.fullmatch(ok.wamid)
    assert (ok.raw["status"], ok.raw["direction"], ok.raw["num_segments"], ok.raw["to"]) == (
        "queued",
        "outbound-api",
        "1",
        CUSTOMER_NUMBER,
    )
    assert ok.raw["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{ok.wamid}.json"
    wrong = TwilioSmsClient(base_url=base, account_sid=ACCOUNT_SID, auth_token="wrong-token")
    with pytest.raises(ProviderError) as refused:
        wrong.send({"To": CUSTOMER_NUMBER, "From": SENDER, "Body": "Hola"})
    assert (refused.value.code, refused.value.status, refused.value.retryable) == (
        20003,
        401,
        False,
    )
    assert refused.value.details == "https://www.twilio.com/docs/errors/20003"
    client = client_for_channel(channel)
    with pytest.raises(ProviderError) as other_sender:
        client.send({"To": CUSTOMER_NUMBER, "From": "+15550109999", "Body": "Hola"})
    assert (other_sender.value.code, other_sender.value.retryable) == (21606, False)
    with pytest.raises(ProviderError) as too_long:
        client.send({"To": CUSTOMER_NUMBER, "From": SENDER, "Body": "x" * 1601})
    assert (too_long.value.code, too_long.value.status) == (21617, 400)
    assert SandboxMessage.objects.count() == 1


def test_a_429_is_retried_later_and_then_sent(
    world: World, live_server: LiveServer, settings: Any
) -> None:
    channel = sandbox_sms_channel(world, live_server)
    conversation = sms_conversation(channel)
    settings.TELCODESK_SANDBOX_MESSAGES_PER_SECOND = 0  # every send is over the limit
    message = message_send_text(actor_or_none=None, conversation=conversation, body="Hola")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (
        MessageStatus.QUEUED,
        1,
        20429,
    )
    assert message.error_title == "Too Many Requests"
    assert message.next_attempt_at is not None and message.next_attempt_at > timezone.now()
    timer = Timer.objects.get(kind=TIMER_KIND, target_id=message.pk)
    assert timer.due_at == message.next_attempt_at
    # The retry's time comes (moved, not waited for); the sandbox has room again.
    settings.TELCODESK_SANDBOX_MESSAGES_PER_SECOND = 1000
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert outbox_message_send(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code, message.error_title) == (
        MessageStatus.SENT,
        2,
        None,
        "",
    )
    assert SandboxMessage.objects.filter(wamid=message.provider_message_id).count() == 1


def test_an_unsubscribed_recipient_fails_at_once_and_records_the_opt_out(
    world: World, live_server: LiveServer
) -> None:
    customer = _customer(world, consent_sms=True)
    channel = sandbox_sms_channel(world, live_server)
    conversation = sms_conversation(channel, customer=customer)
    # The customer texted STOP to Twilio; our webhook never heard of it.
    sandbox_sms_phone_message(channel=channel, number=CUSTOMER_NUMBER, text="STOP")
    message = message_send_text(actor_or_none=None, conversation=conversation, body="Hola")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code, message.error_title) == (
        MessageStatus.FAILED,
        1,
        21610,
        "Attempt to send to unsubscribed recipient",
    )
    assert not Timer.objects.filter(kind=TIMER_KIND).exists()
    conversation.refresh_from_db()
    assert conversation.marketing_opt_out_at is not None
    customer.refresh_from_db()
    assert customer.consent_sms is False
    summaries = TimelineEvent.objects.filter(
        customer=customer, kind=TimelineEvent.Kind.CHANGE
    ).values_list("summary", flat=True)
    assert [s for s in summaries if "consent" in s] == [
        "SMS marketing consent withdrawn: Twilio reports the number unsubscribed (it texted STOP)."
    ]


@pytest.mark.parametrize(
    ("number", "code", "title"),
    [
        ("+5917123", 21211, "Invalid 'To' Phone Number: +5917123"),
        ("+59122123456", 21614, "'To' number is not a valid mobile number"),
        ("+15005550001", 21211, "Invalid 'To' Phone Number: +15005550001"),
    ],
)
def test_a_number_that_cannot_receive_sms_fails_without_retry(
    world: World, live_server: LiveServer, number: str, code: int, title: str
) -> None:
    channel = sandbox_sms_channel(world, live_server)
    conversation = sms_conversation(channel, external_address=number[1:], phone_e164=number)
    message = message_send_text(actor_or_none=None, conversation=conversation, body="Hola")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code, message.error_title) == (
        MessageStatus.FAILED,
        1,
        code,
        title,
    )
    assert message.error_details == f"https://www.twilio.com/docs/errors/{code}"
    assert message.next_attempt_at is None
    assert not Timer.objects.filter(kind=TIMER_KIND).exists()
    conversation.refresh_from_db()
    assert conversation.marketing_opt_out_at is None  # only 21610 is an opt-out
    assert SandboxMessage.objects.count() == 0


def test_buttons_arrive_numbered_and_the_customer_answers_with_a_number(
    world: World, live_server: LiveServer, client: Client, settings: Any
) -> None:
    world.operator.default_language = "en"
    world.operator.save(update_fields=["default_language"])
    channel = sandbox_sms_channel(world, live_server)
    conversation = sms_conversation(channel)
    message = message_send_interactive(
        actor_or_none=world.actor(world.agent),
        conversation=conversation,
        body="¿Confirma la visita del martes?",
        buttons=[("visit_yes", "Sí"), ("visit_no", "No, otro día")],
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    text = (
        "¿Confirma la visita del martes?\n1. Sí\n2. No, otro día\nReply with a number from 1 to 2."
    )
    assert (message.kind, message.body, message.payload["Body"]) == ("interactive", text, text)
    assert SandboxMessage.objects.get(wamid=message.provider_message_id).text == text

    # The phone simulator posts the customer's "2" to our webhook over HTTP, signed.
    settings.TELCODESK_SANDBOX_WEBHOOK_BASE_URL = live_server.url
    client.force_login(world.agent)
    page = client.get(
        reverse("messaging:sandbox_phone", args=[channel.pk]), {"wa_id": CUSTOMER_DIGITS}
    )
    assert page.status_code == 200
    assert "2. No, otro día" in page.content.decode()
    response = client.post(
        reverse("messaging:sandbox_phone_send", args=[channel.pk]),
        {"wa_id": CUSTOMER_DIGITS, "text": " 2 "},
    )
    assert response.status_code == 200
    assert "The webhook answered" not in response.content.decode()
    reply = Message.objects.get(direction=Message.Direction.INBOUND)
    assert (reply.kind, reply.body, reply.reply_payload, reply.reply_to_provider_id) == (
        "interactive",
        "No, otro día",
        "visit_no",
        message.provider_message_id,
    )
    assert reply.payload["Body"] == "2"
    assert reply.conversation == conversation
    # A number that is no option stays a plain text.
    client.post(
        reverse("messaging:sandbox_phone_send", args=[channel.pk]),
        {"wa_id": CUSTOMER_DIGITS, "text": "7"},
    )
    other = Message.objects.filter(direction=Message.Direction.INBOUND).latest("id")
    assert (other.kind, other.body, other.reply_payload) == ("text", "7", "")


def test_the_phone_simulator_is_for_the_channels_organization_only(
    world: World, live_server: LiveServer, client: Client
) -> None:
    channel = sandbox_sms_channel(world, live_server)
    client.force_login(world.outsider)
    page = client.get(reverse("messaging:sandbox_phone", args=[channel.pk]))
    sent = client.post(
        reverse("messaging:sandbox_phone_send", args=[channel.pk]),
        {"wa_id": CUSTOMER_DIGITS, "text": "Hola"},
    )
    assert (page.status_code, sent.status_code) == (404, 404)
    assert SandboxMessage.objects.count() == 0
    assert Message.objects.count() == 0
