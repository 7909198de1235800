"""Leads over the JSON API: pipelines, leads by stage, create, move, win, lose, my queue.

Views check the shape of the input and call pipelines.selectors / pipelines.services
with ``request.auth`` (the Actor); refusals are the services' DomainErrors, rendered by
telcodesk.api as ``{code, message, details}``. A pipeline, lead, stage or reason of
another organization answers 404 exactly like an id that does not exist.

Registered in telcodesk.api with ``api.add_router("/", router, tags=["leads"])``.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from telcodesk.accounts.models import Membership, User
from telcodesk.core.api_schemas import CONFLICT_ERRORS, ERRORS, InputSchema
from telcodesk.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.pipelines import selectors, services
from telcodesk.pipelines.assignment import lead_assign, lead_take
from telcodesk.pipelines.models import Lead, LossReason, Pipeline, Stage

router = Router()

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


CREATE_ERRORS = CONFLICT_ERRORS

# --- input ----------------------------------------------------------------------------


class LeadIn(InputSchema):
    pipeline_id: int = Field(..., ge=1)
    name: str = Field("", max_length=200)
    phone: str = Field(..., min_length=1, max_length=32, description="as typed; stored as E.164")
    document: str = Field("", max_length=32)
    email: str = Field("", max_length=254, description="the prospect's e-mail, optional")
    source: str = Field(..., max_length=16, description="channel, campaign, store_click, manual")
    source_ref: str = Field("", max_length=120)
    owner_id: int | None = Field(None, ge=1, description="a member of your organization")
    stage_id: int | None = Field(None, ge=1, description="default: the first open stage")
    data: dict[str, Any] = Field(default_factory=dict, description="tab field: value")
    value: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


class LeadPatchIn(InputSchema):
    name: str | None = Field(None, max_length=200)
    document: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254, description='"" clears it')
    value: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


class DataIn(InputSchema):
    data: dict[str, Any] = Field(..., description="tab field: value; null or '' clears")


class MoveIn(InputSchema):
    stage_id: int = Field(..., ge=1)
    reason: str = Field("", max_length=500)


class LoseIn(InputSchema):
    reason_id: int | None = Field(None, ge=1, description="required: why the lead is lost")
    note: str = Field("", max_length=1000)


class LeadQuery(Schema):
    stage: int | None = Field(None, ge=1, description="a stage id of the pipeline")
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


# --- output ---------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str
    kind: str
    color: str
    position: int
    sla_minutes: int | None
    is_system: bool
    requires_greeting: bool
    queue_role: str
    guidance: str


class LossReasonOut(Schema):
    id: int
    name: str
    description: str
    counter: str
    is_system: bool


class PipelineOut(Schema):
    id: int
    name: str
    slug: str
    position: int
    stages: list[StageOut]
    loss_reasons: list[LossReasonOut]
    tabs: list[dict[str, Any]]


class OwnerOut(Schema):
    id: int
    name: str


class LeadOut(Schema):
    id: int
    pipeline_id: int
    stage_id: int
    stage: str
    name: str
    phone: str
    document: str
    email: str = Field(description="the e-mail given with the lead (a prospect's), or empty")
    owner: OwnerOut | None
    team_id: int | None
    source: str
    source_ref: str
    customer_id: int | None
    data: dict[str, Any]
    value: str
    currency: str
    loss_reason_id: int | None
    loss_reason_undefined: bool = Field(description="lost with the system's reason")
    created_at: datetime
    stage_entered_at: datetime
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    won_at: datetime | None
    lost_at: datetime | None


class LeadPage(Schema):
    items: list[LeadOut]
    count: int
    page: int
    pages: int


class QueueItemOut(Schema):
    lead: LeadOut
    priority: int = Field(description="1 replied to an offer, 2 call now, 3 follow-up due")
    reason: str
    since: datetime


# --- helpers --------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _owner_out(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def lead_out(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "pipeline_id": lead.pipeline_id,
        "stage_id": lead.stage_id,
        "stage": lead.stage.name,
        "name": lead.name,
        "phone": lead.phone,
        "document": lead.document,
        "email": lead.email,
        "owner": _owner_out(lead.owner),
        "team_id": lead.team_id,
        "source": lead.source,
        "source_ref": lead.source_ref,
        "customer_id": lead.customer_id,
        "data": lead.data,
        "value": str(lead.value),
        "currency": lead.currency,
        "loss_reason_id": lead.loss_reason_id,
        "loss_reason_undefined": lead.loss_reason is not None and lead.loss_reason.is_system,
        "created_at": lead.created_at,
        "stage_entered_at": lead.stage_entered_at,
        "last_inbound_at": lead.last_inbound_at,
        "last_outbound_at": lead.last_outbound_at,
        "won_at": lead.won_at,
        "lost_at": lead.lost_at,
    }


def _lead(actor: Actor, lead_id: int) -> Lead:
    return selectors.lead_get(actor=actor, lead_id=lead_id)


def _fresh(actor: Actor, lead: Lead) -> dict[str, Any]:
    return lead_out(selectors.lead_get(actor=actor, lead_id=lead.pk))


def _stage(actor: Actor, stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id, organization=actor.organization).first()
    if stage is None:
        raise NotFound(_("No such stage. Use a stage id from GET /pipelines."))
    return stage


def _owner(actor: Actor, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    membership = (
        Membership.objects.filter(organization=actor.organization, user_id=owner_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        message = _("The owner must be a member of your organization; choose one of its agents.")
        raise ValidationFailed(message, details={"owner_id": [message]})
    return membership.user


# --- endpoints ------------------------------------------------------------------------


@router.get("/pipelines", response={200: list[PipelineOut], **ERRORS}, summary="Pipelines")
def pipelines_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The organization's pipelines in use, with their stages and loss reasons."""
    pipelines: list[Pipeline] = list(
        selectors.pipelines_visible(actor=_actor(request))
        .prefetch_related("stages", "loss_reasons")
        .order_by("position", "id")
    )
    return [
        {
            "id": pipeline.pk,
            "name": pipeline.name,
            "slug": pipeline.slug,
            "position": pipeline.position,
            "tabs": pipeline.tabs,
            "stages": [
                stage
                for stage in sorted(pipeline.stages.all(), key=lambda s: (s.position, s.pk))
                if stage.is_active
            ],
            "loss_reasons": [
                reason
                for reason in sorted(pipeline.loss_reasons.all(), key=lambda r: (r.position, r.pk))
                if reason.is_active
            ],
        }
        for pipeline in pipelines
    ]


