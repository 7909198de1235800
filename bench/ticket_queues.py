"""Ticket queues at a million tickets: the console's queue selector against a sequential scan.

Creates a throw-away PostgreSQL database, migrates it, loads N tickets (default
1,000,000) for one operator with COPY, plus tickets of two other organizations in the same
table, ANALYZE, then times ``tickets.selectors.tickets_queue`` the way the console's queue
page renders it (``Paginator(...).get_page(1)``: the count, then the first page of rows with
their customer, assignee, team and subcategory) for every scope the selector offers
(mine and team for each of the agents; unassigned, all and any newer scope for the
supervisors): p50/p95/p99 in milliseconds. The baseline, in the same run and the same
database, is the same selector with the ``tickets_ticket`` indexes that are not the primary
key or a unique constraint dropped inside a transaction that is rolled back afterwards:
what the queue costs without the indexes the app relies on (a sequential scan).
Prints figures; asserts nothing.

    flock /tmp/telcodesk-bench.lock .venv/bin/python bench/ticket_queues.py
    flock /tmp/telcodesk-bench.lock .venv/bin/python bench/ticket_queues.py --tickets 100000 --keep

See bench/README.md ("Ticket queues").
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/telcodesk_bench_he_queues"
ORG_SLUG = "bench-queues"
OTHER_SLUGS = ("bench-queues-other-1", "bench-queues-other-2")
TARGET_P95_MS = 50.0

# The shape of a contact centre's ticket table, as weights.
PRIORITIES = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
CATEGORIES = (
    ("technical", 55),
    ("billing", 20),
    ("administrative", 10),
    ("commercial", 10),
    ("other", 5),
)
CHANNELS = (("call", 55), ("whatsapp", 30), ("email", 10), ("web", 5))
OPEN = (("new", 30), ("in_progress", 35), ("waiting_customer", 25), ("visit_scheduled", 10))
DONE = (("closed", 80), ("resolved", 20))
SUBJECTS = {
    "technical": (
        "Sin servicio de internet",
        "Internet lento por las noches",
        "Se corta el Wi-Fi",
        "ONU con luz roja",
        "Sin señal de TV",
        "Intermitencia en la fibra",
    ),
    "billing": ("Cobro duplicado", "Factura con monto incorrecto", "Pago no reflejado"),
    "administrative": ("Cambio de titular", "Actualizar dirección", "Copia de contrato"),
    "commercial": ("Cambio de plan", "Consulta por promoción", "Agregar servicio de TV"),
    "other": ("Reclamo por atención", "Consulta general"),
}
# Of the newest tickets this share is still open; of the rest a few are stuck open. With
# RECENT_SHARE 6 % of the table this gives ~8 % open overall (0.06 * 0.7 + 0.94 * 0.04).
RECENT_SHARE = 0.06
RECENT_OPEN = 0.70
OLD_OPEN = 0.04
UNASSIGNED = 0.06  # nobody works it yet
TEAM_ONLY = 0.04  # a supervisor gave it to a team only
HISTORY_DAYS = 730


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000, help="of the measured operator")
    parser.add_argument(
        "--other-tickets",
        type=int,
        default=-1,
        help="tickets of the two other organizations in the same table (default N/10)",
    )
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--teams", type=int, default=5)
    parser.add_argument("--customers", type=int, default=20_000, help="of the measured operator")
    parser.add_argument("--queries", type=int, default=250, help="timed page loads per scope")
    parser.add_argument(
        "--baseline-queries", type=int, default=20, help="per scope, without the indexes"
    )
    parser.add_argument(
        "--page-size", type=int, default=0, help="rows per page (0: the console's page size)"
    )
    parser.add_argument(
        "--try-index",
        action="append",
        default=[],
        metavar="SQL",
        help="CREATE INDEX statement to add after the main measurement; the scopes are "
        "measured again with it, then it is dropped (repeatable)",
    )
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE per scope")
    parser.add_argument("--keep", action="store_true", help="reuse a database loaded with N")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument(
        "--src",
        default="",
        help="import telcodesk from this directory instead of src/ (e.g. an export of a "
        "commit, to measure it while the work tree is mid-change)",
    )
    args = parser.parse_args(argv)
    if args.other_tickets < 0:
        args.other_tickets = args.tickets // 10
    return args


# --- setup --------------------------------------------------------------------------


def setup_django(url: str, src: str = "") -> None:
    """Django on ``url``, importing telcodesk from ``src`` (default: this tree's src/)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telcodesk.settings")
    os.environ.setdefault("TELCODESK_VAR_DIR", str(ROOT / "var"))
    os.environ.setdefault("TELCODESK_LOG_LEVEL", "WARNING")
    # Production mode, as a server runs: with DEBUG on, Django also logs every query.
    os.environ.setdefault("TELCODESK_DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    sys.path.insert(0, src or str(ROOT / "src"))
    import django

    django.setup()


def pg_recreate(url: str, *, keep: bool) -> bool:
    """Create the benchmark database (dropping it first unless ``keep``); True if new."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return False
        if exists:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return True


def weighted(options: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [value for value, _weight in options], [weight for _value, weight in options]


def bench_plans(org: Any) -> None:
    """The plans of the comteco-bo pack, so that the demo customers get services."""
    from telcodesk.customers.models import Plan
    from telcodesk.packs.loader import pack_parse, pack_path

    pack = pack_parse(pack_path("comteco-bo"))
    for spec in pack.organizations:
        for plan in getattr(spec, "plans", None) or []:
            Plan.objects.get_or_create(
                organization=org,
                code=plan.code,
                defaults={
                    "name": plan.name,
                    "service_type": plan.service_type.value,
                    "technology": plan.technology.value if plan.technology else "",
                    "download_mbps": plan.download_mbps,
                    "upload_mbps": plan.upload_mbps,
                    "monthly_price": plan.monthly_price,
                    "currency": plan.currency or org.currency,
                },
            )


def organization_get(slug: str, name: str) -> Any:
    from telcodesk.accounts.models import Organization

    org, created = Organization.objects.get_or_create(
        slug=slug,
        defaults={
            "name": name,
            "country": "BO",
            "currency": "BOB",
            "time_zone": "America/La_Paz",
            "languages": ["es"],
        },
    )
    if created:
        bench_plans(org)
    return org


@dataclass
class Staff:
    """An organization's people: agents in teams, and one supervisor per team."""

    organization: Any
    teams: list[Any] = field(default_factory=list)
    agents: list[Any] = field(default_factory=list)  # users
    agent_team: dict[int, int] = field(default_factory=dict)  # user id -> team id
    supervisors: list[Any] = field(default_factory=list)


def staff_create(org: Any, *, agents: int, teams: int) -> Staff:
    """``agents`` agents spread over ``teams`` teams, plus one supervisor per team
    (idempotent: an existing benchmark database keeps its people)."""
    from telcodesk.accounts.models import Membership, Team, User
    from telcodesk.accounts.roles import Role

    staff = Staff(org)
    for t in range(teams):
        team, _created = Team.objects.get_or_create(organization=org, name=f"Equipo {t + 1}")
        staff.teams.append(team)
    for a in range(agents):
        team = staff.teams[a % teams]
        user, _created = User.objects.get_or_create(
            username=f"{org.slug}-agent-{a + 1:03d}",
            defaults={"first_name": "Agente", "last_name": f"{a + 1:03d}"},
        )
        Membership.objects.get_or_create(
            user=user, organization=org, defaults={"role": Role.AGENT, "team": team}
        )
        staff.agents.append(user)
        staff.agent_team[user.pk] = team.pk
    for t, team in enumerate(staff.teams):
        user, _created = User.objects.get_or_create(
            username=f"{org.slug}-supervisor-{t + 1}",
            defaults={"first_name": "Supervisor", "last_name": str(t + 1)},
        )
        Membership.objects.get_or_create(
            user=user, organization=org, defaults={"role": Role.SUPERVISOR, "team": team}
        )
        staff.supervisors.append(user)
    return staff


def customers_ensure(org: Any, count: int, seed: int) -> list[int]:
    """The organization's demo customers (customers.demo_data), loaded when missing."""
    from telcodesk.customers.demo_data import generate_customers
    from telcodesk.customers.models import Customer

    have = Customer.objects.filter(organization=org).count()
    if have < count:
        generate_customers(organization=org, count=count - have, seed=seed, start_index=have)
    return list(Customer.objects.filter(organization=org).values_list("id", flat=True))


# --- the ticket loader ----------------------------------------------------------------


class TicketColumns:
    """The COPY column list of ``tickets_ticket``, read from the model at run time.

    The loader supplies the columns a queue depends on; every other column gets the
    model field's default, NULL when the field is nullable, "" for an optional text
    field, or is left to a database default; a new NOT NULL column without any default
    stops the load with its name (the loader must learn it), so fields added to Ticket
    later need no change here.
    """

    def __init__(
        self, supplied: Sequence[str], now: datetime, optional: Sequence[str] = ()
    ) -> None:
        from django.db import connection, models

        from telcodesk.tickets.models import Ticket

        self.supplied = list(supplied)
        self.fixed: dict[str, Any] = {}
        self.defaulted: list[str] = []
        # A field whose migration is not written yet (the model is being changed while
        # this runs) has no column: leave it out, and say so.
        with connection.cursor() as cursor:
            in_table = {
                column.name
                for column in connection.introspection.get_table_description(
                    cursor, Ticket._meta.db_table
                )
            }
        self.missing = [f.column for f in Ticket._meta.concrete_fields if f.column not in in_table]
        # Columns the loader fills when the table has them (the SLA copies on the ticket).
        self.optional = [name for name in optional if name in in_table]
        self.supplied += self.optional
        for model_field in Ticket._meta.concrete_fields:
            name = model_field.attname
            if model_field.primary_key or name in self.supplied:
                continue
            if model_field.column not in in_table:
                continue
            if model_field.has_default():
                value = model_field.get_db_prep_save(model_field.get_default(), connection)
            elif getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            ):
                value = now
            elif model_field.db_default is not models.NOT_PROVIDED:
                continue  # the database fills it
            elif model_field.null:
                value = None
            elif model_field.blank and model_field.empty_strings_allowed:
                value = ""  # what Django saves for an optional text field left out
            else:
                raise SystemExit(
                    f"tickets_ticket.{model_field.column} is NOT NULL without a default: "
                    "teach bench/ticket_queues.py's loader a value for it"
                )
            self.fixed[model_field.column] = value
            self.defaulted.append(model_field.column)
        columns = {f.attname: f.column for f in Ticket._meta.concrete_fields}
        self.columns = [columns[name] for name in self.supplied] + list(self.fixed)
        self.table = Ticket._meta.db_table

    def copy_statement(self) -> str:
        names = ", ".join(f'"{column}"' for column in self.columns)
        return f'COPY "{self.table}" ({names}) FROM STDIN'


@dataclass
class LoadPlan:
    organization: Any
    staff: Staff
    customer_ids: list[int]
    count: int
    first_number: int = 1  # tickets created before the load took the numbers below


SUPPLIED = (
    "organization_id",
    "number",
    "customer_id",
    "category",
    "subject",
    "priority",
    "status",
    "status_changed_at",
    "resolved_at",
    "closed_at",
    "assigned_user_id",
    "assigned_team_id",
    "channel",
    "created_by_id",
    "created_at",
    "updated_at",
)


# Filled when the tickets table has them: the SLA moments the SLA queues range over.
SLA_OPTIONAL = ("sla_due_at", "sla_warn_at", "sla_breached_at")
# Resolution budgets in wall-clock hours (business hours stretched over nights and
# weekends) by priority; the warning at 80 % of the budget.
SLA_BUDGET_HOURS = {"urgent": (4, 12), "high": (12, 36), "normal": (24, 96), "low": (48, 168)}
HISTORICAL_BREACH = 0.08  # closed tickets that had breached their SLA on the way


def sla_moments(
    rng: random.Random, priority: str, status: str, created: datetime, now: datetime
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(due, warn, breached) as an SLA clock leaves them: running clocks of open tickets
    have a due moment and a warning point (a paused clock, waiting for the customer, is
    pushed later), a clock past due has breached; a finished ticket has no running
    clock, and a few breached on the way."""
    low, high = SLA_BUDGET_HOURS[priority]
    budget = timedelta(hours=rng.uniform(low, high))
    if status in ("closed", "resolved"):
        breached = created + budget if rng.random() < HISTORICAL_BREACH else None
        return None, None, breached
    due = created + budget
    if status == "waiting_customer":
        due = max(due, now + timedelta(hours=rng.uniform(1, 48)))
    warn = due - budget * 0.2
    return due, warn, (due if due < now else None)


def ticket_rows(
    plan: LoadPlan, rng: random.Random, now: datetime, sla: Sequence[str] = ()
) -> Iterator[tuple[Any, ...]]:
    """The organization's tickets oldest first (ids grow with age, as in production):
    the newest are mostly open, older ones mostly closed; agents' loads are uneven.
    ``sla``: the SLA_OPTIONAL columns the table has, appended to each row in that order."""
    org_id = plan.organization.pk
    agents = plan.staff.agents
    agent_weights = [rng.uniform(0.5, 1.5) for _ in agents]
    teams = [team.pk for team in plan.staff.teams]
    priorities, priority_w = weighted(PRIORITIES)
    categories, category_w = weighted(CATEGORIES)
    channels, channel_w = weighted(CHANNELS)
    open_statuses, open_w = weighted(OPEN)
    done_statuses, done_w = weighted(DONE)
    start = now - timedelta(days=HISTORY_DAYS)
    span = (now - start).total_seconds()
    recent_from = int(plan.count * (1 - RECENT_SHARE))
    batch = 10_000
    for base in range(0, plan.count, batch):
        size = min(batch, plan.count - base)
        pick_agent = rng.choices(agents, agent_weights, k=size)
        pick_priority = rng.choices(priorities, priority_w, k=size)
        pick_category = rng.choices(categories, category_w, k=size)
        pick_channel = rng.choices(channels, channel_w, k=size)
        for offset in range(size):
            index = base + offset
            created = start + timedelta(seconds=span * (index + rng.random()) / plan.count)
            is_open = rng.random() < (RECENT_OPEN if index >= recent_from else OLD_OPEN)
            if is_open:
                status = rng.choices(open_statuses, open_w)[0]
            else:
                status = rng.choices(done_statuses, done_w)[0]
            changed = min(now, created + timedelta(hours=rng.uniform(0.1, 96)))
            resolved = changed if status in ("resolved", "closed") else None
            closed = changed if status == "closed" else None
            roll = rng.random()
            agent = pick_agent[offset]
            if roll < UNASSIGNED:
                user_id, team_id = None, None
            elif roll < UNASSIGNED + TEAM_ONLY:
                user_id, team_id = None, rng.choice(teams)
            else:
                user_id, team_id = agent.pk, plan.staff.agent_team[agent.pk]
            category = pick_category[offset]
            subject = rng.choice(SUBJECTS[category])
            extra: tuple[Any, ...] = ()
            if sla:
                moments = dict(
                    zip(
                        SLA_OPTIONAL,
                        sla_moments(rng, pick_priority[offset], status, created, now),
                        strict=True,
                    )
                )
                extra = tuple(moments[name] for name in sla)
            yield (
                org_id,
                plan.first_number + index,
                rng.choice(plan.customer_ids),
                category,
                subject,
                pick_priority[offset],
                status,
                changed,
                resolved,
                closed,
                user_id,
                team_id,
                pick_channel[offset],
                agent.pk,
                created,
                changed,
                *extra,
            )


def _copy_text(value: Any) -> str:
    """COPY's text form of one value (the loader's strings hold no tab, newline or
    backslash)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    adapted = getattr(value, "obj", None)  # psycopg's Jsonb wrapper around the default
    if adapted is not None or type(value).__name__ == "Jsonb":
        return json.dumps(adapted)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def tickets_copy(plans: Sequence[LoadPlan], seed: int, progress: Callable[[int], None]) -> int:
    """COPY the plans' tickets in chunks of pre-joined text; set each TicketCounter."""
    from django.db import connection

    from telcodesk.tickets.models import TicketCounter

    now = datetime.now(UTC)
    columns = TicketColumns(SUPPLIED, now, SLA_OPTIONAL)
    fixed = "\t".join(_copy_text(value) for value in columns.fixed.values())
    suffix = f"\t{fixed}\n" if fixed else "\n"
    rng = random.Random(seed)
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for plan in plans:
            buffer = io.StringIO()
            with raw.copy(columns.copy_statement()) as copy:
                for row in ticket_rows(plan, rng, now, columns.optional):
                    buffer.write("\t".join(map(_copy_text, row)))
                    buffer.write(suffix)
                    written += 1
                    if written % 50_000 == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                        progress(written)
                copy.write(buffer.getvalue())
            TicketCounter.objects.update_or_create(
                organization=plan.organization,
                defaults={"last_number": plan.first_number - 1 + plan.count},
            )
    print(f"  columns left to defaults: {', '.join(columns.defaulted) or 'none'}", flush=True)
    if columns.optional:
        print(f"  SLA columns filled: {', '.join(columns.optional)}", flush=True)
    if columns.missing:
        print(f"  model fields without a column yet: {', '.join(columns.missing)}", flush=True)
    return written


@dataclass(frozen=True)
class SecondaryIndex:
    name: str
    definition: str


def secondary_indexes(table: str) -> list[SecondaryIndex]:
    """Indexes of ``table`` that back no constraint (not the primary key, not a unique
    constraint): the ones the queues' speed depends on."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = %s
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
            ORDER BY i.relname
            """,
            [table],
        )
        return [SecondaryIndex(name, definition) for name, definition in cursor.fetchall()]


