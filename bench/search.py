"""Customer search benchmark: the selector the UI uses against a naive scan.

Loads N customers with customers.demo_data (documents, phones, e-mails, services
with contracts, invoices...) into a benchmark database of its own, then measures p50/p95/p99
of each kind of search through ``customers.search.customer_search`` and, in the same
run, the same query texts done the naive way (``ILIKE '%q%'`` scans on PostgreSQL with
index scans switched off, ``LIKE '%q%'`` on SQLite). Prints figures; asserts nothing.

    .venv/bin/python bench/search.py --customers 100000 --db both
    .venv/bin/python bench/search.py --customers 1000000 --db postgres --keep

Databases: SQLite ``var/bench/search-N.sqlite3``; PostgreSQL ``telcodesk_bench`` on
127.0.0.1:5432 (``--pg-url`` to change), recreated unless ``--keep`` finds it loaded
with N customers. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/telcodesk_bench"
ORG_SLUG = "bench-operator"
KINDS = (
    "phone",
    "document",
    "service_id",
    "contract",
    "email",
    "name_exact",
    "name_partial",
    "name_typo",
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers to load")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--queries", type=int, default=200, help="queries per kind")
    parser.add_argument(
        "--naive-queries", type=int, default=20, help="queries per kind for the naive scan"
    )
    parser.add_argument("--keep", action="store_true", help="reuse a database loaded with N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--load-only", action="store_true", help="load, then stop")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help="comma-separated kinds to measure (all)"
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", PG_DEFAULT))
    return parser.parse_args(argv)


# --- setup --------------------------------------------------------------------------


def database_url(args: argparse.Namespace, vendor: str) -> str:
    if vendor == "sqlite":
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{BENCH_DIR / f'search-{args.customers}.sqlite3'}"
    return str(args.pg_url)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telcodesk.settings")
    os.environ.setdefault("TELCODESK_VAR_DIR", str(ROOT / "var"))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def pg_recreate(url: str, *, keep: bool) -> None:
    """Create the benchmark database (dropping it first unless ``keep``)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return
        if exists:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def loaded_count(org_id: int) -> int:
    from telcodesk.customers.models import Customer

    return Customer.objects.filter(organization_id=org_id).count()


def bench_organization() -> Any:
    from telcodesk.accounts.models import Organization

    org, _created = Organization.objects.get_or_create(
        slug=ORG_SLUG,
        defaults={
            "name": "Bench Operator",
            "country": "BO",
            "currency": "BOB",
            "time_zone": "America/La_Paz",
            "languages": ["es"],
        },
    )
    bench_plans(org)
    return org


def bench_plans(org: Any) -> None:
    """The plans of the comteco-bo pack, copied to the benchmark operator."""
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


def load(org: Any, count: int, seed: int) -> str:
    """Load ``count`` customers; returns which loader did it."""
    started = time.perf_counter()

    def progress(done: int, *_rest: Any) -> None:
        print(f"  loaded {done:,} in {time.perf_counter() - started:,.0f} s", flush=True)

    from telcodesk.customers.demo_data import generate_customers

    generate_customers(organization=org, count=count, seed=seed, progress=progress)
    loader = "customers.demo_data.generate_customers"
    analyze()
    print(f"  load done in {time.perf_counter() - started:,.0f} s ({loader})", flush=True)
    return loader


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- queries ------------------------------------------------------------------------


@dataclass
class Probe:
    kind: str
    text: str
    customer_id: int


def _swap_middle(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word + "x"
    index = rng.randrange(1, len(word) - 2)
    chars = list(word)
    chars[index], chars[index + 1] = chars[index + 1], chars[index]
    typo = "".join(chars)
    return typo if typo != word else word[:index] + "x" + word[index + 1 :]


def probes(org_id: int, per_kind: int, seed: int) -> list[Probe]:
    """Query texts typed the way agents type them, built from random stored customers."""
    import phonenumbers
    from django.db import connection

    from telcodesk.customers.models import ContactPoint, Customer, IdentityDocument, Subscription
    from telcodesk.customers.names import normalize_name

    rng = random.Random(seed + 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(id), MAX(id) FROM customers_customer WHERE organization_id = %s", [org_id]
        )
        low, high = cursor.fetchone()
    picked = [rng.randint(low, high) for _ in range(per_kind * 3)]
    customers = Customer.objects.in_bulk(picked)
    chosen = [customers[i] for i in picked if i in customers][:per_kind]
    ids = [c.pk for c in chosen]
    phones: dict[int, str] = {}
    emails: dict[int, str] = {}
    for customer_id, kind, value in ContactPoint.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "kind", "value"
    ):
        target = phones if kind == "phone" else emails
        target.setdefault(customer_id, value)
    documents = dict(
        IdentityDocument.objects.filter(customer_id__in=ids).values_list("customer_id", "number")
    )
    services = {
        row[0]: row[1:]
        for row in Subscription.objects.filter(customer_id__in=ids).values_list(
            "customer_id", "service_id", "contract_number"
        )
    }
    result: list[Probe] = []
    for c in chosen:
        if c.pk in phones:
            parsed = phonenumbers.parse(phones[c.pk], None)
            national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
            result.append(Probe("phone", national, c.pk))
        if c.pk in documents:
            number = documents[c.pk]
            dotted = f"{int(number):,}".replace(",", ".") if number.isdigit() else number
            result.append(Probe("document", dotted, c.pk))
        if c.pk in services:
            result.append(Probe("service_id", services[c.pk][0].lower(), c.pk))
            result.append(Probe("contract", services[c.pk][1], c.pk))
        if c.pk in emails:
            result.append(Probe("email", emails[c.pk].upper(), c.pk))
        full = c.display_name
        # The most telling word: a surname, or the longest word of a company name.
        words = sorted(normalize_name(c.last_name or c.company_name).split(), key=len)[-1:]
        if not words:
            continue
        result.append(Probe("name_exact", full, c.pk))
        result.append(Probe("name_partial", words[0][:4].capitalize(), c.pk))
        first = (c.first_name or "").split()
        typo = _swap_middle(words[0], rng)
        result.append(Probe("name_typo", " ".join([*first[:1], typo]), c.pk))
    return result


