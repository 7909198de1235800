"""The e-mail sandbox: its SMTP server keeps what the outbox sends, the mailbox simulator
shows it and replies through the real signed inbound webhook (over HTTP)."""

from __future__ import annotations

import importlib
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import NotFound
from telcodesk.mailsandbox.models import SandboxMail
from telcodesk.mailsandbox.services import reply_file_from_upload, sandbox_mail_message
from telcodesk.mailsandbox.smtp import MailSandbox, start_mail_sandbox_for_serve
from telcodesk.messaging.email import email_attachment_fetch, email_send
from telcodesk.messaging.models import Channel, Conversation, Message, MessageStatus
from tests.conftest import World
from tests.messaging.helpers import make_channel
from tests.messaging.test_email_support import FROM_ADDRESS, free_port, make_email_channel

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "cliente@example.com"


@pytest.fixture
def mail_sandbox(settings: Any) -> Iterator[MailSandbox]:
    """The sandbox SMTP server on a free loopback port, for the test."""
    settings.TELCODESK_MAIL_SANDBOX_PORT = free_port()
    with MailSandbox() as sandbox:
        yield sandbox


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send_mail(world: World, subject: str = "Tu instalación de fibra") -> Message:
    message = email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address=CUSTOMER,
        subject=subject,
        body="Hola, la visita técnica es el lunes.\n¿Te queda bien?",
    )
    message.refresh_from_db()  # autocommit: the outbox sent it at once
    return message


def page_url(channel: Channel) -> str:
    return reverse("mailsandbox:mailbox", args=[channel.pk])


def test_a_mail_sent_through_the_outbox_is_stored_and_shown(
    world: World, mail_sandbox: MailSandbox
) -> None:
    channel = make_email_channel(world.operator, port=mail_sandbox.port)
    message = send_mail(world)
    assert message.status == MessageStatus.SENT

    stored = SandboxMail.objects.get()
    assert stored.direction == SandboxMail.Direction.TO_MAILBOX
    assert (stored.envelope_from, stored.recipients) == (FROM_ADDRESS, [CUSTOMER])
    assert stored.subject == "Tu instalación de fibra"
    assert stored.message_id == message.payload["message_id"]
    assert stored.to_header == CUSTOMER
    assert "COMTECO Ventas" in stored.from_header
    assert stored.sent_at is not None
    assert "Message-ID:" in stored.raw

    agent = signed_in(world.agent)
    page = agent.get(page_url(channel), {"address": CUSTOMER})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tu instalación de fibra" in html
    assert "la visita técnica es el lunes." in html
    assert "<details>" in html and "Message-ID" in html  # headers, folded
    assert 'name="mail"' in html and f'value="{stored.pk}"' in html
    mails_url = reverse("mailsandbox:mailbox_mails", args=[channel.pk])
    mails = agent.get(mails_url, {"address": CUSTOMER})
    assert "Tu instalación de fibra" in mails.content.decode()
    # Another address's mailbox does not show it.
    other = agent.get(page_url(channel), {"address": "otro@example.com"}).content.decode()
    assert "Tu instalación de fibra" not in other


def test_the_smtp_server_accepts_any_recipient_and_relays_nothing(
    world: World, mail_sandbox: MailSandbox
) -> None:
    mail = EmailMessage()
    mail["From"] = "alguien@elsewhere.test"
    mail["To"] = "a@example.com, B@Example.com"
    mail["Subject"] = "Prueba"
    mail.set_content("hola")
    with smtplib.SMTP(mail_sandbox.host, mail_sandbox.port, timeout=10) as smtp:
        refused = smtp.send_message(mail)
    assert refused == {}
    stored = SandboxMail.objects.get()
    assert stored.recipients == ["a@example.com", "b@example.com"]
    # A mail not sent by the channel is not in the channel's mailboxes.
    channel = make_email_channel(world.operator, port=mail_sandbox.port)
    page = signed_in(world.agent).get(page_url(channel), {"address": "a@example.com"})
    assert "Prueba" not in page.content.decode()