def load(args: argparse.Namespace) -> dict[str, Any]:
    """People, customers and tickets of the three organizations; returns what is loaded."""
    from django.db import connection, transaction

    from telcodesk.tickets.models import Ticket

    started = time.perf_counter()
    org = organization_get(ORG_SLUG, "Bench Queues Operator")
    staff = staff_create(org, agents=args.agents, teams=args.teams)
    print(f"  customers: {args.customers:,}", flush=True)
    customer_ids = customers_ensure(org, args.customers, args.seed)
    plans = [LoadPlan(org, staff, customer_ids, args.tickets)]
    for position, slug in enumerate(OTHER_SLUGS):
        other = organization_get(slug, f"Bench Queues Other {position + 1}")
        other_staff = staff_create(other, agents=10, teams=2)
        other_customers = customers_ensure(other, 2_000, args.seed + position + 1)
        share = args.other_tickets // len(OTHER_SLUGS)
        if share:
            plans.append(LoadPlan(other, other_staff, other_customers, share))
    if Ticket.objects.exists():
        raise SystemExit("the benchmark database already holds tickets: drop it or omit --keep")
    table = Ticket._meta.db_table
    indexes = secondary_indexes(table)
    customers_done = time.perf_counter()
    print(f"  {sum(p.count for p in plans):,} tickets by COPY", flush=True)

    def progress(done: int) -> None:
        if done % 200_000 == 0:
            print(f"    {done:,} in {time.perf_counter() - customers_done:,.0f} s", flush=True)

    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are consistent by construction: skip the per-row foreign-key triggers
        # and build the secondary indexes once at the end instead of row by row.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for index in indexes:
            cursor.execute(f'DROP INDEX "{index.name}"')
        written = tickets_copy(plans, args.seed, progress)
        copied = time.perf_counter()
        for index in indexes:
            cursor.execute(index.definition)
    indexed = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    done = time.perf_counter()
    print(
        f"  {written:,} tickets: COPY {copied - customers_done:,.1f} s "
        f"({written / (copied - customers_done):,.0f}/s), {len(indexes)} indexes "
        f"{indexed - copied:,.1f} s, VACUUM ANALYZE {done - indexed:,.1f} s; "
        f"whole load with customers {done - started:,.0f} s",
        flush=True,
    )
    return {"tickets": written, "load_s": round(done - started, 1)}


