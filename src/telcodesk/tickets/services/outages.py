"""Tickets and network outages: a new ticket of an affected customer is linked to the
outage (and needs no visit); closing the outage tells each linked customer once.

``network.outages.outage_close`` calls ``outage_tickets_notify`` inside its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext as _

from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, Subscription
from telcodesk.network.models import Outage
from telcodesk.network.selectors import outages_affecting
from telcodesk.tickets.models import SendStatus, Ticket, TicketComment, TicketStatus

# Ticket.visit_skip_reason when a known outage explains the problem.
SKIP_VISIT_OUTAGE = "outage"


def ticket_outage_for(
    *, customer: Customer, subscription: Subscription | None, at: datetime
) -> Outage | None:
    """The outage in force at ``at`` that covers the ticket's service (or, without a
    service, any of the customer's services): the one that started first."""
    if subscription is not None:
        subscriptions = [subscription]
    else:
        subscriptions = list(
            Subscription.objects.filter(
                customer=customer, organization_id=customer.organization_id
            ).select_related("installation_address")
        )
    found = [outage for s in subscriptions for outage in outages_affecting(s, at=at)]
    return min(found, key=lambda o: (o.starts_at, o.pk)) if found else None


@dataclass
class OutageNotified:
    """What closing an outage did to its tickets: the replies sent (one per customer),
    the customers whose reply could not be sent (kept unsent on the ticket, with the
    reason) and those not told because all their linked tickets are closed."""

    replies: list[TicketComment] = field(default_factory=list)
    refused: list[TicketComment] = field(default_factory=list)
    skipped_customers: list[int] = field(default_factory=list)


def _language(customer: Customer, ticket: Ticket) -> str:
    return customer.preferred_language or ticket.organization.default_language


def outage_tickets_notify(*, actor: Actor, outage: Outage, at: datetime) -> OutageNotified:
    """Tell every customer with a ticket linked to ``outage`` that it is over, once.

    One public reply per customer (through tickets.services.ticket_reply, on their
    newest linked ticket that is not closed), in the customer's language; an internal
    note on every linked ticket. Tickets keep their status: agents resolve them. A
    customer already told (``outage_notified_at``) is not told again, so calling this
    twice sends nothing new. Acts for each ticket's organization (a reseller's ticket is
    answered by the reseller's channel), as the closing person.
    """
    from telcodesk.tickets.services.comments import ticket_reply

    result = OutageNotified()
    tickets = list(
        Ticket.objects.filter(outage=outage)
        .select_related("customer", "organization")
        .order_by("customer_id", "-id")
    )
    by_customer: dict[int, list[Ticket]] = {}
    for ticket in tickets:
        by_customer.setdefault(ticket.customer_id, []).append(ticket)
    for customer_id, linked in by_customer.items():
        if any(t.outage_notified_at is not None for t in linked):
            continue
        target = next((t for t in linked if t.status != TicketStatus.CLOSED), None)
        if target is None:
            result.skipped_customers.append(customer_id)
            continue
        # The reply is the organization's own message, sent on the closing person's
        # behalf: a reseller's ticket is answered as the reseller (whose channel it is).
        same = target.organization_id == actor.organization.pk
        ticket_actor = Actor(
            organization=target.organization,
            role=Role.ADMIN,
            user=actor.user if same else None,
            label=actor.display,
        )
        with translation.override(_language(target.customer, target)):
            body = _(
                "Hello %(name)s, the network outage that affected your service is over and "
                "the service should work again. If it still does not, answer this message "
                "(ticket %(number)s)."
            ) % {"name": target.customer.display_name, "number": target.display_number}
        reply = ticket_reply(actor=ticket_actor, ticket=target, body=body)
        (result.replies if reply.send_status == SendStatus.SENT else result.refused).append(reply)
        for ticket in linked:
            ticket.outage_notified_at = at
            ticket.save(update_fields=["outage_notified_at", "updated_at"])
            if ticket.status == TicketStatus.CLOSED:
                continue
            with translation.override(ticket.organization.default_language):
                note = _(
                    "The outage “%(outage)s” is over; the customer was told on %(number)s. "
                    "Check the service and resolve the ticket."
                ) % {"outage": outage.scope_label, "number": target.display_number}
            TicketComment.objects.create(
                ticket=ticket,
                is_public=False,
                body=note,
                author=ticket_actor.user,
                author_label=actor.display,
            )
    return result
