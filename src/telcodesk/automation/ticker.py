"""The embedded ticker: the tick in a loop, for the mode without a broker.

``telcodesk ticker`` runs it in the foreground; ``telcodesk serve`` starts it in a
background thread with ``start_embedded_ticker``. Several tickers (or a ticker and
Celery workers) may run against the same database: claims are atomic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection

from telcodesk.automation.conf import timer_tick_max_seconds
from telcodesk.automation.tick import TickResult, drain, worker_label

logger = logging.getLogger(__name__)


def ticker_round() -> TickResult:
    """Drain what is due now (bounded in time), then let go of the connection."""
    try:
        return drain(worker=worker_label(), deadline=time.monotonic() + timer_tick_max_seconds())
    finally:
        # A long-lived thread must not keep a connection past CONN_MAX_AGE or across
        # a database restart.
        close_old_connections()


TICK_TASK = "telcodesk.automation.tick"


class PeriodicSweeps:
    """Beat's other entries (webhook and outbox sweeps, e-mail polling), run in-process.

    Without a broker there is no beat: the embedded ticker runs each entry of
    ``CELERY_BEAT_SCHEDULE`` (but the timer tick, which it runs itself) every
    ``schedule`` seconds, calling the task's function directly. The first round runs
    them all, so what a crash left behind is picked up at start-up.
    """

    def __init__(self, schedule: dict[str, dict[str, object]] | None = None) -> None:
        entries = schedule if schedule is not None else settings.CELERY_BEAT_SCHEDULE
        self.entries = {
            str(entry["task"]): float(entry["schedule"])  # type: ignore[arg-type]
            for entry in entries.values()
            if entry.get("task") != TICK_TASK
        }
        self.last_run: dict[str, float] = {}

    def run_due(self, now: float | None = None) -> list[str]:
        """Run the entries whose period has passed; returns the task names run."""
        from telcodesk.celery import app

        # Celery imports the apps' tasks modules lazily (autodiscover_tasks).
        app.loader.import_default_modules()
        now = time.monotonic() if now is None else now
        ran: list[str] = []
        for name, every in self.entries.items():
            last = self.last_run.get(name)
            if last is not None and now - last < every:
                continue
            self.last_run[name] = now
            task = app.tasks.get(name)
            if task is None:
                logger.warning("periodic task %s is not registered; skipped", name)
                continue
            try:
                task.run()
                ran.append(name)
            except Exception:
                logger.exception("periodic task %s failed; next try in %s s", name, every)
        return ran


def ticker_loop(
    *,
    interval: float,
    stop: threading.Event,
    on_round: Callable[[TickResult], None] | None = None,
    sweeps: PeriodicSweeps | None = None,
) -> None:
    """Tick every ``interval`` seconds until ``stop`` is set; errors are logged, not fatal.

    ``sweeps`` (default: beat's schedule) run between ticks at their own periods.
    """
    sweeps = sweeps if sweeps is not None else PeriodicSweeps()
    while not stop.is_set():
        try:
            result = ticker_round()
            if on_round is not None:
                on_round(result)
        except Exception:
            logger.exception("timer tick failed; next try in %s s", interval)
        try:
            sweeps.run_due()
        finally:
            close_old_connections()
        stop.wait(interval)


class EmbeddedTicker:
    """A background thread that ticks; ``stop()`` ends it after the current round."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telcodesk-ticker", daemon=True)

    def _run(self) -> None:
        try:
            ticker_loop(interval=self.interval, stop=self._stop)
        finally:
            connection.close()

    def start(self) -> EmbeddedTicker:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()


def start_embedded_ticker(interval: float | None = None) -> EmbeddedTicker:
    """Start ticking in a daemon thread every ``interval`` s (default TIMER_TICK_SECONDS)."""
    seconds = float(interval if interval is not None else settings.TIMER_TICK_SECONDS)
    if seconds <= 0:
        raise ValueError("the ticker interval must be positive")
    logger.info("embedded timer ticker every %s s", seconds)
    return EmbeddedTicker(seconds).start()
