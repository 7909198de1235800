"""Queueing SMS: limits, templates, numbered options, the customer's SMS conversation,
channel settings and Twilio's error decisions (no network: nothing is committed here)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from telcodesk.accounts.roles import Role
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.services import customer_assign, customer_create
from telcodesk.messaging.interactive_lists import InteractiveList, ListRow, ListSection
from telcodesk.messaging.models import Channel, Conversation, Message, MessageStatus
from telcodesk.messaging.outbox import failure_decision
from telcodesk.messaging.providers.twilio_sms import sms_segments, twilio_error_from_response
from telcodesk.messaging.sending import (
    SendRefused,
    message_send_interactive,
    message_send_media,
    message_send_template,
    message_send_text,
)
from telcodesk.messaging.sms import sms_conversation_for_customer
from telcodesk.messaging.sms_demo import sms_sandbox_channels
from tests.conftest import World

from .helpers import make_channel
from .outbox_helpers import make_template
from .sms_helpers import CUSTOMER_NUMBER, SENDER, make_sms_channel, sms_conversation

pytestmark = pytest.mark.django_db

SERVICE_SID = "MG" + "e" * 32


@pytest.fixture(autouse=True)
def _english_organizations(world: World) -> None:
    # The "Reply with..." line is in the customer's or organization's language.
    for organization in (world.operator, world.other_operator, world.reseller):
        organization.default_language = "en"
        organization.save(update_fields=["default_language"])


def _customer(world: World, phones: list[dict[str, Any]] | None = None, **profile: Any) -> Customer:
    return customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        phones=phones if phones is not None else [{"raw": "71234567"}],
        **profile,
    )


def _refusal(call: Any) -> str:
    with pytest.raises(SendRefused) as refused:
        call()
    return refused.value.reason


# --- texts ------------------------------------------------------------------------------


def test_a_text_needs_no_24_hour_window_and_carries_up_to_1600_characters(
    world: World,
) -> None:
    channel = make_sms_channel(world.operator)
    conversation = sms_conversation(channel, last_inbound_at=None)
    message = message_send_text(actor_or_none=None, conversation=conversation, body="x" * 1600)
    assert (message.status, message.kind, len(message.body)) == (MessageStatus.QUEUED, "text", 1600)
    # No public base URL on the channel: no StatusCallback.
    assert message.payload == {"To": CUSTOMER_NUMBER, "Body": "x" * 1600, "From": SENDER}
    with pytest.raises(SendRefused) as refused:
        message_send_text(actor_or_none=None, conversation=conversation, body="x" * 1601)
    assert refused.value.reason == "sms_too_long"
    assert refused.value.message == (
        "An SMS carries at most 1600 characters (Twilio sends it in segments); this one has "
        "1601. Shorten it, or send the details by e-mail."
    )
    assert (
        _refusal(
            lambda: message_send_text(actor_or_none=None, conversation=conversation, body="  ")
        )
        == "bad_body"
    )
    assert Message.objects.count() == 1


def test_a_messaging_service_replaces_the_sender_and_the_callback_uses_the_public_url(
    world: World,
) -> None:
    channel = make_sms_channel(
        world.operator,
        sms_from="",
        sms_messaging_service_sid=SERVICE_SID,
        sms_webhook_base_url="https://desk.example.com/",
    )
    conversation = sms_conversation(channel)
    message = message_send_text(actor_or_none=None, conversation=conversation, body="Hola")
    assert message.payload == {
        "To": CUSTOMER_NUMBER,
        "Body": "Hola",
        "MessagingServiceSid": SERVICE_SID,
        "StatusCallback": f"https://desk.example.com/messaging/twilio/status/{channel.pk}/",
    }


def test_files_are_refused_on_sms(world: World) -> None:
    conversation = sms_conversation(make_sms_channel(world.operator))
    reason = _refusal(
        lambda: message_send_media(
            actor_or_none=None,
            conversation=conversation,
            kind="image",
            media_id="123",
            mime_type="image/jpeg",
        )
    )
    assert reason == "not_on_sms"
    assert Message.objects.count() == 0


def test_an_outsider_gets_not_found_and_nothing_is_queued(world: World) -> None:
    conversation = sms_conversation(make_sms_channel(world.operator))
    with pytest.raises(NotFound):
        message_send_text(
            actor_or_none=world.actor(world.outsider), conversation=conversation, body="Hola"
        )
    with pytest.raises(NotFound):
        message_send_interactive(
            actor_or_none=world.actor(world.outsider),
            conversation=conversation,
            body="¿Seguimos?",
            buttons=[("si", "Sí")],
        )
    assert Message.objects.count() == 0


def test_a_switched_off_channel_refuses(world: World) -> None:
    conversation = sms_conversation(make_sms_channel(world.operator, is_active=False))
    assert (
        _refusal(
            lambda: message_send_text(actor_or_none=None, conversation=conversation, body="Hola")
        )
        == "channel_inactive"
    )


# --- templates --------------------------------------------------------------------------


def test_a_template_goes_rendered_with_its_quick_replies_numbered(world: World) -> None:
    channel = make_sms_channel(world.operator)
    customer = _customer(world)
    conversation = sms_conversation(channel, customer=customer)
    # Pending with Meta: approval concerns WhatsApp, not SMS.
    template = make_template(channel, status="pending")
    message = message_send_template(
        actor_or_none=None, conversation=conversation, template=template
    )
    assert (message.kind, message.template) == ("template", template)
    assert message.body == (
        "Hola Juana, ¡tenemos cobertura de fibra en tu zona!\n1. Me interesa\nReply with 1."
    )
    assert message.payload["telcodesk_options"] == [
        {"number": 1, "id": "Me interesa", "title": "Me interesa", "reply_kind": "button"}
    ]


def test_a_marketing_template_needs_sms_consent(world: World) -> None:
    channel = make_sms_channel(world.operator)
    customer = _customer(world, consent_whatsapp=True)
    conversation = sms_conversation(channel, customer=customer)
    template = make_template(channel, category="marketing", buttons=[])

    def send() -> Message:
        return message_send_template(
            actor_or_none=None, conversation=conversation, template=template
        )

    assert _refusal(send) == "no_marketing_consent"
    Customer.objects.filter(pk=customer.pk).update(consent_sms=True)
    conversation.refresh_from_db()
    assert send().body == "Hola Juana, ¡tenemos cobertura de fibra en tu zona!"
    Conversation.objects.filter(pk=conversation.pk).update(marketing_opt_out_at="2026-01-01T00:00Z")
    conversation.refresh_from_db()
    assert _refusal(send) == "no_marketing_consent"


# --- numbered options -------------------------------------------------------------------


def test_a_list_becomes_numbered_rows_with_sections_and_descriptions(world: World) -> None:
    conversation = sms_conversation(make_sms_channel(world.operator))
    spec = InteractiveList(
        body="Elija un plan",
        button="Planes",
        header="Fibra",
        footer="Precios con IVA",
        sections=(
            ListSection("Hogar", (ListRow("300", "300 MB", "Bs. 199"), ListRow("600", "600 MB"))),
            ListSection("Empresa", (ListRow("1000", "1 GB", "IP fija"),)),
        ),
    )
    message = message_send_interactive(
        actor_or_none=None, conversation=conversation, list_spec=spec
    )
    assert message.body == (
        "Fibra\nElija un plan\nHogar\n1. 300 MB — Bs. 199\n2. 600 MB\nEmpresa\n"
        "3. 1 GB — IP fija\nPrecios con IVA\nReply with a number from 1 to 3."
    )
    assert [(o["number"], o["id"]) for o in message.payload["telcodesk_options"]] == [
        (1, "300"),
        (2, "600"),
        (3, "1000"),
    ]


def test_the_answer_line_is_in_the_customers_language(world: World) -> None:
    customer = _customer(world, preferred_language="es")
    conversation = sms_conversation(make_sms_channel(world.operator), customer=customer)
    with translation.override("en"):
        message = message_send_interactive(
            actor_or_none=None, conversation=conversation, body="¿Seguimos?", buttons=[("s", "Sí")]
        )
    with translation.override("es"):
        expected = translation.ngettext(
            "Reply with 1.", "Reply with a number from 1 to %(last)d.", 1
        ) % {"last": 1}
    assert message.body == f"¿Seguimos?\n1. Sí\n{expected}"


def test_buttons_keep_whatsapps_limits_on_sms(world: World) -> None:
    conversation = sms_conversation(make_sms_channel(world.operator))
    four = [(str(n), f"Opción {n}") for n in range(4)]
    assert (
        _refusal(
            lambda: message_send_interactive(
                actor_or_none=None, conversation=conversation, body="Elija", buttons=four
            )
        )
        == "bad_interactive"
    )
    with pytest.raises(ValidationFailed):
        message_send_interactive(
            actor_or_none=None,
            conversation=conversation,
            list_spec=InteractiveList(body="Elija", button="Ver", sections=()),
        )
    assert Message.objects.count() == 0


# --- the customer's SMS conversation -------------------------------------------------------


def test_the_customers_sms_conversation_is_found_or_created_on_the_sms_channel(
    world: World,
) -> None:
    make_channel(world.operator)  # a WhatsApp channel does not count
    channel = make_sms_channel(world.operator)
    customer = _customer(world)
    conversation = sms_conversation_for_customer(
        actor_or_none=world.actor(world.agent), customer=customer
    )
    assert conversation is not None
    assert (
        conversation.channel,
        conversation.external_address,
        conversation.phone_e164,
        conversation.customer,
        conversation.display_name,
    ) == (channel, "59171234567", CUSTOMER_NUMBER, customer, "Juana Mamani")
    again = sms_conversation_for_customer(actor_or_none=None, customer=customer)
    assert again == conversation
    assert Conversation.objects.count() == 1


def test_an_unlinked_conversation_with_the_number_is_linked_to_the_customer(world: World) -> None:
    channel = make_sms_channel(world.operator)
    existing = sms_conversation(channel)  # the customer texted before being registered
    customer = _customer(world)
    found = sms_conversation_for_customer(actor_or_none=None, customer=customer)
    assert found == existing
    assert found is not None and found.customer == customer


def test_the_primary_mobile_is_chosen_and_landlines_are_skipped(world: World) -> None:
    make_sms_channel(world.operator)
    landline_only = _customer(world, phones=[{"raw": "22123456", "label": "home"}])
    assert sms_conversation_for_customer(actor_or_none=None, customer=landline_only) is None
    customer = _customer(
        world,
        phones=[{"raw": "22123457", "label": "home"}, {"raw": "76543210", "label": "mobile"}],
    )
    conversation = sms_conversation_for_customer(actor_or_none=None, customer=customer)
    assert conversation is not None and conversation.phone_e164 == "+59176543210"
    chosen = sms_conversation_for_customer(
        actor_or_none=None, customer=customer, phone="+591 76543210"
    )
    assert chosen == conversation
    with pytest.raises(ValidationFailed) as not_theirs:
        sms_conversation_for_customer(actor_or_none=None, customer=customer, phone="71112233")
    assert list(not_theirs.value.details) == ["phone"]


def test_no_sms_channel_means_no_conversation(world: World) -> None:
    customer = _customer(world)
    make_sms_channel(world.operator, is_active=False)
    assert sms_conversation_for_customer(actor_or_none=None, customer=customer) is None
    assert Conversation.objects.count() == 0


def test_an_outsider_or_a_role_without_reply_gets_nothing(world: World) -> None:
    make_sms_channel(world.operator)
    make_sms_channel(world.other_operator, sms_from="+15550100002")
    customer = _customer(world)
    with pytest.raises(NotFound):
        sms_conversation_for_customer(actor_or_none=world.actor(world.outsider), customer=customer)
    with pytest.raises(NotFound):
        sms_conversation_for_customer(
            actor_or_none=None, customer=customer, organization=world.other_operator
        )
    integration = Actor(organization=world.operator, role=Role.INTEGRATION)
    with pytest.raises(PermissionDenied):
        sms_conversation_for_customer(actor_or_none=integration, customer=customer)
    assert Conversation.objects.count() == 0


def test_a_reseller_reaches_an_assigned_customer_on_its_own_sms_channel(world: World) -> None:
    customer = _customer(world)
    reseller_channel = make_sms_channel(world.reseller, sms_from="+15550100003")
    reseller_actor = world.actor(world.reseller_agent)
    with pytest.raises(NotFound):
        sms_conversation_for_customer(actor_or_none=reseller_actor, customer=customer)
    customer_assign(actor=world.actor(world.admin), customer=customer, reseller=world.reseller)
    conversation = sms_conversation_for_customer(actor_or_none=reseller_actor, customer=customer)
    assert conversation is not None
    assert (conversation.channel, conversation.organization) == (reseller_channel, world.reseller)
    assert Conversation.objects.count() == 1


# --- channel settings, errors, segments, demo -----------------------------------------------


def test_an_sms_channel_with_bad_settings_is_refused_per_field(world: World) -> None:
    channel = Channel(
        organization=world.operator,
        kind=Channel.Kind.SMS,
        name="SMS",
        sms_account_sid="AC123",
        sms_from="5550100",
        sms_messaging_service_sid="MG1",
    )
    with pytest.raises(ValidationError) as refused:
        channel.full_clean()
    assert sorted(refused.value.message_dict) == [
        "sms_account_sid",
        "sms_auth_token",
        "sms_from",
        "sms_messaging_service_sid",
    ]


@pytest.mark.parametrize(
    ("status", "body", "code", "retry"),
    [
        (429, b'{"code": 20429, "message": "Too Many Requests", "status": 429}', 20429, True),
        (500, b"<html>oops</html>", None, True),
        (503, b'{"code": 20503, "message": "Service unavailable", "status": 503}', 20503, True),
        (400, b'{"code": 21211, "message": "Invalid To", "status": 400}', 21211, False),
        (400, b'{"code": 21610, "message": "Unsubscribed", "status": 400}', 21610, False),
        (400, b'{"code": 21614, "message": "Not a mobile", "status": 400}', 21614, False),
        (401, b'{"code": 20003, "message": "Authenticate", "status": 401}', 20003, False),
    ],
)
def test_twilio_errors_retry_only_when_a_later_attempt_can_succeed(
    status: int, body: bytes, code: int | None, retry: bool
) -> None:
    error = twilio_error_from_response(status, body)
    assert (error.code, error.retryable, error.status) == (code, retry, status)
    assert failure_decision(error, attempts=1).retry is retry
    assert failure_decision(error, attempts=6).retry is False  # bounded attempts


def test_segments_follow_the_gsm_and_ucs2_sizes() -> None:
    assert [sms_segments("a" * 160), sms_segments("a" * 161), sms_segments("a" * 306)] == [1, 2, 2]
    assert [sms_segments("á" * 70), sms_segments("á" * 71), sms_segments("€" * 81)] == [1, 2, 2]


def test_the_demo_makes_one_sandbox_sms_channel_per_organization_and_follows_the_port(
    world: World,
) -> None:
    lines: list[str] = []
    assert sms_sandbox_channels(host="127.0.0.1", port=8000, write=lines.append) == 3
    assert sms_sandbox_channels(host="127.0.0.1", port=8000, write=lines.append) == 0
    assert len(lines) == 3
    channel = Channel.objects.get(organization=world.operator, kind=Channel.Kind.SMS)
    assert (channel.sms_api_base_url, channel.sms_webhook_base_url) == (
        "http://127.0.0.1:8000/messaging/sandbox/twilio",
        "http://127.0.0.1:8000",
    )
    sms_sandbox_channels(host="localhost", port=9000, write=lines.append)
    channel.refresh_from_db()
    assert channel.sms_api_base_url == "http://localhost:9000/messaging/sandbox/twilio"
    assert Channel.objects.filter(kind=Channel.Kind.SMS).count() == 3
