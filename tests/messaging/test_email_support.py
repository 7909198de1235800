"""Building blocks for the e-mail tests (no tests here): a real SMTP server on loopback
(aiosmtpd, plain, STARTTLS or implicit TLS), a small IMAP4 responder on a real socket
(plain or TLS), e-mail channels and raw mails."""

from __future__ import annotations

import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.test import Client
from django.urls import reverse

from telcodesk.accounts.models import Organization
from telcodesk.messaging.models import Channel, EmailSecurity
from telcodesk.messaging.providers.whatsapp_cloud import signature_for

INBOUND_SECRET = "inbound-secret-0123456789abcdef"
FROM_ADDRESS = "ventas@comteco.test"
REPLY_DOMAIN = "replies.comteco.test"
IMAP_USER = "buzon@comteco.test"
IMAP_PASSWORD = "imap-pass-42"
SMTP_USER = "ventas@comteco.test"
SMTP_PASSWORD = "smtp-pass-7"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls_version: str = ""  # "TLSv1.3" when the mail came over TLS, "" in plain text
    authenticated_as: str = ""

    def parsed(self) -> EmailMessage:
        message = BytesParser(policy=policy.default).parsebytes(self.content)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class SmtpMailbox:
    """What the loopback SMTP server received; ``rcpt_reply`` scripts a refusal."""

    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    rcpt_reply: str = ""
    mail_from_seen: list[str] = field(default_factory=list)  # every MAIL FROM, even refused

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        self.mail_from_seen.append(address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else b""
        self.received.append(
            Received(
                str(envelope.mail_from),
                [str(r) for r in envelope.rcpt_tos],
                content,
                tls_version=str(ssl_object.version()) if ssl_object is not None else "",
                authenticated_as=login.decode(),
            )
        )
        return "250 Message accepted for delivery"


def _smtp_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    valid = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=valid, auth_data=auth_data if valid else None)


@contextmanager
def running_smtp_server(
    *,
    starttls_context: ssl.SSLContext | None = None,
    implicit_tls_context: ssl.SSLContext | None = None,
    require_login: bool = False,
) -> Iterator[SmtpMailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, while in the block.

    ``starttls_context`` offers STARTTLS and requires it before MAIL (and AUTH);
    ``implicit_tls_context`` speaks TLS from the first byte (SMTPS); ``require_login``
    wants AUTH as SMTP_USER / SMTP_PASSWORD, accepted only over TLS.
    """
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every line
    mailbox = SmtpMailbox(host="127.0.0.1", port=free_port())
    smtp_options: dict[str, Any] = {}
    if starttls_context is not None:
        smtp_options.update(tls_context=starttls_context, require_starttls=True)
    if require_login:
        smtp_options.update(auth_required=True, auth_require_tls=True, authenticator=_smtp_login)
    controller = Controller(
        mailbox,
        hostname=mailbox.host,
        port=mailbox.port,
        ssl_context=implicit_tls_context,
        **smtp_options,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def make_email_channel(organization: Organization, *, port: int = 25, **fields: Any) -> Channel:
    defaults: dict[str, Any] = {
        "name": "Correo ventas",
        "kind": Channel.Kind.EMAIL,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": EmailSecurity.NONE,
        "email_from_address": FROM_ADDRESS,
        "email_from_name": "COMTECO Ventas",
        "email_reply_domain": REPLY_DOMAIN,
        "email_inbound_secret": INBOUND_SECRET,
    }
    defaults.update(fields)
    channel = Channel(organization=organization, **defaults)
    channel.full_clean()
    channel.save()
    return channel


def raw_mail(
    *,
    sender: str = "Juana Mamani <juana@example.com>",
    to: str = FROM_ADDRESS,
    subject: str = "Consulta de fibra",
    text: str | None = "Hola, ¿tienen cobertura en Sacaba?",
    html: str | None = None,
    message_id: str | None = "<mail-1@example.com>",
    in_reply_to: str = "",
    references: str = "",
    attachments: list[tuple[str, str, bytes]] | None = None,
    date: str = "Mon, 03 Jun 2024 10:15:00 -0400",
) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = date
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    if text is not None:
        message.set_content(text, charset="utf-8")
        if html is not None:
            message.add_alternative(html, subtype="html", charset="utf-8")
    elif html is not None:
        message.set_content(html, subtype="html", charset="utf-8")
    for filename, content_type, data in attachments or []:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def post_mail(
    client: Client,
    channel: Channel,
    raw: bytes,
    *,
    secret: str | None = INBOUND_SECRET,
    signature: str | None = None,
    content_type: str = "message/rfc822",
) -> Any:
    headers = {}
    if signature is not None:
        headers["X-Telcodesk-Signature"] = signature
    elif secret is not None:
        headers["X-Telcodesk-Signature"] = signature_for(secret, raw)
    return client.post(
        reverse("messaging:email_inbound", args=[channel.pk]),
        data=raw,
        content_type=content_type,
        headers=headers,
    )


# --- a minimal IMAP4rev1 server on a real socket ----------------------------------------------


class ImapResponder(socketserver.ThreadingTCPServer):
    """Speaks just enough IMAP4rev1 for imaplib: LOGIN, SELECT, UID SEARCH/FETCH/STORE."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mails: dict[str, bytes], tls_context: ssl.SSLContext | None = None) -> None:
        self.mails = dict(mails)
        self.seen: set[str] = set()
        self.commands: list[str] = []
        self.tls_context = tls_context
        self.tls_failures: list[str] = []  # handshakes the client broke off
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ImapHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.tls_context is None:
            return connection, address
        # IMAPS: TLS from the first byte; the handshake runs in the handler's thread.
        wrapped = self.tls_context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        )
        return wrapped, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError | ConnectionError):
            with self.lock:
                self.tls_failures.append(type(error).__name__)
            return
        super().handle_error(request, client_address)


