"""The pack's automations: run on lead events, inside the transaction of the event.

A pipeline's ``automations`` (packs.schema.AutomationSpec, stored as JSON on the
Pipeline) say what happens ``on`` an event: ``stage_entered`` (a stage), ``lead_won``,
``lead_lost`` (a reason, or any), ``customer_replied`` (on an offer stage, or any
stage). The services call in here from their own transaction (``lead_create``,
``lead_move``, ``lead_move_automatically``, ``lead_win``, ``lead_lose``,
``lead_close_automatically``) and so does ``pipelines.inbound`` for replies: every
effect (outbox rows, tasks, timers, moves) commits or rolls back with the event.

Each action execution is one ``AutomationRun`` row, unique per (lead, automation key,
trigger, action index), with its outcome: ``done``, ``skipped`` (and why) or ``failed``
(and the error). Running the same trigger twice finds the rows and does nothing again.
``start_timer`` schedules a durable timer (automation.services.timer_schedule) whose
handler (pipelines.timers) re-checks that the lead is still in the same stage entry
(and, with ``cancel_on_reply``, that the customer has not answered) before running
its ``then`` actions with the trigger ``timer:<id>``.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_noop

from telcodesk.automation.models import Timer
from telcodesk.automation.services import timer_cancel, timer_schedule
from telcodesk.core.errors import DomainError
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import TimelineEvent
from telcodesk.customers.services import timeline_add
from telcodesk.messaging.models import Message
from telcodesk.packs.schema import bot_lookup_key
from telcodesk.pipelines.bots import (
    NO_CONVERSATION,
    Delivery,
    bot_deliver,
    lead_outbound_record,
    template_deliver,
)
from telcodesk.pipelines.models import (
    AutomationRun,
    Bot,
    Lead,
    LeadNotification,
    LeadStageChange,
    LeadTask,
    LossReason,
    Stage,
    StageKind,
)

logger = logging.getLogger("telcodesk.pipelines")

TARGET_TYPE = "pipelines.lead"
# A wait that a reply from the customer cancels, and one it does not.
WAIT_REPLY_KIND = "pipelines.automation_wait_reply"
WAIT_KIND = "pipelines.automation_wait"
# Bots, moves and automations may trigger one another; this deep and no deeper.
MAX_DEPTH = 4
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("automation_depth", default=0)

NO_OWNER = gettext_noop("the lead has no owner to notify")
ALREADY_THERE = gettext_noop('the lead is already in "%(stage)s"')
NO_STAGE = gettext_noop('"%(stage)s" is not an active stage of the pipeline')
NO_BOT = gettext_noop("the bot %(bot)s is not defined any more")
LEAD_CLOSED = gettext_noop("the lead is closed")
LOOP = gettext_noop("stopped: automations triggered one another too many times")
REPLIED = gettext_noop("the customer replied before the wait ended")
LEFT_STAGE = gettext_noop("the lead left the stage the wait was started in")
NO_EMAIL_ADDRESS = gettext_noop("the lead has no e-mail address")
NO_EMAIL_CHANNEL = gettext_noop("the organization has no e-mail channel")
NO_EMAIL_TEMPLATE = gettext_noop("the organization has no such e-mail template")


@dataclass
class ActionResult:
    outcome: str = AutomationRun.Outcome.DONE
    detail: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    messages: list[Message] = field(default_factory=list)
    moved_to: Stage | None = None
    notification: LeadNotification | None = None

    @classmethod
    def skipped(cls, detail: str, subject: str = "", **params: Any) -> ActionResult:
        return cls(AutomationRun.Outcome.SKIPPED, detail, params, subject)

    @classmethod
    def from_delivery(cls, delivery: Delivery, subject: str) -> ActionResult:
        if not delivery.messages:
            return cls.skipped(delivery.skip, subject, **delivery.skip_params)
        return cls(subject=subject, messages=delivery.messages, moved_to=delivery.moved_to)


@dataclass(frozen=True)
class RunContext:
    lead: Lead
    automation_key: str
    trigger: str
    at: datetime
    actor: Actor | None = None


# --- the actions --------------------------------------------------------------------------


def _send_bot(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    name = str(action["bot"])
    bot = Bot.objects.filter(
        organization_id=ctx.lead.organization_id,
        lookup_key=bot_lookup_key(name),
        is_active=True,
    ).first()
    if bot is None:
        return ActionResult.skipped(NO_BOT, name, bot=name)
    delivery = bot_deliver(
        actor=ctx.actor, bot=bot, lead=ctx.lead, conversation=ctx.lead.conversation, at=ctx.at
    )
    return ActionResult.from_delivery(delivery, bot.name)


def _send_template(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    name = str(action["template"])
    delivery = template_deliver(
        actor=ctx.actor, lead=ctx.lead, conversation=ctx.lead.conversation, template_name=name
    )
    if delivery.messages:
        lead_outbound_record(lead=ctx.lead, at=ctx.at)
    return ActionResult.from_delivery(delivery, name)


def lead_email_address(lead: Lead) -> str:
    """Where the lead's e-mails go, the most specific address first.

    1. the tab field ``email`` (TECHSTORE's "for the payment reminders"), typed by an
       agent for this sale;
    2. ``Lead.email``, the address given with the lead (the online store's order form);
    3. the linked customer's primary (or any) e-mail contact point.
    """
    typed = str(lead.data.get("email") or "").strip()
    if typed:
        return typed
    if lead.email:
        return lead.email
    if lead.customer_id is not None:
        from telcodesk.customers.models import ContactPoint

        address = (
            ContactPoint.objects.filter(customer_id=lead.customer_id, kind=ContactPoint.Kind.EMAIL)
            .order_by("-is_primary", "id")
            .values_list("value", flat=True)
            .first()
        )
        if address:
            return str(address)
    return ""


def _send_email(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    """An e-mail to the lead's address: a pack e-mail template (in the customer's
    language when it has that version) or an inline subject and body."""
    from telcodesk.messaging.email import email_send, email_template_pick
    from telcodesk.messaging.sending import SendRefused
    from telcodesk.pipelines.bots import text_render

    organization = ctx.lead.organization
    subject, body = str(action.get("subject") or ""), str(action.get("body") or "")
    language = organization.default_language
    if action.get("template"):
        customer = ctx.lead.customer
        wanted = (customer.preferred_language if customer else "") or language
        template = email_template_pick(
            organization=organization, name=str(action["template"]), language=wanted
        )
        if template is None:
            return ActionResult.skipped(NO_EMAIL_TEMPLATE, str(action["template"]))
        subject, body, language = template.subject, template.body, template.language
    address = lead_email_address(ctx.lead)
    if not address:
        return ActionResult.skipped(NO_EMAIL_ADDRESS, subject)

    def render(text: str) -> str:
        return text_render(
            text,
            organization=organization,
            conversation=ctx.lead.conversation,
            agent=ctx.lead.owner,
            lead=ctx.lead,
        )

    try:
        message = email_send(
            actor_or_none=ctx.actor,
            organization=organization,
            to_address=address,
            subject=render(subject),
            body=render(body),
            customer=ctx.lead.customer,
            language=language,
        )
    except SendRefused as exc:
        if exc.reason == "no_email_channel":
            return ActionResult.skipped(NO_EMAIL_CHANNEL, subject)
        return ActionResult.skipped(exc.message, subject)
    lead_outbound_record(lead=ctx.lead, at=ctx.at)
    return ActionResult(subject=subject, messages=[message])


def _create_task(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    title = str(action["title"])[:200]
    LeadTask.objects.create(
        organization_id=ctx.lead.organization_id,
        lead=ctx.lead,
        kind=action.get("kind", LeadTask.Kind.OTHER),
        title=title,
        priority=action.get("priority", LeadTask.Priority.NORMAL),
        due_at=ctx.at + timedelta(minutes=int(action.get("due_in_minutes", 0))),
        assigned_to_id=ctx.lead.owner_id,
        source_timer_id=_timer_id(ctx.trigger),
    )
    return ActionResult(subject=title)


def _timer_id(trigger: str) -> int | None:
    kind, _sep, value = trigger.partition(":")
    return int(value) if kind == "timer" and value.isdigit() else None


def _set_field(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    from telcodesk.pipelines.tabs import tab_data_clean

    key = str(action["key"])
    clean = tab_data_clean(ctx.lead.pipeline.tab_fields(), {key: action["value"]}, ctx.lead.data)
    if clean != ctx.lead.data:
        Lead.objects.filter(pk=ctx.lead.pk).update(data=clean, updated_at=timezone.now())
    return ActionResult(subject=key)


def _move_to(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    from telcodesk.pipelines.services import lead_move_automatically

    name = str(action["stage"])
    stage = Stage.objects.filter(
        pipeline_id=ctx.lead.pipeline_id, name=name, is_active=True
    ).first()
    if stage is None or stage.kind != StageKind.OPEN:
        return ActionResult.skipped(NO_STAGE, name, stage=name)
    if not ctx.lead.is_open:
        return ActionResult.skipped(LEAD_CLOSED, name)
    if ctx.lead.stage_id == stage.pk:
        return ActionResult.skipped(ALREADY_THERE, name, stage=name)
    lead_move_automatically(
        lead=ctx.lead, to_stage=stage, note=f"Automation {ctx.automation_key}", now=ctx.at
    )
    return ActionResult(subject=name, moved_to=stage)


def _notify_owner(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    text = str(action["message"])
    if ctx.lead.owner_id is None:
        return ActionResult.skipped(NO_OWNER, text)
    notification = LeadNotification.objects.create(
        organization_id=ctx.lead.organization_id,
        user_id=ctx.lead.owner_id,
        lead=ctx.lead,
        message=text,
    )
    return ActionResult(subject=text[:200], notification=notification)


def _start_timer(ctx: RunContext, action: dict[str, Any]) -> ActionResult:
    lead = ctx.lead
    minutes = int(action["after_minutes"])
    reply = bool(action.get("cancel_on_reply", True))
    timer = timer_schedule(
        organization=lead.organization,
        kind=WAIT_REPLY_KIND if reply else WAIT_KIND,
        target_type=TARGET_TYPE,
        target_id=lead.pk,
        due_at=ctx.at + timedelta(minutes=minutes),
        payload={
            "automation_key": ctx.automation_key,
            "then": action["then"],
            "cancel_on_reply": reply,
            "started_at": ctx.at.isoformat(),
            "stage_id": lead.stage_id,
            "stage_entered_at": lead.stage_entered_at.isoformat(),
            "loss_reason_id": lead.loss_reason_id,
        },
        dedupe_key=f"lead:{lead.pk}:auto:{ctx.automation_key}:{ctx.trigger}:{_index_of(ctx)}",
    )
    return ActionResult(subject=f"timer:{timer.pk} +{minutes} min")


def _index_of(ctx: RunContext) -> str:
    return str(_current_index.get())


_current_index: contextvars.ContextVar[int] = contextvars.ContextVar("action_index", default=0)

_EXECUTORS: dict[str, Callable[[RunContext, dict[str, Any]], ActionResult]] = {
    "send_bot": _send_bot,
    "send_template": _send_template,
    "send_email": _send_email,
    "create_task": _create_task,
    "set_field": _set_field,
    "move_to": _move_to,
    "notify_owner": _notify_owner,
    "start_timer": _start_timer,
}


# --- running ------------------------------------------------------------------------------


def _timeline(run: AutomationRun, lead: Lead) -> None:
    if lead.customer is None:
        return
    messages = {
        AutomationRun.Outcome.DONE: gettext_noop(
            "Automation %(automation)s on the lead in %(pipeline)s: %(action)s %(subject)s"
        ),
        AutomationRun.Outcome.SKIPPED: gettext_noop(
            "Automation %(automation)s on the lead in %(pipeline)s skipped %(action)s "
            "%(subject)s: %(why)s"
        ),
        AutomationRun.Outcome.FAILED: gettext_noop(
            "Automation %(automation)s on the lead in %(pipeline)s failed at %(action)s "
            "%(subject)s: %(why)s"
        ),
    }
    timeline_add(
        actor=None,
        customer=lead.customer,
        kind=TimelineEvent.Kind.CHANGE,
        message=messages[AutomationRun.Outcome(run.outcome)],
        params={
            "automation": run.automation_key,
            "pipeline": lead.pipeline.name,
            "action": run.action,
            "subject": run.subject,
            "why": run.detail_text,
        },
        data={"lead": lead.pk, "automation_run": run.pk},
        at=run.at,
    )


def action_run(
    ctx: RunContext, index: int, action: dict[str, Any]
) -> tuple[AutomationRun, ActionResult | None]:
    """Run one action once: its AutomationRun row, and what it did (None: ran before)."""
    lead = ctx.lead
    existing = AutomationRun.objects.filter(
        lead=lead, automation_key=ctx.automation_key, trigger=ctx.trigger, action_index=index
    ).first()
    if existing is not None:
        return existing, None
    kind = str(action.get("action", ""))
    executor = _EXECUTORS.get(kind)
    lead.refresh_from_db()
    token = _current_index.set(index)
    try:
        if executor is None:
            result = ActionResult(
                AutomationRun.Outcome.FAILED,
                gettext_noop("unknown action %(action)s"),
                {"action": kind},
            )
        elif _depth.get() >= MAX_DEPTH:
            result = ActionResult.skipped(LOOP)
        else:
            depth = _depth.set(_depth.get() + 1)
            try:
                with transaction.atomic():
                    result = executor(ctx, action)
            except DomainError as exc:
                result = ActionResult(AutomationRun.Outcome.FAILED, exc.message)
            except Exception as exc:
                logger.exception("automation %s on lead %s failed", ctx.automation_key, lead.pk)
                result = ActionResult(AutomationRun.Outcome.FAILED, f"{type(exc).__name__}: {exc}")
            finally:
                _depth.reset(depth)
    finally:
        _current_index.reset(token)
    run = AutomationRun.objects.create(
        organization_id=lead.organization_id,
        lead=lead,
        automation_key=ctx.automation_key[:80],
        trigger=ctx.trigger[:80],
        action_index=index,
        action=kind[:32],
        subject=result.subject[:200],
        outcome=result.outcome,
        detail=result.detail,
        detail_params=result.params,
        message=result.messages[0] if result.messages else None,
        at=ctx.at,
    )
    if result.notification is not None:
        LeadNotification.objects.filter(pk=result.notification.pk).update(source_run=run)
    lead.refresh_from_db()
    _timeline(run, lead)
    return run, result


def actions_run(ctx: RunContext, actions: list[dict[str, Any]]) -> list[AutomationRun]:
    return [action_run(ctx, index, action)[0] for index, action in enumerate(actions)]


def _matching(lead: Lead, event: str, **conditions: Any) -> list[dict[str, Any]]:
    found = []
    for automation in lead.pipeline.automations or []:
        trigger = automation.get("on", {})
        if trigger.get("event") != event:
            continue
        if (
            event == "stage_entered"
            and str(trigger.get("stage", "")).casefold() != str(conditions["stage"]).casefold()
        ):
            continue
        if (
            event == "lead_lost"
            and trigger.get("reason")
            and str(trigger["reason"]).casefold() != str(conditions["reason"]).casefold()
        ):
            continue
        if (
            event == "customer_replied"
            and trigger.get("when", "any") == "offer_stage"
            and not conditions["offer_stage"]
        ):
            continue
        found.append(automation)
    return found


def _run_event(
    lead: Lead, event: str, trigger: str, at: datetime, **conditions: Any
) -> list[AutomationRun]:
    runs: list[AutomationRun] = []
    for automation in _matching(lead, event, **conditions):
        ctx = RunContext(lead=lead, automation_key=str(automation["key"]), trigger=trigger, at=at)
        runs += actions_run(ctx, list(automation.get("do", [])))
    return runs


def lead_waits_cancel(*, lead: Lead, replied: bool) -> int:
    """Cancel the lead's pending automation waits (a reply: only those it cancels)."""
    kinds = [WAIT_REPLY_KIND] if replied else [WAIT_REPLY_KIND, WAIT_KIND]
    return sum(
        timer_cancel(
            organization=lead.organization, kind=kind, target_type=TARGET_TYPE, target_id=lead.pk
        )
        for kind in kinds
    )


def automations_after_change(*, lead: Lead, change: LeadStageChange) -> list[AutomationRun]:
    """Run what the stage change ``change`` of ``lead`` triggers (inside its transaction).

    A new stage ends the waits of the previous stage entry; entering an open stage runs
    its ``stage_entered`` automations, the won stage ``lead_won``, a loss (or a new loss
    reason) ``lead_lost``.
    """
    trigger = f"change:{change.pk}"
    runs: list[AutomationRun] = []
    moved = change.from_stage_id != change.to_stage_id
    if moved and change.from_stage_id is not None:
        lead_waits_cancel(lead=lead, replied=False)
    stage = change.to_stage
    if moved and stage.kind == StageKind.OPEN:
        runs += _run_event(lead, "stage_entered", trigger, change.at, stage=stage.name)
    elif moved and stage.kind == StageKind.WON:
        runs += _run_event(lead, "lead_won", trigger, change.at)
    if change.loss_reason_id is not None:
        reason = LossReason.objects.get(pk=change.loss_reason_id)
        runs += _run_event(lead, "lead_lost", trigger, change.at, reason=reason.name)
    if runs:
        lead.refresh_from_db()
    return runs


def automations_after_reply(
    *, lead: Lead, message: Message, offer_stage: bool, at: datetime
) -> list[AutomationRun]:
    """Run the ``customer_replied`` automations for an inbound ``message`` (inbound.py)."""
    return _run_event(
        lead, "customer_replied", f"message:{message.pk}", at, offer_stage=offer_stage
    )


def bot_run_on_lead(
    *, actor: Actor | None, bot: Bot, lead: Lead, conversation: Any, trigger: str, at: datetime
) -> Delivery:
    """A slash command on a lead: sent through ``action_run`` so it is logged like the rest."""
    from telcodesk.pipelines.services import lead_lock

    locked = lead_lock(lead=lead)
    if locked.conversation_id is None and conversation is not None:
        Lead.objects.filter(pk=locked.pk).update(conversation=conversation)
        locked.refresh_from_db()
    ctx = RunContext(
        lead=locked,
        automation_key=f"bot:{bot.lookup_key}"[:80],
        trigger=trigger,
        at=at,
        actor=actor,
    )
    delivery = Delivery()
    run, result = action_run(ctx, 0, {"action": "send_bot", "bot": bot.name})
    if result is not None:
        delivery.messages = result.messages
        delivery.moved_to = result.moved_to
        if run.outcome != AutomationRun.Outcome.DONE:
            delivery.skip, delivery.skip_params = run.detail or NO_CONVERSATION, run.detail_params
    return delivery


# --- the waits (timer handlers registered in pipelines.timers) ----------------------------


def automation_wait_fire(timer: Timer) -> None:
    """A ``start_timer`` wait is over: re-check its cause, then run its ``then`` actions."""
    from telcodesk.pipelines.services import lead_lock_by_id

    lead = lead_lock_by_id(organization_id=timer.organization_id, lead_id=timer.target_id)
    if lead is None:
        return
    payload = timer.payload
    actions = list(payload.get("then", []))
    ctx = RunContext(
        lead=lead,
        automation_key=str(payload.get("automation_key", "wait")),
        trigger=f"timer:{timer.pk}",
        at=timer.due_at,
    )
    why = _wait_broken(lead, payload)
    if why:
        for index, action in enumerate(actions):
            if not AutomationRun.objects.filter(
                lead=lead,
                automation_key=ctx.automation_key,
                trigger=ctx.trigger,
                action_index=index,
            ).exists():
                run = AutomationRun.objects.create(
                    organization_id=lead.organization_id,
                    lead=lead,
                    automation_key=ctx.automation_key[:80],
                    trigger=ctx.trigger,
                    action_index=index,
                    action=str(action.get("action", ""))[:32],
                    outcome=AutomationRun.Outcome.SKIPPED,
                    detail=why,
                    at=ctx.at,
                )
                _timeline(run, lead)
        return
    actions_run(ctx, actions)


def _wait_broken(lead: Lead, payload: dict[str, Any]) -> str:
    entered = parse_datetime(str(payload.get("stage_entered_at", "")))
    if (
        lead.stage_id != payload.get("stage_id")
        or entered is None
        or lead.stage_entered_at != entered
        or lead.loss_reason_id != payload.get("loss_reason_id")
    ):
        return LEFT_STAGE
    started = parse_datetime(str(payload.get("started_at", "")))
    if (
        payload.get("cancel_on_reply")
        and started is not None
        and lead.last_inbound_at is not None
        and lead.last_inbound_at > started
    ):
        return REPLIED
    return ""
