"""The sandbox SMTP server: a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps mail.

Every mail it accepts becomes a ``SandboxMail`` row; nothing is relayed anywhere. It
runs in a background thread of ``telcodesk serve`` (when the sandbox is enabled) or in
the foreground with ``telcodesk mailsandbox``.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import connection

from telcodesk.mailsandbox.services import HOST, sandbox_mail_store, sandbox_smtp_port

logger = logging.getLogger("telcodesk.mailsandbox")

SERVER_HOSTNAME = "mailsandbox.telcodesk.test"
DATA_SIZE_LIMIT = 10 * 1024 * 1024


class SandboxHandler:
    """aiosmtpd handler: accept any recipient, store the mail, answer 250."""

    def __init__(self) -> None:
        # The ORM is synchronous: one worker thread does the database writes.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailsandbox-db")

    def _store(self, envelope_from: str, envelope_to: list[str], raw: bytes) -> int:
        try:
            return sandbox_mail_store(
                envelope_from=envelope_from, envelope_to=envelope_to, raw=raw
            ).pk
        finally:
            connection.close()  # a long-lived thread keeps no connection between mails

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        loop = asyncio.get_running_loop()
        try:
            pk = await loop.run_in_executor(
                self.executor,
                self._store,
                str(envelope.mail_from or ""),
                [str(rcpt) for rcpt in envelope.rcpt_tos],
                raw,
            )
        except Exception:
            logger.exception("mail sandbox could not store a mail")
            return "451 4.3.0 Sandbox could not store the mail, try again later"
        return f"250 2.0.0 Stored by the telcodesk sandbox as mail {pk} (not relayed)"

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class MailSandbox:
    """The running server; ``stop()`` closes it."""

    def __init__(self, port: int | None = None, host: str = HOST) -> None:
        self.host = host
        self.port = sandbox_smtp_port() if port is None else port
        self.handler = SandboxHandler()
        self.controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            server_hostname=SERVER_HOSTNAME,
            data_size_limit=DATA_SIZE_LIMIT,
        )

    def start(self) -> MailSandbox:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs each line
        try:
            self.controller.start()
        except BaseException:
            self.handler.close()
            raise
        return self

    def stop(self) -> None:
        try:
            self.controller.stop()
        finally:
            self.handler.close()

    def __enter__(self) -> MailSandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_mail_sandbox_for_serve(write: Any) -> MailSandbox | None:
    """For ``telcodesk serve``: start the server when the sandbox is on (None otherwise).

    A busy port is reported and skipped: the web server runs without it.
    """
    if not settings.SANDBOX_ENABLED:
        return None
    sandbox = MailSandbox()
    try:
        sandbox.start()
    except Exception as exc:  # the port is taken, or cannot be bound
        write(f"e-mail sandbox not started on {sandbox.host}:{sandbox.port}: {exc}")
        return None
    write(f"e-mail sandbox SMTP at {sandbox.host}:{sandbox.port} (stores mail, relays none)")
    return sandbox
