"""The ``ticket`` fields of playbook questions: ``field: ticket.since_when``.

The names are the ticket's question answers (``tickets.answers.TICKET_ANSWER_FIELDS``)
plus two of its own attributes, ``customer_words`` and ``description``. Once the run is
linked to a ticket, each answer is copied to it as it is given (``ticket_answers_set``
or ``ticket_update``); before that the writer does nothing and ``create_ticket`` copies
the answers given so far when it opens the ticket.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound
from telcodesk.playbooks.fields import FieldWrite
from telcodesk.tickets.answers import TICKET_ANSWER_FIELDS
from telcodesk.tickets.playbook_common import (
    TICKET_ATTRIBUTES,
    linked_ticket_id,
    ticket_of,
    values_split,
)
from telcodesk.tickets.services import ticket_answers_set, ticket_update

TICKET_FIELD_NAMES: tuple[str, ...] = (*TICKET_ANSWER_FIELDS, *TICKET_ATTRIBUTES)


def ticket_fields_write(write: FieldWrite) -> None:
    """Copy the answer that changed to the run's ticket, if the run has one yet.

    Only the changed field is written, so what someone corrected on the ticket page in
    the meantime is not overwritten by the run's other answers. A cleared optional
    answer clears the ticket's field. A ticket the actor no longer sees is NotFound,
    which the engine records on the run (the answer is kept there).
    """
    ticket_id = linked_ticket_id(write.run)
    if ticket_id is None:
        return
    ticket = ticket_of(write.actor, ticket_id)
    if ticket is None:
        raise NotFound(_("No such ticket. It may belong to another organization."))
    value = write.values.get(write.changed)
    answers, attributes = values_split({write.changed: value})
    if attributes:
        fields: dict[str, Any] = dict(attributes)
        ticket_update(actor=write.actor, ticket=ticket, **fields)
    else:
        ticket_answers_set(actor=write.actor, ticket=ticket, answers=answers)
