"""Sending a ticket's public reply to the customer through messaging.

The route is ``selectors.reply_route``: a WhatsApp conversation or e-mail. On WhatsApp
the reply is a free text inside the 24-hour window (``message_send_text``) and an
approved template outside it (``message_send_template``, chosen by the agent); by
e-mail it is a mail (``email_send``) threaded into the customer's e-mail conversation
when there is one. Every refusal is messaging's own ``SendRefused`` (window closed,
marketing opt-out, channel switched off, ...) or one of these: "no_channel" (no way to
reach the customer) and "template_not_for_email".
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from telcodesk.core.tenancy import Actor
from telcodesk.messaging.email import email_send
from telcodesk.messaging.models import Conversation, Message, Template
from telcodesk.messaging.sending import (
    SendRefused,
    message_send_template,
    message_send_text,
    template_params_guess,
)
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.selectors import ReplyRoute, reply_route

# Template parameters a pack may read from the ticket ("ticket.display_number").
TICKET_PARAM_FIELDS = {
    "ticket.display_number": lambda ticket: ticket.display_number,
    "ticket.number": lambda ticket: ticket.display_number,
    "ticket.subject": lambda ticket: ticket.subject,
    "ticket.status": lambda ticket: str(ticket.get_status_display()),
}


def template_params_for_ticket(
    *, template: Template, conversation: Conversation, ticket: Ticket
) -> list[str] | None:
    """The template's parameters when it reads ticket fields (``ticket.*``), else None
    (messaging fills the customer's and the conversation's fields itself). Refused with
    "missing_param" when a field is empty."""
    fields = [str(field) for field in template.param_fields]
    if not any(field in TICKET_PARAM_FIELDS for field in fields):
        return None
    guessed = template_params_guess(template=template, conversation=conversation)
    params: list[str] = []
    for field, guess in zip(fields, guessed, strict=True):
        reader = TICKET_PARAM_FIELDS.get(field)
        value = (reader(ticket) if reader else guess).strip()
        if not value:
            raise SendRefused(
                _(
                    "The template needs “%(field)s”, which is empty for this ticket. Fill it "
                    "in or pick another template."
                )
                % {"field": field},
                reason="missing_param",
            )
        params.append(value)
    return params


def email_subject(ticket: Ticket) -> str:
    """The reply mail's subject, in the customer's language."""
    language = ticket.customer.preferred_language or ticket.organization.default_language
    with translation.override(language):
        return _("Ticket %(number)s: %(subject)s") % {
            "number": ticket.display_number,
            "subject": ticket.subject,
        }


def no_channel() -> SendRefused:
    return SendRefused(
        _(
            "The customer has no WhatsApp conversation, e-mail address or mobile number for "
            "SMS we can write to. Call them, or add an e-mail address or a mobile number to "
            "their record and send again."
        ),
        reason="no_channel",
    )


def reply_deliver(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    template: Template | None = None,
    params: list[str] | None = None,
) -> tuple[Message, ReplyRoute]:
    """Queue the reply on the customer's channel; SendRefused says why it cannot go."""
    route = reply_route(ticket=ticket)
    if route is None:
        raise no_channel()
    if route.kind == "email":
        if template is not None:
            raise SendRefused(
                _(
                    "WhatsApp templates are not sent by e-mail: this customer is answered by "
                    "e-mail, so write the reply without a template."
                ),
                reason="template_not_for_email",
            )
        language = ticket.customer.preferred_language or ticket.organization.default_language
        message = email_send(
            actor_or_none=actor,
            organization=ticket.organization,
            to_address=route.address,
            subject=email_subject(ticket),
            body=body,
            customer=ticket.customer,
            language=language,
            conversation=route.conversation,
        )
        return message, route
    conversation = route.conversation
    if conversation is None and route.kind == "sms":
        from telcodesk.messaging.sms import sms_conversation_for_customer

        conversation = sms_conversation_for_customer(
            actor_or_none=actor, customer=ticket.customer, phone=route.address
        )
        if conversation is None:
            raise no_channel()
        route = ReplyRoute("sms", route.address, conversation, True)
    assert conversation is not None
    if template is not None:
        if params is None:
            params = template_params_for_ticket(
                template=template, conversation=conversation, ticket=ticket
            )
        message = message_send_template(
            actor_or_none=actor, conversation=conversation, template=template, params=params
        )
        return message, route
    return message_send_text(actor_or_none=actor, conversation=conversation, body=body), route
