"""Tickets over the JSON API: queues, one ticket, create, edit, status, assignment,
public replies, internal notes, answers and charges.

Views check the shape of the input and call tickets.selectors / tickets.services with
``request.auth`` (the Actor); refusals are the services' DomainErrors, rendered by
telcodesk.api as ``{code, message, details}``. A ticket, customer, service, template,
user or team of another organization answers 404 exactly like an id that does not exist.

Registered in telcodesk.api with ``api.add_router("/", router, tags=["tickets"])``.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from telcodesk.accounts.models import Membership, Team, User
from telcodesk.core.api_schemas import ERRORS
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, Subscription
from telcodesk.customers.selectors import customer_get, subscription_get
from telcodesk.messaging.models import Conversation
from telcodesk.tickets import selectors, services
from telcodesk.tickets.answers import TICKET_ANSWER_FIELDS
from telcodesk.tickets.api_schemas import (
    AnswerFieldOut,
    AnswersIn,
    AssignIn,
    ChargeIn,
    ChargeOut,
    CommentOut,
    DecisionIn,
    NoteIn,
    ReplyIn,
    SlaPolicyOut,
    StatusIn,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketPatchIn,
    TicketQuery,
    charge_out,
    comment_out,
    sla_policy_out,
    ticket_out,
    ticket_summary_out,
)
from telcodesk.tickets.models import Ticket, TicketCharge, TicketSubcategory

router = Router()


# --- helpers ----------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _ticket(actor: Actor, ticket_id: int) -> Ticket:
    return selectors.ticket_get(actor=actor, ticket_id=ticket_id)


def _fresh(actor: Actor, ticket: Ticket) -> dict[str, Any]:
    return ticket_out(_ticket(actor, ticket.pk))


def _customer(actor: Actor, customer_id: int) -> Customer:
    return customer_get(actor=actor, customer_id=customer_id)


def _subscription(actor: Actor, subscription_id: int | None) -> Subscription | None:
    if subscription_id is None:
        return None
    return subscription_get(actor=actor, subscription_id=subscription_id)


def _subcategory(actor: Actor, subcategory_id: int | None) -> TicketSubcategory | None:
    if subcategory_id is None:
        return None
    found = TicketSubcategory.objects.filter(
        pk=subcategory_id, organization=actor.organization
    ).first()
    if found is None:
        message = _("Choose one of the subcategories in use in your organization.")
        raise ValidationFailed(message, details={"subcategory_id": [message]})
    return found


def _conversation(actor: Actor, conversation_id: int | None) -> Conversation | None:
    if conversation_id is None:
        return None
    found = Conversation.objects.filter(pk=conversation_id, organization=actor.organization).first()
    if found is None:
        raise NotFound(_("This conversation does not exist or is not yours."))
    return found


def _member(actor: Actor, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    membership = (
        Membership.objects.filter(organization=actor.organization, user_id=user_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        message = _("Choose one of the people of your organization.")
        raise ValidationFailed(message, details={"user_id": [message]})
    return membership.user


def _team(actor: Actor, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id, organization=actor.organization).first()
    if team is None:
        message = _("Choose one of the teams of your organization.")
        raise ValidationFailed(message, details={"team_id": [message]})
    return team


def _charge(ticket: Ticket, charge_id: int) -> TicketCharge:
    charge = TicketCharge.objects.filter(pk=charge_id, ticket=ticket).first()
    if charge is None:
        raise NotFound(_("No such charge on this ticket."))
    return charge


# --- endpoints --------------------------------------------------------------------------------


@router.get(
    "/tickets/answer-fields",
    response={200: list[AnswerFieldOut], **ERRORS},
    summary="Answer fields",
)
def tickets_answer_fields(request: HttpRequest) -> list[dict[str, Any]]:
    """The question fields a ticket keeps answers in (what playbook questions may fill)."""
    _actor(request).require("customer.view")
    return [
        {
            "key": field.key,
            "label": str(field.label),
            "type": field.type,
            "choices": [{"value": value, "label": str(label)} for value, label in field.choices],
        }
        for field in TICKET_ANSWER_FIELDS.values()
    ]


@router.get(
    "/tickets/sla-policies",
    response={200: list[SlaPolicyOut], **ERRORS},
    summary="SLA policies",
)
def tickets_sla_policies(request: HttpRequest) -> list[dict[str, Any]]:
    """The organization's active SLA policies, in the pack's order (the pack manages
    them; the most specific one that matches a new ticket applies)."""
    return [sla_policy_out(p) for p in selectors.sla_policies_list(actor=_actor(request))]


@router.get("/tickets", response={200: TicketPage, **ERRORS}, summary="Ticket queue")
def tickets_list(request: HttpRequest, query: Query[TicketQuery]) -> dict[str, Any]:
    """A queue with its filters: the most urgent first, then the oldest. Without
    ``status`` only the open tickets (new, in progress, waiting, visit scheduled).
    ``sla=breaching_soon`` / ``sla=breached``: the SLA queues, nearest due first."""
    actor = _actor(request)
    tickets = selectors.tickets_queue(
        actor=actor,
        filters=selectors.TicketFilters(
            scope=query.scope,
            status=query.status,
            category=query.category,
            priority=query.priority,
            customer_id=query.customer_id,
            query=query.q,
            sla=query.sla,
        ),
    )
    count = tickets.count()
    start = (query.page - 1) * query.page_size
    return {
        "items": [ticket_summary_out(t) for t in tickets[start : start + query.page_size]],
        "count": count,
        "page": query.page,
        "pages": math.ceil(count / query.page_size) if count else 0,
    }


@router.post("/tickets", response={201: TicketOut, **ERRORS}, summary="Open a ticket")
def tickets_create(request: HttpRequest, payload: TicketIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    ticket = services.ticket_create(
        actor=actor,
        customer=_customer(actor, payload.customer_id),
        subscription=_subscription(actor, payload.subscription_id),
        category=payload.category,
        subcategory=_subcategory(actor, payload.subcategory_id),
        subject=payload.subject,
        description=payload.description,
        customer_words=payload.customer_words,
        priority=payload.priority,
        channel=payload.channel,
        conversation=_conversation(actor, payload.conversation_id),
        answers=payload.answers,
        take=payload.take,
    )
    return Status(201, _fresh(actor, ticket))


@router.get("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="A ticket")
def tickets_get(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    return ticket_out(_ticket(_actor(request), ticket_id))


@router.patch("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="Edit")
def tickets_patch(request: HttpRequest, ticket_id: int, payload: TicketPatchIn) -> dict[str, Any]:
    """Correct what the ticket is about; omitted fields stay as they are."""
    actor = _actor(request)
    ticket = _ticket(actor, ticket_id)
    given = payload.model_fields_set
    fields: dict[str, Any] = {
        name: getattr(payload, name)
        for name in ("subject", "description", "customer_words", "priority", "category")
        if name in given and getattr(payload, name) is not None
    }
    if "subcategory_id" in given:
        fields["subcategory"] = _subcategory(actor, payload.subcategory_id)
    if "subscription_id" in given:
        fields["subscription"] = _subscription(actor, payload.subscription_id)
    return _fresh(actor, services.ticket_update(actor=actor, ticket=ticket, **fields))


@router.post("/tickets/{ticket_id}/status", response={200: TicketOut, **ERRORS}, summary="Status")
def tickets_status(request: HttpRequest, ticket_id: int, payload: StatusIn) -> dict[str, Any]:
    """Move the ticket; a refused move (422) says which statuses are allowed from here."""
    actor = _actor(request)
    ticket = services.ticket_status_set(
        actor=actor, ticket=_ticket(actor, ticket_id), status=payload.status, note=payload.note
    )
    return _fresh(actor, ticket)


@router.post("/tickets/{ticket_id}/take", response={200: TicketOut, **ERRORS}, summary="Take")
def tickets_take(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """The key's user works an unassigned ticket (supervisors: any ticket)."""
    actor = _actor(request)
    return _fresh(actor, services.ticket_take(actor=actor, ticket=_ticket(actor, ticket_id)))


