"""Durable timers: schedule, cancel, dedupe, the atomic claim, exactly-once firing,
lease recovery, bounded retries. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from telcodesk.automation.models import Timer, TimerFiring
from telcodesk.automation.services import (
    register_timer_handler,
    timer_cancel,
    timer_schedule,
    unregister_timer_handler,
)
from telcodesk.automation.tick import (
    FireOutcome,
    _fire_claimed,
    tick,
    timer_fire,
    timers_claim_due,
    timers_recover_expired,
)
from telcodesk.core.errors import ValidationFailed
from telcodesk.core.models import WorkerHeartbeat
from tests.conftest import World

KIND = "test.record"


def _now() -> datetime:
    return timezone.now().replace(microsecond=0)


class Recorder:
    """A handler that records the timers it ran (thread-safe) and can be told to fail."""

    def __init__(self) -> None:
        self.ran: list[int] = []
        self.fail_with: Exception | None = None
        self.write_heartbeat = False
        self.fail_for_targets: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, timer: Timer) -> None:
        if self.write_heartbeat:
            WorkerHeartbeat.objects.create(token=f"timer-{timer.id}", seen_at=timezone.now())
        with self._lock:
            self.ran.append(timer.id)
        if self.fail_with is not None:
            raise self.fail_with
        if timer.target_id in self.fail_for_targets:
            raise RuntimeError(f"target {timer.target_id} is broken")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    register_timer_handler(KIND)(handler)
    yield handler
    unregister_timer_handler(KIND)


def schedule(world: World, due_at: datetime, target_id: int = 1, **extra: Any) -> Timer:
    return timer_schedule(
        organization=extra.pop("organization", world.operator),
        kind=extra.pop("kind", KIND),
        target_type=extra.pop("target_type", "pipelines.lead"),
        target_id=target_id,
        due_at=due_at,
        **extra,
    )


# --- schedule, dedupe, cancel ------------------------------------------------------------


def test_it_schedules_a_pending_timer(world: World) -> None:
    due = _now() + timedelta(minutes=15)
    timer = schedule(world, due, target_id=42, payload={"stage": "aguardando-datos"})
    timer.refresh_from_db()
    assert (timer.state, timer.kind, timer.target_type, timer.target_id) == (
        "pending",
        KIND,
        "pipelines.lead",
        42,
    )
    assert timer.due_at == due
    assert timer.payload == {"stage": "aguardando-datos"}
    assert (timer.attempts, timer.claimed_by, timer.claimed_at, timer.fired_at) == (
        0,
        "",
        None,
        None,
    )
    assert timer.organization_id == world.operator.id


def test_it_refuses_a_naive_due_time(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        schedule(world, datetime(2026, 11, 23, 12, 0))
    assert list(refused.value.details) == ["due_at"]
    assert "time zone" in refused.value.details["due_at"][0]
    assert Timer.objects.count() == 0


def test_it_refuses_an_empty_kind(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        schedule(world, _now(), kind="")
    assert list(refused.value.details) == ["kind"]
    assert Timer.objects.count() == 0


def test_scheduling_the_same_dedupe_key_twice_returns_the_first_timer(world: World) -> None:
    first = schedule(world, _now(), dedupe_key="lead:1:no-reply:msg:9")
    again = schedule(world, _now() + timedelta(hours=1), dedupe_key="lead:1:no-reply:msg:9")
    assert again.id == first.id
    assert again.due_at == first.due_at
    assert Timer.objects.count() == 1


def test_the_dedupe_key_is_per_organization(world: World) -> None:
    mine = schedule(world, _now(), dedupe_key="k")
    theirs = schedule(world, _now(), dedupe_key="k", organization=world.other_operator)
    assert mine.id != theirs.id
    assert Timer.objects.count() == 2


def test_timers_without_a_dedupe_key_are_never_merged(world: World) -> None:
    schedule(world, _now())
    schedule(world, _now())
    assert Timer.objects.count() == 2


def test_a_timer_scheduled_in_a_rolled_back_transaction_does_not_exist(world: World) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        schedule(world, _now(), dedupe_key="rolled-back")
        assert Timer.objects.count() == 1
        raise Abort
    assert Timer.objects.count() == 0
    # and the key is free again
    assert schedule(world, _now(), dedupe_key="rolled-back").state == "pending"


def test_cancel_cancels_the_pending_timers_of_one_target(world: World, recorder: Recorder) -> None:
    now = _now()
    fired = schedule(world, now - timedelta(minutes=1), target_id=7)
    tick(now=now)
    later = [
        schedule(world, now + timedelta(minutes=15), target_id=7),
        schedule(world, now + timedelta(days=1), target_id=7, kind="test.other"),
    ]
    other_target = schedule(world, now + timedelta(minutes=15), target_id=8)
    assert timer_cancel(organization=world.operator, target_type="pipelines.lead", target_id=7) == 2
    states = dict(Timer.objects.values_list("id", "state"))
    assert states == {
        fired.id: "fired",
        later[0].id: "cancelled",
        later[1].id: "cancelled",
        other_target.id: "pending",
    }


def test_cancel_by_kind_leaves_other_kinds(world: World) -> None:
    now = _now() + timedelta(minutes=5)
    mine = schedule(world, now, target_id=7)
    other = schedule(world, now, target_id=7, kind="test.other")
    count = timer_cancel(
        organization=world.operator, kind=KIND, target_type="pipelines.lead", target_id=7
    )
    assert count == 1
    assert Timer.objects.get(id=mine.id).state == "cancelled"
    assert Timer.objects.get(id=other.id).state == "pending"


def test_another_organization_cannot_cancel_my_timers(world: World) -> None:
    timer = schedule(world, _now() + timedelta(minutes=5), target_id=7)
    count = timer_cancel(
        organization=world.other_operator, target_type="pipelines.lead", target_id=7
    )
    assert count == 0
    assert Timer.objects.get(id=timer.id).state == "pending"


def test_a_cancelled_timer_never_fires(world: World, recorder: Recorder) -> None:
    now = _now()
    schedule(world, now - timedelta(seconds=1), target_id=3)
    timer_cancel(organization=world.operator, target_type="pipelines.lead", target_id=3)
    assert tick(now=now).claimed == 0
    assert recorder.ran == []


# --- the tick ----------------------------------------------------------------------------


def test_the_tick_fires_due_timers_in_due_order_and_leaves_future_ones(
    world: World, recorder: Recorder
) -> None:
    now = _now()
    third = schedule(world, now - timedelta(minutes=1), target_id=3)
    first = schedule(world, now - timedelta(hours=2), target_id=1)
    second = schedule(world, now - timedelta(minutes=30), target_id=2)
    future = schedule(world, now + timedelta(seconds=1), target_id=4)

    result = tick(now=now)

    assert (result.claimed, result.fired, result.failed, result.recovered) == (3, 3, 0, 0)
    assert recorder.ran == [first.id, second.id, third.id]
    assert Timer.objects.get(id=future.id).state == "pending"
    fired = Timer.objects.get(id=first.id)
    assert (fired.state, fired.fired_at, fired.attempts, fired.last_error) == ("fired", now, 1, "")
    assert TimerFiring.objects.get(timer_id=first.id).fired_at == now


def test_the_claim_takes_the_oldest_first_within_the_batch(world: World) -> None:
    now = _now()
    timers = [schedule(world, now - timedelta(minutes=m), target_id=m) for m in (5, 50, 20, 1)]
    claimed = timers_claim_due(now=now, limit=2, worker="w1")
    assert sorted(claimed) == sorted([timers[1].id, timers[2].id])
    rows = Timer.objects.filter(id__in=claimed)
    assert {(t.state, t.attempts, t.claimed_at) for t in rows} == {("claimed", 1, now)}
    assert all(t.claimed_by.startswith("w1/") for t in rows)


def test_a_timer_fires_exactly_once_when_the_tick_runs_twice(
    world: World, recorder: Recorder
) -> None:
    now = _now()
    timers = [schedule(world, now - timedelta(seconds=i), target_id=i) for i in range(30)]
    first = tick(now=now, batch=20)
    second = tick(now=now, batch=20)
    third = tick(now=now + timedelta(hours=1), batch=20)
    assert (first.fired, second.fired, third.fired) == (20, 10, 0)
    assert sorted(recorder.ran) == sorted(t.id for t in timers)
    assert TimerFiring.objects.count() == 30
    assert set(Timer.objects.values_list("state", flat=True)) == {"fired"}


def test_firing_a_timer_again_is_skipped(world: World, recorder: Recorder) -> None:
    now = _now()
    timer = schedule(world, now - timedelta(seconds=1))
    tick(now=now)
    assert timer_fire(timer.id) == FireOutcome.SKIPPED
    assert timer_fire(987654321) == FireOutcome.SKIPPED
    assert recorder.ran == [timer.id]


def test_the_handler_effects_and_the_firing_commit_together(
    world: World, recorder: Recorder
) -> None:
    now = _now()
    recorder.write_heartbeat = True
    timer = schedule(world, now)
    tick(now=now)
    assert WorkerHeartbeat.objects.filter(token=f"timer-{timer.id}").count() == 1
    assert TimerFiring.objects.filter(timer_id=timer.id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_never_fire_a_timer_twice(world: World, recorder: Recorder) -> None:
    """PostgreSQL: four threads, four connections, SKIP LOCKED. SQLite serializes the
    writers, so there the same four ticks interleave batch by batch."""
    now = _now()
    count = 600
    for start in range(0, count, 200):
        with transaction.atomic():
            for i in range(start, start + 200):
                schedule(world, now - timedelta(seconds=i % 97), target_id=i)
    results: list[Any] = []
    errors: list[BaseException] = []

    def ticker(name: str) -> None:
        try:
            for _round in range(200):
                result = tick(now=now, batch=25, worker=name)
                results.append(result)
                if result.claimed == 0:
                    break
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=ticker, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    else:
        for i in range(4):
            ticker(f"w{i}")

    assert errors == []
    runs = Counter(recorder.ran)
    assert len(runs) == count
    assert max(runs.values()) == 1
    assert sum(r.fired for r in results) == count
    assert TimerFiring.objects.count() == count
    assert Timer.objects.filter(state="fired").count() == count
    if connection.vendor == "postgresql":
        workers = {f.worker.split("/")[0] for f in TimerFiring.objects.all()}
        assert len(workers) >= 2, "the threads should have shared the work"


# --- crashes, leases, failures -----------------------------------------------------------


def test_a_claimed_timer_whose_worker_died_fires_after_the_lease(
    world: World, recorder: Recorder, settings: Any
) -> None:
    settings.TIMER_LEASE_SECONDS = 300
    now = _now()
    timer = schedule(world, now - timedelta(seconds=1))
    # A worker claims, then dies before firing: nothing else happens.
    assert timers_claim_due(now=now, limit=10, worker="dead") == [timer.id]
    stale = Timer.objects.get(id=timer.id)

    within = tick(now=now + timedelta(seconds=299))
    assert (within.recovered, within.claimed) == (0, 0)
    assert Timer.objects.get(id=timer.id).state == "claimed"

    after = tick(now=now + timedelta(seconds=301))
    assert (after.recovered, after.claimed, after.fired) == (1, 1, 1)
    assert recorder.ran == [timer.id]
    fired = Timer.objects.get(id=timer.id)
    assert (fired.state, fired.attempts) == ("fired", 2)

    # The dead worker wakes up late: its claim is not the current one, nothing happens.
    assert _fire_claimed(stale, now=now + timedelta(seconds=302)) == FireOutcome.SKIPPED
    assert recorder.ran == [timer.id]
    assert TimerFiring.objects.filter(timer_id=timer.id).count() == 1


def test_a_timer_that_keeps_killing_its_worker_ends_failed(
    world: World, recorder: Recorder, settings: Any
) -> None:
    settings.TIMER_LEASE_SECONDS = 60
    settings.TIMER_MAX_ATTEMPTS = 2
    now = _now()
    timer = schedule(world, now)
    assert timers_claim_due(now=now, limit=1, worker="dies") == [timer.id]
    assert timers_recover_expired(now=now + timedelta(seconds=61)) == (1, 0)
    assert Timer.objects.get(id=timer.id).state == "pending"
    # claimed again by a worker that dies too: that was the last attempt
    assert timers_claim_due(now=now + timedelta(seconds=62), limit=1, worker="dies") == [timer.id]
    result = tick(now=now + timedelta(seconds=200))
    assert (result.recovered, result.failed, result.claimed) == (0, 1, 0)
    failed = Timer.objects.get(id=timer.id)
    assert (failed.state, failed.attempts) == ("failed", 2)
    assert "stopped before firing" in failed.last_error
    assert recorder.ran == []


def test_a_failing_handler_is_retried_with_backoff_then_fails(
    world: World, recorder: Recorder, settings: Any
) -> None:
    settings.TIMER_MAX_ATTEMPTS = 3
    settings.TIMER_RETRY_SECONDS = 10
    recorder.fail_with = RuntimeError("provider down")
    recorder.write_heartbeat = True
    now = _now()
    timer = schedule(world, now)

    first = tick(now=now)
    assert (first.claimed, first.fired, first.retried, first.failed) == (1, 0, 1, 0)
    retry = Timer.objects.get(id=timer.id)
    assert (retry.state, retry.attempts) == ("pending", 1)
    assert retry.last_error == "RuntimeError: provider down"
    assert retry.due_at == now + timedelta(seconds=10)
    # the handler's own writes were rolled back with the failed firing
    assert WorkerHeartbeat.objects.count() == 0
    assert TimerFiring.objects.count() == 0

    assert tick(now=now + timedelta(seconds=9)).claimed == 0
    assert tick(now=now + timedelta(seconds=10)).retried == 1
    assert Timer.objects.get(id=timer.id).due_at == now + timedelta(seconds=30)  # 10 + 20
    last = tick(now=now + timedelta(seconds=30))
    assert (last.retried, last.failed) == (0, 1)
    failed = Timer.objects.get(id=timer.id)
    assert (failed.state, failed.attempts, failed.last_error) == (
        "failed",
        3,
        "RuntimeError: provider down",
    )
    assert recorder.ran == [timer.id] * 3
    assert tick(now=now + timedelta(days=1)).claimed == 0


def test_a_failing_handler_undoes_only_its_own_work_in_a_group_of_firings(
    world: World, recorder: Recorder, settings: Any
) -> None:
    settings.TIMER_FIRE_GROUP = 50
    recorder.write_heartbeat = True
    recorder.fail_for_targets = {3}
    now = _now()
    timers = [schedule(world, now - timedelta(seconds=10 - i), target_id=i) for i in range(6)]
    result = tick(now=now)
    assert (result.claimed, result.fired, result.retried) == (6, 5, 1)
    states = dict(Timer.objects.values_list("target_id", "state"))
    assert states == {0: "fired", 1: "fired", 2: "fired", 3: "pending", 4: "fired", 5: "fired"}
    tokens = set(WorkerHeartbeat.objects.values_list("token", flat=True))
    assert tokens == {f"timer-{t.id}" for t in timers if t.target_id != 3}
    assert set(TimerFiring.objects.values_list("timer__target_id", flat=True)) == {0, 1, 2, 4, 5}
    broken = Timer.objects.get(target_id=3)
    assert (broken.fired_at, broken.claimed_by, broken.last_error) == (
        None,
        "",
        "RuntimeError: target 3 is broken",
    )


def test_a_group_that_runs_out_of_time_leaves_the_rest_for_the_next_group(
    world: World, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("telcodesk.automation.tick._GROUP_SECONDS", 0)
    now = _now()
    timers = [schedule(world, now - timedelta(seconds=10 - i), target_id=i) for i in range(5)]
    result = tick(now=now)
    assert (result.claimed, result.fired, result.skipped) == (5, 5, 0)
    assert recorder.ran == [t.id for t in timers]
    assert TimerFiring.objects.count() == 5


def test_a_handler_that_recovers_fires_on_the_retry(
    world: World, recorder: Recorder, settings: Any
) -> None:
    settings.TIMER_RETRY_SECONDS = 0
    recorder.fail_with = ValueError("once")
    now = _now()
    timer = schedule(world, now)
    assert tick(now=now).retried == 1
    recorder.fail_with = None
    assert tick(now=now).fired == 1
    fired = Timer.objects.get(id=timer.id)
    # the error of the failed attempt stays, as history
    assert (fired.state, fired.attempts, fired.last_error) == ("fired", 2, "ValueError: once")


def test_a_timer_of_an_unknown_kind_fails_with_the_reason(world: World) -> None:
    now = _now()
    timer = schedule(world, now, kind="nobody.handles.this")
    result = tick(now=now)
    assert (result.claimed, result.fired, result.failed) == (1, 0, 1)
    failed = Timer.objects.get(id=timer.id)
    assert failed.state == "failed"
    assert failed.last_error == "No handler is registered for the timer kind nobody.handles.this."
    assert tick(now=now + timedelta(days=1)).claimed == 0


def test_registering_a_different_handler_for_a_kind_is_refused(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="already has a handler"):
        register_timer_handler(KIND)(lambda timer: None)


# --- the tasks and the embedded ticker ---------------------------------------------------


def test_the_fire_task_fires_a_due_timer_once(world: World, recorder: Recorder) -> None:
    from telcodesk.automation.tasks import fire_task

    due = schedule(world, _now() - timedelta(seconds=1), target_id=1)
    future = schedule(world, _now() + timedelta(hours=1), target_id=2)
    assert fire_task.delay(due.id).get() == "fired"
    assert fire_task.delay(due.id).get() == "skipped"
    assert fire_task.delay(future.id).get() == "skipped"
    assert recorder.ran == [due.id]


def test_the_tick_task_drains_everything_due(world: World, recorder: Recorder) -> None:
    from telcodesk.automation.tasks import tick_task

    now = _now()
    for i in range(12):
        schedule(world, now - timedelta(seconds=i), target_id=i)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("telcodesk.automation.tick.timer_batch_size", lambda: 5)
        outcome = tick_task.delay().get()
    assert outcome["fired"] == 12
    assert outcome["claimed"] == 12
    assert len(recorder.ran) == 12


def test_the_ticker_command_fires_what_is_due_once(world: World, recorder: Recorder) -> None:
    timer = schedule(world, _now() - timedelta(seconds=1))
    out = StringIO()
    call_command("ticker", "--once", stdout=out)
    assert out.getvalue().startswith("claimed=1 fired=1 failed=0")
    assert recorder.ran == [timer.id]


@pytest.mark.django_db(transaction=True)
def test_the_embedded_ticker_fires_in_the_background(world: World, recorder: Recorder) -> None:
    import time

    from telcodesk.automation.ticker import start_embedded_ticker

    timer = schedule(world, _now() - timedelta(seconds=1))
    ticker = start_embedded_ticker(0.1)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not recorder.ran:
            time.sleep(0.05)
        later = schedule(world, _now(), target_id=2)
        while time.monotonic() < deadline and len(recorder.ran) < 2:
            time.sleep(0.05)
    finally:
        ticker.stop()
    assert not ticker.is_alive
    assert recorder.ran == [timer.id, later.id]
