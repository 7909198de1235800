"""The NPS dashboard: the period's figures, the trend chart as inline SVG with the
threshold line, the tables, the recent surveys; agents see their own."""

from __future__ import annotations

import re

import pytest

from telcodesk.nps.models import Survey
from telcodesk.nps.services import nps_survey_send

from .conftest import SurveyDesk, inbound, nps_settings, signed_in

pytestmark = pytest.mark.django_db


def _answered(desk: SurveyDesk, score: str, comment: str = "") -> Survey:
    conversation = (
        desk.conversation()
        if not desk.customer.conversations.exists()
        else (desk.customer.conversations.get())
    )
    survey = nps_survey_send(actor=desk.world.actor(desk.world.agent), ticket=desk.ticket())
    inbound(conversation, score)
    if comment:
        inbound(conversation, comment)
    survey.refresh_from_db()
    return survey


def test_the_dashboard_shows_the_nps_the_chart_with_the_threshold_and_the_comments(
    survey_desk: SurveyDesk,
) -> None:
    nps_settings(survey_desk.world.operator, good_threshold=40)
    _answered(survey_desk, "10", "Muy buena atención")
    _answered(survey_desk, "9")
    _answered(survey_desk, "3")

    page = signed_in(survey_desk.world.supervisor).get("/nps/")

    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'id="nps-value">33.3<', html)
    assert "Good service: above 40" in html
    # The threshold line sits at y = 16 + (100 − 40) / 200 × 204.
    assert re.search(r'id="nps-threshold"[^>]*y1="77.2"', html)
    assert html.count('<circle class="point"') == 1
    assert "Muy buena atención" in html
    assert "<script" not in html.split('<svg class="nps-chart"')[1].split("</svg>")[0]


def test_an_agent_sees_their_own_surveys_and_an_outsider_none_of_ours(
    survey_desk: SurveyDesk,
) -> None:
    survey = _answered(survey_desk, "8", "Bien")

    agent = signed_in(survey_desk.world.agent).get("/nps/").content.decode()
    back_office = signed_in(survey_desk.world.back_office).get("/nps/").content.decode()
    outsider = signed_in(survey_desk.world.outsider).get("/nps/").content.decode()

    assert f'id="nps-survey-{survey.pk}"' in agent
    assert f'id="nps-survey-{survey.pk}"' not in back_office
    assert f'id="nps-survey-{survey.pk}"' not in outsider
    assert "Bien" not in outsider


def test_a_bad_period_is_shown_with_what_to_do(survey_desk: SurveyDesk) -> None:
    page = signed_in(survey_desk.world.supervisor).get("/nps/?start=2026-12-01&end=2026-11-01")

    assert page.status_code == 422
    assert "The end date must not be before the start date." in page.content.decode()


def test_in_spanish_the_chart_keeps_decimal_points_in_its_coordinates(
    survey_desk: SurveyDesk,
) -> None:
    nps_settings(survey_desk.world.operator, good_threshold=40)
    _answered(survey_desk, "10")
    supervisor = survey_desk.world.supervisor
    supervisor.language = "es"
    supervisor.save(update_fields=["language"])

    html = signed_in(supervisor).get("/nps/").content.decode()

    assert "Buen servicio: por encima de 40" in html
    # es writes 77,2 in text; an SVG coordinate with a comma is no coordinate at all.
    assert re.search(r'id="nps-threshold"[^>]*y1="77.2"', html)
    svg = html.split('<svg class="nps-chart"')[1].split("</svg>")[0]
    assert not re.search(r'\b(?:x|y|x1|x2|y1|y2|cx|cy)="[^"]*,', svg)
