"""Moving a ticket through its statuses (the table in tickets.rules), with its history.

Every change records a TicketStatusChange (who, when, from, to, note). Resolving,
closing and reopening also write the customer's timeline.

``_status_change_record`` is the one place every status change passes, so the SLA
clocks move there (tickets.services.sla.sla_on_status_change): entering "waiting for
the customer" pauses them, leaving it resumes them, "resolved" meets them, a reopen
resumes the resolution clock.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.tickets.hooks import TicketStatusEvent, ticket_status_changed
from telcodesk.tickets.models import Ticket, TicketStatus, TicketStatusChange
from telcodesk.tickets.rules import REOPEN, status_transition
from telcodesk.tickets.services.common import moment, text_clean, ticket_locked, ticket_timeline
from telcodesk.tickets.services.sla import sla_on_status_change

NOTE_MAX = 5_000

TIMELINE_MESSAGES: dict[str, str] = {
    TicketStatus.RESOLVED: gettext_noop("Ticket %(number)s resolved: %(subject)s"),
    TicketStatus.CLOSED: gettext_noop("Ticket %(number)s closed: %(subject)s"),
}
REOPEN_MESSAGE = gettext_noop("Ticket %(number)s reopened: %(note)s")


def _status_change_record(
    *, actor: Actor | None, ticket: Ticket, to_status: str, note: str, at: datetime
) -> TicketStatusChange:
    """Put ``ticket`` (locked) in ``to_status`` and record it; the caller checked the rule."""
    from_status = ticket.status
    ticket.status = to_status
    ticket.status_changed_at = at
    fields = ["status", "status_changed_at"]
    if to_status == TicketStatus.RESOLVED:
        ticket.resolved_at = at
        fields.append("resolved_at")
    elif to_status == TicketStatus.CLOSED:
        ticket.closed_at = at
        fields.append("closed_at")
    elif from_status == TicketStatus.RESOLVED:  # reopened
        ticket.resolved_at = None
        fields.append("resolved_at")
    ticket.save(update_fields=[*fields, "updated_at"])
    change = TicketStatusChange.objects.create(
        ticket=ticket,
        from_status=from_status,
        to_status=to_status,
        actor=actor.user if actor else None,
        actor_label=actor.display if actor else "",
        note=note,
        at=at,
    )
    if (from_status, to_status) == REOPEN:
        ticket_timeline(
            actor=actor,
            ticket=ticket,
            message=REOPEN_MESSAGE,
            params={"note": note[:200]},
            data={"from": from_status, "to": to_status},
            at=at,
        )
    elif to_status in TIMELINE_MESSAGES:
        ticket_timeline(
            actor=actor,
            ticket=ticket,
            message=TIMELINE_MESSAGES[to_status],
            params={"subject": ticket.subject},
            data={"from": from_status, "to": to_status},
            at=at,
        )
    sla_on_status_change(
        actor=actor, ticket=ticket, from_status=from_status, to_status=to_status, at=at
    )
    ticket_status_changed(
        TicketStatusEvent(actor=actor, ticket=ticket, from_status=from_status, to_status=to_status)
    )
    return change


def ticket_status_set(
    *, actor: Actor, ticket: Ticket, status: str, note: str = "", now: datetime | None = None
) -> Ticket:
    """Move ``ticket`` to ``status`` as the table in tickets.rules allows.

    A refusal (ValidationFailed on "status") says which statuses are allowed from the
    current one. Setting the status it already has changes nothing. Reopening (resolved
    → in progress) needs a ``note`` saying why.
    """
    note = text_clean(note, field="note", label=_("Note"), max_length=NOTE_MAX)
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        if locked.status == status:
            return locked
        decision = status_transition(current=locked.status, target=status, note=note)
        if not decision.allowed:
            raise ValidationFailed(" ".join(decision.reasons), details={"status": decision.reasons})
        _status_change_record(
            actor=actor, ticket=locked, to_status=status, note=note, at=moment(now)
        )
    return locked


def ticket_reopen(
    *, actor: Actor, ticket: Ticket, note: str, now: datetime | None = None
) -> Ticket:
    """A resolved ticket back to "in progress" (the problem came back); ``note`` says why.
    Only a resolved ticket is reopened (an open one is still being worked; a closed one
    is final)."""
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        if locked.status != TicketStatus.RESOLVED:
            message = _("Only a resolved ticket can be reopened; this one is “%(status)s”.") % {
                "status": locked.get_status_display()
            }
            raise ValidationFailed(message, details={"status": [message]})
        return ticket_status_set(
            actor=actor, ticket=locked, status=TicketStatus.IN_PROGRESS, note=note, now=now
        )
