"""Outbound e-mail through the outbox to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from telcodesk.automation.models import Timer
from telcodesk.core.errors import NotFound
from telcodesk.customers.models import Customer
from telcodesk.messaging.email import email_send, email_send_template
from telcodesk.messaging.models import Channel, Conversation, EmailTemplate, Message, MessageStatus
from telcodesk.messaging.outbox import TIMER_KIND, outbox_message_send
from telcodesk.messaging.sending import SendRefused
from tests.conftest import World

from .test_email_support import (
    FROM_ADDRESS,
    REPLY_DOMAIN,
    SmtpMailbox,
    free_port,
    make_email_channel,
    running_smtp_server,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_server() -> Iterator[SmtpMailbox]:
    with running_smtp_server() as mailbox:
        yield mailbox


SUBJECT = "Tu instalación de fibra óptica"
BODY = "Hola Juana:\n\n¿Cuándo podemos instalar? Señal garantizada en Sacaba.\n\nSaludos"


def _due_now(message: Message) -> None:
    """The retry's time has come (the timer would wake the worker now)."""
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def test_a_mail_arrives_with_its_headers_and_accents_intact(
    world: World, smtp_server: SmtpMailbox
) -> None:
    channel = make_email_channel(world.operator, port=smtp_server.port)
    message = email_send(
        actor_or_none=world.actor(world.agent),
        organization=world.operator,
        to_address="Juana Mamani <Juana.Mamani@Example.com>",
        subject=SUBJECT,
        body=BODY,
    )
    assert (message.status, message.kind, message.channel_id) == (
        MessageStatus.QUEUED,
        Message.Kind.EMAIL,
        channel.pk,
    )
    assert outbox_message_send(message_id=message.pk) == "sent"

    message.refresh_from_db()
    conversation = Conversation.objects.get(pk=message.conversation_id)
    expected_id = f"td.{message.idempotency_key}@comteco.test"
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == expected_id
    assert conversation.external_address == "juana.mamani@example.com"
    assert len(conversation.email_reply_token) == 16
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.mail_from == FROM_ADDRESS
    assert received.rcpt_tos == ["juana.mamani@example.com"]
    mail = received.parsed()
    assert str(mail["From"]) == f"COMTECO Ventas <{FROM_ADDRESS}>"
    assert str(mail["To"]) == "juana.mamani@example.com"
    assert str(mail["Subject"]) == SUBJECT
    assert str(mail["Message-ID"]) == f"<{expected_id}>"
    assert str(mail["Reply-To"]) == (f"replies+{conversation.email_reply_token}@{REPLY_DOMAIN}")
    assert str(mail["Content-Language"]) == "es"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n") == BODY + "\n"


def test_a_451_reply_is_retried_later_with_the_same_message_id(
    world: World, smtp_server: SmtpMailbox
) -> None:
    make_email_channel(world.operator, port=smtp_server.port)
    message = email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address="juana@example.com",
        subject=SUBJECT,
        body=BODY,
    )
    smtp_server.rcpt_reply = "451 4.3.0 Mailbox busy, try again later"
    assert outbox_message_send(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (
        MessageStatus.QUEUED,
        1,
        451,
    )
    assert message.error_title == "451 4.3.0 Mailbox busy, try again later"
    assert message.next_attempt_at is not None and message.next_attempt_at > timezone.now()
    assert Timer.objects.filter(kind=TIMER_KIND, target_id=message.pk).count() == 1
    assert smtp_server.received == []
    # Not due yet: a worker woken early sends nothing.
    assert outbox_message_send(message_id=message.pk) == "skipped"

    smtp_server.rcpt_reply = ""
    _due_now(message)
    assert outbox_message_send(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code, message.error_title) == (
        MessageStatus.SENT,
        2,
        None,
        "",
    )
    assert len(smtp_server.received) == 1
    assert str(smtp_server.received[0].parsed()["Message-ID"]) == (
        f"<td.{message.idempotency_key}@comteco.test>"
    )


def test_a_550_reply_fails_the_mail_with_the_servers_text(
    world: World, smtp_server: SmtpMailbox
) -> None:
    make_email_channel(world.operator, port=smtp_server.port)
    message = email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address="nadie@example.com",
        subject=SUBJECT,
        body=BODY,
    )
    smtp_server.rcpt_reply = "550 5.1.1 <nadie@example.com>: Recipient address rejected"
    assert outbox_message_send(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.error_code, message.next_attempt_at) == (
        MessageStatus.FAILED,
        550,
        None,
    )
    assert message.error_title == "550 5.1.1 <nadie@example.com>: Recipient address rejected"
    assert message.error_details == "5.1.1 <nadie@example.com>: Recipient address rejected"
    assert Timer.objects.filter(kind=TIMER_KIND, target_id=message.pk).count() == 0
    assert smtp_server.received == []