@router.get(
    "/pipelines/{pipeline_id}/leads", response={200: LeadPage, **ERRORS}, summary="Leads by stage"
)
def pipeline_leads(
    request: HttpRequest, pipeline_id: int, query: Query[LeadQuery]
) -> dict[str, Any]:
    """The pipeline's leads, newest first; ``stage`` keeps one column of the board."""
    actor = _actor(request)
    pipeline = selectors.pipeline_get(actor=actor, pipeline_id=pipeline_id)
    leads = (
        selectors.leads_visible(actor=actor)
        .filter(pipeline=pipeline)
        .select_related("stage", "owner", "loss_reason")
        .order_by("-created_at", "-id")
    )
    if query.stage is not None:
        leads = leads.filter(stage_id=query.stage)
    count = leads.count()
    start = (query.page - 1) * query.page_size
    return {
        "items": [lead_out(lead) for lead in leads[start : start + query.page_size]],
        "count": count,
        "page": query.page,
        "pages": math.ceil(count / query.page_size) if count else 0,
    }


@router.post("/leads", response={201: LeadOut, **CREATE_ERRORS}, summary="Create a lead")
def leads_create(request: HttpRequest, payload: LeadIn) -> Status[dict[str, Any]]:
    """409 when the phone already has an open lead (or a sale in process) in the pipeline:
    ``details`` names the existing lead and the agent who works it."""
    actor = _actor(request)
    pipeline = selectors.pipeline_get(actor=actor, pipeline_id=payload.pipeline_id)
    result = services.lead_create(
        actor=actor,
        pipeline=pipeline,
        name=payload.name,
        phone=payload.phone,
        document=payload.document,
        email=payload.email,
        source=payload.source,
        source_ref=payload.source_ref,
        owner=_owner(actor, payload.owner_id),
        stage=_stage(actor, payload.stage_id) if payload.stage_id is not None else None,
        data=payload.data,
        value=payload.value,
    )
    if result.duplicate_of is not None:
        existing = result.duplicate_of
        raise DomainError(
            result.duplicate_message,
            code=ErrorCode.CONFLICT,
            status=409,
            details={
                "lead_id": existing.pk,
                "stage": existing.stage.name,
                "owner": _owner_out(existing.owner),
            },
        )
    return Status(201, _fresh(actor, result.lead))


