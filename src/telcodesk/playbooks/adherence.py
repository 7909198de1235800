"""Adherence: how much of the procedure the agents really followed.

Counted over the required items of the steps a run visited (checklist items,
questions and required manual actions; a step visited twice counts twice): an item
is done, skipped (with the agent's reason), or still open (an abandoned run's
unfinished step). Adherence = done / required, in percent with one decimal; skipped
and open both count against it. Steps a branch never reached do not count.

Per agent and per step the figures cover the runs *started* in the period
[start, end) that are over (finished or abandoned); a run in progress counts only
in its own figure. Per-agent and per-step figures are the supervisors' (they need
"audit.view"); a run's own figure is visible to whoever may read the run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from telcodesk.accounts.models import User
from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.playbooks.models import (
    ItemStatus,
    Playbook,
    PlaybookRun,
    RunItem,
    RunStatus,
    RunStep,
    StepStatus,
)
from telcodesk.playbooks.pack_spec import PlaybookSpec
from telcodesk.playbooks.permissions import SUPERVISE_PERMISSION, VIEW_PERMISSION

CLOSED = (RunStatus.FINISHED, RunStatus.ABANDONED)


@dataclass(frozen=True)
class Adherence:
    required: int = 0
    done: int = 0
    skipped: int = 0
    open: int = 0

    @property
    def percent(self) -> Decimal | None:
        """done / required in percent, one decimal (half up); None without requirements."""
        if not self.required:
            return None
        return (Decimal(self.done) * 100 / Decimal(self.required)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    def __add__(self, other: Adherence) -> Adherence:
        return Adherence(
            self.required + other.required,
            self.done + other.done,
            self.skipped + other.skipped,
            self.open + other.open,
        )


_COUNTS = {
    "required": Count("id"),
    "done": Count("id", filter=Q(status=ItemStatus.DONE)),
    "skipped": Count("id", filter=Q(status=ItemStatus.SKIPPED)),
    "open": Count("id", filter=Q(status=ItemStatus.OPEN)),
}


def _adherence(row: dict[str, int]) -> Adherence:
    return Adherence(row["required"], row["done"], row["skipped"], row["open"])


def run_adherence(*, actor: Actor, run: PlaybookRun) -> Adherence:
    actor.require(VIEW_PERMISSION)
    if run.organization_id != actor.organization.pk:
        raise NotFound(_("No such playbook run. Open it again from the customer's page."))
    row = RunItem.objects.filter(
        organization=actor.organization, run_id=run.pk, required=True
    ).aggregate(**_COUNTS)
    return _adherence(row)


def _closed_runs(
    actor: Actor, start: datetime, end: datetime, playbook_key: str
) -> QuerySet[PlaybookRun]:
    actor.require(SUPERVISE_PERMISSION)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    runs = PlaybookRun.objects.filter(
        organization=actor.organization,
        started_at__gte=start,
        started_at__lt=end,
        status__in=CLOSED,
    )
    if playbook_key:
        runs = runs.filter(playbook__key=playbook_key)
    return runs


@dataclass(frozen=True)
class AgentAdherence:
    agent_id: int | None
    agent_name: str
    runs: int
    finished: int
    abandoned: int
    adherence: Adherence


def agents_adherence(
    *, actor: Actor, start: datetime, end: datetime, playbook_key: str = ""
) -> list[AgentAdherence]:
    """One row per agent with closed runs in the period, lowest adherence first."""
    runs = _closed_runs(actor, start, end, playbook_key)
    per_agent = {
        row["agent"]: row
        for row in runs.values("agent").annotate(
            runs=Count("id"),
            finished=Count("id", filter=Q(status=RunStatus.FINISHED)),
            abandoned=Count("id", filter=Q(status=RunStatus.ABANDONED)),
        )
    }
    items = {
        row["run__agent"]: _adherence(row)
        for row in RunItem.objects.filter(run__in=runs, required=True)
        .values("run__agent")
        .annotate(**_COUNTS)
    }
    names: dict[int | None, str] = {
        user.pk: user.get_full_name() or user.get_username()
        for user in User.objects.filter(pk__in=[pk for pk in per_agent if pk is not None])
    }
    if None in per_agent:
        label = runs.filter(agent=None).values_list("agent_label", flat=True).first()
        names[None] = label or _("(an API key)")
    rows = [
        AgentAdherence(
            agent_id=agent_id,
            agent_name=names.get(agent_id, ""),
            runs=row["runs"],
            finished=row["finished"],
            abandoned=row["abandoned"],
            adherence=items.get(agent_id, Adherence()),
        )
        for agent_id, row in per_agent.items()
    ]
    return sorted(
        rows,
        key=lambda row: (
            row.adherence.percent if row.adherence.percent is not None else Decimal(101),
            row.agent_name,
        ),
    )


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    count: int


@dataclass(frozen=True)
class ItemSkips:
    key: str
    kind: str
    text: str
    required: int
    skipped: int
    reasons: list[ReasonCount] = field(default_factory=list)


@dataclass(frozen=True)
class StepAdherence:
    playbook_key: str
    playbook_name: str
    step_key: str
    title: str
    visits: int
    skipped_visits: int
    adherence: Adherence
    items: list[ItemSkips] = field(default_factory=list)


def _texts(spec: PlaybookSpec, step_key: str) -> tuple[str, dict[str, str]]:
    if step_key not in spec.step_keys():
        return step_key, {}
    step = spec.step(step_key)
    texts = {item.key: item.text for item in step.checklist}
    texts |= {question.key: question.text for question in step.questions}
    texts |= {action.key or action.action: action.label or action.action for action in step.actions}
    return step.title, texts


def steps_adherence(
    *, actor: Actor, start: datetime, end: datetime, playbook_key: str = ""
) -> list[StepAdherence]:
    """Per playbook step: visits, adherence, and its items by times skipped, with reasons.

    Ordered by the number of skipped items, most first: "which steps are skipped most".
    """
    runs = _closed_runs(actor, start, end, playbook_key)
    visits: dict[tuple[str, str], Counter[str]] = {}
    for row in (
        RunStep.objects.filter(run__in=runs)
        .values("run__playbook__key", "step_key", "status")
        .annotate(count=Count("id"))
    ):
        key = (row["run__playbook__key"], row["step_key"])
        visits.setdefault(key, Counter())[row["status"]] += row["count"]
    # Titles and texts from the newest version of each playbook seen in the period.
    playbook_ids = runs.values_list("playbook_id", flat=True).distinct()
    specs: dict[str, tuple[str, PlaybookSpec]] = {}
    for playbook in Playbook.objects.filter(pk__in=playbook_ids).order_by("id"):
        specs[playbook.key] = (playbook.name, playbook.spec)
    counts: dict[tuple[str, str], dict[tuple[str, str], Counter[str]]] = {}
    reasons: dict[tuple[str, str, str], Counter[str]] = {}
    for row in (
        RunItem.objects.filter(run__in=runs, required=True)
        .values("run__playbook__key", "run_step__step_key", "key", "kind", "status", "skip_reason")
        .annotate(count=Count("id"))
    ):
        step = (row["run__playbook__key"], row["run_step__step_key"])
        item = (row["key"], row["kind"])
        counts.setdefault(step, {}).setdefault(item, Counter())[row["status"]] += row["count"]
        if row["status"] == ItemStatus.SKIPPED:
            reason_key = (*step, row["key"])
            reasons.setdefault(reason_key, Counter())[row["skip_reason"]] += row["count"]
    result = []
    for (book_key, step_key), statuses in visits.items():
        name, spec = specs.get(book_key, (book_key, None))
        title, texts = _texts(spec, step_key) if spec else (step_key, {})
        items = []
        total = Adherence()
        for (item_key, kind), item_counts in counts.get((book_key, step_key), {}).items():
            adherence = Adherence(
                required=sum(item_counts.values()),
                done=item_counts[ItemStatus.DONE],
                skipped=item_counts[ItemStatus.SKIPPED],
                open=item_counts[ItemStatus.OPEN],
            )
            total = total + adherence
            why = reasons.get((book_key, step_key, item_key), Counter())
            items.append(
                ItemSkips(
                    key=item_key,
                    kind=kind,
                    text=str(texts.get(item_key, item_key)),
                    required=adherence.required,
                    skipped=adherence.skipped,
                    reasons=[
                        ReasonCount(reason, count)
                        for reason, count in sorted(why.items(), key=lambda kv: (-kv[1], kv[0]))
                    ],
                )
            )
        items.sort(key=lambda item: (-item.skipped, item.text))
        result.append(
            StepAdherence(
                playbook_key=book_key,
                playbook_name=name,
                step_key=step_key,
                title=title,
                visits=sum(statuses.values()),
                skipped_visits=statuses[StepStatus.SKIPPED],
                adherence=total,
                items=items,
            )
        )
    result.sort(key=lambda row: (-row.adherence.skipped, row.playbook_name, row.title))
    return result


@dataclass(frozen=True)
class SkippedItem:
    run_id: int
    agent_name: str
    playbook_name: str
    step_title: str
    item_text: str
    kind: str
    reason: str
    at: datetime | None


def skipped_items(
    *, actor: Actor, start: datetime, end: datetime, playbook_key: str = "", limit: int = 100
) -> list[SkippedItem]:
    """The latest required items skipped in the period's runs, each with its reason."""
    runs = _closed_runs(actor, start, end, playbook_key)
    rows = (
        RunItem.objects.filter(run__in=runs, required=True, status=ItemStatus.SKIPPED)
        .select_related("run__playbook", "run__agent", "run_step")
        .order_by("-done_at", "-id")[:limit]
    )
    found = []
    specs: dict[int, PlaybookSpec] = {}
    for item in rows:
        run = item.run
        spec = specs.setdefault(run.playbook_id, run.playbook.spec)
        title, texts = _texts(spec, item.run_step.step_key)
        agent = run.agent
        found.append(
            SkippedItem(
                run_id=run.pk,
                agent_name=(agent.get_full_name() or agent.get_username())
                if agent
                else run.agent_label,
                playbook_name=run.playbook.name,
                step_title=title,
                item_text=str(texts.get(item.key, item.key)),
                kind=item.kind,
                reason=item.skip_reason,
                at=item.done_at,
            )
        )
    return found
