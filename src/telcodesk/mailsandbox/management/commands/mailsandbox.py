"""``telcodesk mailsandbox``: run the sandbox SMTP server in the foreground."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telcodesk.mailsandbox.smtp import MailSandbox


class Command(BaseCommand):
    help = "Run the e-mail sandbox's SMTP server on 127.0.0.1 (stores every mail, relays none)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=None, help="port (default TELCODESK_MAIL_SANDBOX_PORT)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The sandbox is disabled (TELCODESK_SANDBOX=0).")
        sandbox = MailSandbox(port=options["port"])
        try:
            sandbox.start()
        except Exception as exc:
            raise CommandError(f"cannot listen on {sandbox.host}:{sandbox.port}: {exc}") from exc
        self.stdout.write(f"e-mail sandbox SMTP at {sandbox.host}:{sandbox.port} (Ctrl+C to stop)")
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.stdout.write("stopped")
        finally:
            sandbox.stop()
