"""The tick: claim due timers atomically, fire each exactly once, recover lost claims.

Delivery is at-least-once to the handler (a worker killed between claim and commit
leaves a claimed row; after the lease the tick gives it back to ``pending`` and it runs
again), and the *firing* is exactly-once: the ``claimed -> fired`` update, the
``TimerFiring`` audit row (unique per timer) and the handler's own database effects
commit in one transaction, guarded by the claim token. See docs/automation.md.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.automation.conf import (
    timer_batch_size,
    timer_fire_group,
    timer_lease_seconds,
    timer_max_attempts,
    timer_retry_seconds,
)
from telcodesk.automation.models import Timer, TimerFiring
from telcodesk.automation.services import timer_handler_for

logger = logging.getLogger(__name__)

_ERROR_MAX = 4000
# A group of firings commits after this long even if it is not full (slow handlers).
_GROUP_SECONDS = 1.0


class FireOutcome(StrEnum):
    FIRED = "fired"
    RETRY = "retry"  # the handler failed; pending again, later
    FAILED = "failed"  # the handler failed for the last time, or no handler for the kind
    SKIPPED = "skipped"  # not ours any more (fired, cancelled, or re-claimed elsewhere)


@dataclass
class TickResult:
    claimed: int = 0
    fired: int = 0
    failed: int = 0
    recovered: int = 0
    retried: int = 0
    skipped: int = 0

    def __add__(self, other: TickResult) -> TickResult:
        return TickResult(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def worker_label() -> str:
    """``host:pid``: who claimed a timer, for the audit and the admin."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_token(worker: str | None) -> str:
    # Unique per claim: the fire's conditional update matches on it, so a worker whose
    # lease expired (and whose timer another worker re-claimed) cannot mark it fired.
    return f"{worker or worker_label()}/{uuid.uuid4().hex[:12]}"[:200]


