"""The e-mail sandbox: storing the mails it sees, reading them, and writing replies.

Mails reach the sandbox through its SMTP server (``mailsandbox.smtp``), which only
stores them (``sandbox_mail_store``): nothing is ever relayed. The mailbox simulator
plays the customer: ``sandbox_reply_build`` writes a proper reply to a stored mail (plain
text, optionally with an HTML alternative, and attached files) and ``sandbox_reply_post``
posts it, raw and signed, to the channel's inbound webhook, so it goes through the real
inbound path. Mails are shown as text: an HTML part is turned into readable text, never
rendered.
"""

from __future__ import annotations

import html
import logging
import mimetypes
import re
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
from telcodesk.messaging.email_reading import (
    attachment_data,
    attachment_filename,
    attachment_parts,
    body_text,
    email_address_normalize,
)
from telcodesk.messaging.models import Channel
from telcodesk.messaging.providers.sandbox import Poster
from telcodesk.messaging.providers.whatsapp_cloud import signature_for

logger = logging.getLogger("telcodesk.mailsandbox")

DEFAULT_PORT = 8025
HOST = "127.0.0.1"
SIGNATURE_HEADER = "X-Telcodesk-Signature"
MAILS_SHOWN = 50
MAX_REPLY_LENGTH = 20_000
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # all the files of one reply together
MAX_ATTACHMENTS = 5
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


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
    """The text of a mail: its text/plain part, else its HTML part as readable text."""
    message = sandbox_mail_message(mail)
    if isinstance(message, EmailMessage) and message.get_body() is not None:
        return body_text(message)
    payload = message.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


@dataclass(frozen=True)
class MailFile:
    """An attached file of a sandbox mail, as listed under it."""

    filename: str
    content_type: str
    size: int


def sandbox_mail_files(mail: SandboxMail) -> list[MailFile]:
    message = sandbox_mail_message(mail)
    if not isinstance(message, EmailMessage):
        return []
    return [
        MailFile(
            filename=attachment_filename(part),
            content_type=part.get_content_type(),
            size=len(attachment_data(part)),
        )
        for part in attachment_parts(message)
    ]


def sandbox_mail_has_html(mail: SandboxMail) -> bool:
    message = sandbox_mail_message(mail)
    return any(part.get_content_type() == "text/html" for part in message.walk())


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
        mail.files = sandbox_mail_files(mail)  # type: ignore[attr-defined]
        mail.has_html = sandbox_mail_has_html(mail)  # type: ignore[attr-defined]
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


@dataclass(frozen=True)
class ReplyFile:
    """A file the customer attaches to a reply."""

    filename: str
    content_type: str
    data: bytes


def reply_file_from_upload(*, name: str, content_type: str, data: bytes) -> ReplyFile:
    """A file as uploaded: the name without folders, a well-formed type (else guessed
    from the name, else application/octet-stream)."""
    filename = name.replace("\\", "/").rsplit("/", 1)[-1]
    filename = "".join(ch for ch in filename if ch.isprintable()).strip()[:200] or "file"
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if not _CONTENT_TYPE.fullmatch(kind):
        kind = mimetypes.guess_type(filename)[0] or ""
    if not kind or kind.startswith(("multipart/", "message/")):
        kind = "application/octet-stream"  # a container type would not be a file
    return ReplyFile(filename=filename, content_type=kind, data=data)


def _reply_subject(subject: str) -> str:
    subject = subject.strip()
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


def _html_with_quote(html_text: str, header: str, quoted_text: str) -> str:
    """The customer's HTML with the quoted mail under it, as HTML mail clients do."""
    quote = (
        f'<div class="quote-header">{html.escape(header)}</div>\n'
        f'<blockquote type="cite">{html.escape(quoted_text).replace(chr(10), "<br>")}'
        "</blockquote>"
    )
    closing = re.search(r"</body\s*>", html_text, re.IGNORECASE)
    if closing is None:
        return f"{html_text.strip()}\n{quote}\n"
    return f"{html_text[: closing.start()]}{quote}\n{html_text[closing.start() :]}"


def sandbox_reply_build(
    *,
    mail: SandboxMail,
    address: str,
    text: str,
    html_text: str = "",
    files: list[ReplyFile] | None = None,
) -> Reply:
    """A reply from ``address`` to ``mail``, as a mail client would write it.

    To the mail's Reply-To (else its From), "Re: subject", In-Reply-To and References
    naming the mail, and the mail quoted below the text ("On ... wrote:"). With
    ``text`` and ``html_text`` the body is multipart/alternative (both quote the mail);
    with ``html_text`` alone it is text/html. ``files`` are attached (multipart/mixed).
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
    header = f"On {when}, {sender} wrote:"
    if text.strip():
        reply.set_content(f"{text.strip()}\n\n{header}\n{quoted}\n", charset="utf-8")
        if html_text.strip():
            reply.add_alternative(
                _html_with_quote(html_text, header, sandbox_mail_body(mail).strip()),
                subtype="html",
                charset="utf-8",
            )
    else:
        reply.set_content(
            _html_with_quote(html_text, header, sandbox_mail_body(mail).strip()),
            subtype="html",
            charset="utf-8",
        )
    for file in files or []:
        maintype, _slash, subtype = file.content_type.partition("/")
        reply.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)
    return Reply(raw=reply.as_bytes(), to_address=email_address_normalize(to_address))


def sandbox_reply_post(*, channel: Channel, reply: Reply, post: Poster) -> int:
    """POST the reply, raw and signed with the inbound secret, to the channel's webhook."""
    headers = {
        "Content-Type": "message/rfc822",
        SIGNATURE_HEADER: signature_for(channel.email_inbound_secret, reply.raw),
    }
    return post(reverse("messaging:email_inbound", args=[channel.pk]), reply.raw, headers)
