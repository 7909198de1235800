"""The nps API: send a survey (201, or 409 with the refusal kept), list the surveys, the
figures; another organization's key gets 404s and nothing changes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.models import Organization
from telcodesk.accounts.services import api_key_create
from telcodesk.messaging.models import Message
from telcodesk.nps.models import Survey

from .conftest import SurveyDesk, inbound

pytestmark = pytest.mark.django_db

BASE = "/api/v1/nps"


class Api:
    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str) -> Any:
        return self.client.get(BASE + path, headers=self.headers)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )


def _api(desk: SurveyDesk, role: str, organization: Organization | None = None) -> Api:
    world = desk.world
    org = organization or world.operator
    admin = world.admin if org == world.operator else world.outsider
    _key, secret = api_key_create(actor=world.actor(admin, org), name=f"{role}-key", role=role)
    return Api(secret)


PERIOD = "start=2000-01-01T00:00:00Z&end=2000-12-01T00:00:00Z"


def test_a_survey_sent_over_the_api_is_created_and_listed(survey_desk: SurveyDesk) -> None:
    survey_desk.conversation()
    ticket = survey_desk.ticket()
    api = _api(survey_desk, "supervisor")

    sent = api.post("/surveys", {"ticket_id": ticket.pk})

    survey = Survey.objects.get()
    assert sent.status_code == 201
    assert {k: sent.json()[k] for k in ("id", "status", "via", "ticket_id", "customer_id")} == {
        "id": survey.pk,
        "status": "sent",
        "via": "buttons",
        "ticket_id": ticket.pk,
        "customer_id": survey_desk.customer.pk,
    }
    listed = api.get("/surveys")
    assert [row["id"] for row in listed.json()] == [survey.pk]


def test_a_refused_survey_answers_409_with_the_reason_and_is_kept(survey_desk: SurveyDesk) -> None:
    api = _api(survey_desk, "agent")

    refused = api.post("/surveys", {"customer_id": survey_desk.customer.pk})

    survey = Survey.objects.get()
    assert refused.status_code == 409
    assert refused.json()["code"] == "conflict"
    assert refused.json()["details"] == {"reason": ["no_channel"], "survey_id": [survey.pk]}
    assert refused.json()["message"] == survey.refusal_message


def test_the_figures_answer_per_group_with_the_threshold(survey_desk: SurveyDesk) -> None:
    conversation = survey_desk.conversation()
    api = _api(survey_desk, "supervisor")
    api.post("/surveys", {"ticket_id": survey_desk.ticket().pk})
    inbound(conversation, "10")
    survey = Survey.objects.get()
    start = (survey.sent_at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (survey.sent_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    answer = api.get(f"/figures?start={start}&end={end}&group_by=category")

    assert answer.status_code == 200
    assert answer.json() == {
        "group_by": "category",
        "good_threshold": 50,
        "total": {
            "key": "total",
            "label": "All",
            "sent": 1,
            "responses": 1,
            "promoters": 1,
            "passives": 0,
            "detractors": 0,
            "nps": 100.0,
            "response_rate": 100.0,
        },
        "groups": [
            {
                "key": "technical",
                "label": "Technical",
                "sent": 1,
                "responses": 1,
                "promoters": 1,
                "passives": 0,
                "detractors": 0,
                "nps": 100.0,
                "response_rate": 100.0,
            }
        ],
    }


def test_a_bad_grouping_is_refused_with_422(survey_desk: SurveyDesk) -> None:
    answer = _api(survey_desk, "supervisor").get(f"/figures?{PERIOD}&group_by=month")

    assert answer.status_code == 422


def test_another_organizations_key_gets_404s_and_nothing_changes(survey_desk: SurveyDesk) -> None:
    conversation = survey_desk.conversation()
    ticket = survey_desk.ticket()
    _api(survey_desk, "supervisor").post("/surveys", {"ticket_id": ticket.pk})
    outsider = _api(survey_desk, "admin", survey_desk.world.other_operator)
    before = (Survey.objects.count(), Message.objects.count())

    answers = [
        outsider.post("/surveys", {"ticket_id": ticket.pk}).status_code,
        outsider.post("/surveys", {"customer_id": survey_desk.customer.pk}).status_code,
        outsider.post("/surveys", {"conversation_id": conversation.pk}).status_code,
    ]

    assert answers == [404, 404, 404]
    assert outsider.get("/surveys").json() == []
    assert outsider.get(f"/figures?{PERIOD}").json()["total"]["sent"] == 0
    assert (Survey.objects.count(), Message.objects.count()) == before