def test_a_reply_from_the_simulator_is_threaded_into_the_conversation(
    world: World, mail_sandbox: MailSandbox, live_server: LiveServer, settings: Any
) -> None:
    settings.TELCODESK_SANDBOX_WEBHOOK_BASE_URL = live_server.url  # over real HTTP
    channel = make_email_channel(world.operator, port=mail_sandbox.port)
    sent = send_mail(world)
    conversation = Conversation.objects.get(channel=channel, external_address=CUSTOMER)
    original = SandboxMail.objects.get()

    agent = signed_in(world.agent)
    response = agent.post(
        reverse("mailsandbox:mailbox_reply", args=[channel.pk]),
        {"address": CUSTOMER, "mail": original.pk, "text": "Sí, el lunes me queda bien."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' not in html, html
    assert "Re: Tu instalación de fibra" in html

    reply = SandboxMail.objects.get(direction=SandboxMail.Direction.FROM_MAILBOX)
    assert reply.envelope_from == CUSTOMER
    assert reply.recipients == [sent.payload["reply_to"]]  # Reply-To, with the token
    assert reply.in_reply_to == original.message_id
    assert original.message_id in reply.raw  # References too

    inbound = Message.objects.get(channel=channel, direction=Message.Direction.INBOUND)
    assert inbound.conversation_id == conversation.pk
    assert inbound.kind == Message.Kind.EMAIL
    assert inbound.body == "Sí, el lunes me queda bien."  # the quoted mail trimmed
    assert inbound.payload["subject"] == "Re: Tu instalación de fibra"
    assert Conversation.objects.filter(channel=channel).count() == 1

    # The page shows the thread: the mail and the reply under it.
    page = agent.get(page_url(channel), {"address": CUSTOMER}).content.decode()
    assert page.index("Tu instalación de fibra") < page.index("Sí, el lunes me queda bien.")


def test_a_refused_reply_shows_the_webhook_answer(
    world: World, mail_sandbox: MailSandbox, live_server: LiveServer, settings: Any
) -> None:
    settings.TELCODESK_SANDBOX_WEBHOOK_BASE_URL = live_server.url
    channel = make_email_channel(world.operator, port=mail_sandbox.port)
    send_mail(world)
    original = SandboxMail.objects.get()
    url = reverse("mailsandbox:mailbox_reply", args=[channel.pk])
    agent = signed_in(world.agent)
    # A mail of another mailbox cannot be answered from this one.
    foreign = agent.post(
        url,
        {"address": "otro@example.com", "mail": original.pk, "text": "hola"},
        headers={"HX-Request": "true"},
    )
    assert "Choose a mail of this mailbox to answer." in foreign.content.decode()
    # The real webhook decides: a switched-off channel gets nothing (404).
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    refused = agent.post(
        url, {"address": CUSTOMER, "mail": original.pk, "text": "hola"}, headers={"HX-Request": "1"}
    )
    assert "The inbound webhook answered 404." in refused.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.INBOUND).exists()
    # Without htmx the form posts and comes back to the page.
    plain = agent.post(url, {"address": CUSTOMER, "mail": original.pk, "text": "hola"})
    assert plain.status_code == 302
    assert plain["Location"].startswith(page_url(channel))


def test_the_simulator_is_for_signed_in_members_of_the_channel_organization(
    world: World, client: Client
) -> None:
    channel = make_email_channel(world.operator)
    whatsapp = make_channel(world.operator)
    urls = [
        page_url(channel),
        reverse("mailsandbox:mailbox_mails", args=[channel.pk]),
    ]
    reply_url = reverse("mailsandbox:mailbox_reply", args=[channel.pk])
    for url in urls:
        assert client.get(url, {"address": CUSTOMER}).status_code == 302  # sign in first
    outsider = signed_in(world.outsider)
    for url in urls:
        assert outsider.get(url, {"address": CUSTOMER}).status_code == 404
    assert outsider.post(reply_url, {"address": CUSTOMER, "text": "hola"}).status_code == 404
    agent = signed_in(world.agent)
    assert agent.get(page_url(whatsapp)).status_code == 404  # not an e-mail channel
    assert agent.get(page_url(channel)).status_code == 200
    assert not SandboxMail.objects.exists()


def test_the_simulator_is_absent_when_the_sandbox_is_disabled(world: World, settings: Any) -> None:
    channel = make_email_channel(world.operator)
    agent = signed_in(world.agent)
    settings.SANDBOX_ENABLED = False
    assert agent.get(page_url(channel), {"address": CUSTOMER}).status_code == 404
    assert (
        agent.post(reverse("mailsandbox:mailbox_reply", args=[channel.pk]), {}).status_code == 404
    )
    import telcodesk.mailsandbox.urls as urls

    try:
        assert importlib.reload(urls).urlpatterns == []  # not even mounted
    finally:
        settings.SANDBOX_ENABLED = True
        importlib.reload(urls)


def test_serve_and_the_command_start_no_smtp_server_when_disabled(settings: Any) -> None:
    settings.SANDBOX_ENABLED = False
    lines: list[str] = []
    assert start_mail_sandbox_for_serve(lines.append) is None
    assert lines == []
    with pytest.raises(CommandError):
        call_command("mailsandbox", stdout=StringIO())


def test_serve_starts_the_smtp_server_and_reports_a_busy_port(
    settings: Any, mail_sandbox: MailSandbox
) -> None:
    settings.TELCODESK_MAIL_SANDBOX_PORT = free_port()
    lines: list[str] = []
    started = start_mail_sandbox_for_serve(lines.append)
    assert started is not None
    try:
        assert f"127.0.0.1:{started.port}" in lines[0]
        with smtplib.SMTP("127.0.0.1", started.port, timeout=10) as smtp:
            assert smtp.noop()[0] == 250
    finally:
        started.stop()
    settings.TELCODESK_MAIL_SANDBOX_PORT = mail_sandbox.port  # taken
    assert start_mail_sandbox_for_serve(lines.append) is None
    assert "not started" in lines[-1]


def test_the_demo_creates_one_e_mail_channel_per_organization_once(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("demo", customers=0, stdout=out, stderr=StringIO())
    output = out.getvalue()
    organizations = Organization.objects.count()
    channels = Channel.objects.filter(kind=Channel.Kind.EMAIL)
    assert channels.count() == organizations > 0
    comteco = channels.get(organization__slug="comteco")
    assert (comteco.smtp_host, comteco.smtp_port, comteco.smtp_security) == (
        "127.0.0.1",
        settings.TELCODESK_MAIL_SANDBOX_PORT,
        "none",
    )
    assert comteco.email_from_address == "ventas@comteco.demo.telcodesk.test"
    assert f"http://127.0.0.1:8000/mailsandbox/{comteco.pk}/?address=" in output

    again = StringIO()
    call_command("demo", customers=0, stdout=again, stderr=StringIO())
    assert Channel.objects.filter(kind=Channel.Kind.EMAIL).count() == organizations
    assert "/mailsandbox/" not in again.getvalue()


# --- replies with an HTML part and files ------------------------------------------------------

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8  # binary, not UTF-8


def _reply(agent: Client, channel: Channel, mail: SandboxMail, **fields: Any) -> str:
    data: dict[str, Any] = {"address": CUSTOMER, "mail": mail.pk, **fields}
    response = agent.post(
        reverse("mailsandbox:mailbox_reply", args=[channel.pk]),
        data,
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    return str(response.content.decode())


def test_an_html_reply_with_a_file_is_threaded_and_its_file_kept(
    world: World, mail_sandbox: MailSandbox, live_server: LiveServer, settings: Any
) -> None:
    settings.TELCODESK_SANDBOX_WEBHOOK_BASE_URL = live_server.url
    channel = make_email_channel(world.operator, port=mail_sandbox.port)
    sent = send_mail(world)
    original = SandboxMail.objects.get()
    agent = signed_in(world.agent)

    html = _reply(
        agent,
        channel,
        original,
        text="Sí, el lunes. Te mando la factura.",
        html="<p>Sí, <b>el lunes</b>. Te mando la <i>factura</i>.</p>",
        attachment=SimpleUploadedFile("C:\\docs\\factura.pdf", PDF, "application/pdf"),
    )
    assert 'role="alert"' not in html, html

    # What the customer's client sent: text and HTML alternatives, and the file.
    reply = SandboxMail.objects.get(direction=SandboxMail.Direction.FROM_MAILBOX)
    raw = sandbox_mail_message(reply)
    assert raw.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in raw.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    # Shown in the simulator as text, with the file listed under it.
    assert "Sí, el lunes. Te mando la factura." in html
    assert "Has an HTML version (shown as text)." in html
    assert "Attached file: factura.pdf · application/pdf · 2.0\xa0KB" in html
    assert "<b>el lunes</b>" not in html

    inbound = Message.objects.get(channel=channel, direction=Message.Direction.INBOUND)
    assert inbound.conversation_id == sent.conversation_id
    assert inbound.body == "Sí, el lunes. Te mando la factura."
    assert inbound.payload["attachments"] == [
        {"filename": "factura.pdf", "content_type": "application/pdf", "size": len(PDF)}
    ]
    # The file itself is read back from the mail as received.
    file = email_attachment_fetch(actor=world.actor(world.agent), message_id=inbound.pk, index=0)
    assert (file.filename, file.content_type, file.data) == ("factura.pdf", "application/pdf", PDF)
    with pytest.raises(NotFound):
        email_attachment_fetch(actor=world.actor(world.outsider), message_id=inbound.pk, index=0)
    with pytest.raises(NotFound):
        email_attachment_fetch(actor=world.actor(world.agent), message_id=inbound.pk, index=1)


def test_an_html_only_reply_arrives_as_readable_text_never_as_html(
    world: World, mail_sandbox: MailSandbox, live_server: LiveServer, settings: Any
) -> None:
    settings.TELCODESK_SANDBOX_WEBHOOK_BASE_URL = live_server.url
    channel = make_email_channel(world.operator, port=mail_sandbox.port)
    sent = send_mail(world)
    original = SandboxMail.objects.get()
    agent = signed_in(world.agent)

    html = _reply(
        agent,
        channel,
        original,
        html=(
            "<html><head><style>b{color:red}</style></head><body><div>Sí, <b>el lunes</b> "
            "a las 10.</div><div>Pago en <a href='https://pago.example/x'>este link</a>"
            "</div><script>alert('x')</script></body></html>"
        ),
    )
    assert 'role="alert"' not in html, html
    reply = SandboxMail.objects.get(direction=SandboxMail.Direction.FROM_MAILBOX)
    assert sandbox_mail_message(reply).get_content_type() == "text/html"
    assert "<script>" not in html and "<b>el lunes</b>" not in html
    assert "Sí, el lunes a las 10.\nPago en este link (https://pago.example/x)" in html

    inbound = Message.objects.get(channel=channel, direction=Message.Direction.INBOUND)
    assert inbound.conversation_id == sent.conversation_id
    assert inbound.body == "Sí, el lunes a las 10.\nPago en este link (https://pago.example/x)"
    full_text = inbound.payload["full_text"]
    assert "wrote:\n> Hola, la visita técnica es el lunes.\n> ¿Te queda bien?" in full_text
    assert "alert" not in full_text and "color:red" not in full_text
    assert inbound.payload["attachments"] == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"text": "", "html": "  "}, "Write a reply (text or HTML) of 1 to 20000 characters."),
        (
            {"text": "hola", "attachment": [SimpleUploadedFile("vacio.txt", b"")]},
            "An attached file is empty; attach it again or remove it.",
        ),
        (
            {
                "text": "hola",
                "attachment": [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(6)],
            },
            "Attach at most 5 files.",
        ),
        (
            {"text": "hola", "attachment": [SimpleUploadedFile("big.bin", b"x" * (5 * 2**20 + 1))]},
            "The attached files add up to more than 5 MB; attach smaller ones.",
        ),
    ],
)
def test_a_reply_without_content_or_with_bad_files_is_refused_and_nothing_sent(
    world: World,
    mail_sandbox: MailSandbox,
    live_server: LiveServer,
    settings: Any,
    fields: dict[str, Any],
    error: str,
) -> None:
    settings.TELCODESK_SANDBOX_WEBHOOK_BASE_URL = live_server.url
    channel = make_email_channel(world.operator, port=mail_sandbox.port)
    send_mail(world)
    original = SandboxMail.objects.get()
    html = _reply(signed_in(world.agent), channel, original, **fields)
    assert f'<p class="error" role="alert">{error}</p>' in html
    assert SandboxMail.objects.count() == 1
    assert not Message.objects.filter(direction=Message.Direction.INBOUND).exists()


def test_an_uploaded_files_name_and_type_are_cleaned() -> None:
    cleaned = reply_file_from_upload(
        name="../../etc/pass\x07wd.txt", content_type="text/plain; charset=utf-8", data=b"x"
    )
    assert (cleaned.filename, cleaned.content_type) == ("passwd.txt", "text/plain")
    guessed = reply_file_from_upload(name="foto.png", content_type="not a type", data=b"x")
    assert guessed.content_type == "image/png"
    unsafe = reply_file_from_upload(name="x.eml", content_type="message/rfc822", data=b"x")
    assert unsafe.content_type == "application/octet-stream"
    assert reply_file_from_upload(name="", content_type="", data=b"x").filename == "file"
