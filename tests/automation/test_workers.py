"""Timers fired by real Celery worker processes through the local Redis.

Two workers (``--pool=solo``, their own names and a queue of their own) share the test
database (the SQLite file, or the PostgreSQL test database). The handler counts its runs
in a Redis hash; ``TimerFiring`` (unique per timer) records each firing in the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from telcodesk.automation.models import Timer, TimerFiring
from telcodesk.automation.services import timer_schedule
from tests.automation.worker_handlers import COUNT_KIND, COUNTER_URL
from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own: the "broker restart" test empties it (FLUSHDB).
BROKER_URL = os.environ.get("TELCODESK_TEST_TIMERS_REDIS_URL", "redis://127.0.0.1:6379/13")


def _redis_is_up() -> bool:
    try:
        return bool(redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _database_url_for_this_test_db() -> str:
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(params['NAME']).resolve()}"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    user = params.get("USER") or "postgres"
    return f"postgresql://{user}@{host}:{port}/{params['NAME']}"


class Workers:
    """Worker processes on one queue; their output goes to files (a full pipe would
    block a chatty worker)."""

    def __init__(self, tmp_path: Path, queue: str, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.queue = queue
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self, count: int, prefix: str) -> None:
        for i in range(count):
            log = self.tmp_path / f"{prefix}-{i}.log"
            self.logs.append(log)
            with log.open("wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "telcodesk.cli",
                            "worker",
                            "--pool=solo",
                            "--concurrency=1",
                            "-n",
                            f"{prefix}-{i}-{self.queue}@%h",
                            "-Q",
                            self.queue,
                            "--include",
                            "tests.automation.worker_handlers",
                            "--without-gossip",
                            "--without-mingle",
                            "--without-heartbeat",
                            "--loglevel=WARNING",
                        ],
                        cwd=ROOT,
                        env=self.env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )

    def kill(self) -> None:
        """SIGKILL: a crash, no warm shutdown, whatever the worker was doing."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in self.processes:
            process.wait(20)
        self.processes = []

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def output(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}" for log in self.logs
        )


@contextmanager
def workers_on_a_queue(tmp_path: Path, **extra_env: str) -> Iterator[tuple[Workers, Celery]]:
    queue = f"timers-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_this_test_db(),
        "TELCODESK_BROKER_URL": BROKER_URL,
        "TELCODESK_VAR_DIR": str(tmp_path),
        "TELCODESK_TEST_TIMER_COUNTER_URL": COUNTER_URL,
        "TELCODESK_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    workers = Workers(tmp_path, queue, env)
    sender = Celery("test-sender", broker=BROKER_URL, set_as_current=False)
    try:
        yield workers, sender
    finally:
        workers.stop()
        sender.close()


def _schedule(world: World, count: int, counter: str, **payload: object) -> None:
    due = timezone.now() - timedelta(seconds=1)
    for start in range(0, count, 2000):
        with transaction.atomic():
            for i in range(start, min(start + 2000, count)):
                timer_schedule(
                    organization=world.operator,
                    kind=COUNT_KIND,
                    target_type="test.target",
                    target_id=i,
                    due_at=due - timedelta(microseconds=i),
                    payload={"counter": counter, **payload},
                )


def _fired() -> int:
    return Timer.objects.filter(state=Timer.State.FIRED).count()


def _wait_until_all_fired(
    count: int, workers: Workers, sender: Celery, seconds: float, tick_every: float = 0
) -> None:
    deadline = time.monotonic() + seconds
    last_tick = time.monotonic()
    while time.monotonic() < deadline and _fired() < count:
        if any(p.poll() is not None for p in workers.processes):
            break
        if tick_every and time.monotonic() - last_tick >= tick_every:
            # what beat does at scale: a tick now and then
            sender.send_task("telcodesk.automation.tick", queue=workers.queue)
            last_tick = time.monotonic()
        time.sleep(0.25)


