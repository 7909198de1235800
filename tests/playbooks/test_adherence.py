"""Adherence per run, per agent and per step, with exact figures.

Runs in July 2025 (the period), all of the example playbook:

    A  Ana        technical, fault found; give_number skipped "The customer hung up"
                  required 6: done 5, skipped 1                          -> 83.3 %
    B  Ana        administrative; transfer skipped "Billing is closed"    3: 2 + 1
    F  Ana        administrative; transfer skipped "Billing is closed"    3: 2 + 1
    C  back office abandoned in the key questions                         4: 2 done, 2 open
    D  Ana        still running (not in the period's figures)
    E  Ana        finished in June (outside the period)

Ana: 12 required, 9 done, 3 skipped -> 75.0 %; back office: 4 required, 2 done -> 50.0 %.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from telcodesk.core.errors import NotFound, PermissionDenied
from telcodesk.core.tenancy import Actor
from telcodesk.playbooks.adherence import (
    Adherence,
    ItemSkips,
    ReasonCount,
    agents_adherence,
    run_adherence,
    skipped_items,
    steps_adherence,
)
from telcodesk.playbooks.models import PlaybookRun
from telcodesk.playbooks.services import (
    playbook_run_start,
    run_abandon,
    run_action,
    run_answer,
    run_finish,
    run_item_check,
    run_step_complete,
)
from tests.playbooks.conftest import Desk

pytestmark = pytest.mark.django_db

JULY = (datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 8, 1, tzinfo=UTC))


def at(day: int, month: int = 7) -> datetime:
    return datetime(2025, month, day, 15, 0, tzinfo=UTC)


def greet(actor: Actor, run: PlaybookRun, kind: str, now: datetime) -> None:
    run_item_check(actor=actor, run=run, item_key="confirm_holder", now=now)
    run_answer(actor=actor, run=run, question_key="problem_kind", raw_value=kind, now=now)
    run_step_complete(actor=actor, run=run, now=now)


def technical(desk: Desk, actor: Actor, now: datetime) -> PlaybookRun:
    run = playbook_run_start(actor=actor, playbook=desk.playbook, customer=desk.customer, now=now)
    greet(actor, run, "technical", now)
    run_answer(actor=actor, run=run, question_key="since_when", raw_value="ayer", now=now)
    run_answer(actor=actor, run=run, question_key="devices", raw_value="2", now=now)
    run_step_complete(actor=actor, run=run, now=now)
    run_action(actor=actor, run=run, action_key="run_checks", now=now)
    run_step_complete(actor=actor, run=run, now=now)
    run_finish(actor=actor, run=run, skip_reasons={"give_number": "The customer hung up"}, now=now)
    return run


def administrative(desk: Desk, actor: Actor, now: datetime) -> PlaybookRun:
    run = playbook_run_start(actor=actor, playbook=desk.playbook, customer=desk.customer, now=now)
    greet(actor, run, "administrative", now)
    run_finish(actor=actor, run=run, skip_reasons={"transfer": "Billing is closed"}, now=now)
    return run


@pytest.fixture
def july(desk: Desk) -> dict[str, PlaybookRun]:
    ana = desk.agent
    back_office = desk.world.actor(desk.world.back_office)
    runs = {
        "A": technical(desk, ana, at(10)),
        "B": administrative(desk, ana, at(11)),
        "F": administrative(desk, ana, at(12)),
    }
    abandoned = playbook_run_start(
        actor=back_office, playbook=desk.playbook, customer=desk.customer, now=at(13)
    )
    greet(back_office, abandoned, "technical", at(13))
    run_abandon(actor=back_office, run=abandoned, reason="The call dropped", now=at(13))
    runs["C"] = abandoned
    running = playbook_run_start(
        actor=ana, playbook=desk.playbook, customer=desk.customer, now=at(14)
    )
    greet(ana, running, "technical", at(14))
    runs["D"] = running
    runs["E"] = administrative(desk, ana, at(30, month=6))
    outsider_run = playbook_run_start(actor=desk.outsider, playbook=desk.other_playbook, now=at(10))
    run_abandon(actor=desk.outsider, run=outsider_run, reason="x", now=at(10))
    return runs


def test_a_runs_adherence_counts_its_required_items(
    desk: Desk, july: dict[str, PlaybookRun]
) -> None:
    figure = run_adherence(actor=desk.agent, run=july["A"])

    assert figure == Adherence(required=6, done=5, skipped=1, open=0)
    assert figure.percent == Decimal("83.3")
    running = run_adherence(actor=desk.agent, run=july["D"])
    # In the key questions: the greeting's 2 done, since_when and devices still open.
    assert (running.required, running.done, running.open) == (4, 2, 2)
    assert running.percent == Decimal("50.0")


def test_another_organizations_run_has_no_adherence_for_you(
    desk: Desk, july: dict[str, PlaybookRun]
) -> None:
    with pytest.raises(NotFound):
        run_adherence(actor=desk.outsider, run=july["A"])


def test_adherence_per_agent_covers_the_closed_runs_started_in_the_period(
    desk: Desk, july: dict[str, PlaybookRun]
) -> None:
    rows = agents_adherence(actor=desk.supervisor, start=JULY[0], end=JULY[1])

    assert [
        (
            row.agent_name,
            row.runs,
            row.finished,
            row.abandoned,
            row.adherence,
            row.adherence.percent,
        )
        for row in rows
    ] == [
        ("backoffice", 1, 0, 1, Adherence(4, 2, 0, 2), Decimal("50.0")),
        ("Ana Quispe", 3, 3, 0, Adherence(12, 9, 3, 0), Decimal("75.0")),
    ]


def test_adherence_per_step_lists_the_most_skipped_first_with_the_reasons(
    desk: Desk, july: dict[str, PlaybookRun]
) -> None:
    rows = steps_adherence(actor=desk.supervisor, start=JULY[0], end=JULY[1])

    assert [(row.title, row.visits, row.skipped_visits, row.adherence) for row in rows] == [
        ("Administrative route", 2, 0, Adherence(2, 0, 2, 0)),
        ("Closing", 1, 0, Adherence(1, 0, 1, 0)),
        ("Greeting", 4, 0, Adherence(8, 8, 0, 0)),
        ("Key questions", 2, 0, Adherence(4, 2, 0, 2)),
        ("Validations", 1, 0, Adherence(1, 1, 0, 0)),
    ]
    assert rows[0].items == [
        ItemSkips(
            key="transfer",
            kind="checklist",
            text="Transfer to billing",
            required=2,
            skipped=2,
            reasons=[ReasonCount("Billing is closed", 2)],
        )
    ]
    assert rows[1].items[0].reasons == [ReasonCount("The customer hung up", 1)]


def test_the_skipped_items_list_shows_each_reason_newest_first(
    desk: Desk, july: dict[str, PlaybookRun]
) -> None:
    rows = skipped_items(actor=desk.supervisor, start=JULY[0], end=JULY[1])

    assert [
        (row.run_id, row.step_title, row.item_text, row.reason, row.agent_name) for row in rows
    ] == [
        (
            july["F"].pk,
            "Administrative route",
            "Transfer to billing",
            "Billing is closed",
            "Ana Quispe",
        ),
        (
            july["B"].pk,
            "Administrative route",
            "Transfer to billing",
            "Billing is closed",
            "Ana Quispe",
        ),
        (july["A"].pk, "Closing", "Give the ticket number", "The customer hung up", "Ana Quispe"),
    ]


def test_an_agent_cannot_read_the_supervisors_figures(
    desk: Desk, july: dict[str, PlaybookRun]
) -> None:
    with pytest.raises(PermissionDenied):
        agents_adherence(actor=desk.agent, start=JULY[0], end=JULY[1])
    with pytest.raises(PermissionDenied):
        steps_adherence(actor=desk.agent, start=JULY[0], end=JULY[1])


def test_another_organizations_supervisor_sees_only_their_own_runs(
    desk: Desk, july: dict[str, PlaybookRun]
) -> None:
    rows = agents_adherence(actor=desk.outsider, start=JULY[0], end=JULY[1])

    assert [(row.agent_name, row.runs, row.adherence) for row in rows] == [
        ("outsider", 1, Adherence(2, 0, 0, 2))
    ]
    assert skipped_items(actor=desk.outsider, start=JULY[0], end=JULY[1]) == []