# --- measuring ----------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Timing:
    scope: str
    times_ms: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {
            "n": len(self.times_ms),
            "p50_ms": round(percentile(self.times_ms, 0.5), 2),
            "p95_ms": round(percentile(self.times_ms, 0.95), 2),
            "p99_ms": round(percentile(self.times_ms, 0.99), 2),
            "max_ms": round(max(self.times_ms), 2) if self.times_ms else float("nan"),
            "median_rows": percentile([float(c) for c in self.counts], 0.5),
        }


def actors_for(org: Any) -> tuple[list[Any], list[Any]]:
    """(agents, supervisors) of the measured organization as the console builds them."""
    from telcodesk.accounts.models import Membership
    from telcodesk.accounts.roles import Role
    from telcodesk.core.tenancy import Actor

    agents: list[Any] = []
    supervisors: list[Any] = []
    for membership in (
        Membership.objects.filter(organization=org).select_related("user").order_by("user_id")
    ):
        actor = Actor(organization=org, role=membership.role, user=membership.user)
        (supervisors if membership.role == Role.SUPERVISOR else agents).append(actor)
    return agents, supervisors


def scopes_to_measure(agent: Any, supervisor: Any) -> list[tuple[str, str]]:
    """(queue, who) for every queue the selector offers: an agent's own queues are timed
    for the agents, the rest (unassigned, all, and any scope added later) for the
    supervisors. When the selector has SLA filters (``TicketFilters.sla``), each of them
    is timed on mine and team (agents) and all (supervisors), as "<scope> <filter>"."""
    import dataclasses

    from telcodesk.tickets import selectors

    result: list[tuple[str, str]] = []
    for scope in selectors.Scope.CHOICES:
        if scope in (selectors.Scope.MINE, selectors.Scope.TEAM):
            result.append((scope, "agents"))
        elif scope in selectors.scopes_for(supervisor):
            result.append((scope, "supervisors"))
    sla_filter = getattr(selectors, "SlaFilter", None)
    has_sla = "sla" in {f.name for f in dataclasses.fields(selectors.TicketFilters)}
    if sla_filter is not None and has_sla:
        for sla in sla_filter.CHOICES:
            result += [
                (f"{selectors.Scope.MINE} {sla}", "agents"),
                (f"{selectors.Scope.TEAM} {sla}", "agents"),
                (f"{selectors.Scope.ALL} {sla}", "supervisors"),
            ]
    return result


