"""Storing the questions' answers on a ticket (by field name, see tickets.answers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from telcodesk.core.tenancy import Actor
from telcodesk.tickets.answers import answers_clean
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.services.common import check_not_closed, ticket_locked


def ticket_answers_set(*, actor: Actor, ticket: Ticket, answers: dict[str, Any]) -> Ticket:
    """Merge ``answers`` (field name → value; None or "" clears) into the ticket's.

    Every name must be in ``TICKET_ANSWER_FIELDS`` and every value of its type; one bad
    field refuses them all (ValidationFailed, one message per field) and saves nothing.
    """
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        check_not_closed(locked, field="answers")
        merged = answers_clean(answers, locked.answers or {})
        if merged != locked.answers:
            locked.answers = merged
            locked.save(update_fields=["answers", "updated_at"])
    return locked
