"""Webhook ingest benchmark: signed WhatsApp webhooks/s through gunicorn on PostgreSQL.

Creates a throw-away database (``telcodesk_bench_ingest``), migrates it, adds an
organization and a WhatsApp channel with an app secret, and starts gunicorn (2 workers,
``telcodesk.wsgi``) on a free loopback port with production settings (DEBUG off, a
SECRET_KEY, ALLOWED_HOSTS, TLS assumed at a proxy: the client sends
``X-Forwarded-Proto: https``). Load generator processes, each holding persistent
HTTP/1.1 connections (``http.client``), post inbound-message webhooks shaped like
Meta's and signed with ``X-Hub-Signature-256``: unique wamids, with a share (10 %) of
redeliveries of bodies already sent (same bytes, same signature), some of them while
the first delivery is still in flight. The client measures requests/s and latency
percentiles. Baseline, in the same run, on the same server and connections:
``GET /healthz``. Then the database is checked: one inbound message per distinct wamid
(none lost, none doubled), every webhook event processed, unread counters bumped once
per message. Prints a summary and one JSON line; asserts nothing.

Without a broker (the default here) each webhook is processed in the request that
stored it, after its commit, so the latency measured includes the processing; with
``--process-threads N`` the server hands it to N background threads per worker process
(``TELCODESK_WEBHOOK_PROCESS_THREADS``) and the rate at which events are applied is
printed too, as with ``--broker``.

    .venv/bin/python bench/webhook_ingest.py                    # gthread, 4 threads
    .venv/bin/python bench/webhook_ingest.py --worker-class both --requests 5000
    .venv/bin/python bench/webhook_ingest.py --process-threads 2
    .venv/bin/python bench/webhook_ingest.py --broker redis://127.0.0.1:6379/8
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/telcodesk_bench_ingest"
APP_SECRET = "bench-app-secret-7d1f0c2a9b"
PHONE_NUMBER_ID = "1055501234567"
WABA_ID = "1098765432101234"
DISPLAY_PHONE = "59121234567"
TEXTS = (
    "Hola, quiero contratar fibra",
    "¿Cuánto cuesta el plan de 200 megas?",
    "Mi internet está lento desde ayer",
    "Quiero pagar mi factura",
    "Gracias",
)
NAMES = ("Juana Mamani", "Carlos Quispe", "María Vargas", "Luis Choque", "Ana Flores")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="webhook POSTs per run")
    parser.add_argument("--warmup", type=int, default=400, help="webhook POSTs before timing")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    parser.add_argument("--redeliveries", type=float, default=0.10, help="share of redeliveries")
    parser.add_argument("--senders", type=int, default=5_000, help="distinct customer numbers")
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread", "both"),
        default="gthread",
        help="gunicorn (gthread, the best here: keep-alive and the shorter tail; "
        "both: sync then gthread)",
    )
    parser.add_argument(
        "--server",
        choices=("gunicorn", "granian"),
        default="gunicorn",
        help="the WSGI server (granian: its Rust HTTP stack, --threads blocking threads)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--broker",
        default="",
        help="e.g. redis://127.0.0.1:6379/8: the server only stores and enqueues, "
        "--celery-workers worker processes (telcodesk worker) apply the events",
    )
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument(
        "--drain-after",
        action="store_true",
        help="with --broker: start the Celery workers only after the webhooks and /healthz "
        "were timed (the accept path alone, then the workers' drain rate on their own)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="run the Celery workers at this nice level (e.g. 10: the web server gets the "
        "CPU first, the workers apply the backlog with what is left, as a deployment "
        "sharing one machine would set them)",
    )
    parser.add_argument(
        "--process-threads",
        type=int,
        default=0,
        help="without a broker: TELCODESK_WEBHOOK_PROCESS_THREADS for the server (the "
        "request stores the event, N threads per worker process apply it after the answer)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    return parser.parse_args(argv)


# --- database and server -----------------------------------------------------------------


def pg_recreate(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def pg_drop(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("TELCODESK_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telcodesk.settings")
    os.environ.setdefault("TELCODESK_VAR_DIR", str(ROOT / "var"))
    os.environ.setdefault("TELCODESK_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def bench_channel(label: str) -> Any:
    """The organization (Bolivia) and one channel per run, each with its own number."""
    from telcodesk.accounts.models import Organization
    from telcodesk.messaging.models import Channel

    org, _created = Organization.objects.get_or_create(
        slug="bench-ingest",
        defaults={
            "name": "Bench Ingest",
            "country": "BO",
            "currency": "BOB",
            "time_zone": "America/La_Paz",
            "languages": ["es"],
        },
    )
    suffix = str(Channel.objects.count())
    return Channel.objects.create(
        organization=org,
        kind=Channel.Kind.WHATSAPP_CLOUD,
        name=f"Bench {label}",
        phone_number_id=PHONE_NUMBER_ID + suffix,
        waba_id=WABA_ID,
        display_phone="+" + DISPLAY_PHONE,
        app_secret=APP_SECRET,
        access_token="bench-token",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TELCODESK_BROKER_URL", None)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE=env.get("DJANGO_SETTINGS_MODULE", "telcodesk.settings"),
        TELCODESK_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        TELCODESK_LOG_LEVEL="WARNING",
        TELCODESK_VAR_DIR=str(ROOT / "var"),
        TELCODESK_SANDBOX="0",
    )
    env.update(extra)
    return env


def gunicorn_start(
    *, port: int, env: dict[str, str], worker_class: str, workers: int, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "telcodesk.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--keep-alive",
        "30",
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--error-logfile",
        str(log),
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    return _wait_for_health(process, port, log)


def granian_start(
    *, port: int, env: dict[str, str], workers: int, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    """granian serving the same WSGI application (``--interface wsgi``)."""
    command = [
        str(Path(sys.executable).parent / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--backlog",
        "2048",
        "--no-ws",
        "--log-level",
        "warning",
        "telcodesk.wsgi:application",
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    return _wait_for_health(process, port, log)


def _wait_for_health(
    process: subprocess.Popen[bytes], port: int, log: Path
) -> subprocess.Popen[bytes]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
            if connection.getresponse().status == 200:
                connection.close()
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"the server did not answer /healthz within 30 s; see {log}")


def celery_start(args: argparse.Namespace, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """Worker processes applying the stored events (``telcodesk worker``), queue emptied."""
    import redis

    redis.Redis.from_url(args.broker).delete("celery")
    log = ROOT / "var" / "bench" / "ingest-celery.log"
    nice = ["nice", "-n", str(args.worker_nice)] if args.worker_nice else []
    command = [
        *nice,
        str(Path(sys.executable).parent / "telcodesk"),
        "worker",
        "--pool=prefork",
        f"--concurrency={args.celery_workers}",
        "--without-gossip",
        "--without-mingle",
        f"--logfile={log}",
        "--loglevel=WARNING",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    time.sleep(5)  # connected and ready before the load starts
    if process.poll() is not None:
        raise RuntimeError(f"telcodesk worker exited with {process.returncode}; see {log}")
    return [process]


def gunicorn_stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the load generator (runs in child processes, no Django) ------------------------------


def new_wamid(rng: random.Random) -> str:
    """Shaped like Meta's: ``wamid.`` + base64 of opaque bytes."""
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18\x12" + rng.randbytes(18)).decode()


