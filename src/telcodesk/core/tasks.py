"""Core tasks. Tasks are thin: take ids, call a service, stay idempotent."""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any

from celery import Task, shared_task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` once the current transaction commits (never if it rolls back).

    With a broker the message goes to a worker; without one (embedded mode) the task
    runs in this process, still only after the commit. Pass ids, never objects.
    """
    transaction.on_commit(lambda: task.delay(*args, **kwargs))


@shared_task(name="telcodesk.core.ping")
def ping(token: str) -> str:
    """Round-trip check used by the readiness tooling and the worker test."""
    from telcodesk.core.services import worker_heartbeat_record

    worker_heartbeat_record(token=token)
    return token


class CoalescedWake:
    """Send a no-argument "drain" task at most once per ``interval`` seconds per process.

    For work whose rows are already committed (the database is the queue): the task
    only wakes a worker, which then claims every pending row. Calling ``wake()`` for
    each of a thousand rows a second would publish a thousand broker messages; this
    publishes one now and, for calls inside the next ``interval``, one more at its end
    (a trailing send from a timer thread). So every call is followed by a send that
    happens after it, and a worker that drains after that send sees the row: no row
    waits for the periodic sweep, and at most 2/``interval`` messages a second leave
    one process. Safe across threads; a forked child starts with a fresh state.
    """

    def __init__(self, task: Task, *, interval: float) -> None:
        self.task = task
        self.interval = interval
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._last_sent = -math.inf
        self._trailing: threading.Timer | None = None

    def wake(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._pid != os.getpid():
                self._reset()
            if self._trailing is None and now - self._last_sent >= self.interval:
                self._last_sent = now
                send = True
            else:
                send = False
                if self._trailing is None:
                    delay = max(0.0, self._last_sent + self.interval - now)
                    self._trailing = threading.Timer(delay, self._send_trailing)
                    self._trailing.daemon = True
                    self._trailing.start()
        if send:
            self.task.delay()

    def _send_trailing(self) -> None:
        with self._lock:
            self._trailing = None
            self._last_sent = time.monotonic()
        self.task.delay()

    def wake_on_commit(self) -> None:
        """``wake()`` once the current transaction commits (never if it rolls back)."""
        transaction.on_commit(self.wake)
