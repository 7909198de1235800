"""Reading a mailbox over IMAP (imaplib) for e-mail channels without an inbound webhook.

``ImapMailbox`` logs in, selects the folder and lists the unseen messages by UID; the
caller fetches each one (``BODY.PEEK[]`` leaves it unseen), stores it, and only then
flags it ``\\Seen``. A crash between the two leaves the mail unseen: the next poll
fetches it again and the store, idempotent on the Message-ID, adds nothing. No database
here.

With ``tls`` the session is IMAP over TLS (IMAPS, port 993), checked like SMTP's: the
certificate chain against the system's CAs plus ``ca_file``, and the host name. A
certificate that does not verify ends the poll with an ``ImapError`` before anything
(the password included) is sent.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from dataclasses import dataclass
from types import TracebackType

from telcodesk.messaging.providers.smtp import mail_tls_context


class ImapError(Exception):
    """The server refused a command or could not be reached."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    tls: bool
    username: str
    password: str
    folder: str = "INBOX"
    timeout: float = 30.0
    ca_file: str = ""  # PEM, trusted on top of the system's CAs


def _folder_argument(folder: str) -> str:
    escaped = folder.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class ImapMailbox:
    """A logged-in IMAP session on one folder; use it as a context manager."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._connection: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapMailbox:
        settings = self.settings
        try:
            if settings.tls:
                context = self._context()
                connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host, settings.port, ssl_context=context, timeout=settings.timeout
                )
            else:
                connection = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
            self._connection = connection
            connection.login(settings.username, settings.password)
            status, data = connection.select(_folder_argument(settings.folder or "INBOX"))
            if status != "OK":
                raise ImapError(f"SELECT {settings.folder}: {data!r}")
        except ssl.SSLCertVerificationError as exc:
            self.close()
            reason = str(exc.verify_message or exc.reason or exc)
            raise ImapError(
                f"TLS certificate of {settings.host}:{settings.port} not trusted ({reason}); "
                "did not log in. Use the host name the certificate names, or add the "
                "server's CA to TELCODESK_EMAIL_CA_FILE."
            ) from exc
        except (imaplib.IMAP4.error, OSError) as exc:
            self.close()
            raise ImapError(str(exc)) from exc
        except ImapError:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _context(self) -> ssl.SSLContext:
        try:
            return mail_tls_context(self.settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ImapError(
                f"TELCODESK_EMAIL_CA_FILE ({self.settings.ca_file}) cannot be read as a PEM "
                f"CA bundle: {exc}"
            ) from exc

    @property
    def connection(self) -> imaplib.IMAP4:
        if self._connection is None:
            raise ImapError("not connected")
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            connection.logout()

    def _uid(self, command: str, *args: str) -> list[object]:
        try:
            status, data = self.connection.uid(command, *args)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise ImapError(f"UID {command}: {exc}") from exc
        if status != "OK":
            raise ImapError(f"UID {command}: {data!r}")
        return list(data)

    def unseen_uids(self) -> list[str]:
        """UIDs of the messages not flagged \\Seen, oldest first."""
        data = self._uid("SEARCH", "UNSEEN")
        words: list[str] = []
        for item in data:
            if isinstance(item, bytes):
                words += item.decode("ascii", "replace").split()
        return sorted({w for w in words if w.isdigit()}, key=int)

    def fetch(self, uid: str) -> bytes | None:
        """The raw RFC 822 bytes of one message (without flagging it seen); None if gone."""
        for item in self._uid("FETCH", uid, "(BODY.PEEK[])"):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def mark_seen(self, uid: str) -> None:
        self._uid("STORE", uid, "+FLAGS", "(\\Seen)")
