"""Reads of playbooks and runs, and the state of a run as the panel and the API show it.

Every read is scoped to the actor's organization: another organization's run is
NotFound, exactly like one that does not exist. Reading needs "customer.view".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Address, Customer, Subscription
from telcodesk.customers.selectors import customers_visible
from telcodesk.playbooks.actions import playbook_action
from telcodesk.playbooks.answers import answer_display
from telcodesk.playbooks.flow import may_end_after, step_next
from telcodesk.playbooks.models import (
    ActionStatus,
    ItemKind,
    ItemStatus,
    Playbook,
    PlaybookRun,
    RunAction,
    RunItem,
    RunStatus,
    RunStep,
)
from telcodesk.playbooks.pack_spec import ActionSpec, QuestionSpec, StepSpec
from telcodesk.playbooks.permissions import VIEW_PERMISSION
from telcodesk.playbooks.script import text_render
from telcodesk.playbooks.targets import playbook_target


def playbooks_available(*, actor: Actor) -> QuerySet[Playbook]:
    """The playbooks agents of the actor's organization can start (one per key)."""
    actor.require(VIEW_PERMISSION)
    return Playbook.objects.filter(organization=actor.organization, is_active=True).order_by(
        "name", "id"
    )


def playbook_get(*, actor: Actor, playbook_id: int) -> Playbook:
    """An active playbook of the actor's organization; NotFound otherwise."""
    playbook = playbooks_available(actor=actor).filter(pk=playbook_id).first()
    if playbook is None:
        raise NotFound(_("No such playbook. Choose one of your organization's playbooks."))
    return playbook


def run_get(*, actor: Actor, run_id: int) -> PlaybookRun:
    actor.require(VIEW_PERMISSION)
    run = (
        PlaybookRun.objects.select_related("playbook", "current_step", "customer", "agent")
        .filter(pk=run_id, organization=actor.organization)
        .first()
    )
    if run is None:
        raise NotFound(_("No such playbook run. Open it again from the customer's page."))
    return run


def runs_for_target(*, actor: Actor, target_type: str, target_id: int) -> QuerySet[PlaybookRun]:
    """Every run attached to the target (e.g. a ticket's runs), newest first."""
    actor.require(VIEW_PERMISSION)
    return (
        PlaybookRun.objects.filter(
            organization=actor.organization,
            links__target_type=target_type,
            links__target_id=target_id,
        )
        .select_related("playbook", "agent")
        .distinct()
        .order_by("-started_at", "-id")
    )


def run_running_for(
    *,
    actor: Actor,
    customer: Customer | None = None,
    target_type: str = "",
    target_id: int | None = None,
) -> PlaybookRun | None:
    """The running run of the target, else the actor's running run with the customer."""
    actor.require(VIEW_PERMISSION)
    if target_type and target_id is not None:
        run = (
            runs_for_target(actor=actor, target_type=target_type, target_id=target_id)
            .filter(status=RunStatus.RUNNING)
            .first()
        )
        if run is not None:
            return run
    if customer is not None and actor.user is not None:
        return (
            PlaybookRun.objects.filter(
                organization=actor.organization,
                customer=customer,
                agent=actor.user,
                status=RunStatus.RUNNING,
            )
            .select_related("playbook", "agent")
            .order_by("-started_at", "-id")
            .first()
        )
    return None


# --- the state of a run ------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistRow:
    key: str
    text: str
    required: bool
    status: str
    skip_reason: str

    @property
    def checked(self) -> bool:
        return self.status == ItemStatus.DONE


