"""Bots ("/En cober") and quick replies: what the inbox's slash commands call.

A bot is declared in the organization's pack (``bots:``) and synced into ``Bot`` rows.
Firing it sends its session messages (text, or text with up to 3 reply buttons) while
the customer's 24-hour window is open, or its approved template twin when it is closed;
then its effects apply: the greeting is recorded (``is_greeting``), the lead moves
(``move_to``) and tab fields are set (``set_fields``). Every message goes through
``messaging.sending`` (an outbox row in the caller's transaction; nothing is sent
inline).

Interface for the inbox: ``bots_available``, ``bot_find``, ``bot_fire``,
``quick_replies_for``, ``quick_reply_render``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import Organization, User
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.models import Channel, Conversation, Message, QuickReply, Template
from telcodesk.messaging.sending import (
    SendRefused,
    message_send_interactive,
    message_send_template,
    message_send_text,
    session_window_open,
)
from telcodesk.packs.schema import bot_lookup_key
from telcodesk.pipelines.models import Bot, Lead, Stage, StageKind
from telcodesk.pipelines.rules import stage_transition

WORK_PERMISSION = "lead.work"

# Why nothing was sent (untranslated source strings, stored on AutomationRun).
NO_CONVERSATION = gettext_noop("no WhatsApp conversation with the customer yet")
WINDOW_CLOSED_NO_TEMPLATE = gettext_noop(
    "24-hour window closed and the bot %(bot)s has no template"
)
TEMPLATE_MISSING = gettext_noop("the template %(template)s is not defined for this organization")
SEND_REFUSALS: dict[str, str] = {
    "no_marketing_consent": gettext_noop(
        "customer opted out of marketing (or never consented): the marketing template was not sent"
    ),
    "template_not_approved": gettext_noop("the template %(template)s is not approved yet"),
    "channel_inactive": gettext_noop("the WhatsApp channel is switched off"),
    "missing_param": gettext_noop("a parameter of the template %(template)s is empty"),
    "needs_template": gettext_noop("24-hour window closed and the bot %(bot)s has no template"),
}
_PLACEHOLDER = re.compile(r"\{(customer_name|agent_name|organization)\}")


@dataclass
class Delivery:
    """What sending a bot or a template did: the outbox rows, or why nothing went out."""

    messages: list[Message] = field(default_factory=list)
    skip: str = ""  # untranslated source string
    skip_params: dict[str, Any] = field(default_factory=dict)
    moved_to: Stage | None = None

    @property
    def skipped(self) -> str:
        return _(self.skip) % self.skip_params if self.skip else ""


@dataclass(frozen=True)
class BotRunResult:
    bot: Bot
    messages: list[Message]
    moved_to: Stage | None
    # Why nothing was sent (translated), "" when the messages were queued.
    skipped: str = ""


# --- lookups ------------------------------------------------------------------------------


def bots_available(*, organization: Organization) -> list[Bot]:
    """The organization's active bots, in the pack's order."""
    return list(Bot.objects.filter(organization=organization, is_active=True).order_by("position"))


def bot_find(*, organization: Organization, name: str) -> Bot | None:
    """The active bot called ``name``: any case, accents, with or without the "/"."""
    key = bot_lookup_key(name)
    if not key:
        return None
    return Bot.objects.filter(organization=organization, lookup_key=key, is_active=True).first()


def quick_replies_for(*, organization: Organization, language: str) -> list[QuickReply]:
    return list(
        QuickReply.objects.filter(
            organization=organization, language=language, is_active=True
        ).order_by("position", "shortcut")
    )


def _customer_name(conversation: Conversation | None, lead: Lead | None = None) -> str:
    customer = conversation.customer if conversation is not None else None
    if customer is None and lead is not None:
        customer = lead.customer
    if customer is not None and customer.first_name:
        return customer.first_name.split()[0]
    name = (conversation.display_name if conversation is not None else "") or (
        lead.name if lead is not None else ""
    )
    return name.split()[0] if name.strip() else ""


def _agent_name(agent: User | None) -> str:
    if agent is None:
        return ""
    return agent.first_name or agent.get_full_name() or agent.get_username()


def text_render(
    text: str,
    *,
    organization: Organization,
    conversation: Conversation | None,
    agent: User | None,
    lead: Lead | None = None,
) -> str:
    """Fill {customer_name}, {agent_name}, {organization}; collapse what stays empty."""
    values = {
        "customer_name": _customer_name(conversation, lead),
        "agent_name": _agent_name(agent),
        "organization": organization.brand_name or organization.name,
    }
    rendered = _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
    # "Hola !" when the name is unknown reads badly: drop the space before punctuation.
    rendered = re.sub(r" +([,!?.])", r"\1", rendered)
    return re.sub(r"[ \t]{2,}", " ", rendered).strip()


def quick_reply_render(
    *, quick_reply: QuickReply, conversation: Conversation | None, agent: User | None
) -> str:
    """The quick reply's text for this conversation and agent, placeholders filled."""
    return text_render(
        quick_reply.body,
        organization=quick_reply.organization,
        conversation=conversation,
        agent=agent,
    )


