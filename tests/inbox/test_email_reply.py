"""An agent answers an e-mail conversation from the inbox: a threaded e-mail over SMTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from telcodesk.messaging.models import Conversation, Message, MessageStatus
from telcodesk.messaging.outbox import outbox_message_send
from tests.conftest import World
from tests.messaging.test_email_support import (
    SmtpMailbox,
    make_email_channel,
    post_mail,
    raw_mail,
    running_smtp_server,
)

from .conftest import htmx, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp_server() -> Iterator[SmtpMailbox]:
    with running_smtp_server() as mailbox:
        yield mailbox


def test_the_agent_replies_to_a_customer_mail_and_it_goes_out_threaded(
    world: World, smtp_server: SmtpMailbox
) -> None:
    channel = make_email_channel(world.operator, port=smtp_server.port)
    agent = signed_in(world.agent)
    assert post_mail(agent, channel, raw_mail()).status_code == 200
    conversation = Conversation.objects.get(channel=channel)
    page = agent.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "e-mail: no 24-hour window" in page
    assert 'id="composer-body"' in page
    # WhatsApp-only tools are not offered for e-mail.
    for whatsapp_only in ("Attach a file", "Reply buttons", 'class="composer-templates"'):
        assert whatsapp_only not in page
    assert "No customer record matches this e-mail address." in page

    response = agent.post(
        reverse("inbox:send", args=[conversation.pk]),
        {"body": "Sí, Juana: Sacaba tiene cobertura. ¿Te llamamos?"},
        headers=htmx(None),
    )

    assert response.status_code == 200, response.content.decode()
    reply = Message.objects.get(conversation=conversation, direction="out")
    assert reply.kind == Message.Kind.EMAIL
    if reply.status != MessageStatus.SENT:  # the outbox runs after commit
        assert outbox_message_send(message_id=reply.pk) == "sent"
    [received] = smtp_server.received
    mail = received.parsed()
    assert mail["Subject"] == "Re: Consulta de fibra"
    assert mail["In-Reply-To"] == "<mail-1@example.com>"
    assert received.rcpt_tos == ["juana@example.com"]
    assert mail.get_content().strip() == "Sí, Juana: Sacaba tiene cobertura. ¿Te llamamos?"


def test_a_reply_without_a_previous_subject_gets_a_generic_one(
    world: World, smtp_server: SmtpMailbox
) -> None:
    from telcodesk.inbox.services import email_reply_subject
    from telcodesk.messaging.email import email_send

    make_email_channel(world.operator, port=smtp_server.port)
    first = email_send(
        actor_or_none=world.actor(world.agent),
        organization=world.operator,
        to_address="juana@example.com",
        subject="Re: Tu consulta",
        body="Hola",
    )
    assert email_reply_subject(first.conversation) == "Re: Tu consulta"
    Message.objects.filter(pk=first.pk).update(payload={})
    assert email_reply_subject(first.conversation).startswith("Su consulta a ")