def page_load(actor: Any, queue: str, page_size: int) -> int:
    """One queue page as the console's queue view builds it; returns the queue's count.
    ``queue``: a scope, or "<scope> <SLA filter>"."""
    from django.core.paginator import Paginator

    from telcodesk.tickets import selectors

    scope, _space, sla = queue.partition(" ")
    extra: dict[str, str] = {"sla": sla} if sla else {}
    filters = selectors.TicketFilters(scope=scope, **extra)  # type: ignore[arg-type]
    tickets = selectors.tickets_queue(actor=actor, filters=filters)
    page = Paginator(tickets, page_size).get_page(1)
    rows = list(page.object_list)
    for ticket in rows:  # what the rows template reads
        _ = (ticket.customer.display_name, ticket.assigned_user, ticket.assigned_team)
    return int(page.paginator.count)


def time_scopes(
    plan: list[tuple[str, str]],
    agents: list[Any],
    supervisors: list[Any],
    per_scope: int,
    page_size: int,
) -> dict[str, Timing]:
    timings: dict[str, Timing] = {}
    for scope, who in plan:
        people = agents if who == "agents" else supervisors
        timing = Timing(scope)
        for index in range(per_scope):
            actor = people[index % len(people)]
            started = time.perf_counter()
            count = page_load(actor, scope, page_size)
            timing.times_ms.append((time.perf_counter() - started) * 1000)
            timing.counts.append(count)
        timings[scope] = timing
    return timings


