"""telcodesk and django-helpdesk side by side: ticket creation and the agent's queue.

One run, two processes on the same PostgreSQL server, each with a throw-away database of
its own:

- telcodesk in this project's .venv (this file with ``--worker``);
- django-helpdesk (pinned, HELPDESK_VERSION) in a throw-away venv (``--venv``, created and
  filled by pip when missing; never a dependency of telcodesk), with a minimal Django
  project (a settings module) written to a temporary directory at run time, running
  bench/helpdesk_worker.py.

Both sides get the same people (``--agents`` agents in ``--teams`` teams; helpdesk: one
Queue per team) and, after the creation phase, the same tickets from
``ticket_queues.ticket_rows`` (same generator, same seed) up to ``--tickets``.

(a) Creation throughput, one ticket after another, each in its transaction:
telcodesk's ``tickets.services.ticket_create`` (permission, customer check, number,
status history, audit log, customer timeline) for ``--create`` tickets; helpdesk's ORM
(a Ticket in a Queue with its "Ticket Opened" FollowUp) for the same number, and its
staff form ``TicketForm.save`` (validation, follow-up, notification e-mails to the
in-memory backend) for ``--form-create``. Tickets/s and ratios.

(b) Queue listing at ``--tickets``: an agent's open tickets, most urgent first then the
oldest, first page of ``--page-size`` with the count, through Django's Paginator:
telcodesk's ``tickets_queue`` scope "mine"; helpdesk's dashboard query (open and
reopened tickets assigned to the user, ordered by priority then created).
p50/p95/p99 over ``--queries`` page loads cycling over the agents, and ratios.

    flock /tmp/telcodesk-bench.lock .venv/bin/python bench/helpdesk_compare.py
    flock /tmp/telcodesk-bench.lock .venv/bin/python bench/helpdesk_compare.py --create 20000

See bench/README.md ("telcodesk and django-helpdesk").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ticket_queues as tq

ROOT = Path(__file__).resolve().parent.parent
HELPDESK_VERSION = "2.6.1"
# What pip resolves for django-helpdesk 2.6.1 (it needs Django >= 5.2): the 5.2 LTS line,
# the same as telcodesk's.
DJANGO_SPEC = "Django>=5.2,<5.3"
PG_BASE = "postgresql://postgres@127.0.0.1:5432"
TELCODESK_DB = "telcodesk_bench_he_compare"
HELPDESK_DB = "telcodesk_bench_he_helpdesk"
ORG_SLUG = "bench-compare"

SETTINGS = '''"""A minimal Django project for django-helpdesk, by bench/helpdesk_compare.py."""

SECRET_KEY = "helpdesk-bench-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
TEMPLATES = [
    {{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {{"context_processors": ["django.template.context_processors.request"]}},
    }}
]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": {name!r},
        "USER": {user!r},
        "HOST": {host!r},
        "PORT": {port!r},
    }}
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@bench.test"
MEDIA_ROOT = {media!r}
HELPDESK_TEAMS_MODE_ENABLED = False
'''


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="in each database")
    parser.add_argument("--create", type=int, default=5_000, help="timed creations per side")
    parser.add_argument(
        "--form-create", type=int, default=2_000, help="helpdesk TicketForm.save creations"
    )
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--teams", type=int, default=5)
    parser.add_argument("--customers", type=int, default=5_000, help="telcodesk's customers")
    parser.add_argument("--queries", type=int, default=500, help="timed page loads per side")
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument("--venv", default=str(Path(tempfile.gettempdir(), "helpdesk-venv")))
    parser.add_argument("--pg-base", default=os.environ.get("BENCH_PG_BASE", PG_BASE))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--src", default="", help="import telcodesk from this directory instead of src/"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- telcodesk's side (runs in .venv) ----------------------------------------------------


def telcodesk_worker(args: argparse.Namespace) -> dict[str, Any]:
    import random

    tq.setup_django(f"{args.pg_base}/{TELCODESK_DB}", args.src)
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from telcodesk.accounts.roles import Role
    from telcodesk.core.tenancy import Actor
    from telcodesk.customers.models import Customer
    from telcodesk.tickets.models import OPEN_STATUSES, Ticket
    from telcodesk.tickets.services import ticket_create

    call_command("migrate", verbosity=0)
    org = tq.organization_get(ORG_SLUG, "Bench Compare Operator")
    staff = tq.staff_create(org, agents=args.agents, teams=args.teams)
    customer_ids = tq.customers_ensure(org, args.customers, args.seed)
    customers = Customer.objects.in_bulk(customer_ids)
    actors = [Actor(organization=org, role=Role.AGENT, user=user) for user in staff.agents]

    rng = random.Random(args.seed)
    priorities, priority_w = tq.weighted(tq.PRIORITIES)
    categories, category_w = tq.weighted(tq.CATEGORIES)
    statements = 0
    started = time.perf_counter()
    for index in range(args.create):
        category = rng.choices(categories, category_w)[0]
        subject = rng.choice(tq.SUBJECTS[category])
        kwargs: dict[str, Any] = {
            "actor": actors[index % len(actors)],
            "customer": customers[rng.choice(customer_ids)],
            "category": category,
            "subject": subject,
            "customer_words": subject,
            "priority": rng.choices(priorities, priority_w)[0],
            "take": True,
        }
        if index == 0:
            with CaptureQueriesContext(connection) as captured:
                ticket_create(**kwargs)
            statements = len(captured.captured_queries)
        else:
            ticket_create(**kwargs)
    create_s = time.perf_counter() - started

    # The created tickets are all new: give them the loaded tickets' shares of statuses.
    open_share = tq.RECENT_OPEN * tq.RECENT_SHARE + tq.OLD_OPEN * (1 - tq.RECENT_SHARE)
    done, done_w = tq.weighted(tq.DONE)
    relabel: dict[str, list[int]] = {}
    for pk in Ticket.objects.filter(organization=org).values_list("id", flat=True):
        if rng.random() >= open_share:
            relabel.setdefault(rng.choices(done, done_w)[0], []).append(pk)
    now = datetime.now(UTC)
    for status, ids in relabel.items():
        Ticket.objects.filter(pk__in=ids).update(
            status=status, resolved_at=now, closed_at=now if status == "closed" else None
        )

    rest = args.tickets - args.create
    load_started = time.perf_counter()
    plan = tq.LoadPlan(org, staff, customer_ids, rest, first_number=args.create + 1)
    tq.tickets_copy([plan], args.seed, lambda _done: None)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    load_s = time.perf_counter() - load_started

    mine = "mine"
    for index in range(max(len(actors), 10)):  # warm up
        tq.page_load(actors[index % len(actors)], mine, args.page_size)
    times: list[float] = []
    counts: list[int] = []
    for index in range(args.queries):
        actor = actors[index % len(actors)]
        started = time.perf_counter()
        counts.append(tq.page_load(actor, mine, args.page_size))
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        tq.page_load(actors[0], mine, args.page_size)
    return {
        "side": "telcodesk",
        "tickets": Ticket.objects.count(),
        "open": Ticket.objects.filter(status__in=OPEN_STATUSES).count(),
        "create": {"n": args.create, "seconds": create_s, "statements": statements},
        "load_s": load_s,
        "list_ms": times,
        "list_rows": counts,
        "list_statements": len(captured.captured_queries),
    }


# --- the driver ----------------------------------------------------------------------------


def venv_ready(venv: Path) -> str:
    """The venv's django-helpdesk version, installing it with pip when missing; "" when
    pip could not install it (its error is printed)."""
    python = venv / "bin" / "python"

    def installed() -> str:
        if not python.exists():
            return ""
        result = subprocess.run(
            [
                str(python),
                "-c",
                "import importlib.metadata as m; print(m.version('django-helpdesk'))",
            ],
            capture_output=True,
            text=True,
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    if installed() == HELPDESK_VERSION:
        return HELPDESK_VERSION
    print(f"creating {venv} with django-helpdesk=={HELPDESK_VERSION} (pip)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    result = subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            f"django-helpdesk=={HELPDESK_VERSION}",
            DJANGO_SPEC,
            "psycopg[binary]",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print("pip could not install django-helpdesk (no package index reachable?):")
        print(result.stderr.strip()[-2000:])
        return ""
    return installed()


def pg_recreate(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def run_side(command: list[str], env: dict[str, str], label: str) -> dict[str, Any]:
    print(f"{label}...", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:])
        print(result.stderr[-5000:])
        raise SystemExit(f"{label} failed")
    print(f"  done in {time.perf_counter() - started:,.0f} s", flush=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def figures(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(tq.percentile(times, 0.5), 2),
        "p95_ms": round(tq.percentile(times, 0.95), 2),
        "p99_ms": round(tq.percentile(times, 0.99), 2),
    }


def report(args: argparse.Namespace, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    ours_rate = ours["create"]["n"] / ours["create"]["seconds"]
    orm_rate = theirs["create"]["n"] / theirs["create"]["seconds"]
    form_rate = theirs["form_create"]["n"] / theirs["form_create"]["seconds"]
    ours_list = figures(ours["list_ms"])
    theirs_list = figures(theirs["list_ms"])
    print()
    print(
        f"## telcodesk and django-helpdesk {theirs['version']} (Django {theirs['django']}) — "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"{os.cpu_count()} CPU, Python {platform.python_version()}, one PostgreSQL server "
        f"(databases {TELCODESK_DB} and {HELPDESK_DB}); {args.agents} agents in "
        f"{args.teams} teams; {ours['tickets']:,} / {theirs['tickets']:,} tickets; "
        f"{tq.load_average()} at the end (other work on the machine shows here)"
    )
    print()
    print("| (a) creation, one at a time | tickets | tickets/s | SQL per ticket | telcodesk / it |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| telcodesk `ticket_create` | {ours['create']['n']:,} | {ours_rate:,.0f} | "
        f"{ours['create']['statements']} | 1.00x |"
    )
    print(
        f"| helpdesk ORM: Ticket + FollowUp | {theirs['create']['n']:,} | {orm_rate:,.0f} | "
        f"{theirs['create']['statements']} | {ours_rate / orm_rate:.2f}x |"
    )
    print(
        f"| helpdesk `TicketForm.save` | {theirs['form_create']['n']:,} | {form_rate:,.0f} | "
        f"{theirs['form_create']['statements']} | {ours_rate / form_rate:.2f}x |"
    )
    print()
    print(
        f"| (b) agent's open tickets, page 1 of {args.page_size} + count | page loads | "
        "rows in queue (median) | p50 ms | p95 ms | p99 ms | SQL per page |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, side, figs in (
        ("telcodesk `tickets_queue` mine", ours, ours_list),
        ("helpdesk dashboard query", theirs, theirs_list),
    ):
        rows = tq.percentile([float(c) for c in side["list_rows"]], 0.5)
        print(
            f"| {label} | {len(side['list_ms'])} | {rows:,.0f} | {figs['p50_ms']:.2f} | "
            f"{figs['p95_ms']:.2f} | {figs['p99_ms']:.2f} | {side['list_statements']} |"
        )
    print(
        f"\nhelpdesk / telcodesk listing time: p50 "
        f"{theirs_list['p50_ms'] / ours_list['p50_ms']:.2f}x, p95 "
        f"{theirs_list['p95_ms'] / ours_list['p95_ms']:.2f}x (above 1: telcodesk is faster)"
    )
    print(
        json.dumps(
            {
                "benchmark": "helpdesk_compare",
                "helpdesk": theirs["version"],
                "tickets": args.tickets,
                "create_per_s": {
                    "telcodesk": round(ours_rate, 1),
                    "helpdesk_orm": round(orm_rate, 1),
                    "helpdesk_form": round(form_rate, 1),
                },
                "list": {"telcodesk": ours_list, "helpdesk": theirs_list},
            }
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(telcodesk_worker(args)))
        return
    version = venv_ready(Path(args.venv))
    if not version:
        raise SystemExit("django-helpdesk is not installed: no comparison")
    pg_recreate(args.pg_base, TELCODESK_DB)
    pg_recreate(args.pg_base, HELPDESK_DB)
    common = [
        f"--tickets={args.tickets}",
        f"--create={args.create}",
        f"--agents={args.agents}",
        f"--teams={args.teams}",
        f"--queries={args.queries}",
        f"--page-size={args.page_size}",
        f"--seed={args.seed}",
    ]
    ours = run_side(
        [
            sys.executable,
            __file__,
            "--worker",
            f"--customers={args.customers}",
            f"--src={args.src}",
            *common,
        ],
        dict(os.environ, TELCODESK_LOG_LEVEL="WARNING"),
        f"telcodesk: {args.create:,} ticket_create, load to {args.tickets:,}, queue pages",
    )
    from urllib.parse import urlsplit

    server = urlsplit(args.pg_base)
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as project:
        Path(project, "helpdesk_bench_settings.py").write_text(
            SETTINGS.format(
                name=HELPDESK_DB,
                user=server.username or "postgres",
                host=server.hostname or "127.0.0.1",
                port=str(server.port or 5432),
                media=str(Path(project, "media")),
            )
        )
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", tempfile.gettempdir()),
            "PYTHONPATH": project,
            "DJANGO_SETTINGS_MODULE": "helpdesk_bench_settings",
        }
        theirs = run_side(
            [
                str(Path(args.venv, "bin", "python")),
                str(Path(__file__).with_name("helpdesk_worker.py")),
                f"--form-create={args.form_create}",
                *common,
            ],
            env,
            f"django-helpdesk {version}: {args.create:,} ORM + {args.form_create:,} "
            f"TicketForm creations, load to {args.tickets:,}, dashboard pages",
        )
    report(args, ours, theirs)


if __name__ == "__main__":
    main()
