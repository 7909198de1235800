"""Sending e-mail over SMTP (smtplib): the outbox's sender for channels of kind "email".

``build_email`` turns the stored outbound payload (``messaging.email`` writes it when the
message is queued) into an RFC 5322 message; ``SmtpSender.send`` delivers it and answers
like the WhatsApp client: a ``SendResult`` whose id is the Message-ID, or a
``ProviderError``. A 4xx reply, a dropped connection or a timeout is retryable; a 5xx
reply is final and carries the server's reply text. No database here.

TLS always verifies the server's certificate and host name, against the system's CAs
plus the PEM bundle of ``TELCODESK_EMAIL_CA_FILE`` (an internal relay's CA). A
certificate that does not verify, or a server that does not offer STARTTLS when the
channel asks for it, fails the mail at once: nothing is ever sent in plain text instead,
and retrying cannot help until someone fixes the server or the settings.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from typing import Any

from django.conf import settings

from telcodesk.messaging.providers.whatsapp_cloud import ProviderError, SendResult

SECURITY_NONE = "none"
SECURITY_STARTTLS = "starttls"
SECURITY_TLS = "tls"


def configured_ca_file() -> str:
    """The extra CA bundle (PEM) trusted for mail servers, "" for the system's CAs only."""
    return str(getattr(settings, "TELCODESK_EMAIL_CA_FILE", "") or "")


def mail_tls_context(ca_file: str = "") -> ssl.SSLContext:
    """A client TLS context that checks the certificate chain and the host name.

    ``ca_file`` (PEM) is trusted on top of the system's CAs. Raises OSError (missing
    file) or ssl.SSLError (not a PEM bundle).
    """
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def message_id_bare(value: str) -> str:
    """A Message-ID without its angle brackets and surrounding blanks."""
    return value.strip().removeprefix("<").removesuffix(">").strip()


def build_email(payload: dict[str, Any]) -> EmailMessage:
    """The message to send for an outbound e-mail payload (text/plain, UTF-8).

    The payload holds every header value decided when the message was queued
    (Message-ID, Date, Reply-To, threading headers), so a retry sends the same mail.
    """
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = Address(
        display_name=str(payload.get("from_name", "")), addr_spec=str(payload["from_address"])
    )
    message["To"] = str(payload["to"])
    message["Subject"] = str(payload["subject"])
    message["Date"] = str(payload.get("date") or formatdate(usegmt=True))
    message["Message-ID"] = str(payload["message_id"])
    if payload.get("reply_to"):
        message["Reply-To"] = str(payload["reply_to"])
    if payload.get("in_reply_to"):
        message["In-Reply-To"] = str(payload["in_reply_to"])
        message["References"] = str(payload.get("references") or payload["in_reply_to"])
    message.set_content(str(payload["body"]), charset="utf-8")
    if payload.get("language"):  # after set_content, which drops Content-* headers
        message["Content-Language"] = str(payload["language"])
    return message


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def smtp_reply_error(code: int, reply: bytes | str) -> ProviderError:
    """A ProviderError for an SMTP reply: 4xx is temporary (retry), anything else final."""
    text = _reply_text(reply) or f"SMTP {code}"
    return ProviderError(
        code,
        f"{code} {text}",
        retryable=400 <= code < 500,
        details=text,
        status=code,
    )


def certificate_error(host: str, port: int, exc: ssl.SSLCertVerificationError) -> ProviderError:
    """The final error for a server certificate that does not verify."""
    reason = str(exc.verify_message or exc.reason or exc)
    return ProviderError(
        None,
        f"TLS certificate of {host}:{port} not trusted ({reason}); nothing was sent. "
        "Use the host name the certificate names, or add the server's CA to "
        "TELCODESK_EMAIL_CA_FILE.",
        retryable=False,
        details=str(exc),
    )


def ca_file_error(ca_file: str, exc: Exception) -> ProviderError:
    return ProviderError(
        None,
        f"TELCODESK_EMAIL_CA_FILE ({ca_file}) cannot be read as a PEM CA bundle: {exc}",
        retryable=False,
        details=str(exc),
    )


@dataclass(frozen=True)
class SmtpSender:
    """Delivers outbound payloads through one SMTP server (one connection per mail).

    ``ca_file`` None means the configured bundle (``configured_ca_file``).
    """

    host: str
    port: int
    security: str = SECURITY_STARTTLS
    username: str = ""
    password: str = ""
    envelope_from: str = ""
    timeout: float = 20.0
    ca_file: str | None = None

    def _context(self) -> ssl.SSLContext:
        ca_file = configured_ca_file() if self.ca_file is None else self.ca_file
        try:
            return mail_tls_context(ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ca_file_error(ca_file, exc) from exc

    def _connect(self) -> smtplib.SMTP:
        if self.security == SECURITY_TLS:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        context = self._context() if self.security == SECURITY_STARTTLS else None
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if context is None:
            return smtp
        try:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                # Never carry on in plain text: the channel asked for an encrypted session.
                raise ProviderError(
                    None,
                    f"{self.host}:{self.port} does not offer STARTTLS, which the channel "
                    "requires; nothing was sent. Fix the server, or choose implicit TLS "
                    "(port 465) if that is what it speaks.",
                    retryable=False,
                )
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, payload: dict[str, Any]) -> SendResult:
        """Send one mail; its Message-ID (without brackets) on success."""
        message = build_email(payload)
        recipient = str(payload["to"])
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(
                    message,
                    from_addr=self.envelope_from or str(payload["from_address"]),
                    to_addrs=[recipient],
                )
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            raise smtp_reply_error(int(code), reply) from exc
        except smtplib.SMTPResponseException as exc:
            raise smtp_reply_error(int(exc.smtp_code), exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ProviderError(None, f"SMTP server: {exc}", retryable=False) from exc
        except ssl.SSLCertVerificationError as exc:
            raise certificate_error(self.host, self.port, exc) from exc
        except ssl.SSLError as exc:
            # A handshake that broke off, or TLS spoken to a plain port (or the reverse).
            raise ProviderError(
                None,
                f"TLS error with {self.host}:{self.port}: {exc}. Check the channel's SMTP "
                "security and port (465 implicit TLS, 587 STARTTLS).",
                retryable=True,
                details=str(exc),
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Disconnected, refused, unreachable, timed out (TimeoutError is an OSError).
            raise ProviderError(None, f"network error: {exc}", retryable=True) from exc
        return SendResult(wamid=message_id_bare(str(payload["message_id"])), raw={})
