"""E-mail over TLS: STARTTLS and implicit TLS (SMTPS) to a real aiosmtpd server on
loopback, and IMAP over TLS, with certificates from a test CA made by trustme."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from telcodesk.automation.models import Timer
from telcodesk.messaging.email import email_poll, email_send
from telcodesk.messaging.models import Channel, EmailSecurity, Message, MessageStatus, WebhookEvent
from telcodesk.messaging.outbox import TIMER_KIND, outbox_message_send
from tests.conftest import World

from .test_email_support import (
    IMAP_PASSWORD,
    IMAP_USER,
    SMTP_PASSWORD,
    SMTP_USER,
    MailPki,
    imap_servers,
    make_email_channel,
    make_mail_pki,
    raw_mail,
    running_smtp_server,
)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
SUBJECT = "Tu instalación de fibra"
BODY = "Hola Juana, la visita técnica es el lunes."


@pytest.fixture
def pki(tmp_path: Path) -> MailPki:
    return make_mail_pki(tmp_path)


@pytest.fixture
def trusted(settings: Any, pki: MailPki) -> MailPki:
    """The test CA is the configured extra CA bundle (an internal relay's CA)."""
    settings.TELCODESK_EMAIL_CA_FILE = pki.ca_file
    return pki


@pytest.fixture
def imap_server_factory() -> Iterator[Any]:
    with imap_servers() as start:
        yield start


def _queue_mail(world: World) -> Message:
    return email_send(
        actor_or_none=None,
        organization=world.operator,
        to_address="juana@example.com",
        subject=SUBJECT,
        body=BODY,
    )


def _failed_at_once(message: Message) -> None:
    """The outbox's final failure: no retry, no timer, the first and only attempt."""
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at, message.error_code) == (
        MessageStatus.FAILED,
        1,
        None,
        None,
    )
    assert Timer.objects.filter(kind=TIMER_KIND, target_id=message.pk).count() == 0


# --- SMTP: STARTTLS (587) and implicit TLS (465) ---------------------------------------------


def test_starttls_delivers_over_tls_with_the_certificate_checked_and_logs_in_after_it(
    world: World, trusted: MailPki
) -> None:
    with running_smtp_server(
        starttls_context=trusted.server_context(), require_login=True
    ) as server:
        make_email_channel(
            world.operator,
            port=server.port,
            smtp_security=EmailSecurity.STARTTLS,
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
        )
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.error_title) == (MessageStatus.SENT, "")
    [received] = server.received
    assert received.tls_version in ("TLSv1.2", "TLSv1.3")
    # The server accepts AUTH only over TLS: the password never travelled in clear.
    assert received.authenticated_as == SMTP_USER
    assert received.rcpt_tos == ["juana@example.com"]
    assert str(received.parsed()["Subject"]) == SUBJECT


def test_implicit_tls_delivers_with_the_certificate_checked(world: World, trusted: MailPki) -> None:
    with running_smtp_server(implicit_tls_context=trusted.server_context()) as server:
        make_email_channel(world.operator, port=server.port, smtp_security=EmailSecurity.TLS)
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "sent"
    [received] = server.received
    assert received.tls_version in ("TLSv1.2", "TLSv1.3")
    assert str(received.parsed()["Message-ID"]) == message.payload["message_id"]


def test_the_host_name_localhost_is_checked_against_the_certificate_too(
    world: World, trusted: MailPki
) -> None:
    with running_smtp_server(implicit_tls_context=trusted.server_context("localhost")) as server:
        make_email_channel(
            world.operator,
            port=server.port,
            smtp_host="localhost",
            smtp_security=EmailSecurity.TLS,
        )
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "sent"
    assert len(server.received) == 1


@pytest.mark.parametrize("security", [EmailSecurity.STARTTLS, EmailSecurity.TLS])
def test_a_certificate_from_an_unknown_ca_fails_the_mail_at_once_with_the_reason(
    world: World, pki: MailPki, security: str
) -> None:
    # The test CA is not configured: the system's CAs do not know it.
    context = pki.server_context()
    options = {"starttls_context": context} if security == "starttls" else {}
    implicit = context if security == "tls" else None
    with running_smtp_server(implicit_tls_context=implicit, **options) as server:
        make_email_channel(world.operator, port=server.port, smtp_security=security)
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "failed"
    _failed_at_once(message)
    assert message.error_title == (
        f"TLS certificate of 127.0.0.1:{server.port} not trusted (unable to get local "
        "issuer certificate); nothing was sent. Use the host name the certificate names, "
        "or add the server's CA to TELCODESK_EMAIL_CA_FILE."
    )
    assert "CERTIFICATE_VERIFY_FAILED" in message.error_details
    assert (server.received, server.mail_from_seen) == ([], [])


@pytest.mark.parametrize(
    ("host", "certificate_for", "reason"),
    [
        (
            "127.0.0.1",
            "mail.comteco.test",
            "IP address mismatch, certificate is not valid for '127.0.0.1'.",
        ),
        (
            "localhost",
            "127.0.0.1",
            "Hostname mismatch, certificate is not valid for 'localhost'.",
        ),
    ],
)
def test_a_certificate_for_another_host_fails_the_mail_at_once(
    world: World, trusted: MailPki, host: str, certificate_for: str, reason: str
) -> None:
    context = trusted.server_context(certificate_for)
    with running_smtp_server(starttls_context=context) as server:
        make_email_channel(
            world.operator, port=server.port, smtp_host=host, smtp_security=EmailSecurity.STARTTLS
        )
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "failed"
    _failed_at_once(message)
    assert message.error_title.startswith(f"TLS certificate of {host}:{server.port} not trusted")
    assert f"({reason})" in message.error_title
    assert (server.received, server.mail_from_seen) == ([], [])


