"""Outbound pacing benchmark: template sends to the sandbox at a channel's rate limit.

Creates a throw-away database (``telcodesk_bench_pacing``), migrates it, and serves the
sandbox (the local Graph API stand-in) with gunicorn on a free loopback port (2
workers, production settings, ``TELCODESK_SANDBOX=1``; the sandbox's status webhooks
back to us are switched off through a two-line settings module written to a temporary
directory, since that setting has no environment variable). For each configured limit
(80 and 500 messages/s by default) it creates a channel whose ``api_base_url`` points
at that server with ``rate_limit_per_second`` set to the limit, an approved utility
template and one conversation per recipient, then queues N template messages through
``messaging.sending.message_send_template`` (the service the console and the API call;
its broker messages go to a bench-only Redis database and are discarded: the bench's
own workers read the outbox table instead), and drains them with W worker processes,
each a loop over ``messaging.outbox.outbox_message_send`` on the queued ids of its
share, the rate limit kept in Redis (``TELCODESK_CACHE_URL``: the GCRA limiter's Lua
script; ``--margin`` sets ``TELCODESK_SEND_RATE_MARGIN``). The per-second rate is
measured from the sandbox's ``SandboxMessage.created_at`` (when the "provider"
accepted each message) and, as a cross-check, from the outbox side (``Message.status_at``
written when the answer is recorded). Baseline: the configured limit itself (ratio =
achieved rate / limit). Prints figures and one JSON line; asserts nothing.

``--limiter-only`` has the same loops take slots with no database work and no HTTP (the
limiter's own pacing). Run it under ``flock /tmp/telcodesk-bench.lock``:

    .venv/bin/python bench/pacing.py                           # 20,000 at 80 and 500/s
    .venv/bin/python bench/pacing.py --limits 500 --messages 5000
    .venv/bin/python bench/pacing.py --limiter-only            # 20,000 slots per limit
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import platform
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from webhook_ingest import (
    free_port,
    gunicorn_start,
    gunicorn_stop,
    pg_drop,
    pg_recreate,
    postgres_version,
    server_env,
)

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/telcodesk_bench_pacing"
# A Redis database of its own: the rate limiter's keys and the discarded broker messages.
REDIS_DEFAULT = "redis://127.0.0.1:6379/9"
SETTINGS_MODULE = "telcodesk_bench_pacing_settings"
TEMPLATE_BODY = "Hola {{1}}, tu factura de {{2}} ya está disponible. Gracias por elegirnos."


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="template sends per limit")
    parser.add_argument(
        "--limits", default="80,500", help="comma-separated rate_limit_per_second values"
    )
    parser.add_argument("--workers", type=int, default=2, help="outbox worker processes")
    parser.add_argument("--threads", type=int, default=4, help="send loops per worker process")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--worker-class", choices=("sync", "gthread"), default="gthread", help="gunicorn"
    )
    parser.add_argument("--server-threads", type=int, default=4, help="threads per gthread")
    parser.add_argument(
        "--queue",
        choices=("service", "bulk"),
        default="service",
        help="queue through message_send_template, or bulk-create rows of the same shape",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=None,
        help="TELCODESK_SEND_RATE_MARGIN for the workers (default: the project's, 0.025)",
    )
    parser.add_argument(
        "--limiter-only",
        action="store_true",
        help="only take slots (no database work, no HTTP): the limiter's own pacing",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", REDIS_DEFAULT))
    return parser.parse_args(argv)


def setup_django(url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # The rate limiter uses Redis when the default cache is Redis (ratelimit._uses_redis).
    os.environ["TELCODESK_CACHE_URL"] = redis_url
    # Sends are enqueued on commit: with a broker they wait in Redis (discarded below)
    # instead of being sent in this process as they are queued.
    os.environ["TELCODESK_BROKER_URL"] = redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "telcodesk.settings"
    # Production mode for the workers too (no debug cursor keeping every query).
    os.environ["TELCODESK_DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("TELCODESK_VAR_DIR", str(ROOT / "var"))
    os.environ.setdefault("TELCODESK_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def discard_broker_messages(redis_url: str) -> int:
    """Drop the send tasks the services enqueued (only Celery's default queue key)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    count = int(client.llen("celery"))
    client.delete("celery")
    return count


# --- set-up -------------------------------------------------------------------------------


def create_channel(*, limit: int, base_url: str, index: int) -> tuple[Any, Any]:
    from telcodesk.accounts.models import Organization
    from telcodesk.messaging.models import Channel, Template

    org, _created = Organization.objects.get_or_create(
        slug="bench-pacing",
        defaults={
            "name": "Bench Pacing",
            "country": "BO",
            "currency": "BOB",
            "time_zone": "America/La_Paz",
            "languages": ["es"],
        },
    )
    channel = Channel.objects.create(
        organization=org,
        kind=Channel.Kind.WHATSAPP_CLOUD,
        name=f"Bench pacing {limit}/s",
        phone_number_id=f"10777000{index:05d}",
        waba_id="1077700000000",
        display_phone="+591 2 7770000",
        app_secret="bench-pacing-secret",
        access_token="bench-pacing-token-" + secrets.token_hex(8),
        api_base_url=base_url,
        rate_limit_per_second=limit,
    )
    template = Template.objects.create(
        organization=org,
        channel=channel,
        name="aviso_factura",
        language="es",
        category=Template.Category.UTILITY,
        body=TEMPLATE_BODY,
        status=Template.Status.APPROVED,
    )
    return channel, template


def create_conversations(channel: Any, count: int) -> None:
    from telcodesk.messaging.models import Conversation

    Conversation.objects.bulk_create(
        (
            Conversation(
                organization_id=channel.organization_id,
                channel=channel,
                external_address=f"5916{i:07d}",
                phone_e164=f"+5916{i:07d}",
                display_name=f"Cliente {i}",
            )
            for i in range(count)
        ),
        batch_size=5000,
    )


def queue_service(channel: Any, template: Any) -> None:
    """N calls of message_send_template, committed 500 at a time."""
    from django.db import transaction

    from telcodesk.messaging.models import Conversation
    from telcodesk.messaging.sending import message_send_template

    conversations = list(
        Conversation.objects.filter(channel=channel).select_related("channel").order_by("id")
    )
    for start in range(0, len(conversations), 500):
        with transaction.atomic():
            for conversation in conversations[start : start + 500]:
                message_send_template(
                    actor_or_none=None,
                    conversation=conversation,
                    template=template,
                    params=[conversation.display_name, "noviembre"],
                )


def queue_bulk(channel: Any, template: Any) -> None:
    """Outbox rows of the shape _outbox_add writes, with bulk_create."""
    import uuid

    from django.utils import timezone

    from telcodesk.messaging.models import Conversation, Message, MessageStatus
    from telcodesk.messaging.providers.whatsapp_cloud import template_payload
    from telcodesk.messaging.sending import template_render

    now = timezone.now()
    rows = []
    for conversation in Conversation.objects.filter(channel=channel).order_by("id"):
        params = [conversation.display_name, "noviembre"]
        rows.append(
            Message(
                organization_id=channel.organization_id,
                channel=channel,
                conversation=conversation,
                direction=Message.Direction.OUTBOUND,
                kind=Message.Kind.TEMPLATE,
                body=template_render(template.body, params),
                payload=template_payload(
                    conversation.external_address,
                    name=template.name,
                    language=template.language,
                    params=params,
                ),
                template=template,
                status=MessageStatus.QUEUED,
                status_at=now,
                next_attempt_at=now,
                idempotency_key=uuid.uuid4().hex,
            )
        )
    Message.objects.bulk_create(rows, batch_size=2000)


def write_settings_module(directory: Path) -> None:
    """The project's settings with the sandbox's status webhooks switched off."""
    (directory / f"{SETTINGS_MODULE}.py").write_text(
        "from telcodesk.settings import *  # noqa: F403\n\n"
        "TELCODESK_SANDBOX_STATUS_WEBHOOKS = False\n"
    )


# --- the outbox workers ---------------------------------------------------------------------


def send_loop(
    channel_id: int, part: int, parts: int, outcomes: Counter[str], deadline: float
) -> None:
    """Send the queued messages of share ``part`` until none is left (or the deadline)."""
    from django.db import connection
    from django.db.models import F
    from django.utils import timezone

    from telcodesk.messaging.models import Message, MessageStatus
    from telcodesk.messaging.outbox import outbox_message_send

    outbound = Message.objects.filter(channel_id=channel_id, direction=Message.Direction.OUTBOUND)
    try:
        while time.time() < deadline:
            ids = list(
                outbound.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=timezone.now())
                .annotate(part=F("id") % parts)
                .filter(part=part)
                .order_by("id")
                .values_list("pk", flat=True)[:200]
            )
            if not ids:
                if not outbound.filter(
                    status__in=(MessageStatus.QUEUED, MessageStatus.SENDING)
                ).exists():
                    return
                time.sleep(0.05)
                continue
            for message_id in ids:
                outcomes[outbox_message_send(message_id=message_id)] += 1
                if time.time() >= deadline:
                    break
        outcomes["stopped_at_deadline"] += 1
    finally:
        connection.close()


