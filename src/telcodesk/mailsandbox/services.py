"""The e-mail sandbox: storing the mails it sees, reading them, and writing replies.

Mails reach the sandbox through its SMTP server (``mailsandbox.smtp``), which only
stores them (``sandbox_mail_store``): nothing is ever relayed. The mailbox simulator
plays the customer: ``sandbox_reply_build`` writes a proper reply to a stored mail and
``sandbox_reply_post`` posts it, raw and signed, to the channel's inbound webhook, so
it goes through the real inbound path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import formatdate, getaddresses, make_msgid, parsedate_to_datetime

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from telcodesk.mailsandbox.models import SandboxMail
from telcodesk.messaging.email import email_address_normalize
from telcodesk.messaging.models import Channel
from telcodesk.messaging.providers.sandbox import Poster
from telcodesk.messaging.providers.whatsapp_cloud import signature_for

logger = logging.getLogger("telcodesk.mailsandbox")

DEFAULT_PORT = 8025
HOST = "127.0.0.1"
SIGNATURE_HEADER = "X-Telcodesk-Signature"
MAILS_SHOWN = 50
MAX_REPLY_LENGTH = 20_000


def sandbox_smtp_port() -> int:
    return int(getattr(settings, "TELCODESK_MAIL_SANDBOX_PORT", DEFAULT_PORT))


def _header(message: Message, name: str, limit: int) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot decode
        return ""
    return " ".join(str(value or "").split())[:limit]


def _parse(raw: bytes) -> Message:
    return BytesParser(policy=policy.default).parsebytes(raw)


def _db_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").replace("\x00", "")


def sandbox_mail_store(
    *,
    envelope_from: str,
    envelope_to: list[str],
    raw: bytes,
    direction: str = SandboxMail.Direction.TO_MAILBOX,
) -> SandboxMail:
    """Keep one mail as a row, with its main headers parsed for the simulator."""
    message = _parse(raw)
    date_header = _header(message, "Date", 100)
    sent_at: datetime | None = None
    if date_header:
        try:
            sent_at = parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            sent_at = None
        if sent_at is not None and timezone.is_naive(sent_at):
            sent_at = None
    recipients = [address.strip().lower() for address in envelope_to if address.strip()]
    return SandboxMail.objects.create(
        direction=direction,
        envelope_from=envelope_from.strip().lower()[:254],
        envelope_to=(" " + " ".join(recipients) + " ") if recipients else "",
        raw=_db_text(raw),
        subject=_header(message, "Subject", 255),
        from_header=_header(message, "From", 320),
        to_header=_header(message, "To", 1000),
        message_id=_header(message, "Message-ID", 255),
        in_reply_to=_header(message, "In-Reply-To", 255),
        date_header=date_header,
        sent_at=sent_at,
        received_at=timezone.now(),
    )


def sandbox_mail_message(mail: SandboxMail) -> Message:
    return _parse(mail.raw.encode("utf-8"))


def sandbox_mail_body(mail: SandboxMail) -> str:
    """The text of a mail: its text/plain part, else its HTML part as is."""
    message = sandbox_mail_message(mail)
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
        if part is not None:
            try:
                return str(part.get_content())
            except (LookupError, ValueError):
                pass
    payload = message.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def sandbox_mail_headers(mail: SandboxMail) -> list[tuple[str, str]]:
    message = sandbox_mail_message(mail)
    return [(name, " ".join(str(value).split())) for name, value in message.items()]


# --- the mailbox of one address, for one channel ---------------------------------------------


def _channel_from(channel: Channel) -> str:
    return email_address_normalize(channel.email_from_address)


def mailbox_inbox(*, channel: Channel, address: str) -> list[SandboxMail]:
    """The latest mails the channel sent to ``address`` (oldest first)."""
    if not address or not _channel_from(channel):
        return []
    recent = SandboxMail.objects.filter(
        direction=SandboxMail.Direction.TO_MAILBOX,
        envelope_from=_channel_from(channel),
        envelope_to__contains=f" {address} ",
    ).order_by("-received_at", "-id")[:MAILS_SHOWN]
    return list(reversed(recent))


def mailbox_thread(*, channel: Channel, address: str) -> list[SandboxMail]:
    """The channel's mails to ``address`` and the simulator's replies to them, in order."""
    inbox = mailbox_inbox(channel=channel, address=address)
    ids = [mail.message_id for mail in inbox if mail.message_id]
    replies = list(
        SandboxMail.objects.filter(
            direction=SandboxMail.Direction.FROM_MAILBOX,
            envelope_from=address,
            in_reply_to__in=ids,
        ).order_by("received_at", "id")
    )
    mails = sorted([*inbox, *replies], key=lambda mail: (mail.received_at, mail.pk))
    for mail in mails:
        mail.body = sandbox_mail_body(mail)  # type: ignore[attr-defined]
        mail.headers = sandbox_mail_headers(mail)  # type: ignore[attr-defined]
    return mails


def mailbox_addresses(*, channel: Channel, limit: int = 20) -> list[str]:
    """Addresses the channel mailed lately (for the simulator's address picker)."""
    seen: list[str] = []
    rows = (
        SandboxMail.objects.filter(
            direction=SandboxMail.Direction.TO_MAILBOX, envelope_from=_channel_from(channel)
        )
        .order_by("-received_at")
        .values_list("envelope_to", flat=True)[:200]
    )
    for envelope_to in rows:
        for address in envelope_to.split():
            if address not in seen:
                seen.append(address)
    return sorted(seen[:limit])


def mailbox_mail(*, channel: Channel, address: str, mail_id: int) -> SandboxMail | None:
    """A mail the channel sent to ``address``, or None."""
    return (
        SandboxMail.objects.filter(
            pk=mail_id,
            direction=SandboxMail.Direction.TO_MAILBOX,
            envelope_from=_channel_from(channel),
        )
        .filter(Q(envelope_to__contains=f" {address} "))
        .first()
    )


# --- replies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    raw: bytes
    to_address: str


def _reply_subject(subject: str) -> str:
    subject = subject.strip()
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def sandbox_reply_build(*, mail: SandboxMail, address: str, text: str) -> Reply:
    """A reply from ``address`` to ``mail``, as a mail client would write it.

    To the mail's Reply-To (else its From), "Re: subject", In-Reply-To and References
    naming the mail, and the mail quoted below the text ("On ... wrote:").
    """
    original = sandbox_mail_message(mail)
    reply_to = _header(original, "Reply-To", 1000) or _header(original, "From", 1000)
    addresses = [addr for _name, addr in getaddresses([reply_to]) if addr]
    to_address = addresses[0] if addresses else mail.envelope_from
    message_id = _header(original, "Message-ID", 255)
    references = " ".join([*_header(original, "References", 2000).split()[-10:], message_id])
    quoted = "\n".join(
        f"> {line}" if line else ">" for line in sandbox_mail_body(mail).strip().splitlines()
    )
    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = address
    reply["To"] = to_address
    reply["Subject"] = _reply_subject(mail.subject)
    reply["Date"] = formatdate(usegmt=True)
    reply["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or "example.com")
    if message_id:
        reply["In-Reply-To"] = message_id
        reply["References"] = references.strip()
    sender = mail.from_header or mail.envelope_from
    when = mail.date_header or mail.received_at
    body = f"{text.strip()}\n\nOn {when}, {sender} wrote:\n{quoted}\n"
    reply.set_content(body, charset="utf-8")
    return Reply(raw=reply.as_bytes(), to_address=email_address_normalize(to_address))


def sandbox_reply_post(*, channel: Channel, reply: Reply, post: Poster) -> int:
    """POST the reply, raw and signed with the inbound secret, to the channel's webhook."""
    headers = {
        "Content-Type": "message/rfc822",
        SIGNATURE_HEADER: signature_for(channel.email_inbound_secret, reply.raw),
    }
    return post(reverse("messaging:email_inbound", args=[channel.pk]), reply.raw, headers)
