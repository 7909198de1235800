"""``telcodesk email_poll [--channel N]``: fetch unseen mails of the e-mail channels' IMAP
folders once (run it from cron, or enable the periodic task, see docs/email.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telcodesk.messaging.email import email_channels_poll


class Command(BaseCommand):
    help = "Fetch unseen mails over IMAP for every active e-mail channel (or --channel N)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", type=int, default=None, help="only this channel id")

    def handle(self, *args: Any, **options: Any) -> None:
        results = email_channels_poll(channel_id=options["channel"])
        if options["channel"] is not None and not results:
            raise CommandError(
                f"channel {options['channel']} is not an active e-mail channel with IMAP settings"
            )
        for result in results:
            line = f"channel={result.channel_id} fetched={result.fetched}"
            if result.error:
                line += f" error={result.error}"
            self.stdout.write(line)
        if any(result.error for result in results):
            raise CommandError("IMAP polling failed for at least one channel")