def worker_process(
    channel_id: int, index: int, threads: int, workers: int, deadline: float, results: Any
) -> None:
    outcomes: list[Counter[str]] = [Counter() for _ in range(threads)]
    loops = [
        threading.Thread(
            target=send_loop,
            args=(channel_id, index * threads + t, workers * threads, outcomes[t], deadline),
        )
        for t in range(threads)
    ]
    for loop in loops:
        loop.start()
    for loop in loops:
        loop.join()
    results.put(dict(sum(outcomes, Counter())))


def drain(
    channel_id: int, *, workers: int, threads: int, timeout: float
) -> tuple[float, dict[str, int]]:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(
            target=worker_process,
            args=(channel_id, i, threads, workers, time.time() + timeout, results),
        )
        for i in range(workers)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    totals: Counter[str] = Counter()
    for _process in processes:
        totals.update(results.get())
    for process in processes:
        process.join()
    return time.perf_counter() - started, dict(totals)


def count_send_queries(channel: Any) -> int:
    """SQL statements (worker side) of sending the first queued message, in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from telcodesk.messaging.models import Message, MessageStatus
    from telcodesk.messaging.outbox import outbox_message_send

    first = (
        Message.objects.filter(channel=channel, status=MessageStatus.QUEUED).order_by("id").first()
    )
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        outcome = outbox_message_send(message_id=first.pk)
    assert outcome == "sent", outcome
    return len(queries)


# --- measuring ------------------------------------------------------------------------------


def per_second(timestamps: list[float]) -> list[int]:
    """Counts per wall-clock second from the first to the last, empty seconds included."""
    if not timestamps:
        return []
    seconds = Counter(int(t) for t in timestamps)
    first, last = min(seconds), max(seconds)
    return [seconds.get(s, 0) for s in range(first, last + 1)]


def rate_stats(counts: list[int], limit: int) -> dict[str, Any]:
    full = counts[1:-1]  # the first and last seconds are partial
    within = [c for c in full if abs(c - limit) <= 0.05 * limit]
    mean = sum(full) / len(full) if full else 0.0
    return {
        "seconds": len(counts),
        "full_seconds": len(full),
        "max_per_second": max(counts) if counts else 0,
        "min_full_second": min(full) if full else 0,
        "mean_full_seconds": mean,
        "within_5pct_share": len(within) / len(full) if full else 0.0,
        "seconds_over_limit": sum(1 for c in counts if c > limit),
        "ratio_to_limit": mean / limit,
    }


def measure(channel: Any, limit: int) -> dict[str, Any]:
    from telcodesk.messaging.models import Message, MessageStatus, SandboxMessage

    accepted = [
        created.timestamp()
        for created in SandboxMessage.objects.filter(
            phone_number_id=channel.phone_number_id,
            direction=SandboxMessage.Direction.TO_PHONE,
        ).values_list("created_at", flat=True)
    ]
    outbound = Message.objects.filter(channel=channel, direction=Message.Direction.OUTBOUND)
    recorded = [
        at.timestamp()
        for at in outbound.filter(status=MessageStatus.SENT).values_list("status_at", flat=True)
        if at is not None
    ]
    statuses = dict(Counter(outbound.values_list("status", flat=True)))
    sandbox_counts = per_second(accepted)
    outbox_counts = per_second(recorded)
    return {
        "sandbox_accepted": len(accepted),
        "statuses": statuses,
        "provider_ids": outbound.exclude(provider_message_id="").count(),
        "sandbox": rate_stats(sandbox_counts, limit),
        "outbox": rate_stats(outbox_counts, limit),
        "sandbox_counts": sandbox_counts,
        "outbox_counts": outbox_counts,
        "overall_rate": (
            len(accepted) / (max(accepted) - min(accepted)) if len(accepted) > 1 else 0.0
        ),
    }


# --- the limiter alone -----------------------------------------------------------------------


def limiter_loop(channel_id: int, slots: int, stamps: list[float]) -> None:
    """Take ``slots`` slots of the channel, recording when each wait ended."""
    from django.db import connection

    from telcodesk.messaging.models import Channel
    from telcodesk.messaging.ratelimit import send_slot_wait

    try:
        channel = Channel.objects.get(pk=channel_id)
        for _ in range(slots):
            while not send_slot_wait(channel=channel):
                time.sleep(0.01)
            stamps.append(time.time())
    finally:
        connection.close()


def limiter_process(channel_id: int, threads: int, slots: int, results: Any) -> None:
    stamps: list[list[float]] = [[] for _ in range(threads)]
    loops = [
        threading.Thread(target=limiter_loop, args=(channel_id, slots, stamps[t]))
        for t in range(threads)
    ]
    for loop in loops:
        loop.start()
    for loop in loops:
        loop.join()
    results.put([stamp for part in stamps for stamp in part])


def run_limiter_only(args: argparse.Namespace, limit: int, index: int) -> dict[str, Any]:
    """The same loops taking slots with no database work and no HTTP: what the limiter
    alone does when the machine keeps up (the time each wait ended, per second)."""
    from django.db import connections

    from telcodesk.messaging.ratelimit import send_rate_margin, slot_interval_us

    channel, _template = create_channel(
        limit=limit, base_url="http://127.0.0.1:9/unused", index=100 + index
    )
    loops = args.workers * args.threads
    per_loop = args.messages // loops
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=limiter_process, args=(channel.pk, args.threads, per_loop, results))
        for _ in range(args.workers)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    stamps = sorted(stamp for _ in processes for stamp in results.get())
    for process in processes:
        process.join()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    counts = per_second(stamps)
    result = {
        "limit": limit,
        "slots": len(stamps),
        "seconds": time.perf_counter() - started,
        "margin": send_rate_margin(),
        "paced_rate": 1_000_000 / slot_interval_us(limit),
        "stats": rate_stats(counts, limit),
        "gap_min_ms": min(gaps) * 1000 if gaps else 0.0,
        "gap_median_ms": sorted(gaps)[len(gaps) // 2] * 1000 if gaps else 0.0,
        "counts": counts,
    }
    stats = result["stats"]
    print(
        f"limiter only, limit {limit}/s: {len(stamps):,} slots by {loops} loops in "
        f"{result['seconds']:.1f} s; max {stats['max_per_second']}/s, mean "
        f"{stats['mean_full_seconds']:.1f}/s (min {stats['min_full_second']}), within 5 % "
        f"{stats['within_5pct_share']:.0%}, seconds over {stats['seconds_over_limit']}; "
        f"gap between wake-ups min {result['gap_min_ms']:.2f} ms, median "
        f"{result['gap_median_ms']:.2f} ms",
        flush=True,
    )
    return result


def run_limit(args: argparse.Namespace, limit: int, index: int, base_url: str) -> dict[str, Any]:
    channel, template = create_channel(limit=limit, base_url=base_url, index=index)
    create_conversations(channel, args.messages)
    print(f"[{limit}/s] queueing {args.messages:,} template messages ({args.queue})...", flush=True)
    started = time.perf_counter()
    (queue_service if args.queue == "service" else queue_bulk)(channel, template)
    queue_seconds = time.perf_counter() - started
    discarded = discard_broker_messages(args.redis)
    print(
        f"[{limit}/s] queued in {queue_seconds:.1f} s ({args.messages / queue_seconds:,.0f}/s); "
        f"draining with {args.workers} workers x {args.threads} loops...",
        flush=True,
    )
    from telcodesk.messaging.ratelimit import send_rate_margin, slot_interval_us

    queries = count_send_queries(channel)
    print(f"[{limit}/s] SQL statements for one outbox_message_send: {queries}", flush=True)
    interval_us = slot_interval_us(limit)
    print(
        f"[{limit}/s] limiter: margin {send_rate_margin():.3f}, one slot every "
        f"{interval_us} µs ({1_000_000 / interval_us:.1f}/s)",
        flush=True,
    )
    # Generous: below the limit the drain runs at what the machine can do.
    timeout = args.messages / limit * 3 + 600
    load_before = os.getloadavg()[0]
    seconds, outcomes = drain(
        channel.pk, workers=args.workers, threads=args.threads, timeout=timeout
    )
    load_after = os.getloadavg()[0]
    result = {
        "limit": limit,
        "margin": send_rate_margin(),
        "slot_interval_us": interval_us,
        "paced_rate": 1_000_000 / interval_us,
        "loadavg_drain": [load_before, load_after],
        "messages": args.messages,
        "queue": args.queue,
        "queue_seconds": queue_seconds,
        "broker_messages_discarded": discarded,
        "drain_seconds": seconds,
        "outcomes": outcomes,
        "queries_per_send": queries,
        **measure(channel, limit),
    }
    print(describe(result), flush=True)
    return result


def describe(result: dict[str, Any]) -> str:
    limit = result["limit"]
    lines = [
        f"limit {limit}/s: {result['messages']:,} messages drained in "
        f"{result['drain_seconds']:.1f} s (paced at {result['paced_rate']:.1f}/s, margin "
        f"{result['margin']:.3f}; load average {result['loadavg_drain'][0]:.1f} before, "
        f"{result['loadavg_drain'][1]:.1f} after); outcomes {result['outcomes']}; statuses "
        f"{result['statuses']}; sandbox accepted {result['sandbox_accepted']:,}",
    ]
    for side, label in (("sandbox", "sandbox created_at"), ("outbox", "outbox status_at")):
        stats = result[side]
        lines.append(
            f"  {label}: max {stats['max_per_second']}/s, mean over "
            f"{stats['full_seconds']} full seconds {stats['mean_full_seconds']:.1f}/s "
            f"(min {stats['min_full_second']}), within 5 % of the limit "
            f"{stats['within_5pct_share']:.0%} of seconds, seconds over the limit "
            f"{stats['seconds_over_limit']}; achieved/limit {stats['ratio_to_limit']:.3f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    limits = [int(value) for value in args.limits.split(",") if value.strip()]
    print(f"PostgreSQL database {args.pg_url.rsplit('/', 1)[1]}: create and migrate...", flush=True)
    pg_recreate(args.pg_url)
    setup_django(args.pg_url, args.redis)
    from django.conf import settings
    from django.core.management import call_command

    if args.margin is not None:
        # Before the workers fork: they inherit it.
        settings.TELCODESK_SEND_RATE_MARGIN = args.margin
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()
    results = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="telcodesk-bench-") as tmp:
        write_settings_module(Path(tmp))
        port = free_port()
        env = server_env(
            args.pg_url,
            TELCODESK_SANDBOX="1",
            # The outbox client calls the sandbox over plain HTTP on loopback, without
            # the X-Forwarded-Proto a TLS proxy would add: no redirect to https.
            TELCODESK_SSL_REDIRECT="0",
            DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
            PYTHONPATH=os.pathsep.join([tmp, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        server = gunicorn_start(
            port=port,
            env=env,
            worker_class=args.worker_class,
            workers=args.server_workers,
            threads=args.server_threads,
            log=ROOT / "var" / "bench" / "pacing-gunicorn.log",
        )
        base_url = f"http://127.0.0.1:{port}/messaging/sandbox/graph"
        print(f"sandbox: gunicorn {args.worker_class} on 127.0.0.1:{port}", flush=True)
        try:
            for index, limit in enumerate(limits):
                if args.limiter_only:
                    results.append(run_limiter_only(args, limit, index))
                else:
                    results.append(run_limit(args, limit, index, base_url))
        finally:
            gunicorn_stop(server)
            connections.close_all()
            if not args.keep:
                pg_drop(args.pg_url)
    load_after = os.getloadavg()
    server_version = postgres_version(args.pg_url.rsplit("/", 1)[0] + "/postgres")
    print()
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, PostgreSQL {server_version}, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}. Sandbox, workers and database share it; "
        f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)."
    )
    for result in results:
        if not args.limiter_only:
            print(describe(result))
    print(
        json.dumps(
            {"benchmark": "pacing", "loadavg": [load_before[0], load_after[0]], "results": results}
        )
    )


if __name__ == "__main__":
    main()