def test_a_server_without_starttls_is_refused_and_nothing_goes_in_plain_text(
    world: World, trusted: MailPki
) -> None:
    with running_smtp_server() as server:  # plain SMTP: no STARTTLS in its EHLO answer
        make_email_channel(
            world.operator,
            port=server.port,
            smtp_security=EmailSecurity.STARTTLS,
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
        )
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "failed"
    _failed_at_once(message)
    assert message.error_title == (
        f"127.0.0.1:{server.port} does not offer STARTTLS, which the channel requires; "
        "nothing was sent. Fix the server, or choose implicit TLS (port 465) if that is "
        "what it speaks."
    )
    # No MAIL FROM, no mail: the client hung up right after EHLO.
    assert (server.received, server.mail_from_seen) == ([], [])


def test_implicit_tls_to_a_plain_port_is_retried_with_a_hint_about_the_settings(
    world: World, trusted: MailPki
) -> None:
    with running_smtp_server() as server:
        make_email_channel(world.operator, port=server.port, smtp_security=EmailSecurity.TLS)
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (
        MessageStatus.QUEUED,
        1,
        None,
    )
    assert message.next_attempt_at is not None and message.next_attempt_at > timezone.now()
    assert message.error_title.startswith(f"TLS error with 127.0.0.1:{server.port}: ")
    assert message.error_title.endswith(
        "Check the channel's SMTP security and port (465 implicit TLS, 587 STARTTLS)."
    )
    assert Timer.objects.filter(kind=TIMER_KIND, target_id=message.pk).count() == 1
    assert server.received == []


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_an_unreadable_ca_file_fails_the_mail_naming_the_setting(
    world: World, settings: Any, tmp_path: Path, pki: MailPki, content: str | None
) -> None:
    bundle = tmp_path / "relay-ca.pem"
    if content is not None:
        bundle.write_text(content)
    settings.TELCODESK_EMAIL_CA_FILE = str(bundle)
    with running_smtp_server(implicit_tls_context=pki.server_context()) as server:
        make_email_channel(world.operator, port=server.port, smtp_security=EmailSecurity.TLS)
        message = _queue_mail(world)
        assert outbox_message_send(message_id=message.pk) == "failed"
    _failed_at_once(message)
    assert message.error_title.startswith(
        f"TELCODESK_EMAIL_CA_FILE ({bundle}) cannot be read as a PEM CA bundle: "
    )
    assert server.received == []


def test_the_configured_ca_adds_to_the_system_cas_instead_of_replacing_them(
    trusted: MailPki,
) -> None:
    from telcodesk.messaging.providers.smtp import mail_tls_context

    system = ssl.create_default_context().cert_store_stats()["x509_ca"]
    with_relay = mail_tls_context(trusted.ca_file)
    assert with_relay.cert_store_stats()["x509_ca"] == system + 1
    assert (with_relay.verify_mode, with_relay.check_hostname) == (ssl.CERT_REQUIRED, True)


# --- IMAP over TLS (993) ----------------------------------------------------------------------


def _imaps_channel(world: World, port: int, host: str = "127.0.0.1") -> Channel:
    return make_email_channel(
        world.operator,
        imap_host=host,
        imap_port=port,
        imap_tls=True,
        imap_username=IMAP_USER,
        imap_password=IMAP_PASSWORD,
    )


def test_imaps_polling_checks_the_certificate_and_stores_the_mails(
    world: World,
    trusted: MailPki,
    imap_server_factory: Any,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    server = imap_server_factory(
        {"3": raw_mail(message_id="<tls-3@example.com>", text="Por TLS")},
        trusted.server_context(),
    )
    channel = _imaps_channel(world, server.port)
    with django_capture_on_commit_callbacks(execute=True):
        result = email_poll(channel=channel)
    assert (result.fetched, result.error) == (1, "")
    [message] = Message.objects.filter(channel=channel, direction=Message.Direction.INBOUND)
    assert (message.body, message.provider_message_id) == ("Por TLS", "tls-3@example.com")
    assert server.seen == {"3"}
    assert server.tls_failures == []


@pytest.mark.parametrize(
    ("host", "certificate_for", "reason"),
    [
        ("127.0.0.1", None, "unable to get local issuer certificate"),
        (
            "localhost",
            "127.0.0.1",
            "Hostname mismatch, certificate is not valid for 'localhost'.",
        ),
    ],
)
def test_imaps_with_a_certificate_that_does_not_verify_stops_before_logging_in(
    world: World,
    settings: Any,
    pki: MailPki,
    imap_server_factory: Any,
    host: str,
    certificate_for: str | None,
    reason: str,
) -> None:
    if certificate_for is not None:  # the CA is trusted, the name is wrong
        settings.TELCODESK_EMAIL_CA_FILE = pki.ca_file
    context = pki.server_context(certificate_for) if certificate_for else pki.server_context()
    server = imap_server_factory({"1": raw_mail()}, context)
    channel = _imaps_channel(world, server.port, host=host)
    result = email_poll(channel=channel)
    assert result.fetched == 0
    assert result.error == (
        f"TLS certificate of {host}:{server.port} not trusted ({reason}); did not log in. "
        "Use the host name the certificate names, or add the server's CA to "
        "TELCODESK_EMAIL_CA_FILE."
    )
    assert server.commands == []  # not even CAPABILITY: the password was never sent
    assert (WebhookEvent.objects.count(), server.seen) == (0, set())
