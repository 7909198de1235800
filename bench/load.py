"""Demo data load benchmark: customers/s and rows/s, COPY against bulk_create.

Usage: .venv/bin/python bench/load.py [--customers 1000000] [--baseline 50000]
       [--sqlite-customers 100000] [--skip-sqlite] [--output var/bench/load.md]

Loads into a throw-away PostgreSQL database ``telcodesk_bench_load`` on 127.0.0.1:5432
(dropped and created again) and into a throw-away SQLite file, one operator (the
comteco-bo pack). The COPY load is generate_customers' default: for N at or above its
bulk threshold, indexes and foreign keys off during the load and rebuilt at the end
(included in the time), two loading processes. The baseline, measured in the same run
on PostgreSQL, writes the same generated rows with Django's bulk_create per batch
instead of COPY (indexes and foreign keys in place, one process), for a smaller N; its
rate is extrapolated to N. Prints figures; asserts nothing.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgresql://postgres@127.0.0.1:5432/telcodesk_bench_load"


def worker(customers: int, writer: str) -> None:
    """Runs in a child process whose DATABASE_URL points at the database to fill."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telcodesk.settings")
    django.setup()
    from django.core.management import call_command

    from telcodesk.accounts.models import Organization
    from telcodesk.customers.demo_data import LoadStats, generate_customers
    from telcodesk.packs.loader import pack_load

    call_command("migrate", verbosity=0, interactive=False)
    pack_load("comteco-bo")
    organization = Organization.objects.get(slug="comteco")
    stats = LoadStats()
    started = time.perf_counter()
    generate_customers(
        organization=organization,
        count=customers,
        seed=1,
        writer=writer,  # type: ignore[arg-type]
        stats=stats,
    )
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "customers": customers,
                "rows": stats.rows,
                "rebuild": stats.seconds_rebuilding,
            }
        )
    )


def run(database_url: str, customers: int, writer: str) -> dict[str, object]:
    env = dict(os.environ, DATABASE_URL=database_url, TELCODESK_LOG_LEVEL="WARNING")
    result = subprocess.run(
        [sys.executable, __file__, "--worker", str(customers), writer],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def recreate_postgres() -> None:
    for sql in (
        "DROP DATABASE IF EXISTS telcodesk_bench_load",
        "CREATE DATABASE telcodesk_bench_load",
    ):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
            check=True,
            capture_output=True,
        )


def postgres_version() -> str:
    result = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-At", "-c", "SHOW server_version"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().split(" ")[0]


def describe(label: str, result: dict[str, object]) -> list[str]:
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    customers = int(result["customers"])  # type: ignore[call-overload]
    rows: dict[str, int] = result["rows"]  # type: ignore[assignment]
    total = sum(rows.values())
    lines = [
        f"### {label}",
        "",
        f"{customers:,} customers, {total:,} rows in {seconds:.1f} s: "
        f"**{customers / seconds:,.0f} customers/s**, {total / seconds:,.0f} rows/s",
        "",
    ]
    rebuild = float(result.get("rebuild") or 0)  # type: ignore[arg-type]
    if rebuild:
        lines += [
            f"Of which {rebuild:.1f} s rebuilding the indexes and foreign keys dropped for "
            f"the load, after {seconds - rebuild:.1f} s of COPY.",
            "",
        ]
    lines += [
        "| table | rows | rows/s (whole load) |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {count:,} | {count / seconds:,.0f} |" for name, count in rows.items() if count
    ]
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=50_000)
    parser.add_argument("--sqlite-customers", type=int, default=100_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    # The figures go to var/; copy them into docs/benchmarks.md ("Demo data load").
    parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "load.md"))
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(int(args.worker[0]), args.worker[1])
        return

    sections: list[str] = []
    recreate_postgres()
    print(f"PostgreSQL, COPY: {args.customers:,} customers...", flush=True)
    copy = run(PG_URL, args.customers, "copy")
    sections += describe("PostgreSQL, COPY (generate_customers default)", copy)
    print(f"  {copy['seconds']:.1f} s", flush=True)

    recreate_postgres()
    print(f"PostgreSQL, bulk_create baseline: {args.baseline:,} customers...", flush=True)
    baseline = run(PG_URL, args.baseline, "orm")
    sections += describe("PostgreSQL, baseline: Django bulk_create per batch", baseline)
    copy_rate = args.customers / float(copy["seconds"])  # type: ignore[arg-type]
    baseline_rate = args.baseline / float(baseline["seconds"])  # type: ignore[arg-type]
    sections += [
        f"Baseline extrapolated to {args.customers:,} customers: "
        f"{args.customers / baseline_rate:,.0f} s; COPY is **{copy_rate / baseline_rate:.2f}x** "
        "the baseline's rate.",
        "",
    ]
    print(f"  ratio COPY/bulk_create {copy_rate / baseline_rate:.2f}", flush=True)

    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"SQLite, executemany: {args.sqlite_customers:,} customers...", flush=True)
            sqlite = run(f"sqlite:///{tmp}/bench.sqlite3", args.sqlite_customers, "sql")
            sections += describe("SQLite, executemany (+ CustomerNameKey rows)", sqlite)
            print(f"  {sqlite['seconds']:.1f} s", flush=True)

    header = [
        "## Demo data load",
        "",
        f"`bench/load.py --customers {args.customers} --baseline {args.baseline} "
        f"--sqlite-customers {args.sqlite_customers}` on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}. One operator (COMTECO); PostgreSQL "
        f"{postgres_version()} on the same machine with default settings.",
        "",
    ]
    text = "\n".join(header + sections)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
