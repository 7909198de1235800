"""The runner's moving parts, shared by the services: lock, enter, act, close, advance.

Call everything here inside a transaction, with the run locked (``run_locked``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from telcodesk.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.selectors import customers_visible
from telcodesk.playbooks.actions import ActionContext, ActionResult, playbook_action
from telcodesk.playbooks.fields import FieldWrite, field_namespace
from telcodesk.playbooks.flow import step_next
from telcodesk.playbooks.models import (
    ActionStatus,
    ItemKind,
    ItemStatus,
    PlaybookRun,
    RunAction,
    RunAnswer,
    RunItem,
    RunLink,
    RunStatus,
    RunStep,
    StepStatus,
)
from telcodesk.playbooks.pack_spec import ActionSpec, PlaybookSpec, QuestionSpec, StepSpec

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 500


class RunClosed(DomainError):
    code = ErrorCode.CONFLICT
    status = 409


def run_locked(*, actor: Actor, run_id: int) -> PlaybookRun:
    """The run of the actor's organization under a row lock; NotFound otherwise."""
    run = (
        PlaybookRun.objects.select_for_update(of=("self",))
        .select_related("playbook", "current_step", "customer")
        .filter(pk=run_id, organization=actor.organization)
        .first()
    )
    if run is None:
        raise NotFound(_("No such playbook run. Open it again from the customer's page."))
    return run


def require_running(run: PlaybookRun) -> RunStep:
    """The run's current step; RunClosed when the run is over."""
    if run.status != RunStatus.RUNNING or run.current_step is None:
        if run.status == RunStatus.ABANDONED:
            message = _("This run was abandoned; start a new one to go on.")
        else:
            message = _("This run is finished; start a new one to go on.")
        raise RunClosed(message)
    return run.current_step


def answers_of(run: PlaybookRun) -> dict[str, Any]:
    return dict(run.answers.values_list("question_key", "value"))


def links_of(run: PlaybookRun) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for target_type, target_id in run.links.order_by("id").values_list("target_type", "target_id"):
        found.setdefault(target_type, []).append(target_id)
    return {key: tuple(ids) for key, ids in found.items()}


def flow_values(run: PlaybookRun) -> dict[str, Any]:
    """What next rules read: the actions' facts, then the answers (questions win)."""
    return {**run.facts, **answers_of(run)}


def item_label(step: StepSpec, key: str) -> str:
    return step.item_label(key)


# --- links and subject -------------------------------------------------------------------


def link_add(run: PlaybookRun, target_type: str, target_id: int) -> None:
    RunLink.objects.get_or_create(
        organization_id=run.organization_id,
        run=run,
        target_type=target_type,
        target_id=target_id,
    )


# --- entering a step ---------------------------------------------------------------------


def step_enter(*, actor: Actor, run: PlaybookRun, step_key: str, now: datetime) -> RunStep:
    """Visit ``step_key``: a RunStep with its items, then the step's "entered" actions."""
    spec = run.playbook.spec.step(step_key)
    last = run.steps.aggregate(last=Max("position"))["last"] or 0
    step = RunStep.objects.create(
        organization_id=run.organization_id,
        run=run,
        step_key=step_key,
        position=last + 1,
        entered_at=now,
    )
    answered = set(run.answers.values_list("question_key", flat=True))
    user = actor.user

    def item(kind: str, key: str, required: bool, done: bool = False) -> RunItem:
        return RunItem(
            organization_id=run.organization_id,
            run=run,
            run_step=step,
            kind=kind,
            key=key,
            required=required,
            status=ItemStatus.DONE if done else ItemStatus.OPEN,
            done_at=now if done else None,
            done_by=user if done else None,
        )

    items = [item(ItemKind.CHECKLIST, entry.key, entry.required) for entry in spec.checklist]
    items += [
        item(ItemKind.QUESTION, question.key, question.required, question.key in answered)
        for question in spec.questions
    ]
    items += [
        item(ItemKind.ACTION, action.key or action.action, action.required)
        for action in spec.actions
        if action.when == "manual"
    ]
    RunItem.objects.bulk_create(items)
    run.current_step = step
    run.save(update_fields=["current_step", "updated_at"])
    for action in spec.actions:
        if action.when == "entered":
            action_execute(
                actor=actor, run=run, step=step, action=action, trigger="entered", now=now
            )
    return step


# --- actions -----------------------------------------------------------------------------


