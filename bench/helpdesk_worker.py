"""django-helpdesk's side of bench/helpdesk_compare.py; runs in the throw-away venv.

Not a telcodesk module and never imported by it: bench/helpdesk_compare.py writes a
minimal Django project (settings only) to a temporary directory, then runs this file with
the venv's Python, ``DJANGO_SETTINGS_MODULE`` pointing at that project and
``DATABASE_URL`` at a PostgreSQL database of its own. It prints one JSON line.

Phases, in the same order as telcodesk's side (bench/helpdesk_compare.py --worker):

1. people: the agents (staff users), one helpdesk ``Queue`` per team;
2. creation: ``--create`` tickets through the ORM the way helpdesk's own form saves one
   (a ``Ticket`` in a ``Queue`` with its "Ticket Opened" ``FollowUp``, in one
   transaction), then ``--form-create`` through ``helpdesk.forms.TicketForm.save`` (the
   staff "new ticket" form: validation, the follow-up, the notification e-mails, sent to
   Django's in-memory backend);
3. load: the created tickets get the shares of statuses of the loaded ones, then the rest
   up to ``--tickets`` come from ``ticket_queues.ticket_rows`` (the same generator and
   seed as telcodesk's side) with ``bulk_create``; ANALYZE;
4. listing: helpdesk's dashboard query for an agent's open tickets
   (``Ticket.objects.select_related("queue").exclude(status__in=[closed, resolved,
   duplicate]).filter(assigned_to=user)``), ordered by priority then created, through
   Django's ``Paginator``: the count and the first page of ``--page-size``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# stdlib-only at import time: nothing of telcodesk is imported here
import ticket_queues as shape

# helpdesk's priorities: 1 = highest.
PRIORITY = {"urgent": 1, "high": 2, "normal": 3, "low": 4}


def people(agents: int, teams: int) -> tuple[list[Any], list[Any], dict[int, int]]:
    from django.contrib.auth import get_user_model
    from helpdesk.models import Queue

    user_model = get_user_model()
    queues = [
        Queue.objects.create(
            title=f"Equipo {t + 1}", slug=f"equipo-{t + 1}", email_address=f"q{t + 1}@bench.test"
        )
        for t in range(teams)
    ]
    users = []
    user_queue: dict[int, int] = {}
    for a in range(agents):
        user = user_model.objects.create_user(
            username=f"agent-{a + 1:03d}",
            email=f"agent-{a + 1:03d}@bench.test",
            password=None,
            is_staff=True,
        )
        users.append(user)
        user_queue[user.pk] = queues[a % teams].pk
    return users, queues, user_queue


def create_orm(
    users: list[Any], user_queue: dict[int, int], count: int, seed: int
) -> tuple[float, int]:
    """``count`` tickets as AbstractTicketForm._create_ticket/_create_follow_up build them;
    (seconds, SQL statements of the first)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from helpdesk.models import FollowUp, Ticket

    rng = random.Random(seed)
    priorities, weights = shape.weighted(shape.PRIORITIES)
    statements = 0
    started = time.perf_counter()
    for index in range(count):
        user = users[index % len(users)]
        category = rng.choices(*shape.weighted(shape.CATEGORIES))[0]
        title = rng.choice(shape.SUBJECTS[category])
        capture = CaptureQueriesContext(connection) if index == 0 else nullcontext()
        with capture, transaction.atomic():
            ticket = Ticket.objects.create(
                title=title,
                queue_id=user_queue[user.pk],
                created=timezone.now(),
                status=Ticket.OPEN_STATUS,
                description=title,
                priority=PRIORITY[rng.choices(priorities, weights)[0]],
                assigned_to=user,
            )
            FollowUp.objects.create(
                ticket=ticket,
                title=f"Ticket Opened & Assigned to {user.get_username()}",
                date=timezone.now(),
                public=True,
                comment=title,
                user=user,
            )
        if index == 0:
            statements = len(capture.captured_queries)  # type: ignore[union-attr]
    return time.perf_counter() - started, statements


def create_form(
    users: list[Any], user_queue: dict[int, int], count: int, seed: int
) -> tuple[float, int]:
    """``count`` tickets through the staff form, as helpdesk's CreateTicketView saves it;
    (seconds, SQL statements of the first, form validation included)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from helpdesk.forms import TicketForm
    from helpdesk.models import Queue

    rng = random.Random(seed + 7)
    priorities, weights = shape.weighted(shape.PRIORITIES)
    queue_choices = [(q.id, q.title) for q in Queue.objects.order_by("id")]
    started = time.perf_counter()
    statements = 0
    for index in range(count):
        user = users[index % len(users)]
        category = rng.choices(*shape.weighted(shape.CATEGORIES))[0]
        title = rng.choice(shape.SUBJECTS[category])
        capture = CaptureQueriesContext(connection) if index == 0 else nullcontext()
        capture.__enter__()
        form = TicketForm(
            queue_choices=queue_choices,
            data={
                "queue": user_queue[user.pk],
                "title": title,
                "body": title,
                "priority": PRIORITY[rng.choices(priorities, weights)[0]],
                "assigned_to": user.pk,
            },
        )
        if not form.is_valid():
            raise SystemExit(f"helpdesk TicketForm refused the bench data: {form.errors}")
        with transaction.atomic():  # ATOMIC_REQUESTS-like: one transaction per request
            form.save(user=user)
        capture.__exit__(None, None, None)
        if index == 0:
            statements = len(capture.captured_queries)  # type: ignore[union-attr]
    return time.perf_counter() - started, statements


def relabel(created_ids: list[int], seed: int) -> None:
    """The created tickets (all open) get the loaded tickets' shares of statuses."""
    from helpdesk.models import Ticket

    rng = random.Random(seed + 3)
    done, done_w = shape.weighted(shape.DONE)
    status = {"closed": Ticket.CLOSED_STATUS, "resolved": Ticket.RESOLVED_STATUS}
    by_status: dict[int, list[int]] = {}
    for pk in created_ids:
        if rng.random() >= shape.RECENT_OPEN * shape.RECENT_SHARE + shape.OLD_OPEN * (
            1 - shape.RECENT_SHARE
        ):
            by_status.setdefault(status[rng.choices(done, done_w)[0]], []).append(pk)
    for value, ids in by_status.items():
        Ticket.objects.filter(pk__in=ids).update(status=value)


