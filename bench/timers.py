"""Timer benchmark: N due timers drained by real Celery workers on PostgreSQL.

Creates a throw-away database (``telcodesk_bench_timers``), inserts N timers that are
all due, starts W worker processes (``--pool=solo``) on the local Redis, sends tick
tasks and measures the time until every timer is fired. The handler counts its runs per
timer in a Redis hash, so "fired twice" is counted outside the database too. Baseline,
in the same run: one in-process loop firing timers one by one the naive way (SELECT the
oldest due row, run the handler, UPDATE it to fired, one transaction per timer).
Prints figures; asserts nothing.

    .venv/bin/python bench/timers.py                      # 100,000 timers, 2 workers
    .venv/bin/python bench/timers.py --timers 20000 --baseline-timers 5000

A worker imports this file as the module ``timers`` (``--include timers`` with bench/
on PYTHONPATH) to register the benchmark's handler.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/telcodesk_bench_timers"
BROKER_DEFAULT = "redis://127.0.0.1:6379/11"
KIND = "bench.count_runs"
COUNTER_ENV = "TELCODESK_BENCH_TIMER_COUNTER"


def _register_handler() -> None:
    """In a worker: the benchmark's handler counts its runs per timer in Redis."""
    import redis

    from telcodesk.automation.services import register_timer_handler

    client = redis.Redis.from_url(os.environ.get("TELCODESK_BROKER_URL", BROKER_DEFAULT))
    key = os.environ.get(COUNTER_ENV, "telcodesk-bench-timer-runs")

    @register_timer_handler(KIND)
    def count_runs(timer: Any) -> None:
        client.hincrby(key, str(timer.id), 1)