def _result_apply(*, actor: Actor, run: PlaybookRun, result: ActionResult) -> None:
    """What a successful action reported, onto the run (inside the action's savepoint)."""
    for name, value in result.facts.items():
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"fact {name!r} is a {type(value).__name__}, not a str/number/bool")
    if result.customer_id is not None and result.customer_id != run.customer_id:
        if not customers_visible(actor=actor).filter(pk=result.customer_id).exists():
            raise NotFound(_("No such customer. Search again by name, phone or service ID."))
        run.customer_id = result.customer_id
    for target_type, target_id in result.links.items():
        link_add(run, target_type, target_id)
    if result.subject is not None:
        run.target_type, run.target_id = result.subject
        link_add(run, *result.subject)
    run.variables = {**run.variables, **{k: str(v) for k, v in result.variables.items()}}
    run.facts = {**run.facts, **dict(result.facts)}
    run.save(
        update_fields=["customer", "target_type", "target_id", "variables", "facts", "updated_at"]
    )


def action_execute(
    *,
    actor: Actor,
    run: PlaybookRun,
    step: RunStep,
    action: ActionSpec,
    trigger: str,
    now: datetime,
) -> RunAction:
    """Run one action of ``step`` and record it; a failure is recorded, never raised."""
    key = action.key or action.action
    registered = playbook_action(action.action)
    result: ActionResult
    if registered is None:
        result = ActionResult(
            ok=False,
            message=_("The action %(name)s is not available in this installation; do it by hand.")
            % {"name": action.action},
        )
    else:
        context = ActionContext(
            actor=actor,
            run=run,
            playbook=run.playbook.spec,
            step_key=step.step_key,
            action_key=key,
            action=action.action,
            trigger=trigger,
            params=dict(action.params),
            answers=answers_of(run),
            facts=dict(run.facts),
            variables=dict(run.variables),
            links=links_of(run),
        )
        try:
            with transaction.atomic():
                outcome = registered.handler(context)
                if not isinstance(outcome, ActionResult):
                    raise TypeError(f"{action.action} returned {type(outcome).__name__}")
                if outcome.ok:
                    _result_apply(actor=actor, run=run, result=outcome)
            result = outcome
        except DomainError as error:
            run.refresh_from_db(
                fields=["customer", "target_type", "target_id", "variables", "facts"]
            )
            result = ActionResult(ok=False, message=error.message)
        except Exception as error:  # an action's bug must not break the agent's call
            logger.exception("playbook action %s failed on run %s", action.action, run.pk)
            run.refresh_from_db(
                fields=["customer", "target_type", "target_id", "variables", "facts"]
            )
            result = ActionResult(
                ok=False,
                message=_(
                    "The action %(label)s failed because of an error on our side; do it by "
                    "hand and tell a supervisor."
                )
                % {"label": item_label(run.playbook.spec.step(step.step_key), key)},
                data={"error": f"{type(error).__name__}: {error}"[:500]},
            )
    record = RunAction.objects.create(
        organization_id=run.organization_id,
        run=run,
        step_key=step.step_key,
        action_key=key,
        action=action.action,
        trigger=trigger,
        status=ActionStatus.OK if result.ok else ActionStatus.FAILED,
        message=str(result.message),
        data=dict(result.data),
        actor=actor.user,
        ran_at=now,
    )
    if result.ok:
        step.items.filter(key=key, kind=ItemKind.ACTION, status=ItemStatus.OPEN).update(
            status=ItemStatus.DONE, done_at=now, done_by=actor.user, updated_at=now
        )
    return record


def fields_write(
    *, actor: Actor, run: PlaybookRun, question: QuestionSpec, step_key: str, now: datetime
) -> None:
    """Hand the run's answers of the question's field namespace to its writer."""
    if question.field is None:
        return
    namespace_name, name = question.field.split(".", 1)
    namespace = field_namespace(namespace_name)
    if namespace is None or namespace.writer is None:
        return
    spec = run.playbook.spec
    write = FieldWrite(
        actor=actor,
        run=run,
        namespace=namespace_name,
        values=spec.field_values(namespace_name, answers_of(run)),
        changed=name,
    )
    try:
        with transaction.atomic():
            namespace.writer(write)
    except Exception as error:
        if isinstance(error, DomainError):
            message = error.message
        else:
            logger.exception("playbook field writer %s failed on run %s", namespace_name, run.pk)
            message = _(
                "The answer was kept here but could not be copied to the %(namespace)s; "
                "copy it by hand and tell a supervisor."
            ) % {"namespace": namespace_name}
        RunAction.objects.create(
            organization_id=run.organization_id,
            run=run,
            step_key=step_key,
            action_key=question.key,
            action=f"fields:{namespace_name}",
            trigger="answer",
            status=ActionStatus.FAILED,
            message=message,
            actor=actor.user,
            ran_at=now,
        )