class _ImapHandler(socketserver.StreamRequestHandler):
    server: ImapResponder

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def _send(self, *lines: str | bytes) -> None:
        for line in lines:
            self.wfile.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        server = self.server
        uids = sorted(server.mails, key=int)
        self._send("* OK test IMAP4rev1 responder ready")
        authenticated = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _sp, rest = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            command, _sp, args = rest.partition(" ")
            command = command.upper()
            with server.lock:
                server.commands.append(f"{command} {args}".strip())
            if command == "CAPABILITY":
                self._send("* CAPABILITY IMAP4rev1 AUTH=PLAIN", f"{tag} OK CAPABILITY done")
            elif command == "LOGIN":
                authenticated = args.split(" ", 1)[0].strip('"') == IMAP_USER and (
                    IMAP_PASSWORD in args
                )
                self._send(f"{tag} OK LOGIN done" if authenticated else f"{tag} NO bad login")
            elif command == "SELECT" and authenticated:
                self._send(f"* {len(uids)} EXISTS", "* 0 RECENT", f"{tag} OK [READ-WRITE] done")
            elif command == "UID" and authenticated:
                self._uid(tag, args, uids)
            elif command == "LOGOUT":
                self._send("* BYE logging out", f"{tag} OK LOGOUT done")
                return
            else:
                self._send(f"{tag} BAD unsupported")

    def _uid(self, tag: str, args: str, uids: list[str]) -> None:
        server = self.server
        sub, _sp, rest = args.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH":
            with server.lock:
                unseen = [uid for uid in uids if uid not in server.seen]
            self._send("* SEARCH " + " ".join(unseen), f"{tag} OK SEARCH done")
        elif sub == "FETCH":
            uid = rest.split(" ", 1)[0]
            raw = server.mails.get(uid)
            if raw is not None:
                seq = uids.index(uid) + 1
                head = f"* {seq} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode()
                self._send(head + raw + b")\r\n")
            self._send(f"{tag} OK FETCH done")
        elif sub == "STORE":
            uid = rest.split(" ", 1)[0]
            with server.lock:
                server.seen.add(uid)
            self._send(f"* {uids.index(uid) + 1} FETCH (UID {uid} FLAGS (\\Seen))")
            self._send(f"{tag} OK STORE done")
        else:
            self._send(f"{tag} BAD unsupported UID command")


@contextmanager
def imap_servers() -> Iterator[Callable[..., ImapResponder]]:
    """Start IMAP responders (UID -> raw mail, optionally over TLS) on loopback; all
    stopped after the block."""
    started: list[ImapResponder] = []

    def start(mails: dict[str, bytes], tls_context: ssl.SSLContext | None = None) -> ImapResponder:
        server = ImapResponder(mails, tls_context)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


# --- certificates (trustme) -------------------------------------------------------------------


@dataclass
class MailPki:
    """A test CA, its PEM bundle on disk, and server contexts with certificates it signed."""

    ca: Any  # trustme.CA
    ca_file: str

    def server_context(self, *names: str) -> ssl.SSLContext:
        """A server-side context with a certificate for ``names`` (127.0.0.1 by default)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
        return context


def make_mail_pki(folder: Any) -> MailPki:
    import trustme

    ca = trustme.CA(organization_name="telcodesk test CA")
    path = folder / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return MailPki(ca=ca, ca_file=str(path))
