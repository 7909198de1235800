"""Reading e-mail: addresses, a received mail's text, headers and attachments.

Pure functions over bytes and strings (no database): ``parse_email`` reads a raw RFC 822
mail into an ``InboundEmail``; the body is the ``text/plain`` part, else the HTML part
turned into readable text (``html_to_text``: never kept or shown as HTML); the quoted
previous mail is trimmed (``quoted_text_trim``). Attachments are listed in MIME order,
and ``attachment_parts`` finds them again in the same order in the stored raw mail.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from telcodesk.messaging.providers.smtp import message_id_bare

_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
# Lines that introduce the quoted previous mail in common clients (en, es, pt).
_QUOTE_HEADER = re.compile(
    r"^\s*(On\b.*\bwrote:|El\b.*\bescribió:|Em\b.*\bescreveu:|"
    r"-{2,}\s*(Original Message|Mensaje original|Mensagem original)\s*-{2,}|"
    r"(From|De):\s.*<?[^\s@]+@[^\s@]+>?\s*$)",
    re.IGNORECASE,
)
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")


def email_address_normalize(value: str) -> str:
    """The bare, lower-cased address in ``value`` ("Juana <J@x.com>" → "j@x.com"); "" if bad.

    Only ASCII local parts are accepted (no SMTPUTF8); a Unicode domain is IDNA-encoded.
    """
    if not value or "\r" in value or "\n" in value:
        return ""
    _name, address = parseaddr(value.strip())
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return ""
    try:
        local.encode("ascii")
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    address = f"{local}@{domain}".lower()
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class InboundEmail:
    """What telcodesk keeps of a received mail."""

    message_id: str  # without brackets; a hash of the bytes when the mail has none
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    text: str  # the new text (quoted previous mail trimmed)
    full_text: str
    in_reply_to: list[str]
    references: list[str]
    sent_at: datetime | None
    attachments: list[Attachment] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)  # To, Cc, Delivered-To...


# --- HTML to text ------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML body as lines, each with its blockquote depth.

    Like a browser: block elements start a new line, paragraphs and headings are set
    apart by a blank line, ``<br>`` always breaks; source line breaks are spaces.
    """

    PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})
    BLOCKS = frozenset(
        {"div", "li", "tr", "table", "ul", "ol", "hr", "pre", "blockquote", "section"}
    )
    SKIPPED = frozenset({"script", "style", "head", "title", "template"})
    CELLS = frozenset({"td", "th"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._line: list[str] = []
        self._line_depth = 0
        self._depth = 0  # blockquotes open
        self._skip = 0
        self._links: list[tuple[str, list[str]]] = []  # open <a>: (href, its text)

    def _end_line(self, *, force: bool = False) -> None:
        text = "".join(self._line)
        if text.strip() or force:
            self.lines.append((self._line_depth, text))
        self._line = []
        self._line_depth = self._depth

    def _paragraph(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1][1].strip():
            self.lines.append((self._depth, ""))

    def _add(self, text: str) -> None:
        if not "".join(self._line).strip():
            self._line_depth = self._depth
        self._line.append(text)
        for _href, label in self._links:
            label.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skip += 1
            return
        if self._skip:
            return
        if tag in self.PARAGRAPHS:
            self._paragraph()
        elif tag == "br":
            self._end_line(force=True)
        elif tag in self.BLOCKS:
            self._end_line()
        if tag == "blockquote":
            self._depth += 1
            self._line_depth = self._depth
        elif tag == "li":
            self._add("- ")
        elif tag in self.CELLS:
            self._add(" ")
        elif tag == "a":
            self._links.append(((dict(attrs).get("href") or "").strip(), []))
        elif tag == "img":
            alt = " ".join((dict(attrs).get("alt") or "").split())
            if alt:
                self._add(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self._skip = max(self._skip - 1, 0)
            return
        if self._skip:
            return
        if tag == "a" and self._links:
            href, label = self._links.pop()
            target = href.split(":", 1)[-1].strip("/")
            # "label (url)", unless the label already is the address.
            if href.lower().startswith(_LINK_SCHEMES) and target not in "".join(label):
                self._add(f" ({href})")
        if tag in self.PARAGRAPHS:
            self._paragraph()
        elif tag in self.BLOCKS:
            self._end_line()
            if tag == "blockquote":
                self._depth = max(self._depth - 1, 0)
                self._line_depth = self._depth

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._add(re.sub(r"\s+", " ", data))

    def close(self) -> None:
        super().close()
        self._end_line()


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: tags, scripts and styles dropped, links as
    "label (url)", list items as "- item", quoted blocks as "> " lines."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = []
    for depth, line in extractor.lines:
        text = " ".join(line.split())
        lines.append(f"{'> ' * depth}{text}" if text else ">" * depth)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def quoted_text_trim(text: str) -> str:
    """The new part of a reply: stops at "On ... wrote:" (and its es/pt forms), an
    "Original Message" separator, or a trailing block of "> " lines."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if index > 0 and _QUOTE_HEADER.match(line):
            lines = lines[:index]
            break
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    trimmed = "\n".join(lines).strip()
    return trimmed or text.strip()


# --- a raw mail ---------------------------------------------------------------------------


def mail_parse(raw: bytes) -> EmailMessage | None:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    return message if isinstance(message, EmailMessage) else None


def attachment_parts(message: EmailMessage) -> Iterator[EmailMessage]:
    """The attached files of a mail, in MIME order (the body and its alternatives left out)."""
    for part in message.iter_attachments():
        if isinstance(part, EmailMessage) and not part.is_multipart():
            yield part


def attachment_data(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def attachment_filename(part: EmailMessage) -> str:
    """The part's file name, without any folder and control characters."""
    try:
        name = str(part.get_filename() or "")
    except (TypeError, ValueError, LookupError):
        name = ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()[:200]


def body_text(message: EmailMessage) -> str:
    """The mail's text: its text/plain part, else its HTML part as readable text."""
    body_part = message.get_body(preferencelist=("plain", "html"))
    if body_part is None or not isinstance(body_part, EmailMessage):
        return ""
    try:
        content = str(body_part.get_content())
    except (LookupError, UnicodeError, ValueError):
        payload = body_part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return html_to_text(content) if body_part.get_content_type() == "text/html" else content


def _ids(value: str) -> list[str]:
    found = _ANGLE_ID.findall(value or "")
    if not found and value and value.strip():
        found = value.split()
    return [message_id_bare(item) for item in found if item.strip()]


def _addresses(message: EmailMessage, *names: str) -> list[str]:
    values = [str(value) for name in names for value in message.get_all(name, [])]
    return [
        address
        for address in (email_address_normalize(addr) for _n, addr in getaddresses(values))
        if address
    ]


def _provider_id(message_id: str, raw: bytes) -> str:
    if message_id and len(message_id) <= 191:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()


def parse_email(raw: bytes) -> InboundEmail | None:
    """Read a raw RFC 822 mail; None when it is not one (no sender address)."""
    message = mail_parse(raw)
    if message is None:
        return None
    try:
        from_name, from_address = parseaddr(str(message.get("From", "")))
    except (TypeError, ValueError, IndexError):
        return None
    from_address = email_address_normalize(from_address)
    if not from_address:
        return None
    text = body_text(message)
    attachments = [
        Attachment(
            filename=attachment_filename(part),
            content_type=part.get_content_type(),
            size=len(attachment_data(part)),
        )
        for part in attachment_parts(message)
    ]
    sent_at = None
    try:
        date = parsedate_to_datetime(str(message.get("Date", "")))
        sent_at = date if date.tzinfo is not None else None
    except (TypeError, ValueError, IndexError):
        pass
    message_id = next(iter(_ids(str(message.get("Message-ID", "")))), "")
    full_text = text.replace("\r\n", "\n").strip()
    return InboundEmail(
        message_id=_provider_id(message_id, raw),
        from_address=from_address,
        from_name=" ".join(str(from_name).split())[:200],
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        subject=" ".join(str(message.get("Subject", "")).split()),
        text=quoted_text_trim(full_text),
        full_text=full_text,
        in_reply_to=_ids(str(message.get("In-Reply-To", ""))),
        references=_ids(str(message.get("References", ""))),
        sent_at=sent_at,
        attachments=attachments,
        recipients=_addresses(message, "To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"),
    )
