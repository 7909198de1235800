"""Celery tasks of the automation app: thin, idempotent, ids only.

``telcodesk.automation.tick`` is sent by beat every TIMER_TICK_SECONDS (and may be sent
by anyone at any time: extra ticks are harmless). With several workers each tick claims
its own batches (SKIP LOCKED on PostgreSQL), so no timer fires twice.
"""

from __future__ import annotations

import time
from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from telcodesk.automation.conf import timer_tick_max_seconds
from telcodesk.automation.tick import FireOutcome, drain, timer_claim, timer_fire, worker_label


@shared_task(name="telcodesk.automation.tick", ignore_result=True)
def tick_task() -> dict[str, int]:
    """Fire what is due, batch after batch, until nothing is due or the time is up."""
    result = drain(worker=worker_label(), deadline=time.monotonic() + timer_tick_max_seconds())
    return asdict(result)


@shared_task(name="telcodesk.automation.fire", ignore_result=True)
def fire_task(timer_id: int) -> str:
    """Fire one timer now if it is pending and due; else do nothing (idempotent)."""
    if not timer_claim(timer_id=timer_id, now=timezone.now(), worker=worker_label()):
        return str(FireOutcome.SKIPPED)
    return str(timer_fire(timer_id))