# --- sending ------------------------------------------------------------------------------


def _dotted(context: dict[str, Any], dotted: str) -> str:
    head, _sep, rest = dotted.partition(".")
    value: Any = context.get(head)
    for part in rest.split(".") if rest else []:
        if value is None or part.startswith("_"):
            return ""
        value = getattr(value, part, None)
        if callable(value) and not isinstance(value, Model):
            value = value()
    return "" if value is None else str(value).strip()


def template_params(
    *, template: Template, lead: Lead | None, conversation: Conversation
) -> list[str]:
    """The values of the template's ``param_fields`` for this lead and conversation.

    Roots: ``customer`` (the conversation's or the lead's), ``lead``, ``agent`` (the
    lead's owner, else the organization's brand as a stand-in), ``organization``.
    """
    organization = conversation.organization
    owner = lead.owner if lead is not None else conversation.assigned_user
    brand = organization.brand_name or organization.name
    agent: Any = owner or SimpleNamespace(first_name=brand, get_full_name=lambda: brand)
    context: dict[str, Any] = {
        "customer": conversation.customer or (lead.customer if lead is not None else None),
        "lead": lead,
        "agent": agent,
        "organization": organization,
    }
    params: list[str] = []
    for dotted in template.param_fields:
        value = _dotted(context, str(dotted))
        if not value and str(dotted).startswith("customer."):
            value = _customer_name(conversation, lead)  # a name the customer gave us
        if not value:
            raise SendRefused(
                _("The template needs “%(field)s”, which is empty for this lead.")
                % {"field": dotted},
                reason="missing_param",
            )
        params.append(value)
    return params


def _refusal(delivery: Delivery, exc: SendRefused, **params: Any) -> Delivery:
    source = SEND_REFUSALS.get(exc.reason)
    if source is None:
        delivery.skip, delivery.skip_params = exc.message, {}
    else:
        delivery.skip, delivery.skip_params = source, params
    return delivery


def _chat(conversation: Conversation | None) -> Conversation | None:
    """The conversation bots and WhatsApp templates may write on: not an e-mail one (a
    lead whose only conversation is by e-mail has no chat yet)."""
    if conversation is None or conversation.channel.kind == Channel.Kind.EMAIL:
        return None
    return conversation


def template_deliver(
    *,
    actor: Actor | None,
    lead: Lead | None,
    conversation: Conversation | None,
    template_name: str,
) -> Delivery:
    """Queue the organization's template ``template_name`` (in its default language)."""
    delivery = Delivery()
    conversation = _chat(conversation)
    if conversation is None:
        delivery.skip = NO_CONVERSATION
        return delivery
    organization = conversation.organization
    template = Template.objects.filter(
        organization=organization,
        channel__isnull=True,
        name=template_name,
        language=organization.default_language,
    ).first()
    if template is None:
        delivery.skip, delivery.skip_params = TEMPLATE_MISSING, {"template": template_name}
        return delivery
    try:
        with transaction.atomic():
            params = template_params(template=template, lead=lead, conversation=conversation)
            delivery.messages.append(
                message_send_template(
                    actor_or_none=actor, conversation=conversation, template=template, params=params
                )
            )
    except SendRefused as exc:
        return _refusal(delivery, exc, template=template_name)
    return delivery