@router.get("/leads/queue", response={200: list[QueueItemOut], **ERRORS}, summary="My queue")
def leads_queue(request: HttpRequest) -> list[dict[str, Any]]:
    """The caller's leads that need them now, in the procedure's order (users only)."""
    items = selectors.my_queue(actor=_actor(request))
    return [
        {
            "lead": lead_out(item.lead),
            "priority": item.priority,
            "reason": item.reason,
            "since": item.since,
        }
        for item in items
    ]


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="A lead")
def leads_get(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    return lead_out(_lead(_actor(request), lead_id))


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Edit a lead")
def leads_patch(request: HttpRequest, lead_id: int, payload: LeadPatchIn) -> dict[str, Any]:
    """Correct the contact name, document, e-mail or value; omitted fields stay as they are.

    Leads are not deleted: a lead that should not be worked is lost with its reason, so
    the history and the supervisor's counts stay true.
    """
    actor = _actor(request)
    lead = services.lead_contact_update(
        actor=actor,
        lead=_lead(actor, lead_id),
        name=payload.name,
        document=payload.document,
        value=payload.value,
        email=payload.email,
    )
    return _fresh(actor, lead)


@router.patch("/leads/{lead_id}/data", response={200: LeadOut, **ERRORS}, summary="Edit tabs")
def leads_data(request: HttpRequest, lead_id: int, payload: DataIn) -> dict[str, Any]:
    actor = _actor(request)
    lead = services.lead_update_data(actor=actor, lead=_lead(actor, lead_id), data=payload.data)
    return _fresh(actor, lead)


@router.post("/leads/{lead_id}/move", response={200: LeadOut, **ERRORS}, summary="Move")
def leads_move(request: HttpRequest, lead_id: int, payload: MoveIn) -> dict[str, Any]:
    actor = _actor(request)
    lead = services.lead_move(
        actor=actor,
        lead=_lead(actor, lead_id),
        to_stage=_stage(actor, payload.stage_id),
        reason=payload.reason,
    )
    return _fresh(actor, lead)


@router.post("/leads/{lead_id}/win", response={200: LeadOut, **ERRORS}, summary="Win")
def leads_win(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return _fresh(actor, services.lead_win(actor=actor, lead=_lead(actor, lead_id)))


@router.post("/leads/{lead_id}/lose", response={200: LeadOut, **ERRORS}, summary="Lose")
def leads_lose(request: HttpRequest, lead_id: int, payload: LoseIn) -> dict[str, Any]:
    """A reason is required (422 without one); the system's reason cannot be chosen."""
    actor = _actor(request)
    lead = _lead(actor, lead_id)
    reason: LossReason | None = None
    if payload.reason_id is not None:
        reason = LossReason.objects.filter(
            pk=payload.reason_id, organization=actor.organization
        ).first()
        if reason is None:
            raise NotFound(_("No such loss reason. Use a reason id from GET /pipelines."))
    lead = services.lead_lose(actor=actor, lead=lead, reason=reason, note=payload.note)
    return _fresh(actor, lead)


class AssignIn(InputSchema):
    owner_id: int | None = Field(None, description="a member of the organization; null: nobody")


@router.post("/leads/{lead_id}/take", response={200: LeadOut, **ERRORS}, summary="Take a lead")
def leads_take(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """The key's user accepts an unowned lead (agents), or takes it over (supervisors)."""
    actor = _actor(request)
    return _fresh(actor, lead_take(actor=actor, lead=_lead(actor, lead_id)))


@router.post("/leads/{lead_id}/assign", response={200: LeadOut, **ERRORS}, summary="Assign")
def leads_assign(request: HttpRequest, lead_id: int, payload: AssignIn) -> dict[str, Any]:
    """Give the lead to an agent (supervisors; an agent may only take it for themselves)."""
    actor = _actor(request)
    lead = lead_assign(
        actor=actor, lead=_lead(actor, lead_id), owner=_owner(actor, payload.owner_id)
    )
    return _fresh(actor, lead)
