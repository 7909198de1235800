"""The files of the thread: WhatsApp media through the provider, e-mail attachments.

WhatsApp keeps inbound (and uploaded) files behind ``GET /{version}/{media-id}``, which
answers a short-lived URL that needs the channel's token too. The console never sees
the token: it asks us, and we fetch with the real client.

A received e-mail's files are listed in its payload and read back from the stored raw
mail (``messaging.email.email_attachment_fetch``).

Whatever a customer sends is served from our own origin, next to the console, so how
it is served is decided here: only raster images (PNG, JPEG, GIF, WebP) may be shown
inline; a type a browser could run as a page (HTML, SVG, XML, scripts) is never served
as that type but as ``application/octet-stream``; and the file name goes into an
RFC 6266 ``Content-Disposition`` (an ASCII ``filename`` and the UTF-8 ``filename*``).
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils.translation import gettext as _

from telcodesk.core.errors import DomainError, ErrorCode, NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.email import email_attachment_fetch
from telcodesk.messaging.models import Channel, Message
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError, WhatsAppCloudClient


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str
    filename: str


class MediaUnavailable(DomainError):
    code = ErrorCode.CONFLICT
    status = 502


def whatsapp_client_for(channel: Channel) -> WhatsAppCloudClient:
    """The Graph API client of a WhatsApp Cloud channel (media live only there)."""
    if channel.kind != Channel.Kind.WHATSAPP_CLOUD:
        raise MediaUnavailable(_("Files are sent and shown only on WhatsApp channels."), status=409)
    return WhatsAppCloudClient(
        base_url=channel.api_base_url,
        version=channel.api_version,
        phone_number_id=channel.phone_number_id,
        access_token=channel.access_token,
        timeout=float(getattr(settings, "TELCODESK_WHATSAPP_TIMEOUT_SECONDS", 10)),
    )


def media_fetch(*, message: Message, client: WhatsAppCloudClient | None = None) -> MediaFile:
    """The file of ``message`` (scoped by the caller), through the channel's client."""
    if not message.media_id:
        raise NotFound(_("This message has no file."))
    client = client or whatsapp_client_for(message.channel)
    try:
        info = client.media_info(message.media_id)
        data, content_type = client.media_download(info.url)
    except ProviderError as error:
        raise MediaUnavailable(
            _("WhatsApp did not give the file (%(error)s). Try again later.")
            % {"error": error.title}
        ) from error
    return MediaFile(
        data=data,
        content_type=info.mime_type or message.media_mime_type or content_type,
        filename=message.media_filename,
    )


# --- how a customer's file is served ---------------------------------------------------------

# Raster images a browser only ever draws: the only files shown inline (thumbnails).
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DOWNLOAD_TYPE = "application/octet-stream"
# Types a browser opens as a document that can run scripts on our origin.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/x-shockwave-flash",
    }
)
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+-]+")
# Python's own table only (not the machine's /etc/mime.types): the same name everywhere.
_EXTENSIONS = mimetypes.MimeTypes()


def served_content_type(declared: str) -> str:
    """The Content-Type a customer's file is served with: its own type, unless that is
    malformed or one a browser could run as a page (HTML, SVG, any XML, scripts,
    multipart), which is served as ``application/octet-stream``."""
    content_type = (declared or "").split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(content_type):
        return DOWNLOAD_TYPE
    maintype, subtype = content_type.split("/", 1)
    if (
        content_type in _ACTIVE_TYPES
        or subtype == "xml"
        or subtype.endswith("+xml")
        or maintype in ("multipart", "message")
    ):
        return DOWNLOAD_TYPE
    return content_type


def download_filename(filename: str, content_type: str = "") -> str:
    """The name a file is saved under: no folders or control characters; when the mail
    gave none, "attachment" with the extension of its type."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")[:200]
    if name:
        return name
    extension = _EXTENSIONS.guess_extension(content_type.split(";", 1)[0].strip().lower()) or ""
    return f"attachment{extension}"


def content_disposition(*, filename: str, inline: bool = False) -> str:
    """An RFC 6266 Content-Disposition: ``attachment`` (or ``inline``), an ASCII-only
    ``filename`` for old clients and the exact name as UTF-8 in ``filename*``."""
    kind = "inline" if inline else "attachment"
    fallback = _ascii_filename(filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _ascii_filename(filename: str) -> str:
    """The ASCII name for old clients: "ñandú.pdf" → "nandu.pdf", "日本.pdf" →
    "attachment.pdf"; letters lose their accents, other characters become "_" (never a
    quote, a backslash or ";"), a name of no letters or digits becomes "attachment"."""
    text = "".join(
        unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "_"
        for ch in filename
        if not unicodedata.combining(ch)
    )
    text = re.sub(r"_+", "_", _ASCII_UNSAFE.sub("_", text)).strip(" .")
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    if not re.search(r"[A-Za-z0-9]", stem):
        stem = "attachment"
    return f"{stem}.{extension}" if extension else stem


# --- e-mail attachments ----------------------------------------------------------------------


@dataclass(frozen=True)
class EmailFile:
    """One attached file of a received e-mail, as the thread lists it."""

    index: int  # its place in the mail (0-based): the download URL's last part
    filename: str
    content_type: str
    size: int

    @property
    def thumbnail(self) -> bool:
        return self.content_type in INLINE_IMAGE_TYPES


def _listed_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def email_files(message: Message) -> list[EmailFile]:
    """The files a received e-mail had (from its payload); none for any other message."""
    if message.kind != Message.Kind.EMAIL or message.direction != Message.Direction.INBOUND:
        return []
    payload = message.payload if isinstance(message.payload, dict) else {}
    listed = payload.get("attachments")
    if not isinstance(listed, list):
        return []
    return [
        EmailFile(
            index=index,
            filename=str(item.get("filename") or ""),
            content_type=str(item.get("content_type") or ""),
            size=_listed_int(item.get("size")),
        )
        for index, item in enumerate(listed)
        if isinstance(item, dict)
    ]


@dataclass(frozen=True)
class ServedFile:
    """A customer's file with the headers it is served with."""

    data: bytes
    content_type: str
    disposition: str


def email_attachment_serve(*, actor: Actor, message: Message, index: int) -> ServedFile:
    """File ``index`` of a received e-mail (``message`` already scoped by the caller to a
    conversation the actor may read): the bytes as received, inline only for a raster
    image, any other file as a download; NotFound for a wrong index."""
    file = email_attachment_fetch(actor=actor, message_id=message.pk, index=index)
    served = served_content_type(file.content_type)
    inline = served in INLINE_IMAGE_TYPES
    return ServedFile(
        data=file.data,
        content_type=served,
        disposition=content_disposition(
            filename=download_filename(file.filename, served), inline=inline
        ),
    )