@router.post("/tickets/{ticket_id}/assign", response={200: TicketOut, **ERRORS}, summary="Assign")
def tickets_assign(request: HttpRequest, ticket_id: int, payload: AssignIn) -> dict[str, Any]:
    """Give the ticket to a person and/or a team (supervisors; agents may only take it)."""
    actor = _actor(request)
    ticket = services.ticket_assign(
        actor=actor,
        ticket=_ticket(actor, ticket_id),
        user=_member(actor, payload.user_id),
        team=_team(actor, payload.team_id),
    )
    return _fresh(actor, ticket)


@router.post("/tickets/{ticket_id}/replies", response={201: CommentOut, **ERRORS}, summary="Reply")
def tickets_reply(request: HttpRequest, ticket_id: int, payload: ReplyIn) -> Status[dict[str, Any]]:
    """A public reply sent to the customer on their channel. The reply is kept either
    way: ``send_status`` "sent" (queued in the outbox) or "refused" with
    ``refusal_reason`` (e.g. needs_template, no_marketing_consent, no_channel) and the
    translated ``refusal_message`` saying what to do."""
    actor = _actor(request)
    ticket = _ticket(actor, ticket_id)
    template = (
        selectors.reply_template_get(actor=actor, template_id=payload.template_id)
        if payload.template_id is not None
        else None
    )
    comment = services.ticket_reply(
        actor=actor, ticket=ticket, body=payload.body, template=template, params=payload.params
    )
    return Status(201, comment_out(comment))


