"""Playbook actions on the ticket itself: ``create_ticket`` and ``charge_check``.

``create_ticket`` opens the call's ticket through ``ticket_create`` with the answers
given so far (the ``ticket.*`` fields) and makes it the run's subject, so later
answers are copied to it as they come (``tickets.playbook_fields``) and the closing
script can read ``{ticket_number}``. ``charge_check`` is the ISP's "validar si aplica
costo por manipulación o daño interno": a yes proposes a charge that a supervisor
approves or rejects.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from telcodesk.messaging.models import Channel, Conversation
from telcodesk.playbooks.actions import ActionContext, ActionResult
from telcodesk.playbooks.models import ActionStatus
from telcodesk.playbooks.script import text_render
from telcodesk.tickets.models import (
    ChargeKind,
    ChargeStatus,
    Ticket,
    TicketChannel,
    TicketCharge,
    TicketSubcategory,
)
from telcodesk.tickets.playbook_common import (
    answer_of,
    no_customer,
    not_answered,
    run_customer,
    service_choose,
    ticket_of,
    values_split,
)
from telcodesk.tickets.services import ticket_charge_add, ticket_create

CategoryName = Literal["technical", "administrative", "billing", "commercial", "other"]
PriorityName = Literal["low", "normal", "high", "urgent"]
ChannelName = Literal["call", "whatsapp", "email", "web"]


class CreateTicketParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: CategoryName = "technical"
    # The key of one of the organization's subcategories (the pack's tickets section).
    subcategory: str | None = None
    # ... or the choice question whose answer is a subcategory key (it wins when answered).
    subcategory_question: str | None = None
    priority: PriorityName = "normal"
    # The subject, with {variables} ("Sin servicio - {customer_name}") ...
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    # ... or the question whose answer is the subject (it wins when answered).
    subject_question: str | None = None
    # The question with the customer's own words (else the ticket.customer_words field).
    customer_words_question: str | None = None
    # A text question with the service ID, when the customer has several services.
    service_question: str | None = None
    # How the customer reached us; default: the conversation's channel, else a call.
    channel: ChannelName | None = None

    @model_validator(mode="after")
    def _a_subject(self) -> CreateTicketParams:
        if not self.subject and not self.subject_question:
            raise ValueError(_("Give subject (a text) or subject_question (a question key)."))
        return self


def ticket_result(ticket: Ticket, message: str, **data: object) -> ActionResult:
    return ActionResult(
        message=message,
        variables={"ticket_number": ticket.display_number},
        subject=("ticket", ticket.pk),
        data={"ticket_id": ticket.pk, "ticket_number": ticket.display_number, **data},
    )


def _conversation(context: ActionContext) -> Conversation | None:
    conversation_id = context.link("conversation")
    if conversation_id is None:
        return None
    return (
        Conversation.objects.select_related("channel")
        .filter(pk=conversation_id, organization=context.actor.organization)
        .first()
    )


def _channel(params: CreateTicketParams, conversation: Conversation | None) -> str:
    if params.channel is not None:
        return params.channel
    if conversation is None:
        return TicketChannel.CALL
    if conversation.channel.kind == Channel.Kind.EMAIL:
        return TicketChannel.EMAIL
    return TicketChannel.WHATSAPP


def create_ticket_action(context: ActionContext) -> ActionResult:
    """Open the call's ticket (once per run) for the run's customer.

    The service is the one named by the service-ID answer, the one the customer was
    identified by, or their only active one. The answers given before the ticket
    existed go in with it (``ticket.*`` fields, ``customer_words_question``). The run
    is linked to its conversation (when it has one) and made the ticket's. A run that
    already has a ticket reports it instead of opening another.
    """
    actor = context.actor
    params = CreateTicketParams.model_validate(context.params)
    existing = ticket_of(actor, context.link("ticket"))
    if existing is not None:
        return ticket_result(
            existing,
            _("This call already has ticket %(number)s.") % {"number": existing.display_number},
            existing=True,
        )
    customer = run_customer(actor, context.run)
    if customer is None:
        return no_customer()
    service = service_choose(
        actor=actor, customer=customer, context=context, service_question=params.service_question
    )
    if service.refusal:
        return ActionResult(ok=False, message=service.refusal)
    subcategory = None
    subcategory_key = answer_of(context, params.subcategory_question) or params.subcategory
    if subcategory_key:
        subcategory = TicketSubcategory.objects.filter(
            organization=actor.organization, key=str(subcategory_key), is_active=True
        ).first()
        if subcategory is None:
            return ActionResult(
                ok=False,
                message=_(
                    "The subcategory “%(key)s” is not in use in your organization: open the "
                    "ticket by hand and tell an administrator to check the pack."
                )
                % {"key": subcategory_key},
            )
    subject = answer_of(context, params.subject_question)
    if subject is None or not str(subject).strip():
        if not params.subject:
            assert params.subject_question is not None  # the params' validator
            return not_answered(context, params.subject_question)
        subject = text_render(params.subject, context.variables)
    answers, attributes = values_split(context.field_values("ticket"))
    words = answer_of(context, params.customer_words_question)
    if words is not None and str(words).strip():
        attributes["customer_words"] = str(words)
    conversation = _conversation(context)
    ticket = ticket_create(
        actor=actor,
        customer=customer,
        category=params.category,
        subcategory=subcategory,
        subject=str(subject),
        subscription=service.subscription,
        description=attributes.get("description", ""),
        customer_words=attributes.get("customer_words", ""),
        priority=params.priority,
        channel=_channel(params, conversation),
        conversation=conversation,
        answers={name: value for name, value in answers.items() if value is not None},
    )
    result = ticket_result(
        ticket,
        _("Ticket %(number)s opened for %(customer)s.")
        % {"number": ticket.display_number, "customer": customer.display_name},
        subscription_id=ticket.subscription_id,
    )
    if conversation is None:
        return result
    return ActionResult(
        message=result.message,
        variables=result.variables,
        subject=result.subject,
        links={"conversation": conversation.pk},
        data=result.data,
    )


class ChargeCheckParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The yes/no question "is there internal damage or manipulation?".
    question: str
    # The number question with the amount to charge (in the organization's currency).
    amount_question: str
    kind: Literal["internal_damage", "manipulation"] = "internal_damage"
    # A text question with the reason; without one the charge says it came from the call.
    reason_question: str | None = None


def _charge_proposed(context: ActionContext, ticket: Ticket) -> TicketCharge | None:
    """The charge an earlier charge_check of this run proposed on ``ticket``, if any."""
    earlier = context.run.actions.filter(action=context.action, status=ActionStatus.OK).values_list(
        "data", flat=True
    )
    ids = [data.get("charge_id") for data in earlier if isinstance(data, dict)]
    return (
        TicketCharge.objects.filter(ticket=ticket, pk__in=[i for i in ids if isinstance(i, int)])
        .exclude(status=ChargeStatus.REJECTED)
        .order_by("-id")
        .first()
    )


def charge_check_action(context: ActionContext) -> ActionResult:
    """A "yes" to the damage question proposes a charge on the run's ticket (pending a
    supervisor's approval); a "no" charges nothing. Pressed again, it reports the
    charge it already proposed rather than proposing a second one."""
    params = ChargeCheckParams.model_validate(context.params)
    ticket = ticket_of(context.actor, context.link("ticket"))
    if ticket is None:
        return ActionResult(
            ok=False, message=_("Open the ticket first: a charge is proposed on a ticket.")
        )
    applies = answer_of(context, params.question)
    if applies is None:
        return not_answered(context, params.question)
    if applies is not True:
        return ActionResult(
            message=_("No internal damage or manipulation: nothing is charged."),
            facts={"charge_proposed": False},
        )
    earlier = _charge_proposed(context, ticket)
    if earlier is not None:
        return ActionResult(
            message=_("A charge of %(amount)s %(currency)s is already proposed on %(number)s.")
            % {
                "amount": earlier.amount,
                "currency": earlier.currency,
                "number": ticket.display_number,
            },
            facts={"charge_proposed": True},
            data={"charge_id": earlier.pk},
        )
    amount = answer_of(context, params.amount_question)
    if amount is None:
        return not_answered(context, params.amount_question)
    reason = answer_of(context, params.reason_question)
    if reason is None or not str(reason).strip():
        reason = _("Found during the call with the playbook “%(playbook)s”.") % {
            "playbook": context.playbook.name
        }
    charge = ticket_charge_add(
        actor=context.actor,
        ticket=ticket,
        kind=params.kind,
        amount=Decimal(str(amount)),
        reason=str(reason),
    )
    return ActionResult(
        message=_(
            "%(kind)s charge of %(amount)s %(currency)s proposed on %(number)s; a supervisor "
            "approves or rejects it."
        )
        % {
            "kind": ChargeKind(charge.kind).label,
            "amount": charge.amount,
            "currency": charge.currency,
            "number": ticket.display_number,
        },
        facts={"charge_proposed": True},
        data={"charge_id": charge.pk, "amount": str(charge.amount), "currency": charge.currency},
    )