@dataclass(frozen=True)
class QuestionRow:
    spec: QuestionSpec
    text: str
    help: str
    value: Any
    display: str
    status: str
    skip_reason: str

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def answered(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class ActionRow:
    spec: ActionSpec
    label: str
    status: str  # of its item ("open"/"done"/"skipped"), "" for automatic actions
    last: RunAction | None

    @property
    def key(self) -> str:
        return self.spec.key or self.spec.action


@dataclass(frozen=True)
class StepHistoryRow:
    step: RunStep
    title: str


@dataclass(frozen=True)
class SkipRow:
    step_title: str
    label: str
    reason: str


@dataclass(frozen=True)
class TargetRow:
    type: str
    id: int
    url: str


@dataclass(frozen=True)
class CurrentStep:
    run_step: RunStep
    spec: StepSpec
    index: int  # 0-based position of the step in the playbook
    script: str
    guidance: str
    checklist: list[ChecklistRow]
    questions: list[QuestionRow]
    actions: list[ActionRow]
    # Keys and labels of the required things still open (the skip-reasons form).
    open_required: list[tuple[str, str]]
    # The next rules lead to the end with the current answers ("Finish").
    ends_here: bool
    # The run may end after this step with some answers.
    may_end: bool


@dataclass(frozen=True)
class RunState:
    run: PlaybookRun
    playbook: Playbook
    total_steps: int
    current: CurrentStep | None
    history: list[StepHistoryRow]
    answers: dict[str, Any]
    targets: list[TargetRow]
    failures: list[RunAction] = field(default_factory=list)
    # Every required item skipped so far, with the agent's reason.
    skipped: list[SkipRow] = field(default_factory=list)

    @property
    def is_running(self) -> bool:
        return self.run.status == RunStatus.RUNNING


def _action_label(spec: ActionSpec) -> str:
    registered = playbook_action(spec.action)
    return str(spec.label or (registered.label if registered else spec.action))


def _current(
    run: PlaybookRun, step: RunStep, answers: dict[str, Any], actions: list[RunAction]
) -> CurrentStep:
    playbook = run.playbook.spec
    spec = playbook.step(step.step_key)
    items = {item.key: item for item in RunItem.objects.filter(run_step=step)}
    variables = run.variables

    def item_of(key: str) -> RunItem | None:
        return items.get(key)

    checklist = []
    for entry in spec.checklist:
        item = item_of(entry.key)
        checklist.append(
            ChecklistRow(
                key=entry.key,
                text=text_render(entry.text, variables),
                required=entry.required,
                status=item.status if item else ItemStatus.OPEN,
                skip_reason=item.skip_reason if item else "",
            )
        )
    questions = []
    for question in spec.questions:
        item = item_of(question.key)
        value = answers.get(question.key)
        questions.append(
            QuestionRow(
                spec=question,
                text=text_render(question.text, variables),
                help=text_render(question.help, variables),
                value=value,
                display=answer_display(question, value),
                status=item.status if item else ItemStatus.OPEN,
                skip_reason=item.skip_reason if item else "",
            )
        )
    last_by_key: dict[str, RunAction] = {}
    for record in actions:
        if record.step_key == step.step_key and record.ran_at >= step.entered_at:
            last_by_key[record.action_key] = record
    action_rows = []
    for action in spec.actions:
        key = action.key or action.action
        item = item_of(key) if action.when == "manual" else None
        action_rows.append(
            ActionRow(
                spec=action,
                label=_action_label(action),
                status=item.status if item else "",
                last=last_by_key.get(key),
            )
        )
    labels = {row.key: row.text for row in checklist}
    labels |= {row.key: row.text for row in questions}
    labels |= {row.key: row.label for row in action_rows}
    open_required = [
        (item.key, labels.get(item.key, item.key))
        for item in items.values()
        if item.required and item.status == ItemStatus.OPEN
    ]
    values = {**run.facts, **answers}
    return CurrentStep(
        run_step=step,
        spec=spec,
        index=playbook.step_keys().index(step.step_key),
        script=text_render(spec.script, variables),
        guidance=text_render(spec.guidance, variables),
        checklist=checklist,
        questions=questions,
        actions=action_rows,
        open_required=open_required,
        ends_here=step_next(playbook, step.step_key, values) is None,
        may_end=may_end_after(playbook, step.step_key),
    )


def run_state(*, actor: Actor, run: PlaybookRun) -> RunState:
    """Everything the panel and the API show of ``run`` (re-read for the actor)."""
    run = run_get(actor=actor, run_id=run.pk)
    spec = run.playbook.spec
    answers = dict(run.answers.values_list("question_key", "value"))
    actions = list(RunAction.objects.filter(run=run).order_by("id"))
    titles = {step.key: step.title for step in spec.steps}
    history = [
        StepHistoryRow(step=step, title=titles.get(step.step_key, step.step_key))
        for step in RunStep.objects.filter(run=run).order_by("position")
    ]
    current = None
    if run.status == RunStatus.RUNNING and run.current_step is not None:
        current = _current(run, run.current_step, answers, actions)
    targets = []
    for link in run.links.order_by("id"):
        registered = playbook_target(link.target_type)
        url = registered.url(link.target_id) if registered and registered.url else ""
        targets.append(TargetRow(type=link.target_type, id=link.target_id, url=url))
    # What failed during the current visit of the current step (shown in the panel).
    failures = []
    if current is not None:
        visit = current.run_step
        failures = [
            record
            for record in actions
            if record.status == "failed"
            and record.step_key == visit.step_key
            and record.ran_at >= visit.entered_at
        ]
    skipped = []
    for item in (
        RunItem.objects.filter(run=run, required=True, status=ItemStatus.SKIPPED)
        .select_related("run_step")
        .order_by("run_step__position", "id")
    ):
        key = item.run_step.step_key
        step_spec = spec.step(key) if key in titles else None
        skipped.append(
            SkipRow(
                step_title=titles.get(key, key),
                label=step_spec.item_label(item.key) if step_spec else item.key,
                reason=item.skip_reason,
            )
        )
    return RunState(
        run=run,
        playbook=run.playbook,
        total_steps=len(spec.steps),
        current=current,
        history=history,
        answers=answers,
        targets=targets,
        failures=failures,
        skipped=skipped,
    )


def item_kind_label(kind: str) -> str:
    return str(ItemKind(kind).label) if kind in ItemKind.values else kind


# --- customers an action offers to pick ------------------------------------------------------

# Actions whose refusal may list customers in ``data.candidates`` ([{id, name,
# matched_on}]) and that take "#<id>" in a question to pick one: the action's name ->
# its param naming that question. The panel offers the candidates as buttons.
CUSTOMER_PICK_ACTIONS = {"identify_customer": "question"}


@dataclass(frozen=True)
class CustomerCandidate:
    """A customer an action's refusal offers to pick (a button in the panel)."""

    id: int
    name: str
    matched_on: str  # what matched: "phone", "name", ... (customers.search's keys)
    service_id: str  # their first service, "" if none
    place: str  # the city of their address (installation first), else the address


def _offered(row: ActionRow) -> list[dict[str, Any]]:
    """The candidates the last (failed) result of ``row`` lists, as the action stored them."""
    last = row.last
    if (
        row.spec.action not in CUSTOMER_PICK_ACTIONS
        or last is None
        or last.status != ActionStatus.FAILED
        or not isinstance(last.data, dict)
    ):
        return []
    candidates = last.data.get("candidates")
    if not isinstance(candidates, list):
        return []
    return [c for c in candidates if isinstance(c, dict) and isinstance(c.get("id"), int)]


def run_candidates(*, actor: Actor, state: RunState) -> dict[str, list[CustomerCandidate]]:
    """The customers each action of the current step offers, by action key: only those
    the actor sees, with their first service ID and city (one query for all)."""
    if state.current is None or not actor.can("customer.view"):
        return {}
    offered = {row.key: _offered(row) for row in state.current.actions}
    offered = {key: candidates for key, candidates in offered.items() if candidates}
    if not offered:
        return {}
    ids = {candidate["id"] for candidates in offered.values() for candidate in candidates}
    addresses = Address.objects.filter(customer=OuterRef("pk")).order_by(
        Case(
            When(purpose=Address.Purpose.INSTALLATION, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "id",
    )
    details = {
        pk: (service_id or "", city or one_line or "")
        for pk, service_id, city, one_line in customers_visible(actor=actor)
        .filter(pk__in=ids)
        .annotate(
            first_service=Subquery(
                Subscription.objects.filter(customer=OuterRef("pk"))
                .order_by("id")
                .values("service_id")[:1]
            ),
            city=Subquery(addresses.exclude(city="").values("city")[:1]),
            address=Subquery(addresses.exclude(one_line="").values("one_line")[:1]),
        )
        .values_list("pk", "first_service", "city", "address")
    }
    return {
        key: [
            CustomerCandidate(
                id=candidate["id"],
                name=str(candidate.get("name", "")),
                matched_on=str(candidate.get("matched_on", "")),
                service_id=details[candidate["id"]][0],
                place=details[candidate["id"]][1],
            )
            for candidate in candidates
            # Gone from the actor's customers since (e.g. a reseller's assignment ended).
            if candidate["id"] in details
        ]
        for key, candidates in offered.items()
    }