@router.post("/tickets/{ticket_id}/notes", response={201: CommentOut, **ERRORS}, summary="Note")
def tickets_note(request: HttpRequest, ticket_id: int, payload: NoteIn) -> Status[dict[str, Any]]:
    """An internal note: the organization's people see it; the customer never does."""
    actor = _actor(request)
    comment = services.ticket_note(actor=actor, ticket=_ticket(actor, ticket_id), body=payload.body)
    return Status(201, comment_out(comment))


@router.patch(
    "/tickets/{ticket_id}/answers", response={200: TicketOut, **ERRORS}, summary="Answers"
)
def tickets_answers(request: HttpRequest, ticket_id: int, payload: AnswersIn) -> dict[str, Any]:
    """Merge the questions' answers (see GET /tickets/answer-fields for the names)."""
    actor = _actor(request)
    ticket = services.ticket_answers_set(
        actor=actor, ticket=_ticket(actor, ticket_id), answers=payload.answers
    )
    return _fresh(actor, ticket)


@router.post(
    "/tickets/{ticket_id}/charges", response={201: ChargeOut, **ERRORS}, summary="Propose a charge"
)
def tickets_charge_add(
    request: HttpRequest, ticket_id: int, payload: ChargeIn
) -> Status[dict[str, Any]]:
    """An extra cost in the organization's currency, waiting for a supervisor."""
    actor = _actor(request)
    charge = services.ticket_charge_add(
        actor=actor,
        ticket=_ticket(actor, ticket_id),
        kind=payload.kind,
        amount=payload.amount,
        reason=payload.reason,
    )
    return Status(201, charge_out(charge))


@router.post(
    "/tickets/{ticket_id}/charges/{charge_id}/approve",
    response={200: ChargeOut, **ERRORS},
    summary="Approve a charge",
)
def tickets_charge_approve(
    request: HttpRequest, ticket_id: int, charge_id: int, payload: DecisionIn
) -> dict[str, Any]:
    actor = _actor(request)
    charge = _charge(_ticket(actor, ticket_id), charge_id)
    return charge_out(services.ticket_charge_approve(actor=actor, charge=charge, note=payload.note))


@router.post(
    "/tickets/{ticket_id}/charges/{charge_id}/reject",
    response={200: ChargeOut, **ERRORS},
    summary="Reject a charge",
)
def tickets_charge_reject(
    request: HttpRequest, ticket_id: int, charge_id: int, payload: DecisionIn
) -> dict[str, Any]:
    actor = _actor(request)
    charge = _charge(_ticket(actor, ticket_id), charge_id)
    return charge_out(services.ticket_charge_reject(actor=actor, charge=charge, note=payload.note))
