"""Timer handlers for tests that run in real worker processes.

A worker imports this module with ``--include tests.automation.worker_handlers`` (its
working directory is the repository root). The handler counts each run of each timer in
a Redis hash outside the database transaction, so a test can tell "the handler ran
twice" apart from "the firing was recorded twice" (``TimerFiring`` is unique per timer).
"""

from __future__ import annotations

import os
import time

import redis

from telcodesk.automation.models import Timer
from telcodesk.automation.services import register_timer_handler

COUNTER_URL = os.environ.get("TELCODESK_TEST_TIMER_COUNTER_URL", "redis://127.0.0.1:6379/12")
COUNT_KIND = "test.count_runs"

_client: redis.Redis | None = None


def counter_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(COUNTER_URL)
    return _client


@register_timer_handler(COUNT_KIND)
def count_runs(timer: Timer) -> None:
    counter_client().hincrby(timer.payload["counter"], str(timer.id), 1)
    pause = float(timer.payload.get("sleep", 0))
    if pause:
        time.sleep(pause)
