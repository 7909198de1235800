"""``telcodesk ticker``: fire due timers in a loop, without a broker (embedded mode)."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telcodesk.automation.tick import TickResult
from telcodesk.automation.ticker import ticker_loop, ticker_round


class Command(BaseCommand):
    help = "Fire due timers: once (--once) or every --interval seconds until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="drain what is due, then stop")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between ticks (default: TIMER_TICK_SECONDS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"]
        if interval is None:
            interval = float(settings.TIMER_TICK_SECONDS)
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        if options["once"]:
            self._report(ticker_round())
            return
        self.stdout.write(f"ticking every {interval:g} s (Ctrl+C to stop)")
        self.stdout.flush()
        stop = threading.Event()
        try:
            ticker_loop(interval=interval, stop=stop, on_round=self._report_if_busy)
        except KeyboardInterrupt:
            stop.set()
            self.stdout.write("stopped")

    def _report(self, result: TickResult) -> None:
        self.stdout.write(
            f"claimed={result.claimed} fired={result.fired} failed={result.failed} "
            f"retried={result.retried} recovered={result.recovered} skipped={result.skipped}"
        )

    def _report_if_busy(self, result: TickResult) -> None:
        if result.claimed or result.recovered or result.failed:
            self._report(result)
            self.stdout.flush()
