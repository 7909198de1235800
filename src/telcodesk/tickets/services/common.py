"""What every ticket write shares: the row lock, the closed-ticket check, the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import User
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import TimelineEvent
from telcodesk.customers.services import timeline_add
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.permissions import WORK_PERMISSION
from telcodesk.tickets.selectors import tickets_visible


def moment(now: datetime | None) -> datetime:
    return now or timezone.now()


def display(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def ticket_locked(*, actor: Actor, ticket: Ticket, permission: str = WORK_PERMISSION) -> Ticket:
    """``ticket`` re-read under a row lock (SELECT ... FOR UPDATE), after checking the
    permission and that the actor may see it (NotFound otherwise). Call inside a
    transaction."""
    actor.require(permission)
    locked = (
        tickets_visible(actor=actor)
        .select_for_update(of=("self",))
        .select_related("customer", "organization", "assigned_user", "assigned_team")
        .filter(pk=ticket.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("No such ticket. It may belong to another organization."))
    return locked


def check_not_closed(ticket: Ticket, field: str = "status") -> None:
    """A closed ticket is final: refuse any change to it."""
    if ticket.is_closed:
        message = _(
            "Ticket %(number)s is closed and cannot change; open a new ticket for the "
            "customer instead."
        ) % {"number": ticket.display_number}
        raise ValidationFailed(message, details={field: [message]})


def ticket_timeline(
    *,
    actor: Actor | None,
    ticket: Ticket,
    message: str,
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One entry on the ticket's customer's timeline (``message`` marked gettext_noop)."""
    timeline_add(
        actor=actor,
        customer=ticket.customer,
        kind=TimelineEvent.Kind.TICKET,
        message=message,
        params={"number": ticket.display_number, **(params or {})},
        data={"ticket": ticket.pk, "number": ticket.number, **(data or {})},
        at=at,
    )


def text_clean(
    value: str, *, field: str, label: str, max_length: int, required: bool = False
) -> str:
    """Trimmed text; refused when required and empty, or longer than ``max_length``
    (``label``: the field's translated name, for the message)."""
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        message = _("%(field)s: this field is required.") % {"field": label}
        raise ValidationFailed(message, details={field: [message]})
    if len(text) > max_length:
        message = _("%(field)s: too long, at most %(max)s characters.") % {
            "field": label,
            "max": max_length,
        }
        raise ValidationFailed(message, details={field: [message]})
    return text
