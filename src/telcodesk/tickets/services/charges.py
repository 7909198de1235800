"""Extra costs found while working a ticket: internal damage or manipulation of the
equipment by the customer ("validar si aplica costo por manipulación o daño interno").

An agent proposes a charge (amount in the organization's currency, and why); a
supervisor approves or rejects it. Each step is written to the audit log; an approved
charge also goes on the customer's timeline.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import AuditLog
from telcodesk.accounts.services import audit_record
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.tickets.models import ChargeKind, ChargeStatus, Ticket, TicketCharge
from telcodesk.tickets.permissions import CHARGE_APPROVE_PERMISSION
from telcodesk.tickets.services.common import (
    check_not_closed,
    text_clean,
    ticket_locked,
    ticket_timeline,
)

CENTS = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")
REASON_MAX = 2_000


def _amount(value: Any) -> Decimal:
    message = _("Write the amount as a number above zero with at most 2 decimals, e.g. 150.00.")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(message, details={"amount": [message]}) from None
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(CENTS)
    ):
        raise ValidationFailed(message, details={"amount": [message]})
    return amount.quantize(CENTS)


def ticket_charge_add(
    *, actor: Actor, ticket: Ticket, kind: str, amount: Any, reason: str
) -> TicketCharge:
    """Propose a charge on ``ticket``; it waits for a supervisor's decision."""
    if kind not in ChargeKind.values:
        message = _("Choose internal damage or manipulation.")
        raise ValidationFailed(message, details={"kind": [message]})
    value = _amount(amount)
    why = text_clean(
        reason, field="reason", label=_("Reason"), max_length=REASON_MAX, required=True
    )
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        check_not_closed(locked, field="amount")
        charge = TicketCharge.objects.create(
            ticket=locked,
            kind=kind,
            amount=value,
            currency=locked.organization.currency,
            reason=why,
            proposed_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE,
            object_type="tickets.charge",
            object_id=charge.pk,
            changes={
                "ticket": locked.pk,
                "kind": kind,
                "amount": str(value),
                "currency": charge.currency,
            },
        )
    return charge


def _decide(*, actor: Actor, charge: TicketCharge, status: str, note: str) -> TicketCharge:
    note = text_clean(note, field="note", label=_("Note"), max_length=REASON_MAX)
    with transaction.atomic():
        locked = ticket_locked(
            actor=actor, ticket=charge.ticket, permission=CHARGE_APPROVE_PERMISSION
        )
        row = TicketCharge.objects.select_for_update().filter(pk=charge.pk, ticket=locked).first()
        if row is None:
            raise NotFound(_("No such charge on this ticket."))
        if row.status != ChargeStatus.PROPOSED:
            message = _("This charge was already %(status)s; it cannot be decided again.") % {
                "status": row.get_status_display().lower()
            }
            raise ValidationFailed(message, details={"status": [message]})
        now = timezone.now()
        row.status = status
        row.decided_by = actor.user
        row.decided_at = now
        row.decision_note = note
        row.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"]
        )
        audit_record(
            actor=actor,
            action=AuditLog.Action.UPDATE,
            object_type="tickets.charge",
            object_id=row.pk,
            changes={"status": [ChargeStatus.PROPOSED.value, status]},
        )
        if status == ChargeStatus.APPROVED:
            ticket_timeline(
                actor=actor,
                ticket=locked,
                message=gettext_noop(
                    "Charge of %(amount)s %(currency)s for %(kind_label)s approved on ticket "
                    "%(number)s"
                ),
                params={
                    "amount": str(row.amount),
                    "currency": row.currency,
                    "kind_label": ChargeKind(row.kind).label,
                },
                data={"charge": row.pk},
                at=now,
            )
    return row


def ticket_charge_approve(*, actor: Actor, charge: TicketCharge, note: str = "") -> TicketCharge:
    """A supervisor ("team.manage") approves a proposed charge."""
    return _decide(actor=actor, charge=charge, status=ChargeStatus.APPROVED, note=note)


def ticket_charge_reject(*, actor: Actor, charge: TicketCharge, note: str = "") -> TicketCharge:
    """A supervisor ("team.manage") rejects a proposed charge."""
    return _decide(actor=actor, charge=charge, status=ChargeStatus.REJECTED, note=note)