def _assert_each_fired_once(count: int, counter: str, workers: Workers) -> dict[bytes, bytes]:
    fired = _fired()
    assert fired == count, f"{fired} of {count} fired; worker output:\n{workers.output()}"
    assert Timer.objects.exclude(state=Timer.State.FIRED).count() == 0
    assert TimerFiring.objects.count() == count
    assert TimerFiring.objects.values("timer_id").distinct().count() == count
    assert not TimerFiring.objects.values("timer_id").annotate(n=Count("id")).filter(n__gt=1)
    runs = redis.Redis.from_url(COUNTER_URL).hgetall(counter)
    assert len(runs) == count
    return runs


@pytest.fixture
def counter() -> Iterator[str]:
    key = f"telcodesk-test-timer-runs-{uuid.uuid4().hex}"
    yield key
    with suppress(redis.RedisError):
        redis.Redis.from_url(COUNTER_URL).delete(key)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_fire_ten_thousand_timers_each_exactly_once(
    world: World, tmp_path: Path, counter: str
) -> None:
    if not _redis_is_up():
        pytest.skip(f"Redis is not reachable at {BROKER_URL}")
    count = 10_000
    _schedule(world, count, counter)
    with workers_on_a_queue(tmp_path, TELCODESK_TIMER_BATCH_SIZE="200") as (workers, sender):
        workers.start(2, "w")
        for _i in range(4):
            sender.send_task("telcodesk.automation.tick", queue=workers.queue)
        _wait_until_all_fired(count, workers, sender, seconds=80, tick_every=5)
        runs = _assert_each_fired_once(count, counter, workers)
    assert set(runs.values()) == {b"1"}, "a handler ran twice"
    names = {f.split("/")[0] for f in TimerFiring.objects.values_list("worker", flat=True)}
    if connection.vendor == "postgresql":
        # SKIP LOCKED lets both drain side by side. On SQLite writers take turns, and a
        # worker that starts its drain first may legitimately fire every timer.
        assert len(names) == 2, f"both workers should have fired timers: {names}"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_timers_pending_when_the_broker_loses_its_state_all_still_fire_once(
    world: World, tmp_path: Path, counter: str
) -> None:
    """Workers crash mid-drain (SIGKILL), queued ticks and unacknowledged messages are
    lost with the broker's data (FLUSHDB), new workers start: every timer fires once,
    because the pending work lives in the database."""
    if not _redis_is_up():
        pytest.skip(f"Redis is not reachable at {BROKER_URL}")
    count = 1500
    # a slow handler, so that the crash lands in the middle of the drain
    _schedule(world, count, counter, sleep=0.004)
    broker = redis.Redis.from_url(BROKER_URL)
    with workers_on_a_queue(
        tmp_path,
        TELCODESK_TIMER_BATCH_SIZE="50",
        TELCODESK_TIMER_FIRE_GROUP="10",
        TELCODESK_TIMER_LEASE_SECONDS="2",
    ) as (workers, sender):
        workers.start(2, "before")
        for _i in range(2):
            sender.send_task("telcodesk.automation.tick", queue=workers.queue)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and _fired() < 200:
            time.sleep(0.05)
        workers.kill()
        fired_before = _fired()
        assert 0 < fired_before < count, "the crash should land mid-drain"
        for _i in range(3):  # ticks queued while no worker runs...
            sender.send_task("telcodesk.automation.tick", queue=workers.queue)
        assert broker.dbsize() > 0
        broker.flushdb()  # ...lost with everything else the broker held
        assert broker.dbsize() == 0

        workers.start(2, "after")
        sender.send_task("telcodesk.automation.tick", queue=workers.queue)
        _wait_until_all_fired(count, workers, sender, seconds=60, tick_every=1)
        runs = _assert_each_fired_once(count, counter, workers)
    # A handler may have run a second time only for timers of the group (at most 10)
    # each killed worker had not committed yet: the group rolled back with its firings,
    # so they fired once (at-least-once handler runs, exactly-once firing).
    extra = sum(int(v) for v in runs.values()) - count
    assert 0 <= extra <= 2 * 10
    assert min(int(v) for v in runs.values()) == 1