def test_a_refused_connection_is_retried(world: World) -> None:
    make_email_channel(world.operator, port=free_port())  # nothing listens there
    message = email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address="juana@example.com",
        subject=SUBJECT,
        body=BODY,
    )
    assert outbox_message_send(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (
        MessageStatus.QUEUED,
        1,
        None,
    )
    assert message.error_title.startswith("network error:")


def test_a_second_mail_in_the_conversation_answers_the_customers_last_mail(
    world: World, smtp_server: SmtpMailbox
) -> None:
    channel = make_email_channel(world.operator, port=smtp_server.port)
    conversation = Conversation.objects.create(
        organization=world.operator, channel=channel, external_address="juana@example.com"
    )
    Message.objects.create(
        organization=world.operator,
        channel=channel,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        kind=Message.Kind.EMAIL,
        provider_message_id="mail-7@example.com",
        status=MessageStatus.RECEIVED,
        payload={"message_id": "<mail-7@example.com>", "references": ["<mail-6@example.com>"]},
    )
    message = email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address="juana@example.com",
        subject="Re: Consulta",
        body="Sí, hay cobertura.",
        conversation=conversation,
    )
    assert outbox_message_send(message_id=message.pk) == "sent"
    mail = smtp_server.received[0].parsed()
    assert str(mail["In-Reply-To"]) == "<mail-7@example.com>"
    assert str(mail["References"]) == "<mail-6@example.com> <mail-7@example.com>"


def test_it_refuses_without_an_email_channel_and_stores_nothing(world: World) -> None:
    with pytest.raises(SendRefused) as refused:
        email_send(
            actor_or_none=None,
            organization=world.operator,
            to_address="juana@example.com",
            subject=SUBJECT,
            body=BODY,
        )
    assert refused.value.reason == "no_email_channel"
    assert "has no active e-mail channel" in refused.value.message
    with override("es"), pytest.raises(SendRefused) as in_spanish:
        email_send(
            actor_or_none=None,
            organization=world.operator,
            to_address="juana@example.com",
            subject=SUBJECT,
            body=BODY,
        )
    assert in_spanish.value.reason == "no_email_channel"
    assert (Message.objects.count(), Conversation.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    "address", ["juana", "juana@", "juana@example", "ju ana@example.com", "a@b.com\nBcc: x@y.z"]
)
def test_it_refuses_a_bad_address_and_stores_nothing(world: World, address: str) -> None:
    make_email_channel(world.operator)
    with pytest.raises(SendRefused) as refused:
        email_send(
            actor_or_none=None,
            organization=world.operator,
            to_address=address,
            subject=SUBJECT,
            body=BODY,
        )
    assert refused.value.reason == "bad_address"
    assert "is not a valid e-mail address" in refused.value.message
    assert (Message.objects.count(), Conversation.objects.count()) == (0, 0)


def test_it_refuses_an_empty_subject_or_body(world: World) -> None:
    make_email_channel(world.operator)
    for subject, body, reason in (("  ", BODY, "bad_subject"), (SUBJECT, " \n ", "bad_body")):
        with pytest.raises(SendRefused) as refused:
            email_send(
                actor_or_none=None,
                organization=world.operator,
                to_address="juana@example.com",
                subject=subject,
                body=body,
            )
        assert refused.value.reason == reason
    assert Message.objects.count() == 0


def test_an_outsider_cannot_send_for_another_organization(world: World) -> None:
    make_email_channel(world.operator)
    with pytest.raises(NotFound):
        email_send(
            actor_or_none=world.actor(world.outsider),
            organization=world.operator,
            to_address="juana@example.com",
            subject=SUBJECT,
            body=BODY,
        )
    other_customer = Customer.objects.create(organization=world.other_operator, first_name="Ana")
    with pytest.raises(NotFound):
        email_send(
            actor_or_none=None,
            organization=world.operator,
            to_address="juana@example.com",
            subject=SUBJECT,
            body=BODY,
            customer=other_customer,
        )
    assert Message.objects.count() == 0


def test_a_customer_is_linked_to_the_new_conversation(world: World) -> None:
    make_email_channel(world.operator)
    customer = Customer.objects.create(
        organization=world.operator, first_name="Juana", last_name="Mamani"
    )
    message = email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address="juana@example.com",
        subject=SUBJECT,
        body=BODY,
        customer=customer,
        language="pt",
    )
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.customer_id, conversation.display_name) == (customer.pk, "Juana Mamani")
    assert message.payload["language"] == "pt"