@contextmanager
def indexes_dropped(table: str) -> Iterator[list[SecondaryIndex]]:
    """Inside a transaction that is rolled back: the table without its secondary indexes."""
    from django.db import connection, transaction

    indexes = secondary_indexes(table)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for index in indexes:
                cursor.execute(f'DROP INDEX "{index.name}"')
            yield indexes
            raise _Rollback
    except _Rollback:
        pass


class _Rollback(Exception):
    pass


def explain(actor: Any, scope: str, page_size: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each SQL statement one console page load runs, as
    captured from the connection (the membership look-up, the count, the page)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        page_load(actor, scope, page_size)
    parts = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            parts.append(f"-- {scope}: {query['sql']}\n{plan}")
    return "\n\n".join(parts)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def machine_info() -> str:
    from django.db import connection

    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split(" ")[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, "
        f"PostgreSQL {version} (shared_buffers {buffers}), {platform.system()} "
        f"{platform.release()}"
    )


def table_summary(org: Any) -> str:
    from django.db import connection

    from telcodesk.tickets.models import OPEN_STATUSES, Ticket

    total = Ticket.objects.count()
    mine = Ticket.objects.filter(organization=org)
    org_total = mine.count()
    open_count = mine.filter(status__in=OPEN_STATUSES).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('tickets_ticket'))")
        size = cursor.fetchone()[0]
    return (
        f"tickets_ticket: {total:,} rows ({size} with indexes); the measured operator "
        f"{org_total:,}, open {open_count:,} ({open_count / max(org_total, 1):.1%})"
    )


