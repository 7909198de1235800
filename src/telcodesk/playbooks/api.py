"""Playbook runs over the JSON API: playbooks, start, answer, check, act, complete, finish.

Views check the shape of the input and call playbooks.selectors / services with
``request.auth`` (the Actor); refusals are the services' DomainErrors, rendered by
telcodesk.api as ``{code, message, details}``. A playbook, run, customer or target of
another organization answers 404 exactly like an id that does not exist. Every write
answers the run as ``GET /playbook-runs/{id}`` shows it.

Registered in telcodesk.api with ``api.add_router("/", router, tags=["playbooks"])``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from telcodesk.core.api_schemas import CONFLICT_ERRORS, ERRORS
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.selectors import customers_visible
from telcodesk.playbooks import adherence, selectors, services
from telcodesk.playbooks.adherence import Adherence
from telcodesk.playbooks.api_schemas import (
    AdherencePeriodQuery,
    AgentAdherenceOut,
    PlaybookAdherenceOut,
    PlaybookDetailOut,
    PlaybookOut,
    RunActionIn,
    RunAnswerIn,
    RunCheckIn,
    RunCompleteIn,
    RunOut,
    RunReasonIn,
    RunStartIn,
    StepAdherenceOut,
)
from telcodesk.playbooks.models import Playbook, PlaybookRun
from telcodesk.playbooks.selectors import CurrentStep, RunState

router = Router()

# --- helpers --------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _playbook_out(playbook: Playbook) -> dict[str, Any]:
    return {
        "id": playbook.pk,
        "key": playbook.key,
        "name": playbook.name,
        "version": playbook.version,
        "description": playbook.description,
        "pack_name": playbook.pack_name,
        "steps": [{"key": step.key, "title": step.title} for step in playbook.spec.steps],
    }


def _adherence_out(figure: Adherence) -> dict[str, Any]:
    return {
        "required": figure.required,
        "done": figure.done,
        "skipped": figure.skipped,
        "open": figure.open,
        "percent": figure.percent,
    }


def _current_out(current: CurrentStep) -> dict[str, Any]:
    return {
        "key": current.spec.key,
        "title": current.spec.title,
        "index": current.index,
        "script": current.script,
        "guidance": current.guidance,
        "checklist": [vars(row) for row in current.checklist],
        "questions": [
            {
                "key": row.key,
                "text": row.text,
                "help": row.help,
                "type": row.spec.type,
                "choices": [choice.model_dump() for choice in row.spec.choices]
                if row.spec.choices
                else None,
                "required": row.spec.required,
                "field": row.spec.field,
                "min": row.spec.min,
                "max": row.spec.max,
                "integer": row.spec.integer,
                "answer": row.value,
                "status": row.status,
                "skip_reason": row.skip_reason,
            }
            for row in current.questions
        ],
        "actions": [
            {
                "key": row.key,
                "action": row.spec.action,
                "label": row.label,
                "when": row.spec.when,
                "required": row.spec.required,
                "status": row.status,
                "last": row.last,
            }
            for row in current.actions
        ],
        "open_required": [key for key, _label in current.open_required],
        "ends_here": current.ends_here,
    }


def run_out(actor: Actor, run: PlaybookRun) -> dict[str, Any]:
    state: RunState = selectors.run_state(actor=actor, run=run)
    fresh = state.run
    return {
        "id": fresh.pk,
        "playbook": _playbook_out(state.playbook),
        "status": fresh.status,
        "agent_id": fresh.agent_id,
        "customer_id": fresh.customer_id,
        "target_type": fresh.target_type,
        "target_id": fresh.target_id,
        "links": [{"type": target.type, "id": target.id} for target in state.targets],
        "variables": fresh.variables,
        "facts": fresh.facts,
        "answers": state.answers,
        "started_at": fresh.started_at,
        "finished_at": fresh.finished_at,
        "abandon_reason": fresh.abandon_reason,
        "current_step": _current_out(state.current) if state.current else None,
        "steps": [
            {
                "key": row.step.step_key,
                "title": row.title,
                "position": row.step.position,
                "status": row.step.status,
                "skip_reason": row.step.skip_reason,
                "entered_at": row.step.entered_at,
                "completed_at": row.step.completed_at,
            }
            for row in state.history
        ],
        "actions": list(fresh.actions.order_by("id")),
        "adherence": _adherence_out(adherence.run_adherence(actor=actor, run=fresh)),
    }


def _run(actor: Actor, run_id: int) -> PlaybookRun:
    return selectors.run_get(actor=actor, run_id=run_id)


def _period(query: AdherencePeriodQuery) -> tuple[datetime, datetime]:
    if query.start.tzinfo is None or query.end.tzinfo is None:
        message = _("Give start and end with their time zone, e.g. 2025-07-01T00:00:00-06:00.")
        raise ValidationFailed(message, details={"start": [message]})
    return query.start, query.end


# --- playbooks ------------------------------------------------------------------------


@router.get("/playbooks", response={200: list[PlaybookOut], **ERRORS}, summary="Playbooks")
def playbooks_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The playbooks agents of your organization can start."""
    actor = _actor(request)
    return [_playbook_out(playbook) for playbook in selectors.playbooks_available(actor=actor)]