# --- templates --------------------------------------------------------------------------------


def _templates(world: World) -> None:
    for language, subject, body in (
        ("es", "Visita técnica, {customer_name}", "Hola {customer_name}, te visitamos el {day}."),
        ("pt", "Visita técnica, {customer_name}", "Olá {customer_name}, visitamos você {day}."),
    ):
        EmailTemplate.objects.create(
            organization=world.operator,
            name="visita_tecnica",
            language=language,
            subject=subject,
            body=body,
        )


def test_a_template_is_rendered_in_the_asked_language(
    world: World, smtp_server: SmtpMailbox
) -> None:
    make_email_channel(world.operator, port=smtp_server.port)
    _templates(world)
    customer = Customer.objects.create(organization=world.operator, first_name="João")
    message = email_send_template(
        actor_or_none=None,
        organization=world.operator,
        to_address="joao@example.com",
        template_name="visita_tecnica",
        language="pt_BR",
        context={"day": "na segunda-feira"},
        customer=customer,
    )
    assert message.payload["subject"] == "Visita técnica, João"
    assert message.body == "Olá João, visitamos você na segunda-feira."
    assert message.payload["language"] == "pt"
    assert outbox_message_send(message_id=message.pk) == "sent"
    mail = smtp_server.received[0].parsed()
    assert str(mail["Subject"]) == "Visita técnica, João"
    assert (
        mail.get_content().replace("\r\n", "\n") == "Olá João, visitamos você na segunda-feira.\n"
    )


def test_a_template_falls_back_to_the_organizations_default_language(world: World) -> None:
    make_email_channel(world.operator)
    _templates(world)
    assert world.operator.default_language == "es"
    message = email_send_template(
        actor_or_none=None,
        organization=world.operator,
        to_address="juana@example.com",
        template_name="visita_tecnica",
        language="en",
        context={"customer_name": "Juana", "day": "lunes"},
    )
    assert (message.payload["language"], message.body) == (
        "es",
        "Hola Juana, te visitamos el lunes.",
    )


def test_a_template_refuses_a_missing_placeholder_or_an_unknown_name(world: World) -> None:
    make_email_channel(world.operator)
    _templates(world)
    with pytest.raises(SendRefused) as missing:
        email_send_template(
            actor_or_none=None,
            organization=world.operator,
            to_address="juana@example.com",
            template_name="visita_tecnica",
            language="es",
            context={"customer_name": "Juana"},
        )
    assert missing.value.reason == "missing_param"
    assert "“day”" in missing.value.message
    with pytest.raises(SendRefused) as unknown:
        email_send_template(
            actor_or_none=None,
            organization=world.operator,
            to_address="juana@example.com",
            template_name="no_existe",
            language="es",
            context={},
        )
    assert unknown.value.reason == "no_template"
    assert Message.objects.count() == 0


# --- channel settings -------------------------------------------------------------------------


def test_the_channel_settings_are_validated_with_a_message_per_field(world: World) -> None:
    channel = Channel(
        organization=world.operator,
        kind=Channel.Kind.EMAIL,
        name="Correo",
        smtp_host="",
        smtp_port=70000,
        smtp_username="user",
        email_from_address="not-an-address",
        email_reply_domain="not a domain",
        imap_host="imap.example.com",
    )
    with pytest.raises(ValidationError) as invalid:
        channel.full_clean()
    errors = invalid.value.message_dict
    assert set(errors) == {
        "smtp_host",
        "smtp_port",
        "smtp_password",
        "email_from_address",
        "email_reply_domain",
        "imap_username",
    }
    assert "Enter the SMTP server's host name" in errors["smtp_host"][0]
    assert Channel.objects.count() == 0


def test_an_inactive_channel_is_not_used(world: World) -> None:
    make_email_channel(world.operator, is_active=False)
    with pytest.raises(SendRefused) as refused:
        email_send(
            actor_or_none=None,
            organization=world.operator,
            to_address="juana@example.com",
            subject=SUBJECT,
            body=BODY,
        )
    assert refused.value.reason == "no_email_channel"


def test_each_email_channel_gets_its_own_inbound_secret(world: World) -> None:
    first = Channel.objects.create(organization=world.operator, kind=Channel.Kind.EMAIL, name="a")
    second = Channel.objects.create(organization=world.operator, kind=Channel.Kind.EMAIL, name="b")
    assert len(first.email_inbound_secret) >= 40
    assert first.email_inbound_secret != second.email_inbound_secret
