"""Files attached to a ticket: photos of the equipment, a speed test, a document.

Stored with Django's default storage (under ``var/media/tickets/`` in the embedded
mode) under a random name; the original name is kept on the row. What a file is comes
from its extension, which must be one of ``ATTACHMENT_TYPES``, and the bytes must start
as that type does (a "photo.png" that is really a web page is refused). At most
``TELCODESK_TICKET_ATTACHMENT_MAX_BYTES`` (10 MiB by default) each and
``MAX_ATTACHMENTS`` per ticket. Served only to the organization's people, by
``views.attachment_download_view`` with the download-safe headers of inbox.media.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.inbox.media import download_filename
from telcodesk.tickets.models import Ticket, TicketAttachment
from telcodesk.tickets.services.common import check_not_closed, ticket_locked

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 50

_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
# extension → (content type, the signatures its bytes may start with; () = any text).
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "pdf": ("application/pdf", (b"%PDF-",)),
    "txt": ("text/plain", ()),
    "csv": ("text/csv", ()),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ZIP,
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    "mp4": ("video/mp4", ()),  # checked by its "ftyp" box below
    "m4a": ("audio/mp4", ()),
    "mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    "ogg": ("audio/ogg", (b"OggS",)),
    "opus": ("audio/ogg", (b"OggS",)),
}
_ISO_MEDIA = frozenset({"mp4", "m4a"})


def max_attachment_bytes() -> int:
    return int(getattr(settings, "TELCODESK_TICKET_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"file": [message]})


def attachment_type(filename: str, data: bytes) -> str:
    """The content type of an accepted file; ValidationFailed says why one is refused."""
    extension = PurePosixPath(filename.lower()).suffix.lstrip(".")
    known = ATTACHMENT_TYPES.get(extension)
    if known is None:
        raise _refuse(
            _(
                "This kind of file cannot be attached. Attach a photo (JPEG, PNG, GIF, "
                "WebP), a PDF, a text or CSV file, an Office or OpenDocument file, or an "
                "MP4, MP3, M4A or OGG recording."
            )
        )
    content_type, signatures = known
    if extension in _ISO_MEDIA:
        matches = data[4:8] == b"ftyp"
    elif extension == "webp":
        matches = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    elif signatures:
        matches = any(data.startswith(signature) for signature in signatures)
    else:  # text: no NUL bytes (served as text/plain or text/csv, never run)
        matches = b"\x00" not in data
    if not matches:
        raise _refuse(
            _(
                "“%(name)s” is not really a .%(extension)s file (its content does not match "
                "its name). Attach the original file."
            )
            % {"name": filename[:80], "extension": extension}
        )
    return content_type


def ticket_attachment_add(
    *, actor: Actor, ticket: Ticket, filename: str, data: bytes
) -> TicketAttachment:
    """Attach a file to ``ticket`` (see the module's limits); bad files change nothing."""
    name = download_filename(filename)
    limit = max_attachment_bytes()
    if not data:
        raise _refuse(_("The file is empty. Attach the file again."))
    if len(data) > limit:
        raise _refuse(
            _("The file is too large: at most %(size)s.") % {"size": filesizeformat(limit)}
        )
    content_type = attachment_type(name, data)
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        check_not_closed(locked, field="file")
        if TicketAttachment.objects.filter(ticket=locked).count() >= MAX_ATTACHMENTS:
            raise _refuse(
                _("This ticket already has %(max)s files; no more can be attached.")
                % {"max": MAX_ATTACHMENTS}
            )
        attachment = TicketAttachment(
            ticket=locked,
            filename=name,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor.user,
        )
        attachment.file.save("upload", ContentFile(data), save=False)
        stored = attachment.file.name
        try:
            attachment.save()
        except Exception:
            attachment.file.storage.delete(stored)
            raise
    return attachment
