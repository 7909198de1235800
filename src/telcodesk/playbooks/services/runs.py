"""The agents' writes to a playbook run: start, answer, check, act, complete, finish.

Each takes ``actor`` first (keyword-only) and checks, in this order: the permission
("customer.edit" works runs), the organization (a run, playbook, customer or target
of another organization is NotFound, exactly like one that does not exist), the run's
state (a finished or abandoned run: 409), then the input (ValidationFailed whose
message says what to do; nothing is written). Each call is one transaction holding a
row lock on the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.selectors import customers_visible
from telcodesk.playbooks.answers import answer_parse, is_blank
from telcodesk.playbooks.flow import step_next
from telcodesk.playbooks.models import (
    ItemKind,
    ItemStatus,
    Playbook,
    PlaybookRun,
    RunAction,
    RunAnswer,
    RunItem,
    RunStatus,
    StepStatus,
)
from telcodesk.playbooks.pack_spec import PlaybookSpec
from telcodesk.playbooks.permissions import WORK_PERMISSION
from telcodesk.playbooks.selectors import CUSTOMER_PICK_ACTIONS, run_candidates, run_state
from telcodesk.playbooks.services.engine import (
    REASON_MAX_LENGTH,
    action_execute,
    answer_store,
    fields_write,
    flow_values,
    link_add,
    require_running,
    requirements_close,
    run_close,
    run_locked,
    step_enter,
    step_leave,
)
from telcodesk.playbooks.targets import playbook_target

VARIABLE_MAX_LENGTH = 200


class RunTarget(NamedTuple):
    """What a run is attached to: ``RunTarget("conversation", 12)``."""

    type: str
    id: int


def _reason_clean(reason: str, *, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        message = _("Write the reason: the supervisor reads it.")
        raise ValidationFailed(message, details={field: [message]})
    if len(text) > REASON_MAX_LENGTH:
        message = _("Too long: write the reason in at most %(max)d characters.") % {
            "max": REASON_MAX_LENGTH
        }
        raise ValidationFailed(message, details={field: [message]})
    return text


def _agent_name(actor: Actor) -> str:
    user = actor.user
    if user is None:
        return actor.label
    return user.first_name or user.get_full_name() or user.get_username()


def _variables_for(
    *, actor: Actor, spec: PlaybookSpec, customer: Customer | None, given: Mapping[str, Any]
) -> dict[str, str]:
    known = spec.variable_names()
    unknown = [name for name in given if name not in known]
    if unknown:
        message = _(
            '"%(name)s" is not a variable of this playbook; its variables are: %(known)s.'
        ) % {
            "name": unknown[0],
            "known": ", ".join(known),
        }
        raise ValidationFailed(
            message, details={f"variables.{name}": [message] for name in unknown}
        )
    values = {variable.key: variable.default for variable in spec.variables if variable.default}
    values["provider"] = actor.organization.display_name
    values["agent_name"] = _agent_name(actor)
    if customer is not None:
        values["customer_name"] = customer.display_name
    for name, value in given.items():
        text = "" if value is None else str(value).strip()
        if len(text) > VARIABLE_MAX_LENGTH:
            message = _("Too long: at most %(max)d characters.") % {"max": VARIABLE_MAX_LENGTH}
            raise ValidationFailed(message, details={f"variables.{name}": [message]})
        if text:
            values[name] = text
    return values


def _check_target(actor: Actor, target: RunTarget) -> None:
    registered = playbook_target(target.type)
    if registered is None:
        message = _("A playbook run cannot be attached to a %(type)s.") % {"type": target.type}
        raise ValidationFailed(message, details={"target_type": [message]})
    if not registered.visible(actor, target.id):
        raise NotFound(
            _("No such %(type)s. Open it again and start the playbook from there.")
            % {"type": target.type}
        )


def playbook_run_start(
    *,
    actor: Actor,
    playbook: Playbook,
    customer: Customer | None = None,
    target: RunTarget | None = None,
    variables: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> PlaybookRun:
    """Start ``playbook`` (an active one of the actor's organization) and enter its first step.

    ``target`` is the interaction or ticket the run belongs to (a registered target
    type, visible to the actor); a target that already has a running run is refused
    (409, ``details.run_id`` names it): continue or abandon that one. ``variables``
    fill the playbook's variables besides the automatic ones (provider, agent_name,
    customer_name).
    """
    actor.require(WORK_PERMISSION)
    if playbook.organization_id != actor.organization.pk or not playbook.is_active:
        raise NotFound(_("No such playbook. Choose one of your organization's playbooks."))
    if customer is not None and not customers_visible(actor=actor).filter(pk=customer.pk).exists():
        raise NotFound(_("No such customer. Search again by name, phone or service ID."))
    if target is not None:
        _check_target(actor, target)
    spec = playbook.spec
    values = _variables_for(actor=actor, spec=spec, customer=customer, given=variables or {})
    now = now or timezone.now()
    with transaction.atomic():
        if target is not None:
            running = (
                PlaybookRun.objects.filter(
                    organization=actor.organization,
                    status=RunStatus.RUNNING,
                    links__target_type=target.type,
                    links__target_id=target.id,
                )
                .values_list("pk", flat=True)
                .first()
            )
            if running is not None:
                raise DomainError(
                    _(
                        "A playbook is already running for this %(type)s: continue it, or "
                        "abandon it first."
                    )
                    % {"type": target.type},
                    code=ErrorCode.CONFLICT,
                    status=409,
                    details={"run_id": running},
                )
        run = PlaybookRun.objects.create(
            organization=actor.organization,
            playbook=playbook,
            agent=actor.user,
            agent_label="" if actor.user else actor.label,
            customer=customer,
            target_type=target.type if target else "",
            target_id=target.id if target else None,
            variables=values,
            started_at=now,
        )
        if target is not None:
            link_add(run, target.type, target.id)
        step_enter(actor=actor, run=run, step_key=spec.steps[0].key, now=now)
    return run


def run_answer(
    *,
    actor: Actor,
    run: PlaybookRun,
    question_key: str,
    raw_value: Any,
    now: datetime | None = None,
) -> RunAnswer | None:
    """Answer a question of the current step; the typed value replaces any earlier one.

    A value that does not fit the question's type is refused with what to type (for
    a number: digits only, within its min and max). A blank value clears the answer of
    an optional question (None is returned) and is refused for a required one. An
    answer that fills a field is handed to the field's writer (playbooks.fields).
    """
    actor.require(WORK_PERMISSION)
    now = now or timezone.now()
    with transaction.atomic():
        locked = run_locked(actor=actor, run_id=run.pk)
        step = require_running(locked)
        spec = locked.playbook.spec.step(step.step_key)
        question = next((q for q in spec.questions if q.key == question_key), None)
        if question is None:
            message = _('"%(key)s" is not a question of the step "%(step)s".') % {
                "key": question_key,
                "step": spec.title,
            }
            raise ValidationFailed(message, details={"question": [message]})
        if is_blank(raw_value):
            if question.required:
                message = _(
                    "This question is required: write an answer, or skip it with a reason "
                    "when you complete the step."
                )
                raise ValidationFailed(message, details={question.key: [message]})
            RunAnswer.objects.filter(run=locked, question_key=question.key).delete()
            step.items.filter(key=question.key, kind=ItemKind.QUESTION).update(
                status=ItemStatus.OPEN, done_at=None, done_by=None, updated_at=now
            )
            fields_write(
                actor=actor, run=locked, question=question, step_key=step.step_key, now=now
            )
            return None
        value = answer_parse(question, raw_value)
        answer = answer_store(
            actor=actor, run=locked, step=step, question=question, value=value, now=now
        )
        fields_write(actor=actor, run=locked, question=question, step_key=step.step_key, now=now)
    return answer


def run_item_check(
    *,
    actor: Actor,
    run: PlaybookRun,
    item_key: str,
    checked: bool = True,
    now: datetime | None = None,
) -> RunItem:
    """Tick (or untick) a checklist item of the current step."""
    actor.require(WORK_PERMISSION)
    now = now or timezone.now()
    with transaction.atomic():
        locked = run_locked(actor=actor, run_id=run.pk)
        step = require_running(locked)
        item = step.items.filter(key=item_key, kind=ItemKind.CHECKLIST).first()
        if item is None:
            title = locked.playbook.spec.step(step.step_key).title
            message = _('"%(key)s" is not a checklist item of the step "%(step)s".') % {
                "key": item_key,
                "step": title,
            }
            raise ValidationFailed(message, details={"item": [message]})
        item.status = ItemStatus.DONE if checked else ItemStatus.OPEN
        item.done_at = now if checked else None
        item.done_by = actor.user if checked else None
        item.save(update_fields=["status", "done_at", "done_by", "updated_at"])
    return item


def run_action(
    *, actor: Actor, run: PlaybookRun, action_key: str, now: datetime | None = None
) -> RunAction:
    """Run an action of the current step now (the panel's button; also a retry).

    The outcome is recorded and returned, failure included (``status == "failed"``
    with the message to show): a failing action never breaks the run.
    """
    actor.require(WORK_PERMISSION)
    now = now or timezone.now()
    with transaction.atomic():
        locked = run_locked(actor=actor, run_id=run.pk)
        step = require_running(locked)
        spec = locked.playbook.spec.step(step.step_key)
        action = next((a for a in spec.actions if a.key == action_key), None)
        if action is None:
            message = _('"%(key)s" is not an action of the step "%(step)s".') % {
                "key": action_key,
                "step": spec.title,
            }
            raise ValidationFailed(message, details={"action": [message]})
        return action_execute(
            actor=actor, run=locked, step=step, action=action, trigger="manual", now=now
        )


def run_step_complete(
    *,
    actor: Actor,
    run: PlaybookRun,
    skip_reasons: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> PlaybookRun:
    """Complete the current step and go to the next one (or finish after the last).

    Refused while a required item, question or action of the step is open, unless
    ``skip_reasons`` gives a reason for each (item key -> reason); the reasons are
    stored on the items and shown to the supervisor. The step's "completed" actions
    run before the next rules are evaluated.
    """
    actor.require(WORK_PERMISSION)
    now = now or timezone.now()
    with transaction.atomic():
        locked = run_locked(actor=actor, run_id=run.pk)
        step = require_running(locked)
        requirements_close(actor=actor, run=locked, step=step, skip_reasons=skip_reasons, now=now)
        step_leave(actor=actor, run=locked, step=step, status=StepStatus.DONE, now=now)
    return locked


def run_step_skip(
    *, actor: Actor, run: PlaybookRun, reason: str, now: datetime | None = None
) -> PlaybookRun:
    """Skip the whole current step with one reason (given to each of its open items).

    Its "completed" actions do not run; the next rules are evaluated as usual.
    """
    actor.require(WORK_PERMISSION)
    text = _reason_clean(reason)
    now = now or timezone.now()
    with transaction.atomic():
        locked = run_locked(actor=actor, run_id=run.pk)
        step = require_running(locked)
        step.items.filter(status=ItemStatus.OPEN).update(
            status=ItemStatus.SKIPPED,
            skip_reason=text,
            done_at=now,
            done_by=actor.user,
            updated_at=now,
        )
        step_leave(
            actor=actor, run=locked, step=step, status=StepStatus.SKIPPED, now=now, reason=text
        )
    return locked


def run_finish(
    *,
    actor: Actor,
    run: PlaybookRun,
    skip_reasons: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> PlaybookRun:
    """Complete the current step as the last one and finish the run.

    Refused (nothing written) when the answers lead on to another step, and, like
    run_step_complete, while a required item is open without a skip reason. The step's
    "completed" actions still run; should their facts lead to another step, the run
    goes on there instead of finishing (the returned run says so in ``status``).
    """
    actor.require(WORK_PERMISSION)
    now = now or timezone.now()
    with transaction.atomic():
        locked = run_locked(actor=actor, run_id=run.pk)
        step = require_running(locked)
        spec = locked.playbook.spec
        following = step_next(spec, step.step_key, flow_values(locked))
        if following is not None:
            message = _(
                'The run does not end after "%(step)s": complete it to go on to "%(next)s", '
                "or abandon the run with a reason."
            ) % {"step": spec.step(step.step_key).title, "next": spec.step(following).title}
            raise ValidationFailed(message, details={"step": [message]})
        requirements_close(actor=actor, run=locked, step=step, skip_reasons=skip_reasons, now=now)
        step_leave(actor=actor, run=locked, step=step, status=StepStatus.DONE, now=now)
    return locked


def run_abandon(
    *, actor: Actor, run: PlaybookRun, reason: str, now: datetime | None = None
) -> PlaybookRun:
    """Stop the run where it is (the call dropped, the customer will call back)."""
    actor.require(WORK_PERMISSION)
    text = _reason_clean(reason)
    now = now or timezone.now()
    with transaction.atomic():
        locked = run_locked(actor=actor, run_id=run.pk)
        require_running(locked)
        run_close(locked, status=RunStatus.ABANDONED, now=now, reason=text)
    return locked


def run_candidate_pick(
    *, actor: Actor, run: PlaybookRun, action_key: str, customer_id: int | None
) -> RunAction:
    """Pick one of the customers the action ``action_key`` offers now (a candidate's
    button): answer its question "#<id>" and run it again, in one transaction (a refused
    action leaves the answer as it was). Refused, with nothing written, when the run is
    over or the action does not offer that customer."""
    actor.require(WORK_PERMISSION)
    state = run_state(actor=actor, run=run)
    if state.current is None:
        require_running(state.run)
    rows = state.current.actions if state.current else []
    row = next((row for row in rows if row.key == action_key), None)
    offered = run_candidates(actor=actor, state=state).get(action_key, [])
    if row is None or customer_id is None or customer_id not in {c.id for c in offered}:
        message = _(
            "That customer is not among the ones found for this call. Search again by "
            "name, phone or service ID."
        )
        raise ValidationFailed(message, details={action_key or "action": [message]})
    question_key = str(row.spec.params.get(CUSTOMER_PICK_ACTIONS[row.spec.action], ""))
    with transaction.atomic():
        run_answer(actor=actor, run=run, question_key=question_key, raw_value=f"#{customer_id}")
        return run_action(actor=actor, run=run, action_key=action_key)
