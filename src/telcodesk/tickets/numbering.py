"""Per-organization ticket numbers: 1, 2, 3... shown as T-000001.

Not ``MAX(number) + 1``, which two transactions can read at the same moment. The
organization's ``TicketCounter`` row is incremented with one conditional UPDATE
(``last_number = last_number + 1``) in the transaction that creates the ticket: on
PostgreSQL the UPDATE takes the row's lock until that transaction ends, so a second
creation waits and then increments the committed value; on SQLite the write
transaction (BEGIN IMMEDIATE) already serializes writers. A creation that rolls back
rolls its increment back too, so numbers have no gaps from failed creations.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from telcodesk.tickets.models import TicketCounter


def ticket_number_next(*, organization_id: int) -> int:
    """The next ticket number of the organization (call inside the creating transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket_number_next must run inside the ticket's transaction")
    for _attempt in range(2):
        updated = TicketCounter.objects.filter(organization_id=organization_id).update(
            last_number=F("last_number") + 1
        )
        if updated == 1:
            return int(
                TicketCounter.objects.filter(organization_id=organization_id)
                .values_list("last_number", flat=True)
                .get()
            )
        # The organization's first ticket: create its counter. Two first tickets at
        # once: one insert wins, the other fails on the unique organization and
        # increments the winner's row on its second attempt.
        try:
            with transaction.atomic():
                TicketCounter.objects.create(organization_id=organization_id, last_number=1)
            return 1
        except IntegrityError:
            continue
    raise RuntimeError("the ticket counter could not be incremented")
