"""``telcodesk outbox_send``: send the due outbox messages in this process, then stop.

A worker without a broker: claims and sends due queued messages one by one (the same
``outbox_message_send`` as the Celery task) until none is due. ``--stale-seconds N``
first puts back messages claimed more than N seconds ago by a worker that died; use a
small N only when no other worker is sending.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telcodesk.messaging.outbox import outbox_due_ids, outbox_message_send, outbox_stale_requeue


class Command(BaseCommand):
    help = "Send the due outbox messages in this process until none is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-seconds",
            type=float,
            default=None,
            help="first requeue messages stuck in 'sending' for longer than this",
        )
        parser.add_argument(
            "--max-messages", type=int, default=0, help="stop after this many (0: no limit)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = options["stale_seconds"]
        if stale is not None:
            if stale < 0:
                raise CommandError("--stale-seconds must be zero or more")
            requeued = outbox_stale_requeue(stale_after=timedelta(seconds=stale))
            self.stdout.write(f"requeued={requeued}")
        limit = max(int(options["max_messages"]), 0)
        outcomes: Counter[str] = Counter()
        done = False
        while not done:
            ids = outbox_due_ids(limit=100)
            progressed = False
            for message_id in ids:
                outcome = outbox_message_send(message_id=message_id)
                outcomes[outcome] += 1
                progressed = progressed or outcome != "skipped"
                if limit and outcomes.total() >= limit:
                    break
            done = not ids or not progressed or bool(limit and outcomes.total() >= limit)
        self.stdout.write(" ".join(f"{k}={v}" for k, v in sorted(outcomes.items())) or "idle")