def print_table(
    timings: dict[str, Timing], baseline: dict[str, Timing], who: dict[str, str]
) -> None:
    print(
        "| queue | timed for | n | rows in queue (median) | p50 ms | p95 ms | p99 ms | max ms "
        "| no-index n | no-index p50 ms | no-index p95 ms | no-index/selector (p95) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scope, timing in timings.items():
        f = timing.figures()
        b = baseline[scope].figures() if scope in baseline else None
        base = (
            f"{b['n']} | {b['p50_ms']:.1f} | {b['p95_ms']:.1f} | {b['p95_ms'] / f['p95_ms']:,.1f}x"
            if b
            else "- | - | - | -"
        )
        print(
            f"| {scope} | {who[scope]} | {f['n']} | {f['median_rows']:,.0f} | {f['p50_ms']:.2f} "
            f"| {f['p95_ms']:.2f} | {f['p99_ms']:.2f} | {f['max_ms']:.2f} | {base} |"
        )


def measure(args: argparse.Namespace, loaded: dict[str, Any]) -> None:
    from django.db import connection

    from telcodesk.accounts.models import Organization
    from telcodesk.tickets import views
    from telcodesk.tickets.models import Ticket

    page_size = args.page_size or views.QUEUE_PAGE_SIZE
    org = Organization.objects.get(slug=ORG_SLUG)
    agents, supervisors = actors_for(org)
    plan = scopes_to_measure(agents[0], supervisors[0])
    who = dict(plan)
    table = Ticket._meta.db_table
    load_before = load_average()
    # Warm the caches (shared buffers, the OS page cache, Django's query compilation).
    time_scopes(plan, agents, supervisors, max(len(agents), 10), page_size)
    timings = time_scopes(plan, agents, supervisors, args.queries, page_size)
    explained: list[str] = []
    if args.explain:
        for scope, whose in plan:
            actor = agents[0] if whose == "agents" else supervisors[0]
            explained.append(explain(actor, scope, page_size))
    with indexes_dropped(table) as dropped:
        baseline = time_scopes(plan, agents, supervisors, args.baseline_queries, page_size)
    tried: dict[str, Timing] = {}
    if args.try_index:
        with connection.cursor() as cursor:
            for statement in args.try_index:
                cursor.execute(statement)
            cursor.execute(f"ANALYZE {table}")
        time_scopes(plan, agents, supervisors, max(len(agents), 10), page_size)
        tried = time_scopes(plan, agents, supervisors, args.queries, page_size)
        if args.explain:
            for scope, whose in plan:
                actor = agents[0] if whose == "agents" else supervisors[0]
                explained.append("-- with --try-index\n" + explain(actor, scope, page_size))
        added = {index.name for index in secondary_indexes(table)} - {
            index.name for index in dropped
        }
        with connection.cursor() as cursor:
            for name in sorted(added):
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute(f"ANALYZE {table}")

    print()
    print(
        f"## Ticket queues — {args.tickets:,} tickets of one operator, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load: {loaded.get('load_s', 'reused')} s"
    )
    print(machine_info())
    print(
        f"{load_before} before, {load_average()} after (other work on the machine shows "
        "here: the lock only keeps benchmarks apart)"
    )
    print(table_summary(org))
    print(
        f"{len(agents)} agents in {len(set(a.user.memberships.get().team_id for a in agents))} "
        f"teams, {len(supervisors)} supervisors; page of {page_size} (the console's "
        f"Paginator: COUNT, then the page with customer, assignee, team, subcategory)"
    )
    print(
        f"baseline: the same selector without the {len(dropped)} secondary indexes of "
        f"{table} ({', '.join(index.name for index in dropped)})"
    )
    print()
    print_table(timings, baseline, who)
    if tried:
        print()
        print("With " + "; ".join(args.try_index) + ":")
        print()
        print_table(tried, {}, who)
    worst = max(t.figures()["p95_ms"] for t in timings.values())
    print()
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms: worst scope p95 {worst:.2f} ms — "
        f"{'met' if worst < TARGET_P95_MS else 'missed'}"
    )
    summary = {
        "benchmark": "ticket_queues",
        "tickets": args.tickets,
        "other_tickets": args.other_tickets,
        "page_size": page_size,
        "scopes": {scope: t.figures() for scope, t in timings.items()},
        "baseline_no_indexes": {scope: t.figures() for scope, t in baseline.items()},
    }
    if tried:
        summary["with_try_index"] = {scope: t.figures() for scope, t in tried.items()}
    print(json.dumps(summary))
    if explained:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        target = BENCH_DIR / f"ticket-queues-{args.tickets}-explain.txt"
        target.write_text("\n\n".join(explained) + "\n")
        print(f"EXPLAIN ANALYZE written to {target}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    fresh = pg_recreate(args.pg_url, keep=args.keep)
    setup_django(args.pg_url, args.src)
    from django.core.management import call_command

    from telcodesk.accounts.models import Organization
    from telcodesk.tickets.models import Ticket

    call_command("migrate", verbosity=0)
    loaded: dict[str, Any] = {}
    org = Organization.objects.filter(slug=ORG_SLUG).first()
    have = Ticket.objects.filter(organization=org).count() if org else 0
    if fresh or have == 0:
        print(f"loading {args.tickets:,} tickets (+{args.other_tickets:,} of others)", flush=True)
        loaded = load(args)
    elif have != args.tickets:
        raise SystemExit(f"the database holds {have:,} tickets, not {args.tickets:,}")
    if args.load_only:
        return
    measure(args, loaded)


if __name__ == "__main__":
    main()