def bot_deliver(
    *,
    actor: Actor | None,
    bot: Bot,
    lead: Lead | None,
    conversation: Conversation | None,
    at: datetime,
) -> Delivery:
    """Send ``bot`` (session messages or its template) and apply its effects.

    Call inside a transaction (the lead locked by the caller, when there is one). The
    effects (greeting, move, fields) apply only when something was queued. Nothing is
    sent on an e-mail conversation (``NO_CONVERSATION``).
    """
    delivery = Delivery()
    conversation = _chat(conversation)
    if conversation is None:
        delivery.skip = NO_CONVERSATION
        return delivery
    if session_window_open(conversation=conversation):
        # The person sending speaks (an agent's slash command, or the agent whose move
        # ran the automation); automations of the system speak for the lead's owner.
        agent = actor.user if actor is not None and actor.user is not None else None
        if agent is None and lead is not None:
            agent = lead.owner
        try:
            with transaction.atomic():
                for spec in bot.messages:
                    body = text_render(
                        str(spec["text"]),
                        organization=conversation.organization,
                        conversation=conversation,
                        agent=agent,
                        lead=lead,
                    )
                    buttons = list(spec.get("buttons") or [])
                    if buttons:
                        message = message_send_interactive(
                            actor_or_none=actor,
                            conversation=conversation,
                            body=body,
                            buttons=[
                                (f"bot:{bot.pk}:{index}", str(title))
                                for index, title in enumerate(buttons)
                            ],
                        )
                    else:
                        message = message_send_text(
                            actor_or_none=actor, conversation=conversation, body=body
                        )
                    delivery.messages.append(message)
        except SendRefused as exc:
            delivery.messages = []
            return _refusal(delivery, exc, bot=bot.name)
    elif not bot.template_name:
        delivery.skip, delivery.skip_params = WINDOW_CLOSED_NO_TEMPLATE, {"bot": bot.name}
        return delivery
    else:
        sent = template_deliver(
            actor=actor, lead=lead, conversation=conversation, template_name=bot.template_name
        )
        if not sent.messages:
            return sent
        delivery.messages = sent.messages
    if lead is not None:
        delivery.moved_to = _bot_effects(bot=bot, lead=lead, at=at)
    return delivery


def lead_outbound_record(*, lead: Lead, at: datetime) -> None:
    """We wrote to the customer at ``at`` (the follow-up compares it with their replies)."""
    Lead.objects.filter(pk=lead.pk).exclude(last_outbound_at__gt=at).update(
        last_outbound_at=at, updated_at=timezone.now()
    )


def bot_target_stage(*, bot: Bot, lead: Lead) -> Stage | None:
    """The stage of the lead's pipeline the bot moves it to (None: no move, or none there)."""
    if not bot.move_to:
        return None
    return Stage.objects.filter(
        pipeline_id=lead.pipeline_id, name=bot.move_to, kind=StageKind.OPEN, is_active=True
    ).first()


def _bot_effects(*, bot: Bot, lead: Lead, at: datetime) -> Stage | None:
    from telcodesk.pipelines.services import lead_greeting_record, lead_move_automatically
    from telcodesk.pipelines.tabs import tab_data_clean

    lead_outbound_record(lead=lead, at=at)
    if bot.is_greeting:
        lead_greeting_record(lead=lead, at=at)
    if bot.set_fields:
        lead.refresh_from_db(fields=["data", "pipeline"])
        fields = lead.pipeline.tab_fields()
        wanted = {key: value for key, value in bot.set_fields.items() if key in fields}
        clean = tab_data_clean(fields, wanted, lead.data)
        if clean != lead.data:
            Lead.objects.filter(pk=lead.pk).update(data=clean, updated_at=timezone.now())
    target = bot_target_stage(bot=bot, lead=lead)
    if target is None:
        return None
    lead.refresh_from_db(fields=["stage", "won_at", "lost_at"])
    if lead.stage_id == target.pk or not lead.is_open:
        return None
    lead_move_automatically(lead=lead, to_stage=target, note=f"Bot {bot.name}", now=at)
    return target