def inbound_body(
    *, wamid: str, wa_id: str, text: str, name: str, timestamp: int, phone_number_id: str
) -> dict[str, Any]:
    """An inbound text message webhook in Meta's shape (as tests/messaging/helpers.py)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": DISPLAY_PHONE,
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


@dataclass
class Plan:
    """What one load generator process sends: (raw body, signature) per request."""

    requests: list[tuple[bytes, str]] = field(default_factory=list)
    wamids: list[str] = field(default_factory=list)  # distinct, in first-send order
    redeliveries: int = 0


def build_plan(
    *, count: int, redelivery_share: float, senders: int, phone_number_id: str, seed: int
) -> Plan:
    """``count`` requests of which ``round(count * share)`` resend an earlier body."""
    rng = random.Random(seed)
    plan = Plan()
    redelivered = set(rng.sample(range(1, count), round(count * redelivery_share)))
    originals: list[tuple[bytes, str]] = []
    now = int(time.time())
    for index in range(count):
        if index in redelivered and originals:
            # Mostly recent bodies (Meta retries within seconds to minutes), some older.
            back = min(len(originals), int(rng.expovariate(1 / 50)) + 1)
            plan.requests.append(originals[-back])
            plan.redeliveries += 1
            continue
        wamid = new_wamid(rng)
        sender = rng.randrange(senders)
        body = inbound_body(
            wamid=wamid,
            wa_id=f"5917{sender:07d}",
            text=rng.choice(TEXTS),
            name=NAMES[sender % len(NAMES)],
            timestamp=now,
            phone_number_id=phone_number_id,
        )
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        originals.append((raw, signature))
        plan.requests.append((raw, signature))
        plan.wamids.append(wamid)
    return plan


def _drive(
    *,
    port: int,
    path: str,
    method: str,
    requests: list[tuple[bytes, str]],
    threads: int,
    go: Any,
) -> dict[str, Any]:
    """Send ``requests`` over ``threads`` persistent connections; latencies and codes."""
    lock = threading.Lock()
    position = [0]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connects = [0]
    errors: list[str] = []

    def next_request() -> tuple[bytes, str] | None:
        with lock:
            if position[0] >= len(requests):
                return None
            item = requests[position[0]]
            position[0] += 1
            return item

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        go.wait()
        while (item := next_request()) is not None:
            raw, signature = item
            headers = {"X-Forwarded-Proto": "https"}
            if method == "POST":
                headers |= {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
            started = time.perf_counter()
            try:
                if connection.sock is None:
                    with lock:
                        connects[0] += 1
                connection.request(
                    method, path, body=raw if method == "POST" else None, headers=headers
                )
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                status = 0
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            mine.append(time.perf_counter() - started)
            codes[status] = codes.get(status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    go.wait()
    started = time.time()
    for worker in workers:
        worker.join()
    return {
        "started": started,
        "ended": time.time(),
        "latencies": latencies,
        "statuses": statuses,
        "connects": connects[0],
        "errors": errors[:5],
    }


def client_process(
    port: int,
    path: str,
    method: str,
    requests: list[tuple[bytes, str]],
    threads: int,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    ready.put(os.getpid())
    results.put(
        _drive(port=port, path=path, method=method, requests=requests, threads=threads, go=go)
    )


def load_run(
    *, port: int, path: str, method: str, shares: list[list[tuple[bytes, str]]], connections: int
) -> dict[str, Any]:
    """Run one load phase: one process per share, ``connections`` spread over them."""
    context = multiprocessing.get_context("fork")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    per_process = [
        connections // len(shares) + (i < connections % len(shares)) for i in range(len(shares))
    ]
    processes = [
        context.Process(
            target=client_process,
            args=(port, path, method, share, threads, ready, go, results),
        )
        for share, threads in zip(shares, per_process, strict=True)
    ]
    for process in processes:
        process.start()
    for _process in processes:
        ready.get(timeout=60)
    time.sleep(0.2)
    go.set()
    parts = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(latency for part in parts for latency in part["latencies"])
    statuses: dict[int, int] = {}
    for part in parts:
        for code, n in part["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    elapsed = max(p["ended"] for p in parts) - min(p["started"] for p in parts)
    return {
        "started": min(p["started"] for p in parts),
        "requests": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "connects": sum(p["connects"] for p in parts),
        "errors": [e for p in parts for e in p["errors"]][:5],
    }


def cpu_seconds_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's processes, PostgreSQL's,
    and everything else (the load generator, the kernel's share aside), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    server = {server_pid}
    totals = {"server": 0.0, "postgres": 0.0, "other": 0.0}
    stats: dict[int, tuple[int, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    changed = True
    while changed:  # the server's children, grandchildren...
        changed = False
        for pid, (ppid, _name, _cpu) in stats.items():
            if ppid in server and pid not in server:
                server.add(pid)
                changed = True
    for pid, (_ppid, name, cpu) in stats.items():
        role = "server" if pid in server else "postgres" if name.startswith("postgres") else "other"
        totals[role] += cpu
    return totals


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return values[index]


# --- verification --------------------------------------------------------------------------


def verify(
    channel: Any,
    *,
    wamids: set[str],
    posted: int,
    workers: Sequence[subprocess.Popen[bytes]] = (),
) -> dict[str, Any]:
    """What the database holds for ``channel`` against what was sent (once no event is
    pending any more; a background worker that died ends the wait with an error)."""
    from django.db.models import Count, Sum

    from telcodesk.messaging.models import Conversation, Message, WebhookEvent

    deadline = time.monotonic() + 900
    pending = WebhookEvent.objects.filter(channel=channel, state=WebhookEvent.State.PENDING)
    while pending.exists() and time.monotonic() < deadline:
        dead = [worker.pid for worker in workers if worker.poll() is not None]
        if dead:
            raise RuntimeError(f"background worker process(es) {dead} exited; see their log")
        time.sleep(0.5)
    last_processed = (
        WebhookEvent.objects.filter(channel=channel)
        .exclude(processed_at=None)
        .order_by("-processed_at")
        .values_list("processed_at", flat=True)
        .first()
    )
    inbound = Message.objects.filter(channel=channel, direction=Message.Direction.INBOUND)
    stored = list(inbound.values_list("provider_message_id", flat=True))
    stored_set = set(stored)
    doubled = inbound.values("provider_message_id").annotate(n=Count("id")).filter(n__gt=1).count()
    states = {
        row["state"]: row["n"]
        for row in WebhookEvent.objects.filter(channel=channel)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    }
    unread = Conversation.objects.filter(channel=channel).aggregate(n=Sum("unread_count"))["n"]
    return {
        "wamids_sent": len(wamids),
        "messages_stored": len(stored),
        "distinct_stored": len(stored_set),
        "lost": len(wamids - stored_set),
        "unexpected": len(stored_set - wamids),
        "doubled": doubled,
        "webhook_events": sum(states.values()),
        "posted": posted,
        "event_states": states,
        "unread_total": unread or 0,
        "conversations": Conversation.objects.filter(channel=channel).count(),
        "last_processed_at": last_processed.timestamp() if last_processed else None,
    }


def count_queries() -> dict[str, int]:
    """SQL statements per webhook, in this process (test client), on a probe channel."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    channel = bench_channel("probe")
    client = Client()
    path = f"/messaging/whatsapp/webhook/{channel.pk}/"
    rng = random.Random(0)
    counts: dict[str, int] = {}

    def post(raw: bytes) -> int:
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                path,
                data=raw,
                content_type="application/json",
                headers={"X-Hub-Signature-256": signature},
            )
        assert response.status_code == 200, response.status_code
        return len(queries)

    bodies = [
        json.dumps(
            inbound_body(
                wamid=new_wamid(rng),
                wa_id="59170000001",
                text=TEXTS[0],
                name=NAMES[0],
                timestamp=int(time.time()),
                phone_number_id=channel.phone_number_id,
            )
        ).encode()
        for _ in range(2)
    ]
    counts["new_sender"] = post(bodies[0])
    counts["known_conversation"] = post(bodies[1])
    counts["redelivery"] = post(bodies[1])
    return counts


