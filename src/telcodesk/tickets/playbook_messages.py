"""The ``send_template`` playbook action: an approved WhatsApp template to the caller.

It goes through messaging's outbox (``message_send_template``) on the run's
conversation, else the ticket's, else the customer's latest WhatsApp conversation.
Messaging's refusals (the customer opted out of marketing, the channel is off, a
parameter is missing) come back as the action's refusal with messaging's own message.
"""

from __future__ import annotations

import re

from django.db.models import F, Q
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from telcodesk.core.errors import NotFound
from telcodesk.messaging.models import Channel, Conversation, Template
from telcodesk.messaging.sending import SendRefused, message_send_template
from telcodesk.playbooks.actions import ActionContext, ActionResult
from telcodesk.tickets.answers import TICKET_ANSWER_FIELDS
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.playbook_common import no_customer, run_customer, ticket_of
from telcodesk.tickets.services.delivery import TICKET_PARAM_FIELDS

VARIABLE_PARAM_RE = re.compile(r"^\{([a-z][a-z0-9_]*)\}$")
TICKET_PARAM_NAMES = frozenset(
    {*(name.removeprefix("ticket.") for name in TICKET_PARAM_FIELDS), *TICKET_ANSWER_FIELDS}
)


class SendTemplateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The template's name as approved by WhatsApp.
    template: str = Field(min_length=1, max_length=512)
    # Default: the customer's language, else the organization's, else any.
    language: str | None = None
    # What fills {{1}}, {{2}}, ...: "{variable}" (a run variable) or "ticket.<field>"
    # (display_number, subject, status, or a question answer). Empty: the template's
    # own param_fields, read from the customer and the conversation.
    params: list[str] = Field(default_factory=list)

    @field_validator("params")
    @classmethod
    def _params_known(cls, params: list[str]) -> list[str]:
        for param in params:
            if VARIABLE_PARAM_RE.match(param):
                continue
            head, _sep, name = param.partition(".")
            if head != "ticket" or name not in TICKET_PARAM_NAMES:
                raise ValueError(
                    _(
                        '"%(param)s" is neither a {variable} nor a ticket field; the ticket '
                        "fields are: %(names)s."
                    )
                    % {"param": param, "names": ", ".join(sorted(TICKET_PARAM_NAMES))}
                )
        return params


def _conversation(context: ActionContext, ticket: Ticket | None) -> Conversation | None:
    """The WhatsApp conversation to send on: the run's, the ticket's, else the customer's
    latest (active WhatsApp channels of the organization only)."""
    usable = Conversation.objects.select_related("channel", "customer").filter(
        organization=context.actor.organization,
        channel__is_active=True,
        channel__kind=Channel.Kind.WHATSAPP_CLOUD,
    )
    own = [context.link("conversation"), ticket.conversation_id if ticket is not None else None]
    for conversation_id in own:
        if conversation_id is not None:
            found = usable.filter(pk=conversation_id).first()
            if found is not None:
                return found
    customer_id = ticket.customer_id if ticket is not None else context.run.customer_id
    if customer_id is None:
        return None
    return (
        usable.filter(customer_id=customer_id)
        .order_by(F("last_inbound_at").desc(nulls_last=True), "-id")
        .first()
    )


def _template(
    context: ActionContext, params: SendTemplateParams, conversation: Conversation
) -> Template | None:
    candidates = Template.objects.filter(
        Q(channel__isnull=True) | Q(channel_id=conversation.channel_id),
        organization=context.actor.organization,
        name=params.template,
    )
    customer = conversation.customer
    languages = (
        [params.language]
        if params.language
        else [
            (customer.preferred_language if customer is not None else "") or "",
            context.actor.organization.default_language,
        ]
    )
    for language in languages:
        if language:
            found = candidates.filter(language=language).order_by("channel_id").first()
            if found is not None:
                return found
    return None if params.language else candidates.order_by("language", "id").first()


def _param_value(context: ActionContext, param: str, ticket: Ticket | None) -> str | None:
    """The text for one parameter, or None when it is empty for this run."""
    variable = VARIABLE_PARAM_RE.match(param)
    if variable is not None:
        value = context.variables.get(variable.group(1), "")
    elif ticket is None:
        return None
    elif param in TICKET_PARAM_FIELDS:
        value = TICKET_PARAM_FIELDS[param](ticket)
    else:
        answer = (ticket.answers or {}).get(param.removeprefix("ticket."))
        value = "" if answer is None else str(answer)
    value = str(value).strip()
    return value or None


def send_template_action(context: ActionContext) -> ActionResult:
    """Queue the template to the customer on WhatsApp; a refusal says why it cannot go."""
    params = SendTemplateParams.model_validate(context.params)
    customer = run_customer(context.actor, context.run)
    if customer is None:
        return no_customer()
    ticket = ticket_of(context.actor, context.link("ticket"))
    conversation = _conversation(context, ticket)
    if conversation is None:
        return ActionResult(
            ok=False,
            message=_(
                "The customer has no WhatsApp conversation with us, so a template cannot be "
                "sent. Tell them the ticket number on the call, or write to them by e-mail "
                "from the ticket."
            ),
            data={"reason": "no_channel"},
        )
    template = _template(context, params, conversation)
    if template is None:
        return ActionResult(
            ok=False,
            message=_(
                "There is no template “%(name)s” for this WhatsApp number. Send the message "
                "from the inbox and tell an administrator."
            )
            % {"name": params.template},
            data={"reason": "no_template"},
        )
    values: list[str] | None = None
    if params.params:
        values = []
        for param in params.params:
            value = _param_value(context, param, ticket)
            if value is None:
                return ActionResult(
                    ok=False,
                    message=_(
                        "The template needs “%(field)s”, which is empty for this call. Fill "
                        "it in first or send the message from the inbox."
                    )
                    % {"field": param},
                    data={"reason": "missing_param"},
                )
            values.append(value)
    try:
        message = message_send_template(
            actor_or_none=context.actor,
            conversation=conversation,
            template=template,
            params=values,
        )
    except SendRefused as refusal:
        return ActionResult(ok=False, message=refusal.message, data={"reason": refusal.reason})
    except NotFound as error:
        return ActionResult(ok=False, message=error.message, data={"reason": "not_found"})
    return ActionResult(
        message=_("Template “%(name)s” queued to %(address)s.")
        % {"name": template.name, "address": conversation.external_address},
        links={"conversation": conversation.pk},
        data={"message_id": message.pk, "template_id": template.pk, "params": values or []},
    )