# --- the slash command --------------------------------------------------------------------


def _conversation_lead(conversation: Conversation) -> Lead | None:
    return (
        Lead.objects.filter(
            organization_id=conversation.organization_id,
            conversation=conversation,
            won_at__isnull=True,
            lost_at__isnull=True,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _check_move(bot: Bot, lead: Lead | None) -> None:
    if not bot.move_to:
        return
    if lead is None:
        message = _(
            'The bot %(bot)s moves the lead to "%(stage)s", but this conversation has no open '
            "lead. Create the lead first, then send the bot."
        ) % {"bot": bot.name, "stage": bot.move_to}
        raise ValidationFailed(message, details={"name": [message]})
    target = bot_target_stage(bot=bot, lead=lead)
    if target is None:
        message = _(
            'The bot %(bot)s moves the lead to "%(stage)s", which is not a stage of '
            "%(pipeline)s. Send a bot meant for this pipeline."
        ) % {"bot": bot.name, "stage": bot.move_to, "pipeline": lead.pipeline.name}
        raise ValidationFailed(message, details={"name": [message]})
    if not lead.is_open:
        message = _("The lead is closed; reopen it before sending %(bot)s.") % {"bot": bot.name}
        raise ValidationFailed(message, details={"name": [message]})
    from telcodesk.pipelines.services import stage_facts

    decision = stage_transition(
        current=stage_facts(lead.stage),
        target=stage_facts(target),
        greeting_sent=lead.greeting_sent_at is not None,
        by_hand=False,
    )
    if not decision.allowed:
        raise ValidationFailed(" ".join(decision.reasons), details={"name": decision.reasons})


def bot_fire(
    *, actor: Actor, conversation: Conversation, name: str, lead: Lead | None = None
) -> BotRunResult:
    """Send the bot ``name`` on ``conversation`` (an agent's slash command).

    ``lead`` defaults to the conversation's open lead. Refused (nothing sent): no
    permission; a conversation or lead of another organization (NotFound); an unknown
    bot; a bot whose move is not allowed for the lead. The run is logged on the lead's
    timeline (AutomationRun) like an automation's.
    """
    actor.require(WORK_PERMISSION)
    if conversation.organization_id != actor.organization.pk:
        raise NotFound(_("This conversation does not exist or is not yours."))
    if lead is not None and lead.organization_id != actor.organization.pk:
        raise NotFound(_("No such lead. It may have been removed; reload the page."))
    bot = bot_find(organization=actor.organization, name=name)
    if bot is None:
        message = _(
            'There is no bot "%(name)s". Type "/" to see the bots of your organization.'
        ) % {"name": name.strip()}
        raise ValidationFailed(message, details={"name": [message]})
    lead = lead or _conversation_lead(conversation)
    if lead is not None:
        lead = Lead.objects.select_related("stage", "pipeline", "owner").get(pk=lead.pk)
    _check_move(bot, lead)
    now = timezone.now()
    with transaction.atomic():
        if lead is None:
            delivery = bot_deliver(
                actor=actor, bot=bot, lead=None, conversation=conversation, at=now
            )
        else:
            from telcodesk.pipelines.automations import bot_run_on_lead

            delivery = bot_run_on_lead(
                actor=actor,
                bot=bot,
                lead=lead,
                conversation=conversation,
                trigger=f"bot:{uuid.uuid4().hex[:16]}",
                at=now,
            )
    return BotRunResult(
        bot=bot, messages=delivery.messages, moved_to=delivery.moved_to, skipped=delivery.skipped
    )