# --- one run -----------------------------------------------------------------------------------


def run_one(args: argparse.Namespace, worker_class: str, run_index: int) -> dict[str, Any]:
    from django.db import connections

    channel = bench_channel(worker_class)
    path = f"/messaging/whatsapp/webhook/{channel.pk}/"
    total = args.warmup + args.requests
    clients = max(1, args.clients)
    print(f"[{worker_class}] building {total:,} signed bodies...", flush=True)
    plans = [
        build_plan(
            count=total // clients + (i < total % clients),
            redelivery_share=args.redeliveries,
            senders=args.senders,
            phone_number_id=channel.phone_number_id,
            seed=args.seed * 1000 + run_index * 10 + i,
        )
        for i in range(clients)
    ]
    wamids = {wamid for plan in plans for wamid in plan.wamids}
    assert len(wamids) == sum(len(plan.wamids) for plan in plans), "wamid collision"
    warm_each = args.warmup // clients
    warm = [plan.requests[:warm_each] for plan in plans]
    timed = [plan.requests[warm_each:] for plan in plans]
    connections.close_all()

    port = free_port()
    log = ROOT / "var" / "bench" / f"ingest-gunicorn-{worker_class}.log"
    extra = {"TELCODESK_BROKER_URL": args.broker} if args.broker else {}
    if args.process_threads and not args.broker:
        extra["TELCODESK_WEBHOOK_PROCESS_THREADS"] = str(args.process_threads)
    env = server_env(args.pg_url, **extra)
    celery = celery_start(args, env) if args.broker and not args.drain_after else []
    if args.server == "granian":
        log = ROOT / "var" / "bench" / "ingest-granian.log"
        server = granian_start(
            port=port, env=env, workers=args.workers, threads=args.threads, log=log
        )
    else:
        server = gunicorn_start(
            port=port,
            env=env,
            worker_class=worker_class,
            workers=args.workers,
            threads=args.threads,
            log=log,
        )
    try:
        print(f"[{worker_class}] {args.server} on 127.0.0.1:{port}; warm-up...", flush=True)
        load_run(port=port, path=path, method="POST", shares=warm, connections=args.connections)
        print(f"[{worker_class}] {args.requests:,} webhooks...", flush=True)
        cpu_before = cpu_seconds_by_role(server.pid)
        ingest = load_run(
            port=port, path=path, method="POST", shares=timed, connections=args.connections
        )
        cpu_after = cpu_seconds_by_role(server.pid)
        # Per webhook, in ms: the web server's processes and PostgreSQL's (the load
        # generator's processes come and go inside load_run: not counted here).
        ingest["cpu_ms_per_webhook"] = {
            role: (cpu_after[role] - cpu_before[role]) * 1000 / args.requests
            for role in ("server", "postgres")
        }
        print(f"[{worker_class}] GET /healthz, same load...", flush=True)
        health_shares = [[(b"", "")] * len(share) for share in timed]
        trivial = load_run(
            port=port,
            path="/healthz",
            method="GET",
            shares=health_shares,
            connections=args.connections,
        )
    finally:
        gunicorn_stop(server)
    posted = total
    drain_started = ingest["started"]
    if args.broker and args.drain_after:
        from telcodesk.messaging.models import WebhookEvent

        celery = celery_start(args, env)
        drain_started = time.time() - 5  # celery_start waits 5 s for the workers
        # Nothing wakes them (the webhooks were answered long ago): the sweep's job,
        # done here at once, as a drain task sent by hand.
        from celery import Celery

        app = Celery(broker=args.broker)
        app.send_task("telcodesk.messaging.drain_webhook_events")
        app.send_task("telcodesk.messaging.drain_webhook_events")
        pending = WebhookEvent.objects.filter(channel=channel, state="pending").count()
        print(f"[{worker_class}] workers started on {pending:,} pending events", flush=True)
    checks = verify(channel, wamids=wamids, posted=posted, workers=celery)
    for worker in celery:
        gunicorn_stop(worker)
    if (args.broker or args.process_threads) and checks["last_processed_at"]:
        # From the first timed webhook (or the workers' start) to the last event applied.
        drained = checks["last_processed_at"] - drain_started
        applied = checks["webhook_events"] if args.drain_after else args.requests
        ingest["applied_per_second"] = applied / drained if drained > 0 else 0.0
    redeliveries = sum(plan.redeliveries for plan in plans)
    return {
        "worker_class": worker_class,
        "server": "granian" if args.server == "granian" else f"gunicorn {worker_class}",
        "processing": (
            f"broker, {args.celery_workers} celery workers"
            + (f" at nice {args.worker_nice}" if args.worker_nice else "")
            + (" started after the load" if args.drain_after else " beside the server")
            if args.broker
            else f"{args.process_threads} background threads per worker"
            if args.process_threads
            else "eager"
        ),
        "workers": args.workers,
        "threads": args.threads if worker_class in ("gthread", "granian") else 1,
        "connections": args.connections,
        "clients": clients,
        "redeliveries": redeliveries,
        "ingest": ingest,
        "trivial": trivial,
        "ratio": ingest["per_second"] / trivial["per_second"] if trivial["per_second"] else 0.0,
        "checks": checks,
    }


