"""The nps part of the JSON API (registered in telcodesk.api): send a survey, list the
surveys, the NPS figures.

A ticket, customer or conversation of another organization answers 404 like an id that
does not exist. A survey that could not be sent (no WhatsApp or SMS, no template
outside the 24-hour window) is recorded and answered with 409, its reason and the
survey's id in ``details``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from telcodesk.core.api_schemas import CONFLICT_ERRORS, ERRORS, InputSchema
from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.customers.selectors import customer_get
from telcodesk.messaging.models import Conversation
from telcodesk.nps import selectors, services
from telcodesk.nps.models import Survey, SurveyStatus
from telcodesk.nps.selectors import NpsFigure, nps_settings_or_default
from telcodesk.tickets.selectors import ticket_get

router = Router()


# --- schemas ------------------------------------------------------------------------------


class SurveySendIn(InputSchema):
    ticket_id: int | None = Field(None, ge=1, description="the ticket the survey is about")
    customer_id: int | None = Field(None, ge=1, description="or a customer (no ticket)")
    conversation_id: int | None = Field(
        None, ge=1, description="the WhatsApp or SMS conversation to send it to (optional)"
    )


class SurveyOut(Schema):
    id: int
    status: str
    stage: str
    trigger: str
    via: str
    ticket_id: int | None
    customer_id: int | None
    conversation_id: int | None
    agent_id: int | None
    team_id: int | None
    category: str
    sent_at: datetime
    expires_at: datetime
    band: str
    score: int | None
    answered_at: datetime | None
    comment: str
    refusal_reason: str
    refusal_message: str


class SurveyQuery(Schema):
    start: datetime | None = Field(None, description="with its time zone")
    end: datetime | None = Field(None, description="exclusive")
    status: str = Field("", description="sent, answered, unanswered or refused")
    limit: int = Field(50, ge=1, le=500)


class FiguresQuery(Schema):
    start: datetime = Field(..., description="with its time zone, e.g. 2025-07-01T00:00:00-06:00")
    end: datetime = Field(..., description="exclusive")
    group_by: Literal["day", "week", "agent", "team", "category"] = "day"


class FigureOut(Schema):
    key: str | int | None
    label: str
    sent: int
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None = Field(..., description="% promoters − % detractors; null without answers")
    response_rate: float | None


class FiguresOut(Schema):
    group_by: str
    good_threshold: int
    total: FigureOut
    groups: list[FigureOut]


# --- helpers ------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def survey_out(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.pk,
        "status": survey.status,
        "stage": survey.stage,
        "trigger": survey.trigger,
        "via": survey.via,
        "ticket_id": survey.ticket_id,
        "customer_id": survey.customer_id,
        "conversation_id": survey.conversation_id,
        "agent_id": survey.agent_id,
        "team_id": survey.team_id,
        "category": survey.category,
        "sent_at": survey.sent_at,
        "expires_at": survey.expires_at,
        "band": survey.band,
        "score": survey.score,
        "answered_at": survey.answered_at,
        "comment": survey.comment,
        "refusal_reason": survey.refusal_reason,
        "refusal_message": survey.refusal_message,
    }


def figure_out(figure: NpsFigure) -> dict[str, Any]:
    key = figure.key.isoformat() if hasattr(figure.key, "isoformat") else figure.key
    return {
        "key": key,
        "label": figure.label,
        "sent": figure.sent,
        "responses": figure.responses,
        "promoters": figure.promoters,
        "passives": figure.passives,
        "detractors": figure.detractors,
        "nps": figure.nps,
        "response_rate": figure.response_rate,
    }


# --- endpoints ----------------------------------------------------------------------------


@router.post(
    "/nps/surveys",
    response={201: SurveyOut, **CONFLICT_ERRORS},
    summary="Send the NPS survey",
)
def survey_send(request: HttpRequest, payload: SurveySendIn) -> Any:
    """Send the survey of a ticket (or a customer, or to a conversation) on WhatsApp or
    SMS (needs "ticket.work"). A refusal is kept as a survey with status "refused"."""
    actor = _actor(request)
    actor.require(selectors.SEND_PERMISSION)
    ticket = ticket_get(actor=actor, ticket_id=payload.ticket_id) if payload.ticket_id else None
    customer = (
        customer_get(actor=actor, customer_id=payload.customer_id) if payload.customer_id else None
    )
    conversation = None
    if payload.conversation_id:
        conversation = Conversation.objects.filter(
            pk=payload.conversation_id, organization=actor.organization
        ).first()
        if conversation is None:
            raise NotFound(_("This conversation does not exist or is not yours."))
    survey = services.nps_survey_send(
        actor=actor, ticket=ticket, customer=customer, conversation=conversation
    )
    if survey.status == SurveyStatus.REFUSED:
        return Status(
            409,
            {
                "code": "conflict",
                "message": survey.refusal_message,
                "details": {"reason": [survey.refusal_reason], "survey_id": [survey.pk]},
            },
        )
    return Status(201, survey_out(survey))


@router.get("/nps/surveys", response={200: list[SurveyOut], **ERRORS}, summary="List surveys")
def surveys_list(request: HttpRequest, query: Query[SurveyQuery]) -> list[dict[str, Any]]:
    """The newest first; agents see their own, supervisors every survey."""
    actor = _actor(request)
    actor.require(selectors.VIEW_PERMISSION)
    return [
        survey_out(survey)
        for survey in selectors.surveys_recent(
            actor=actor, start=query.start, end=query.end, status=query.status, limit=query.limit
        )
    ]


@router.get("/nps/figures", response={200: FiguresOut, **ERRORS}, summary="NPS figures")
def figures(request: HttpRequest, query: Query[FiguresQuery]) -> dict[str, Any]:
    """NPS of the surveys sent in [start, end), per day, week, agent, team or category."""
    actor = _actor(request)
    actor.require(selectors.VIEW_PERMISSION)
    groups = selectors.nps_figures(
        actor=actor, start=query.start, end=query.end, group_by=query.group_by
    )
    total = selectors.nps_summary(actor=actor, start=query.start, end=query.end)
    settings = nps_settings_or_default(organization=actor.organization)
    return {
        "group_by": query.group_by,
        "good_threshold": settings.good_threshold,
        "total": figure_out(total),
        "groups": [figure_out(figure) for figure in groups],
    }