if __name__ != "__main__" and os.environ.get(COUNTER_ENV):  # a worker, through --include
    _register_handler()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500, help="timers claimed per tick round")
    parser.add_argument(
        "--baseline-timers", type=int, default=10_000, help="timers for the naive loop"
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", BROKER_DEFAULT))
    return parser.parse_args(argv)


def pg_recreate(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telcodesk.settings")
    os.environ.setdefault("TELCODESK_VAR_DIR", str(ROOT / "var"))
    os.environ.setdefault("TELCODESK_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def bench_organization() -> Any:
    from telcodesk.accounts.models import Organization

    org, _created = Organization.objects.get_or_create(
        slug="bench-timers",
        defaults={
            "name": "Bench Timers",
            "country": "BO",
            "currency": "BOB",
            "time_zone": "America/La_Paz",
            "languages": ["es"],
        },
    )
    return org


def insert_due_timers(org: Any, count: int, counter: str) -> None:
    from django.db import connection

    from telcodesk.automation.models import Timer

    due = datetime.now(UTC) - timedelta(minutes=1)
    chunk = 10_000
    for start in range(0, count, chunk):
        Timer.objects.bulk_create(
            Timer(
                organization=org,
                kind=KIND,
                target_type="bench.target",
                target_id=i,
                due_at=due - timedelta(microseconds=i),
                payload={"counter": counter},
            )
            for i in range(start, min(start + chunk, count))
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Timer._meta.db_table}")


def naive_baseline(count: int, redis_client: Any, counter: str) -> float:
    """The naive loop: oldest due row, handler, UPDATE to fired; one transaction each."""
    from django.db import transaction
    from django.utils import timezone

    from telcodesk.automation.models import Timer

    started = time.perf_counter()
    fired = 0
    while True:
        with transaction.atomic():
            now = timezone.now()
            timer = (
                Timer.objects.filter(state=Timer.State.PENDING, due_at__lte=now)
                .order_by("due_at")
                .first()
            )
            if timer is None:
                break
            redis_client.hincrby(counter, str(timer.id), 1)
            Timer.objects.filter(id=timer.id).update(state=Timer.State.FIRED, fired_at=now)
            fired += 1
    elapsed = time.perf_counter() - started
    assert fired == count
    return elapsed


def start_workers(args: argparse.Namespace, queue: str, counter: str, logs: Path) -> list[Any]:
    env = {
        **os.environ,
        "DATABASE_URL": args.pg_url,
        "TELCODESK_BROKER_URL": args.broker,
        "TELCODESK_TIMER_BATCH_SIZE": str(args.batch),
        "TELCODESK_TIMER_TICK_MAX_SECONDS": "600",
        "TELCODESK_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), os.environ.get("PYTHONPATH", "")]),
        COUNTER_ENV: counter,
    }
    processes = []
    for i in range(args.workers):
        log = logs / f"timers-worker-{i}.log"
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "telcodesk.cli",
                        "worker",
                        "--pool=solo",
                        "-n",
                        f"bench{i}-{queue}@%h",
                        "-Q",
                        queue,
                        "--include",
                        "timers",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "--loglevel=INFO",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    # ready = the worker logged "ready" (it has connected to the broker)
    deadline = time.monotonic() + 60
    for i in range(args.workers):
        log = logs / f"timers-worker-{i}.log"
        while "ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or processes[i].poll() is not None:
                raise SystemExit(f"worker {i} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
    return processes


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    import redis
    from celery import Celery

    redis_client = redis.Redis.from_url(args.broker)
    redis_client.ping()
    pg_recreate(args.pg_url)
    setup_django(args.pg_url)

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from telcodesk.automation.models import Timer, TimerFiring

    call_command("migrate", verbosity=0)
    org = bench_organization()
    counter = f"telcodesk-bench-timer-runs-{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(" on ")[0]
    print(
        f"timers benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, {pg_version}, Redis {redis_client.info()['redis_version']}",
        flush=True,
    )

    # Baseline first, alone in the database.
    insert_due_timers(org, args.baseline_timers, counter)
    baseline_elapsed = naive_baseline(args.baseline_timers, redis_client, counter)
    baseline_rate = args.baseline_timers / baseline_elapsed
    print(
        f"baseline (naive one-by-one loop, 1 process): {args.baseline_timers:,} timers in "
        f"{baseline_elapsed:.1f} s = {baseline_rate:,.0f} timers/s",
        flush=True,
    )
    Timer.objects.all().delete()
    redis_client.delete(counter)

    insert_due_timers(org, args.timers, counter)
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    queue = f"bench-timers-{uuid.uuid4().hex[:6]}"
    processes = start_workers(args, queue, counter, logs)
    sender = Celery("bench-sender", broker=args.broker, set_as_current=False)
    try:
        started = time.perf_counter()
        for _i in range(args.workers):
            sender.send_task("telcodesk.automation.tick", queue=queue)
        last_tick = started
        while True:
            fired = Timer.objects.filter(state=Timer.State.FIRED).count()
            if fired >= args.timers:
                break
            if any(p.poll() is not None for p in processes):
                raise SystemExit("a worker died; see var/bench/timers-worker-*.log")
            if time.perf_counter() - last_tick > 5:  # what beat would do
                sender.send_task("telcodesk.automation.tick", queue=queue)
                last_tick = time.perf_counter()
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
        sender.close()

    runs = redis_client.hgetall(counter)
    redis_client.delete(counter)
    handler_twice = sum(1 for v in runs.values() if int(v) > 1)
    firings = TimerFiring.objects.count()
    firing_dupes = firings - TimerFiring.objects.values("timer_id").distinct().count()
    per_worker = list(TimerFiring.objects.values_list("worker", flat=True).order_by().distinct())
    by_process = {}
    for worker in per_worker:
        by_process.setdefault(worker.split("/")[0], 0)
    for row in TimerFiring.objects.values("worker").order_by().annotate(n=Count("id")):
        by_process[row["worker"].split("/")[0]] += row["n"]
    rate = args.timers / elapsed
    print(
        f"engine ({args.workers} workers, batch {args.batch}): {args.timers:,} timers in "
        f"{elapsed:.1f} s = {rate:,.0f} timers/s",
        flush=True,
    )
    print(f"  per worker: {', '.join(f'{n:,}' for n in sorted(by_process.values()))}")
    print(
        f"  fired twice: {handler_twice} (handler runs > 1), {firing_dupes} (duplicate "
        f"firing rows); handler runs {sum(int(v) for v in runs.values()):,}; "
        f"firing rows {firings:,}; not fired {args.timers - len(runs)}"
    )
    print(f"  ratio to the naive loop: {rate / baseline_rate:.1f}x")


if __name__ == "__main__":
    main()