def describe(result: dict[str, Any]) -> str:
    ingest, trivial, checks = result["ingest"], result["trivial"], result["checks"]
    ok = checks["lost"] == 0 and checks["doubled"] == 0 and checks["unexpected"] == 0
    processed = checks["event_states"].get("processed", 0)
    lines = [
        f"{result['server']}, {result['workers']} workers"
        + (f" x {result['threads']} threads" if result["threads"] > 1 else "")
        + f", processing {result['processing']}"
        + f", {result['connections']} connections from {result['clients']} processes",
        f"  webhooks: {ingest['requests']:,} in {ingest['seconds']:.1f} s = "
        f"{ingest['per_second']:,.0f}/s; p50 {ingest['p50_ms']:.1f} ms, "
        f"p95 {ingest['p95_ms']:.1f} ms, p99 {ingest['p99_ms']:.1f} ms, "
        f"max {ingest['max_ms']:.0f} ms; HTTP {ingest['statuses']}; "
        f"{ingest['connects']:,} TCP connects",
        "  CPU per webhook while they were sent: "
        + ", ".join(f"{role} {ms:.2f} ms" for role, ms in ingest["cpu_ms_per_webhook"].items())
        + (" (workers running beside them)" if "beside" in result["processing"] else ""),
        (
            f"  events applied in the background: {ingest['applied_per_second']:,.0f}/s "
            "(first webhook to last processed_at)\n"
            if "applied_per_second" in ingest
            else ""
        )
        + f"  /healthz: {trivial['per_second']:,.0f}/s; p50 {trivial['p50_ms']:.1f} ms, "
        f"p99 {trivial['p99_ms']:.1f} ms; HTTP {trivial['statuses']}; "
        f"{trivial['connects']:,} TCP connects",
        f"  ratio webhooks/healthz: {result['ratio']:.2f}",
        f"  database: {checks['posted']:,} posted ({result['redeliveries']:,} redeliveries), "
        f"{checks['wamids_sent']:,} distinct wamids -> {checks['messages_stored']:,} messages "
        f"({checks['distinct_stored']:,} distinct); lost {checks['lost']}, doubled "
        f"{checks['doubled']}, unexpected {checks['unexpected']}; events "
        f"{checks['webhook_events']:,} {checks['event_states']} ({processed:,} processed); "
        f"unread total {checks['unread_total']:,} over {checks['conversations']:,} "
        f"conversations -> {'OK' if ok else 'MISMATCH'}",
    ]
    if ingest["errors"]:
        lines.append(f"  client errors: {ingest['errors']}")
    return "\n".join(lines)


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split(" ")[0] if row else "?"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.server == "granian":
        classes = ["granian"]
    else:
        classes = ["sync", "gthread"] if args.worker_class == "both" else [args.worker_class]
    print(f"PostgreSQL database {args.pg_url.rsplit('/', 1)[1]}: create and migrate...", flush=True)
    pg_recreate(args.pg_url)
    setup_django(args.pg_url)
    migrate()
    results = []
    queries = count_queries()
    print(f"SQL statements per webhook (in-process probe): {queries}", flush=True)
    load_before = os.getloadavg()
    try:
        for index, worker_class in enumerate(classes):
            results.append(run_one(args, worker_class, index))
            print(describe(results[-1]), flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            pg_drop(args.pg_url)
    print()
    server_version = postgres_version(args.pg_url.rsplit("/", 1)[0] + "/postgres")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, PostgreSQL {server_version}, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}. Server and load generator share the machine."
    )
    for result in results:
        print(describe(result))
    load_after = os.getloadavg()
    print(
        f"SQL statements per webhook: {queries}; load average before "
        f"{load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)"
    )
    print(
        json.dumps(
            {
                "benchmark": "webhook_ingest",
                "queries_per_webhook": queries,
                "loadavg": [load_before[0], load_after[0]],
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