def load_rest(
    users: list[Any], queues: list[Any], user_queue: dict[int, int], count: int, seed: int
) -> float:
    """``count`` tickets from ticket_queues.ticket_rows, mapped to helpdesk's columns."""
    from datetime import UTC, datetime

    from django.db import connection
    from helpdesk.models import Ticket

    started = time.perf_counter()
    staff = SimpleNamespace(
        agents=users,
        teams=[SimpleNamespace(pk=pk) for pk in sorted(set(user_queue.values()))],
        agent_team=user_queue,
    )
    plan = SimpleNamespace(
        organization=SimpleNamespace(pk=0),
        staff=staff,
        customer_ids=[0],
        count=count,
        first_number=1,
    )
    open_status = {
        "new": Ticket.OPEN_STATUS,
        "in_progress": Ticket.OPEN_STATUS,
        "waiting_customer": Ticket.OPEN_STATUS,
        "visit_scheduled": Ticket.REOPENED_STATUS,
        "resolved": Ticket.RESOLVED_STATUS,
        "closed": Ticket.CLOSED_STATUS,
    }
    batch: list[Any] = []
    moments: list[datetime] = []
    ids: list[int] = []
    rng = random.Random(seed)
    fallback_queue = queues[0].pk
    for row in shape.ticket_rows(plan, rng, datetime.now(UTC)):  # type: ignore[arg-type]
        subject, priority, status = row[4], row[5], row[6]
        user_id, team_id = row[10], row[11]
        batch.append(
            Ticket(
                title=subject,
                queue_id=team_id or fallback_queue,
                status=open_status[status],
                description=subject,
                priority=PRIORITY[priority],
                assigned_to_id=user_id,
            )
        )
        moments.append(row[14])
        if len(batch) == 5000:
            ids += [ticket.pk for ticket in Ticket.objects.bulk_create(batch)]
            batch = []
    if batch:
        ids += [ticket.pk for ticket in Ticket.objects.bulk_create(batch)]
    # auto_now_add stamped every row "now": give them the generator's creation moments
    # (oldest first, like the ids), so "ordered by created" reads a real history.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE helpdesk_ticket SET created = t.at, modified = t.at "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(id, at) "
            "WHERE helpdesk_ticket.id = t.id",
            [ids, moments],
        )
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def page_load(user: Any, page_size: int) -> int:
    from django.core.paginator import Paginator
    from helpdesk.models import Ticket

    tickets = (
        Ticket.objects.select_related("queue")
        .exclude(status__in=[Ticket.CLOSED_STATUS, Ticket.RESOLVED_STATUS, Ticket.DUPLICATE_STATUS])
        .filter(assigned_to=user)
        .order_by("priority", "created")
    )
    page = Paginator(tickets, page_size).get_page(1)
    for ticket in page.object_list:  # what the dashboard's rows read
        _ = (ticket.title, ticket.queue.title, ticket.get_priority_display())
    return int(page.paginator.count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--create", type=int, required=True)
    parser.add_argument("--form-create", type=int, required=True)
    parser.add_argument("--agents", type=int, required=True)
    parser.add_argument("--teams", type=int, required=True)
    parser.add_argument("--queries", type=int, required=True)
    parser.add_argument("--page-size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from helpdesk.models import Ticket

    call_command("migrate", verbosity=0, interactive=False)
    users, queues, user_queue = people(args.agents, args.teams)
    orm_s, orm_statements = create_orm(users, user_queue, args.create, args.seed)
    form_s, form_statements = create_form(users, user_queue, args.form_create, args.seed)
    relabel(list(Ticket.objects.values_list("id", flat=True)), args.seed)
    rest = args.tickets - args.create - args.form_create
    load_s = load_rest(users, queues, user_queue, rest, args.seed)
    for index in range(max(len(users), 10)):  # warm up
        page_load(users[index % len(users)], args.page_size)
    times: list[float] = []
    counts: list[int] = []
    for index in range(args.queries):
        user = users[index % len(users)]
        started = time.perf_counter()
        counts.append(page_load(user, args.page_size))
        times.append((time.perf_counter() - started) * 1000)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        page_load(users[0], args.page_size)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM helpdesk_ticket")
        total = cursor.fetchone()[0]
    from importlib.metadata import version

    print(
        json.dumps(
            {
                "side": "django-helpdesk",
                "version": version("django-helpdesk"),
                "django": django.get_version(),
                "tickets": total,
                "create": {"n": args.create, "seconds": orm_s, "statements": orm_statements},
                "form_create": {
                    "n": args.form_create,
                    "seconds": form_s,
                    "statements": form_statements,
                },
                "list_statements": len(captured.captured_queries),
                "load_s": load_s,
                "list_ms": times,
                "list_rows": counts,
            }
        )
    )


if __name__ == "__main__":
    main()
