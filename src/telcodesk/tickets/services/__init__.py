"""Every write to a ticket. Import from this package:
``from telcodesk.tickets.services import ticket_create``.

Each service takes ``actor`` first (keyword-only) and checks, in this order: the
permission ("customer.edit" to work tickets, "team.manage" to assign to others and to
decide charges; see tickets.permissions), the organization (a ticket, customer, service
or conversation the actor may not see is NotFound), then the rule (ValidationFailed or
PermissionDenied whose translated message says why and what to do). Each change is one
transaction holding a row lock on the ticket.

Modules: ``creation`` (open, correct), ``status`` (the workflow of tickets.rules and its
history), ``assignment`` (take, assign), ``comments`` (public replies, internal notes),
``delivery`` (sending a reply through messaging), ``answers``, ``charges``,
``attachments``, ``common`` (the lock, the closed check, the timeline).
"""

from telcodesk.tickets.services.answers import ticket_answers_set
from telcodesk.tickets.services.assignment import ticket_assign, ticket_take
from telcodesk.tickets.services.attachments import ticket_attachment_add
from telcodesk.tickets.services.charges import (
    ticket_charge_add,
    ticket_charge_approve,
    ticket_charge_reject,
)
from telcodesk.tickets.services.comments import ticket_note, ticket_reply, ticket_reply_resend
from telcodesk.tickets.services.creation import ticket_create, ticket_update
from telcodesk.tickets.services.status import ticket_reopen, ticket_status_set

__all__ = [
    "ticket_answers_set",
    "ticket_assign",
    "ticket_attachment_add",
    "ticket_charge_add",
    "ticket_charge_approve",
    "ticket_charge_reject",
    "ticket_create",
    "ticket_note",
    "ticket_reopen",
    "ticket_reply",
    "ticket_reply_resend",
    "ticket_status_set",
    "ticket_take",
    "ticket_update",
]