@router.get(
    "/playbooks/{playbook_id}", response={200: PlaybookDetailOut, **ERRORS}, summary="A playbook"
)
def playbooks_get(request: HttpRequest, playbook_id: int) -> dict[str, Any]:
    playbook = selectors.playbook_get(actor=_actor(request), playbook_id=playbook_id)
    return {**_playbook_out(playbook), "definition": playbook.definition}


# --- runs -----------------------------------------------------------------------------


@router.post(
    "/playbook-runs", response={201: RunOut, **CONFLICT_ERRORS}, summary="Start a playbook run"
)
def runs_start(request: HttpRequest, payload: RunStartIn) -> Status[dict[str, Any]]:
    """409 when the target already has a running run: ``details.run_id`` names it."""
    actor = _actor(request)
    playbook = selectors.playbook_get(actor=actor, playbook_id=payload.playbook_id)
    customer = None
    if payload.customer_id is not None:
        customer = customers_visible(actor=actor).filter(pk=payload.customer_id).first()
        if customer is None:
            raise NotFound(_("No such customer. Search again by name, phone or service ID."))
    if bool(payload.target_type) != (payload.target_id is not None):
        message = _("Give both target_type and target_id, or neither.")
        raise ValidationFailed(message, details={"target_id": [message]})
    target = (
        services.RunTarget(payload.target_type, payload.target_id)
        if payload.target_id is not None
        else None
    )
    run = services.playbook_run_start(
        actor=actor,
        playbook=playbook,
        customer=customer,
        target=target,
        variables=payload.variables,
    )
    return Status(201, run_out(actor, run))