# --- leaving a step ----------------------------------------------------------------------


def requirements_close(
    *,
    actor: Actor,
    run: PlaybookRun,
    step: RunStep,
    skip_reasons: Mapping[str, str] | None,
    now: datetime,
) -> None:
    """Refuse while a required item of ``step`` is open without a reason; else skip them.

    ``skip_reasons`` maps item, question or action keys of the step to the agent's
    reason. Blank reasons count as none. A reason for an item already done is ignored.
    """
    spec = run.playbook.spec.step(step.step_key)
    reasons = {
        key: str(reason).strip()
        for key, reason in (skip_reasons or {}).items()
        if reason is not None and str(reason).strip()
    }
    items = {item.key: item for item in step.items.all()}
    problems: dict[str, list[str]] = {}
    for key, reason in reasons.items():
        if key not in items:
            problems[key] = [
                _('"%(key)s" is not an item of the step "%(step)s".')
                % {"key": key, "step": spec.title}
            ]
        elif len(reason) > REASON_MAX_LENGTH:
            problems[key] = [
                _("Too long: write the reason in at most %(max)d characters.")
                % {"max": REASON_MAX_LENGTH}
            ]
    if problems:
        raise ValidationFailed(next(iter(problems.values()))[0], details=problems)
    missing = [
        item
        for item in items.values()
        if item.required and item.status == ItemStatus.OPEN and item.key not in reasons
    ]
    if missing:
        labels = "; ".join(item_label(spec, item.key) for item in missing)
        message = _(
            'Before leaving "%(step)s", do these or give a reason for skipping each: %(items)s'
        ) % {"step": spec.title, "items": labels}
        raise ValidationFailed(
            message,
            details={item.key: [_("Do it, or write why it was skipped.")] for item in missing},
        )
    for key, reason in reasons.items():
        item = items[key]
        if item.status != ItemStatus.OPEN:
            continue
        item.status = ItemStatus.SKIPPED
        item.skip_reason = reason
        item.done_at = now
        item.done_by = actor.user
        item.save(update_fields=["status", "skip_reason", "done_at", "done_by", "updated_at"])


def run_close(run: PlaybookRun, *, status: str, now: datetime, reason: str = "") -> None:
    run.status = status
    run.finished_at = now
    run.abandon_reason = reason
    run.save(update_fields=["status", "finished_at", "abandon_reason", "updated_at"])


def step_leave(
    *,
    actor: Actor,
    run: PlaybookRun,
    step: RunStep,
    status: str,
    now: datetime,
    reason: str = "",
) -> None:
    """Close ``step`` (done, or skipped with ``reason``) and go where its next rules say.

    A completed step runs its "completed" actions first, so their facts can steer the
    next rules; a skipped step runs none. After the last step the run is finished.
    """
    spec: PlaybookSpec = run.playbook.spec
    step.status = status
    step.skip_reason = reason
    step.completed_at = now
    step.completed_by = actor.user
    step.save(update_fields=["status", "skip_reason", "completed_at", "completed_by", "updated_at"])
    if status == StepStatus.DONE:
        for action in spec.step(step.step_key).actions:
            if action.when == "completed":
                action_execute(
                    actor=actor, run=run, step=step, action=action, trigger="completed", now=now
                )
    following = step_next(spec, step.step_key, flow_values(run))
    if following is None:
        run_close(run, status=RunStatus.FINISHED, now=now)
    else:
        step_enter(actor=actor, run=run, step_key=following, now=now)


def answer_store(
    *,
    actor: Actor,
    run: PlaybookRun,
    step: RunStep,
    question: QuestionSpec,
    value: Any,
    now: datetime,
) -> RunAnswer:
    answer, _created = RunAnswer.objects.update_or_create(
        run=run,
        question_key=question.key,
        defaults={
            "organization_id": run.organization_id,
            "step_key": step.step_key,
            "value": value,
            "answered_at": now,
            "answered_by": actor.user,
        },
    )
    step.items.filter(key=question.key, kind=ItemKind.QUESTION).update(
        status=ItemStatus.DONE, done_at=now, done_by=actor.user, skip_reason="", updated_at=now
    )
    return answer
