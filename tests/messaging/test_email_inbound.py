"""Inbound e-mail: the signed webhook (raw RFC 822), threading, and IMAP polling against
a small IMAP4 responder on a real socket."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from telcodesk.core.errors import NotFound
from telcodesk.customers.models import ContactPoint, Customer, TimelineEvent
from telcodesk.messaging import services
from telcodesk.messaging.email import email_attachment_fetch, email_poll, email_send
from telcodesk.messaging.email_reading import html_to_text, quoted_text_trim
from telcodesk.messaging.models import Channel, Conversation, Message, WebhookEvent
from tests.conftest import World

from .test_email_support import (
    IMAP_PASSWORD,
    IMAP_USER,
    REPLY_DOMAIN,
    imap_servers,
    make_email_channel,
    post_mail,
    raw_mail,
)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def imap_server_factory() -> Iterator[Any]:
    with imap_servers() as start:
        yield start


def _security_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        getattr(record, "reason", "")
        for record in caplog.records
        if record.name == "telcodesk.security"
    ]


def _inbound(channel: Channel) -> list[Message]:
    return list(
        Message.objects.filter(channel=channel, direction=Message.Direction.INBOUND).order_by("id")
    )


def test_a_signed_mail_is_stored_first_then_becomes_a_message(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    raw = raw_mail()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_mail(client, channel, raw)
    assert (response.status_code, response.content) == (200, b"ok")
    event = WebhookEvent.objects.get()
    assert (event.provider, event.state, event.signature_valid) == ("email", "processed", True)
    assert event.body.encode() == raw
    [message] = _inbound(channel)
    assert (message.kind, message.provider_message_id, message.webhook_event_id) == (
        Message.Kind.EMAIL,
        "mail-1@example.com",
        event.pk,
    )
    assert message.body == "Hola, ¿tienen cobertura en Sacaba?"
    assert message.payload["subject"] == "Consulta de fibra"
    assert message.payload["from"] == "juana@example.com"
    conversation = message.conversation
    assert (conversation.external_address, conversation.display_name) == (
        "juana@example.com",
        "Juana Mamani",
    )
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at == message.sent_at


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"secret": None}, 403, "missing signature"),
        ({"secret": "not-the-secret"}, 403, "bad signature"),
        ({"signature": "sha256=" + "0" * 64}, 403, "bad signature"),
        ({"content_type": "application/json"}, 415, "not message/rfc822"),
    ],
)
def test_an_unsigned_or_wrongly_signed_mail_is_refused_and_nothing_stored(
    world: World,
    client: Client,
    caplog: pytest.LogCaptureFixture,
    kwargs: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    channel = make_email_channel(world.operator)
    with caplog.at_level(logging.WARNING, logger="telcodesk.security"):
        response = post_mail(client, channel, raw_mail(), **kwargs)
    assert response.status_code == status
    assert _security_reasons(caplog) == [reason]
    assert (WebhookEvent.objects.count(), Message.objects.count()) == (0, 0)


def test_an_oversized_mail_is_refused(
    world: World, client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TELCODESK_EMAIL_INBOUND_MAX_BYTES = 2000
    channel = make_email_channel(world.operator)
    raw = raw_mail(text="x" * 3000)
    with caplog.at_level(logging.WARNING, logger="telcodesk.security"):
        response = post_mail(client, channel, raw)
    assert response.status_code == 413
    assert _security_reasons(caplog) == ["body too large"]
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [b"hello, this is not a mail", b"\x00\xff\xfe garbage", b"Subject: no sender\r\n\r\nHola"],
)
def test_a_body_that_is_not_an_email_is_refused(
    world: World, client: Client, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    channel = make_email_channel(world.operator)
    with caplog.at_level(logging.WARNING, logger="telcodesk.security"):
        response = post_mail(client, channel, body)
    assert response.status_code == 400
    assert _security_reasons(caplog) == ["not an e-mail"]
    assert WebhookEvent.objects.count() == 0


def test_a_whatsapp_or_unknown_channel_has_no_email_webhook(world: World, client: Client) -> None:
    from .helpers import make_channel

    whatsapp = make_channel(world.operator)
    assert post_mail(client, whatsapp, raw_mail()).status_code == 404
    assert WebhookEvent.objects.count() == 0


def test_a_redelivered_mail_stores_nothing_new(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_mail(client, channel, raw_mail()).status_code == 200
    assert len(_inbound(channel)) == 1
    assert Conversation.objects.get().unread_count == 1
    states = list(WebhookEvent.objects.order_by("id").values_list("state", "error"))
    assert states == [("processed", ""), ("ignored", "already stored: <mail-1@example.com>")]


def _sent_mail(world: World, channel: Channel) -> Message:
    return email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address="juana@example.com",
        subject="Tu instalación",
        body="¿Cuándo te visitamos?",
    )


def test_a_reply_to_our_message_id_joins_its_conversation_from_any_address(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    ours = _sent_mail(world, channel)
    our_id = ours.payload["message_id"]
    reply = raw_mail(
        sender="Juana (trabajo) <juana.mamani@empresa.example>",
        subject="Re: Tu instalación",
        text="El martes a la tarde.\n\nEl lun, 3 jun 2024 a las 10:00, Ventas escribió:\n"
        "> ¿Cuándo te visitamos?\n",
        message_id="<reply-1@empresa.example>",
        in_reply_to=our_id,
        references=our_id,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, reply).status_code == 200
    [message] = _inbound(channel)
    assert message.conversation_id == ours.conversation_id
    assert message.body == "El martes a la tarde."
    assert message.payload["full_text"].endswith("> ¿Cuándo te visitamos?")
    assert message.reply_to_provider_id == our_id.strip("<>")
    assert Conversation.objects.count() == 1


def test_a_reply_threads_by_the_reply_to_token_when_headers_are_lost(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    ours = _sent_mail(world, channel)
    token = ours.conversation.email_reply_token
    reply = raw_mail(
        sender="otra@example.org",
        to=f"Ventas <replies+{token}@{REPLY_DOMAIN}>",
        message_id="<reply-2@example.org>",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, reply).status_code == 200
    [message] = _inbound(channel)
    assert message.conversation_id == ours.conversation_id


def test_a_new_mail_from_a_known_address_joins_that_conversation_and_links_the_customer(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = make_email_channel(world.operator)
    customer = Customer.objects.create(organization=world.operator, first_name="Juana")
    ContactPoint.objects.create(
        organization=world.operator,
        customer=customer,
        kind=ContactPoint.Kind.EMAIL,
        value="juana@example.com",
    )
    handled: list[tuple[int, int]] = []
    monkeypatch.setattr(
        services,
        "_INBOUND_HANDLERS",
        [lambda message, conversation: handled.append((message.pk, conversation.pk))],
    )
    for number in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            raw = raw_mail(message_id=f"<new-{number}@example.com>")
            assert post_mail(client, channel, raw).status_code == 200
    first, second = _inbound(channel)
    assert first.conversation_id == second.conversation_id
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.unread_count) == (customer.pk, 2)
    assert handled == [(first.pk, conversation.pk), (second.pk, conversation.pk)]
    entries = TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.MESSAGE)
    assert entries.count() == 2


def test_an_html_only_mail_is_read_as_text_and_attachments_are_kept_as_metadata(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    raw = raw_mail(
        text=None,
        html="<html><head><style>p{color:red}</style></head><body><p>Adjunto mi "
        "<b>carnet</b> &amp; factura.</p><div>Gracias</div></body></html>",
        attachments=[("carnet.pdf", "application/pdf", b"%PDF-1.4 " + b"0" * 1000)],
        message_id="<html-1@example.com>",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, raw).status_code == 200
    [message] = _inbound(channel)
    assert message.body == "Adjunto mi carnet & factura.\n\nGracias"
    assert message.payload["attachments"] == [
        {"filename": "carnet.pdf", "content_type": "application/pdf", "size": 1009}
    ]


def test_a_latin1_mail_without_message_id_is_kept_and_deduplicated_by_its_bytes(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    raw = (
        b"From: pedro@example.com\r\nTo: ventas@comteco.test\r\nSubject: Se\xf1al\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nSin se\xf1al desde ayer.\r\n"
    )
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_mail(client, channel, raw).status_code == 200
    [message] = _inbound(channel)
    assert message.body == "Sin señal desde ayer."
    assert message.provider_message_id.startswith("sha256:")
    assert WebhookEvent.objects.filter(state="processed").count() == 1


def test_quoted_text_and_html_helpers() -> None:
    assert quoted_text_trim("Sí, gracias.\n\nOn Mon, Jun 3, 2024 Ventas wrote:\n> hola") == (
        "Sí, gracias."
    )
    assert quoted_text_trim("Ok\nEm seg., 3 de jun. Vendas escreveu:\n> oi") == "Ok"
    assert quoted_text_trim("Dale\n> cita\n>> más") == "Dale"
    assert quoted_text_trim("> solo cita") == "> solo cita"
    assert html_to_text("<p>a<br>b</p><script>x()</script>") == "a\nb"


# --- IMAP polling -----------------------------------------------------------------------------


def _imap_channel(world: World, port: int) -> Channel:
    return make_email_channel(
        world.operator,
        imap_host="127.0.0.1",
        imap_port=port,
        imap_tls=False,
        imap_username=IMAP_USER,
        imap_password=IMAP_PASSWORD,
    )


def test_imap_polling_stores_unseen_mails_then_flags_them_seen(
    world: World, imap_server_factory: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    server = imap_server_factory(
        {
            "7": raw_mail(message_id="<imap-7@example.com>", text="Primero"),
            "9": raw_mail(message_id="<imap-9@example.com>", text="Segundo"),
        }
    )
    channel = _imap_channel(world, server.port)
    with django_capture_on_commit_callbacks(execute=True):
        result = email_poll(channel=channel)
    assert (result.fetched, result.error) == (2, "")
    assert [m.body for m in _inbound(channel)] == ["Primero", "Segundo"]
    assert server.seen == {"7", "9"}
    fetches = [c for c in server.commands if c.startswith("UID FETCH")]
    stores = [c for c in server.commands if c.startswith("UID STORE")]
    assert fetches == ["UID FETCH 7 (BODY.PEEK[])", "UID FETCH 9 (BODY.PEEK[])"]
    assert stores == ["UID STORE 7 +FLAGS (\\Seen)", "UID STORE 9 +FLAGS (\\Seen)"]
    assert {e.headers["X-Telcodesk-Source"] for e in WebhookEvent.objects.all()} == {"imap"}

    with django_capture_on_commit_callbacks(execute=True):
        again = email_poll(channel=channel)
    assert again.fetched == 0
    assert len(_inbound(channel)) == 2


def test_imap_polling_of_a_mail_already_stored_adds_nothing(
    world: World,
    client: Client,
    imap_server_factory: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    raw = raw_mail(message_id="<both@example.com>")
    server = imap_server_factory({"1": raw})
    channel = _imap_channel(world, server.port)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, raw).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        call_command("email_poll", "--channel", str(channel.pk))
    assert len(_inbound(channel)) == 1
    assert server.seen == {"1"}


def test_imap_polling_with_a_wrong_password_reports_and_stores_nothing(
    world: World, imap_server_factory: Any
) -> None:
    server = imap_server_factory({"1": raw_mail()})
    channel = _imap_channel(world, server.port)
    Channel.objects.filter(pk=channel.pk).update(imap_password="wrong")
    channel.refresh_from_db()
    result = email_poll(channel=channel)
    assert result.fetched == 0
    assert "bad login" in result.error
    assert (WebhookEvent.objects.count(), server.seen) == (0, set())


# --- HTML bodies and attached files -----------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<div>uno</div><div>dos</div>", "uno\ndos"),  # Gmail: a div per line
        ("<div>uno</div><div><br></div><div>dos</div>", "uno\n\ndos"),
        ("<p>Hola\n   Juana,</p><p>¿cómo&nbsp;estás?</p>", "Hola Juana,\n\n¿cómo estás?"),
        ("<ul><li>Fibra 300</li><li>Router</li></ul>", "- Fibra 300\n- Router"),
        (
            '<a href="https://pago.example/l/9">Pagar</a> o <a href="https://x.example">'
            "https://x.example</a>",
            "Pagar (https://pago.example/l/9) o https://x.example",
        ),
        ('<a href="javascript:alert(1)">clic</a>', "clic"),
        ("<table><tr><td>Plan</td><td>$ 100</td></tr></table>", "Plan $ 100"),
        ('Foto: <img src="cid:1" alt="medidor"><img src="x.gif">', "Foto: [medidor]"),
        (
            "<div>Dale.</div><div>On Mon, Ana &lt;a@x.test&gt; wrote:</div>"
            "<blockquote><div>¿Te llamo?</div><blockquote>viejo</blockquote></blockquote>",
            "Dale.\nOn Mon, Ana <a@x.test> wrote:\n> ¿Te llamo?\n> > viejo",
        ),
        ("<title>t</title><template>x</template><p>solo esto</p>", "solo esto"),
    ],
)
def test_html_is_turned_into_readable_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_an_html_reply_is_trimmed_at_its_quote_like_a_text_one(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    ours = _sent_mail(world, channel)
    raw = raw_mail(
        text=None,
        html='<div dir="ltr">El <b>martes</b> mejor.</div><br><div class="gmail_quote">'
        "<div>El lun, 3 jun 2024 a las 10:00, Ventas escribió:<br></div>"
        "<blockquote>¿Cuándo te visitamos?</blockquote></div>",
        message_id="<html-reply@example.com>",
        in_reply_to=ours.payload["message_id"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, raw).status_code == 200
    [message] = _inbound(channel)
    assert message.conversation_id == ours.conversation_id
    assert message.body == "El martes mejor."
    assert message.payload["full_text"].endswith("escribió:\n> ¿Cuándo te visitamos?")


def test_the_files_of_a_received_mail_are_read_back_from_the_stored_mail(
    world: World, client: Client, django_capture_on_commit_callbacks: Capture
) -> None:
    channel = make_email_channel(world.operator)
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    raw = raw_mail(
        text="Van el carnet y la foto del medidor.",
        html="<p>Van el <b>carnet</b> y la foto del medidor.</p>",
        attachments=[
            ("carnet.pdf", "application/pdf", b"%PDF-1.4 carnet"),
            ("medidor.png", "image/png", photo),
        ],
        message_id="<files-1@example.com>",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, raw).status_code == 200
    [message] = _inbound(channel)
    assert message.body == "Van el carnet y la foto del medidor."
    assert message.payload["attachments"] == [
        {"filename": "carnet.pdf", "content_type": "application/pdf", "size": 15},
        {"filename": "medidor.png", "content_type": "image/png", "size": len(photo)},
    ]
    agent = world.actor(world.agent)
    second = email_attachment_fetch(actor=agent, message_id=message.pk, index=1)
    assert (second.filename, second.content_type, second.data) == (
        "medidor.png",
        "image/png",
        photo,
    )
    first = email_attachment_fetch(actor=agent, message_id=message.pk, index=0)
    assert first.data == b"%PDF-1.4 carnet"

    for actor, index in ((world.actor(world.outsider), 0), (agent, 2), (agent, -1)):
        with pytest.raises(NotFound):
            email_attachment_fetch(actor=actor, message_id=message.pk, index=index)
    # Without its raw copy the mail's files cannot be shown (and nothing is made up).
    Message.objects.filter(pk=message.pk).update(webhook_event=None)
    with pytest.raises(NotFound) as gone:
        email_attachment_fetch(actor=agent, message_id=message.pk, index=0)
    assert gone.value.message == (
        "The original of this mail is no longer kept, so its files cannot be shown."
    )


@pytest.mark.parametrize(
    ("subject", "text", "withdrawn"),
    [
        ("Re: Tu factura de noviembre", "BAJA\n\nEl lun., escribió:\n> Hola", True),
        ("RE: Fw: baja", "No quiero más correos", True),
        ("Re: Tu factura", "Quiero la baja del servicio de TV, no de los correos", False),
    ],
)
def test_a_mail_that_is_an_opt_out_keyword_withdraws_email_marketing_consent(
    world: World,
    client: Client,
    django_capture_on_commit_callbacks: Capture,
    subject: str,
    text: str,
    withdrawn: bool,
) -> None:
    channel = make_email_channel(world.operator)
    customer = Customer.objects.create(
        organization=world.operator,
        first_name="Juana",
        consent_email=True,
        consent_whatsapp=True,
    )
    ContactPoint.objects.create(
        organization=world.operator,
        customer=customer,
        kind=ContactPoint.Kind.EMAIL,
        value="juana@example.com",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_mail(client, channel, raw_mail(subject=subject, text=text)).status_code == 200
    customer.refresh_from_db()
    conversation = Conversation.objects.get()
    # Only the e-mail consent: the customer still takes WhatsApp marketing.
    assert (customer.consent_email, customer.consent_whatsapp) == (not withdrawn, True)
    assert (conversation.marketing_opt_out_at is not None) is withdrawn
    entries = list(
        TimelineEvent.objects.filter(customer=customer, kind=TimelineEvent.Kind.CHANGE).values_list(
            "message", flat=True
        )
    )
    expected = "E-mail marketing consent withdrawn: the customer wrote “%(keyword)s”."
    assert entries == ([expected] if withdrawn else [])
