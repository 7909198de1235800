"""NPS figures with exact values: % promoters (9–10) − % detractors (0–6) of the answers,
rounded half up to one decimal; None without answers; by day and week in the
organization's time zone, by agent, team and category; agents see their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from telcodesk.accounts.models import Team, User
from telcodesk.core.errors import ValidationFailed
from telcodesk.nps.models import Survey, SurveyStage, SurveyStatus
from telcodesk.nps.selectors import nps_figures, nps_summary, nps_value
from tests.conftest import World

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 1 November, 00:00 in La Paz (UTC−4)
END = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def survey(
    world: World,
    score: int | None,
    *,
    agent: User | None = None,
    at: datetime = START + timedelta(days=2),
    status: str | None = None,
    **fields: Any,
) -> Survey:
    """A survey as the services leave it: answered with ``score``, or sent and not answered."""
    status = status or (SurveyStatus.ANSWERED if score is not None else SurveyStatus.UNANSWERED)
    return Survey.objects.create(
        organization=fields.pop("organization", world.operator),
        agent=agent or world.agent,
        trigger="manual",
        status=status,
        stage=SurveyStage.DONE,
        sent_at=at,
        expires_at=at + timedelta(hours=72),
        score=score,
        answered_at=at + timedelta(hours=1) if score is not None else None,
        **fields,
    )


def _row(figure: Any) -> tuple[Any, ...]:
    return (
        figure.sent,
        figure.responses,
        figure.promoters,
        figure.passives,
        figure.detractors,
        figure.nps,
        figure.response_rate,
    )


def test_four_promoters_three_passives_three_detractors_of_ten_answers_is_nps_10(
    world: World,
) -> None:
    for score in (9, 10, 9, 10, 7, 8, 7, 0, 6, 3):
        survey(world, score)
    survey(world, None)
    survey(world, None)
    survey(world, None, status=SurveyStatus.REFUSED)  # never went out: not counted

    summary = nps_summary(actor=world.actor(world.supervisor), start=START, end=END)

    assert _row(summary) == (12, 10, 4, 3, 3, 10.0, 83.3)


def test_no_answers_is_no_nps_not_zero(world: World) -> None:
    survey(world, None)
    survey(world, None)
    actor = world.actor(world.supervisor)

    summary = nps_summary(actor=actor, start=START, end=END)
    nothing = nps_summary(actor=actor, start=END, end=END + timedelta(days=1))

    assert _row(summary) == (2, 0, 0, 0, 0, None, 0.0)
    assert _row(nothing) == (0, 0, 0, 0, 0, None, None)


@pytest.mark.parametrize(
    ("promoters", "detractors", "responses", "nps"),
    [(1, 0, 3, 33.3), (2, 0, 3, 66.7), (0, 3, 3, -100.0), (3, 0, 3, 100.0), (1, 2, 8, -12.5)],
)
def test_the_nps_is_rounded_half_up_to_one_decimal(
    promoters: int, detractors: int, responses: int, nps: float
) -> None:
    assert nps_value(promoters=promoters, detractors=detractors, responses=responses) == nps


def test_days_and_weeks_are_the_organizations_local_ones(world: World) -> None:
    # 10 November 02:00 UTC is still 9 November (a Monday) in La Paz.
    survey(world, 10, at=datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    survey(world, 3, at=datetime(2026, 11, 10, 5, 0, tzinfo=UTC))
    survey(world, 9, at=datetime(2026, 11, 16, 3, 59, tzinfo=UTC))  # Sunday 15, 23:59
    actor = world.actor(world.supervisor)

    days = nps_figures(actor=actor, start=START, end=END, group_by="day")
    weeks = nps_figures(actor=actor, start=START, end=END, group_by="week")

    assert [(f.key, f.label, f.responses, f.nps) for f in days] == [
        (date(2026, 11, 9), "2026-11-09", 1, 100.0),
        (date(2026, 11, 10), "2026-11-10", 1, -100.0),
        (date(2026, 11, 15), "2026-11-15", 1, 100.0),
    ]
    assert [(f.key, f.label, f.responses, f.nps) for f in weeks] == [
        (date(2026, 11, 9), "Week of 2026-11-09", 3, 33.3)
    ]


def test_agents_teams_and_categories_each_get_their_figures(world: World) -> None:
    night = Team.objects.create(organization=world.operator, name="Noche")
    day = Team.objects.get(organization=world.operator, name="Front line")
    survey(world, 10, agent=world.agent, team=day, category="technical")
    survey(world, 9, agent=world.agent, team=day, category="technical")
    survey(world, 2, agent=world.agent, team=day, category="billing")
    survey(world, 8, agent=world.back_office, team=night, category="billing")
    survey(world, None, agent=world.back_office, team=night, category="")
    actor = world.actor(world.supervisor)

    agents = nps_figures(actor=actor, start=START, end=END, group_by="agent")
    teams = nps_figures(actor=actor, start=START, end=END, group_by="team")
    categories = nps_figures(actor=actor, start=START, end=END, group_by="category")

    assert [(f.label, *_row(f)) for f in agents] == [
        ("Ana Quispe", 3, 3, 2, 0, 1, 33.3, 100.0),
        ("backoffice", 2, 1, 0, 1, 0, 0.0, 50.0),
    ]
    assert [(f.label, *_row(f)) for f in teams] == [
        ("Front line", 3, 3, 2, 0, 1, 33.3, 100.0),
        ("Noche", 2, 1, 0, 1, 0, 0.0, 50.0),
    ]
    assert [(f.key, f.label, *_row(f)) for f in categories] == [
        ("billing", "Billing", 2, 2, 0, 1, 1, -50.0, 100.0),
        ("technical", "Technical", 2, 2, 2, 0, 0, 100.0, 100.0),
        ("", "No category", 1, 0, 0, 0, 0, None, 0.0),
    ]


def test_an_agent_sees_their_own_figures_and_a_supervisor_everyones(world: World) -> None:
    survey(world, 10, agent=world.agent)
    survey(world, 0, agent=world.back_office)

    own = nps_summary(actor=world.actor(world.agent), start=START, end=END)
    everyone = nps_summary(actor=world.actor(world.supervisor), start=START, end=END)

    assert (own.responses, own.nps, everyone.responses, everyone.nps) == (1, 100.0, 2, 0.0)


def test_an_outsider_sees_nothing_of_ours(world: World) -> None:
    survey(world, 10)
    survey(world, 3, organization=world.other_operator, agent=world.outsider)

    outsider = nps_summary(actor=world.actor(world.outsider), start=START, end=END)
    agents = nps_figures(actor=world.actor(world.outsider), start=START, end=END, group_by="agent")

    assert (outsider.sent, outsider.responses, outsider.nps) == (1, 1, -100.0)
    assert [(f.label, f.responses) for f in agents] == [("outsider", 1)]


def test_a_bad_grouping_or_a_period_without_time_zone_is_refused(world: World) -> None:
    actor = world.actor(world.supervisor)

    with pytest.raises(ValidationFailed) as grouping:
        nps_figures(actor=actor, start=START, end=END, group_by="month")
    with pytest.raises(ValidationFailed) as naive:
        nps_summary(actor=actor, start=datetime(2026, 11, 1), end=datetime(2026, 12, 1))
    with pytest.raises(ValidationFailed) as backwards:
        nps_summary(actor=actor, start=END, end=START)

    assert (
        list(grouping.value.details),
        list(naive.value.details),
        list(backwards.value.details),
    ) == (
        ["group_by"],
        ["start"],
        ["end"],
    )