# --- measuring ----------------------------------------------------------------------


def naive_query(probe: Probe, org_id: int) -> tuple[str, list[Any]]:
    from django.db import connection

    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    pattern = f"%{probe.text.strip()}%"
    if probe.kind.startswith("name"):
        sql = (
            f"SELECT id FROM customers_customer WHERE organization_id = %s "
            f"AND search_name {like} %s LIMIT 20"
        )
    elif probe.kind in ("phone", "email"):
        sql = (
            f"SELECT customer_id FROM customers_contactpoint WHERE organization_id = %s "
            f"AND value {like} %s LIMIT 20"
        )
    elif probe.kind == "document":
        sql = (
            f"SELECT customer_id FROM customers_identitydocument WHERE organization_id = %s "
            f"AND number {like} %s LIMIT 20"
        )
    else:
        sql = (
            f"SELECT customer_id FROM customers_subscription WHERE organization_id = %s "
            f"AND (service_id {like} %s OR contract_number {like} %s) LIMIT 20"
        )
        return sql, [org_id, pattern, pattern]
    return sql, [org_id, pattern]


def run_naive(probe: Probe, org_id: int) -> None:
    from django.db import connection, transaction

    sql, params = naive_query(probe, org_id)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What the query costs without a suitable index: a sequential scan.
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(sql, params)
        cursor.fetchall()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def measure(args: argparse.Namespace, vendor: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    from telcodesk.accounts.roles import Role
    from telcodesk.core.tenancy import Actor
    from telcodesk.customers.search import customer_search

    call_command("migrate", verbosity=0)
    org = bench_organization()
    have = loaded_count(org.pk)
    loader = "reused"
    if have != args.customers:
        if have:
            raise SystemExit(f"{vendor}: database holds {have} customers, not {args.customers}")
        print(f"{vendor}: loading {args.customers:,} customers", flush=True)
        loader = load(org, args.customers, args.seed)
    if args.load_only:
        return
    actor = Actor(organization=org, role=Role.AGENT, label="bench")
    all_probes = probes(org.pk, args.queries, args.seed)
    for probe in all_probes[:50]:  # warm the caches and the connection
        customer_search(actor=actor, query=probe.text)
    rows = []
    for kind in [kind for kind in KINDS if kind in args.kinds.split(",")]:
        selected = [p for p in all_probes if p.kind == kind]
        times: list[float] = []
        found = 0
        for probe in selected:
            started = time.perf_counter()
            hits = customer_search(actor=actor, query=probe.text)
            times.append((time.perf_counter() - started) * 1000)
            found += any(hit.customer.pk == probe.customer_id for hit in hits)
        naive: list[float] = []
        for probe in selected[: args.naive_queries]:
            started = time.perf_counter()
            run_naive(probe, org.pk)
            naive.append((time.perf_counter() - started) * 1000)
        rows.append((kind, len(selected), found, times, naive))
    print()
    print(
        f"## {vendor} {connection.vendor} — {args.customers:,} customers, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, loader: {loader}"
    )
    print(machine_info(vendor))
    print()
    print(
        "| kind | n | found | p50 ms | p95 ms | p99 ms | naive n | naive p50 ms | "
        "naive p95 ms | naive/selector (p50) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, n, found, times, naive in rows:
        p50 = percentile(times, 0.5)
        naive50 = percentile(naive, 0.5)
        print(
            f"| {kind} | {n} | {found / max(n, 1):.0%} | {p50:.2f} | "
            f"{percentile(times, 0.95):.2f} | {percentile(times, 0.99):.2f} | {len(naive)} | "
            f"{naive50:.1f} | {percentile(naive, 0.95):.1f} | {naive50 / p50:,.0f}x |"
        )
    print(flush=True)
    _ = statistics  # kept for ad-hoc analysis in a REPL


def machine_info(vendor: str) -> str:
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        if vendor == "postgres":
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
    return (
        f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, {version}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.db == "both":
        # One process per database: the selector uses the default connection.
        base = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:])]
        for vendor in ("sqlite", "postgres"):
            command = [a for a in base if a not in ("--db", "both")] + ["--db", vendor]
            subprocess.run(command, check=True)
        return
    url = database_url(args, args.db)
    if args.db == "postgres":
        pg_recreate(url, keep=args.keep)
    elif not args.keep:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    setup_django(url)
    measure(args, args.db)


if __name__ == "__main__":
    main()