@router.get("/playbook-runs/{run_id}", response={200: RunOut, **ERRORS}, summary="A playbook run")
def runs_get(request: HttpRequest, run_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return run_out(actor, _run(actor, run_id))


@router.post(
    "/playbook-runs/{run_id}/answers", response={200: RunOut, **CONFLICT_ERRORS}, summary="Answer"
)
def runs_answer(request: HttpRequest, run_id: int, payload: RunAnswerIn) -> dict[str, Any]:
    """Answer a question of the current step; a value that does not fit is a 422 saying
    what to type."""
    actor = _actor(request)
    run = _run(actor, run_id)
    services.run_answer(
        actor=actor, run=run, question_key=payload.question, raw_value=payload.value
    )
    return run_out(actor, run)


@router.post(
    "/playbook-runs/{run_id}/check", response={200: RunOut, **CONFLICT_ERRORS}, summary="Check"
)
def runs_check(request: HttpRequest, run_id: int, payload: RunCheckIn) -> dict[str, Any]:
    actor = _actor(request)
    run = _run(actor, run_id)
    services.run_item_check(actor=actor, run=run, item_key=payload.item, checked=payload.checked)
    return run_out(actor, run)


@router.post(
    "/playbook-runs/{run_id}/actions",
    response={200: RunOut, **CONFLICT_ERRORS},
    summary="Run an action",
)
def runs_action(request: HttpRequest, run_id: int, payload: RunActionIn) -> dict[str, Any]:
    """The action's outcome, failure included, is the last entry of ``actions``."""
    actor = _actor(request)
    run = _run(actor, run_id)
    services.run_action(actor=actor, run=run, action_key=payload.action)
    return run_out(actor, run)


@router.post(
    "/playbook-runs/{run_id}/complete",
    response={200: RunOut, **CONFLICT_ERRORS},
    summary="Complete the step",
)
def runs_complete(request: HttpRequest, run_id: int, payload: RunCompleteIn) -> dict[str, Any]:
    """422 while a required item is open without a skip reason (``details`` lists them)."""
    actor = _actor(request)
    run = _run(actor, run_id)
    services.run_step_complete(actor=actor, run=run, skip_reasons=payload.skip_reasons)
    return run_out(actor, run)


@router.post(
    "/playbook-runs/{run_id}/skip", response={200: RunOut, **CONFLICT_ERRORS}, summary="Skip"
)
def runs_skip(request: HttpRequest, run_id: int, payload: RunReasonIn) -> dict[str, Any]:
    actor = _actor(request)
    run = _run(actor, run_id)
    services.run_step_skip(actor=actor, run=run, reason=payload.reason)
    return run_out(actor, run)


@router.post(
    "/playbook-runs/{run_id}/finish", response={200: RunOut, **CONFLICT_ERRORS}, summary="Finish"
)
def runs_finish(request: HttpRequest, run_id: int, payload: RunCompleteIn) -> dict[str, Any]:
    """Complete the last step and finish; 422 with an open required item and no reason."""
    actor = _actor(request)
    run = _run(actor, run_id)
    services.run_finish(actor=actor, run=run, skip_reasons=payload.skip_reasons)
    return run_out(actor, run)


@router.post(
    "/playbook-runs/{run_id}/abandon",
    response={200: RunOut, **CONFLICT_ERRORS},
    summary="Abandon",
)
def runs_abandon(request: HttpRequest, run_id: int, payload: RunReasonIn) -> dict[str, Any]:
    actor = _actor(request)
    run = _run(actor, run_id)
    services.run_abandon(actor=actor, run=run, reason=payload.reason)
    return run_out(actor, run)


# --- adherence ------------------------------------------------------------------------


@router.get(
    "/playbook-runs/{run_id}/adherence",
    response={200: PlaybookAdherenceOut, **ERRORS},
    summary="A run's adherence",
)
def runs_adherence(request: HttpRequest, run_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return _adherence_out(adherence.run_adherence(actor=actor, run=_run(actor, run_id)))


@router.get(
    "/playbook-adherence/agents",
    response={200: list[AgentAdherenceOut], **ERRORS},
    summary="Adherence per agent",
)
def adherence_agents(
    request: HttpRequest, query: Query[AdherencePeriodQuery]
) -> list[dict[str, Any]]:
    """Closed runs started in [start, end), lowest adherence first (needs "audit.view")."""
    actor = _actor(request)
    start, end = _period(query)
    return [
        {**vars(row), "adherence": _adherence_out(row.adherence)}
        for row in adherence.agents_adherence(
            actor=actor, start=start, end=end, playbook_key=query.playbook
        )
    ]


@router.get(
    "/playbook-adherence/steps",
    response={200: list[StepAdherenceOut], **ERRORS},
    summary="Adherence per step",
)
def adherence_steps(
    request: HttpRequest, query: Query[AdherencePeriodQuery]
) -> list[dict[str, Any]]:
    """Steps by items skipped, most first, with the reasons (needs "audit.view")."""
    actor = _actor(request)
    start, end = _period(query)
    return [
        {
            **vars(row),
            "adherence": _adherence_out(row.adherence),
            "items": [
                {**vars(item), "reasons": [vars(reason) for reason in item.reasons]}
                for item in row.items
            ],
        }
        for row in adherence.steps_adherence(
            actor=actor, start=start, end=end, playbook_key=query.playbook
        )
    ]