def timers_claim_due(*, now: datetime, limit: int, worker: str | None = None) -> list[int]:
    """Claim up to ``limit`` pending timers due at ``now``, oldest first; return their ids.

    PostgreSQL: one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``, so
    concurrent workers each get a disjoint batch without waiting on each other. SQLite:
    a conditional update per candidate, keeping those whose row count is 1 (writers are
    serialized; a row another process claimed first simply does not match).
    Commits before returning (a savepoint when called inside a transaction).
    """
    if limit <= 0:
        return []
    token = _claim_token(worker)
    table = Timer._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    # The CTE is evaluated once (a plain "id IN (subquery LIMIT n)" may be
                    # re-scanned by the planner and then claim more than n rows).
                    f"""
                    WITH due AS MATERIALIZED (
                        SELECT id FROM {table}
                         WHERE state = %s AND due_at <= %s
                         ORDER BY due_at, id
                         LIMIT %s
                           FOR UPDATE SKIP LOCKED)
                    UPDATE {table} AS timer
                       SET state = %s, claimed_by = %s, claimed_at = %s,
                           attempts = timer.attempts + 1, updated_at = %s
                      FROM due
                     WHERE timer.id = due.id
                    RETURNING timer.id
                    """,
                    [
                        Timer.State.PENDING,
                        now,
                        limit,
                        Timer.State.CLAIMED,
                        token,
                        now,
                        now,
                    ],
                )
                return [row[0] for row in cursor.fetchall()]
        candidates = list(
            Timer.objects.filter(state=Timer.State.PENDING, due_at__lte=now)
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        claimed: list[int] = []
        for timer_id in candidates:
            won = Timer.objects.filter(id=timer_id, state=Timer.State.PENDING).update(
                state=Timer.State.CLAIMED,
                claimed_by=token,
                claimed_at=now,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
            if won == 1:
                claimed.append(timer_id)
        return claimed


def timer_claim(*, timer_id: int, now: datetime, worker: str | None = None) -> bool:
    """Claim one timer if it is pending and due; True when this call got it."""
    won = Timer.objects.filter(id=timer_id, state=Timer.State.PENDING, due_at__lte=now).update(
        state=Timer.State.CLAIMED,
        claimed_by=_claim_token(worker),
        claimed_at=now,
        updated_at=now,
        attempts=F("attempts") + 1,
    )
    return won == 1


class _ClaimLost(Exception):
    """The timer is no longer claimed with our token: someone else owns it now."""


def timer_fire(timer_id: int, *, now: datetime | None = None) -> FireOutcome:
    """Fire a claimed timer: run its handler and mark it fired, in one transaction.

    Precondition: the timer was claimed (``timers_claim_due`` or ``timer_claim``).
    Anything else (pending, fired, cancelled, failed, missing) is skipped, so calling it
    twice, or from two workers, fires once.
    """
    timer = Timer.objects.filter(id=timer_id).first()
    if timer is None or timer.state != Timer.State.CLAIMED:
        return FireOutcome.SKIPPED
    return _fire_claimed(timer, now=now or timezone.now())


def _mine(timer: Timer, state: str = Timer.State.CLAIMED) -> QuerySet[Timer]:
    """The timer's row, if it is still in ``state`` under this timer's claim."""
    return Timer.objects.filter(
        id=timer.id,
        state=state,
        claimed_by=timer.claimed_by,
        claimed_at=timer.claimed_at,
    )


def _fire_claimed(timer: Timer, *, now: datetime) -> FireOutcome:
    """Fire one claimed timer in a transaction of its own."""
    with transaction.atomic():
        outcomes, _left = _fire_group([timer], now=now, deadline=None)
    return outcomes[0]


def _fire_group(
    timers: list[Timer], *, now: datetime, deadline: float | None
) -> tuple[list[FireOutcome], list[Timer]]:
    """Fire claimed timers inside the caller's transaction; return (outcomes, not reached).

    Precondition: inside ``transaction.atomic()``; the caller commits. The rows still
    claimed under their claim are locked (``SELECT ... FOR UPDATE``) and marked fired,
    each handler runs in a savepoint (a failing handler undoes only its own work and is
    recorded as a failure), and one ``TimerFiring`` row per fired timer is inserted: all
    of it commits, or none of it. Past ``deadline`` (monotonic) it stops; the timers not
    reached stay claimed and are returned, for the next group.
    """
    outcomes: list[FireOutcome] = []
    runnable: list[Timer] = []
    for timer in timers:
        if timer_handler_for(timer.kind) is None:
            error = _("No handler is registered for the timer kind %(kind)s.") % {
                "kind": timer.kind
            }
            _mine(timer).update(
                state=Timer.State.FAILED,
                last_error=error,
                claimed_by="",
                claimed_at=None,
                updated_at=now,
            )
            logger.error("timer %s failed: %s", timer.id, error)
            outcomes.append(FireOutcome.FAILED)
        else:
            runnable.append(timer)
    owned = _lock_still_claimed(runnable)
    if owned:
        Timer.objects.filter(id__in=owned).update(
            state=Timer.State.FIRED, fired_at=now, updated_at=now
        )
    firings: list[TimerFiring] = []
    reached = 0
    for timer in runnable:
        reached += 1
        if timer.id not in owned:
            # Fired, cancelled, or re-claimed by another worker after our lease expired.
            outcomes.append(FireOutcome.SKIPPED)
        else:
            handler = timer_handler_for(timer.kind)
            assert handler is not None
            try:
                with transaction.atomic():
                    handler(timer)
            except Exception as exc:
                logger.exception("timer %s (%s) handler failed", timer.id, timer.kind)
                outcomes.append(_record_failure(timer, exc, now=now, state=Timer.State.FIRED))
            else:
                outcomes.append(FireOutcome.FIRED)
                firings.append(
                    TimerFiring(timer_id=timer.id, fired_at=now, worker=timer.claimed_by)
                )
        if deadline is not None and time.monotonic() >= deadline:
            break
    left = runnable[reached:]
    if left:  # not reached: back to claimed (the same claim), for the next group
        Timer.objects.filter(
            id__in=[t.id for t in left if t.id in owned], state=Timer.State.FIRED
        ).update(state=Timer.State.CLAIMED, fired_at=None)
    TimerFiring.objects.bulk_create(firings)
    return outcomes, left


def _lock_still_claimed(timers: list[Timer]) -> set[int]:
    """Lock the rows of ``timers`` that are still claimed under their claim; their ids."""
    if not timers:
        return set()
    claims = {(t.claimed_by, t.claimed_at) for t in timers}
    query = Q()
    for claimed_by, claimed_at in claims:
        query |= Q(claimed_by=claimed_by, claimed_at=claimed_at)
    return set(
        Timer.objects.select_for_update()
        .filter(query, id__in=[t.id for t in timers], state=Timer.State.CLAIMED)
        .values_list("id", flat=True)
    )


def timers_fire_claimed(
    timers: list[Timer], *, now: datetime, group: int | None = None
) -> list[FireOutcome]:
    """Fire claimed timers, committing every ``group`` timers (or every second).

    One commit per timer would make the disk's flush the limit (a few hundred timers a
    second on PostgreSQL); one per group keeps every timer's effects atomic with its
    firing (savepoints) while flushing once per group. A crash rolls the group back:
    its timers stay claimed and the lease brings them back, effects and all undone.
    """
    group = group or timer_fire_group()
    outcomes: list[FireOutcome] = []
    waiting = list(timers)
    while waiting:
        chunk, waiting = waiting[:group], waiting[group:]
        with transaction.atomic():
            chunk_outcomes, left = _fire_group(
                chunk, now=now, deadline=time.monotonic() + _GROUP_SECONDS
            )
        outcomes.extend(chunk_outcomes)
        waiting = left + waiting
    return outcomes


def _record_failure(
    timer: Timer, exc: Exception, *, now: datetime, state: str = Timer.State.CLAIMED
) -> FireOutcome:
    error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
    if timer.attempts >= timer_max_attempts():
        _mine(timer, state).update(
            state=Timer.State.FAILED,
            last_error=error,
            claimed_by="",
            claimed_at=None,
            fired_at=None,
            updated_at=now,
        )
        return FireOutcome.FAILED
    delay = timer_retry_seconds() * 2 ** max(timer.attempts - 1, 0)
    _mine(timer, state).update(
        state=Timer.State.PENDING,
        due_at=now + timedelta(seconds=delay),
        last_error=error,
        claimed_by="",
        claimed_at=None,
        fired_at=None,
        updated_at=now,
    )
    return FireOutcome.RETRY


def timers_recover_expired(*, now: datetime) -> tuple[int, int]:
    """Give back claims older than the lease; return (back to pending, failed for good).

    A claim outlives its lease only when its worker died (or hangs) between claim and
    commit; its transaction rolled back, so nothing of the handler happened. A timer that
    used up its attempts this way fails instead of killing workers for ever.
    """
    cutoff = now - timedelta(seconds=timer_lease_seconds())
    expired = Timer.objects.filter(state=Timer.State.CLAIMED, claimed_at__lt=cutoff)
    exhausted = expired.filter(attempts__gte=timer_max_attempts()).update(
        state=Timer.State.FAILED,
        last_error=_(
            "The worker that claimed this timer stopped before firing it, too many times."
        ),
        claimed_by="",
        claimed_at=None,
        updated_at=now,
    )
    recovered = expired.filter(attempts__lt=timer_max_attempts()).update(
        state=Timer.State.PENDING, claimed_by="", claimed_at=None, updated_at=now
    )
    if recovered or exhausted:
        logger.warning("timers: %d claims expired and returned, %d failed", recovered, exhausted)
    return recovered, exhausted


def tick(
    *, now: datetime | None = None, batch: int | None = None, worker: str | None = None
) -> TickResult:
    """One round: recover expired claims, claim one batch of due timers, fire them."""
    now = now or timezone.now()
    result = TickResult()
    result.recovered, result.failed = timers_recover_expired(now=now)
    ids = timers_claim_due(now=now, limit=batch or timer_batch_size(), worker=worker)
    result.claimed = len(ids)
    if not ids:
        return result
    timers = sorted(Timer.objects.filter(id__in=ids), key=lambda t: (t.due_at, t.id))
    for outcome in timers_fire_claimed(timers, now=now):
        if outcome is FireOutcome.FIRED:
            result.fired += 1
        elif outcome is FireOutcome.FAILED:
            result.failed += 1
        elif outcome is FireOutcome.RETRY:
            result.retried += 1
        else:
            result.skipped += 1
    return result


def drain(
    *,
    now: datetime | None = None,
    batch: int | None = None,
    worker: str | None = None,
    max_rounds: int = 1000,
    deadline: float | None = None,
) -> TickResult:
    """Tick until a round claims nothing (bounded by rounds and a monotonic deadline)."""
    total = TickResult()
    for _round in range(max_rounds):
        result = tick(now=now, batch=batch, worker=worker)
        total = total + result
        if result.claimed == 0 or (deadline is not None and time.monotonic() >= deadline):
            break
    return total
