"""The ticket status workflow: which status may follow which, as an explicit table.

    new               → in progress, waiting for the customer, visit scheduled, resolved
    in progress       → waiting for the customer, visit scheduled, resolved
    waiting for ...   → in progress, visit scheduled, resolved
    visit scheduled   → in progress, waiting for the customer, resolved
    resolved          → closed, in progress (reopen: needs a note)
    closed            → (final)

Every open status (new, in progress, waiting for the customer, visit scheduled) may go
to any other open status except back to "new", and to "resolved". A resolved ticket is
closed, or reopened (back to "in progress", with a note saying why). A closed ticket is
final: a new problem is a new ticket.

``status_transition`` is a pure function over the two statuses: it answers a Decision
whose reasons (translated) say which statuses are allowed from the current one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from telcodesk.tickets.models import TicketStatus

S = TicketStatus

TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.NEW: (S.IN_PROGRESS, S.WAITING_CUSTOMER, S.VISIT_SCHEDULED, S.RESOLVED),
    S.IN_PROGRESS: (S.WAITING_CUSTOMER, S.VISIT_SCHEDULED, S.RESOLVED),
    S.WAITING_CUSTOMER: (S.IN_PROGRESS, S.VISIT_SCHEDULED, S.RESOLVED),
    S.VISIT_SCHEDULED: (S.IN_PROGRESS, S.WAITING_CUSTOMER, S.RESOLVED),
    S.RESOLVED: (S.CLOSED, S.IN_PROGRESS),
    S.CLOSED: (),
}

# resolved → in progress is a reopening: it needs a note saying why.
REOPEN: tuple[str, str] = (S.RESOLVED, S.IN_PROGRESS)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: list[str] = field(default_factory=list)


def allowed_next(status: str) -> tuple[str, ...]:
    """The statuses a ticket in ``status`` may move to, in the table's order."""
    return TRANSITIONS.get(status, ())


def status_label(status: str) -> str:
    try:
        return str(TicketStatus(status).label)
    except ValueError:
        return status


def status_transition(*, current: str, target: str, note: str = "") -> Decision:
    """May a ticket in ``current`` move to ``target``? Refusals name the allowed ones."""
    if target not in TicketStatus.values:
        return Decision(
            False,
            [
                _("Unknown status “%(status)s”; choose one of: %(allowed)s.")
                % {
                    "status": target,
                    "allowed": ", ".join(status_label(s) for s in allowed_next(current))
                    or status_label(current),
                }
            ],
        )
    if current == TicketStatus.CLOSED:
        return Decision(
            False,
            [_("A closed ticket is final and cannot change; open a new ticket instead.")],
        )
    if target not in allowed_next(current):
        return Decision(
            False,
            [
                _("A ticket that is “%(current)s” can only move to: %(allowed)s.")
                % {
                    "current": status_label(current),
                    "allowed": ", ".join(status_label(s) for s in allowed_next(current)),
                }
            ],
        )
    if (current, target) == REOPEN and not note.strip():
        return Decision(
            False,
            [_("Say why the ticket is reopened: write a note (e.g. the problem came back).")],
        )
    return Decision(True)


# --- SLA policies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPolicyCandidate:
    """What matching needs of a policy (plain data, so the rule is a pure function)."""

    id: int
    category: str
    subcategory_id: int | None
    priority: str  # "" = any
    position: int


def sla_policy_match(
    candidates: list[SlaPolicyCandidate],
    *,
    category: str,
    subcategory_id: int | None,
    priority: str,
) -> int | None:
    """The id of the most specific policy for a ticket, or None (the ticket has no clock).

    A policy matches when its category is the ticket's, its subcategory (if it names
    one) is the ticket's and its priority (if it names one) is the ticket's. Naming the
    subcategory is more specific than naming the priority; naming both is the most
    specific. Between equally specific policies the pack's first one wins.
    """
    best: tuple[int, int, int] | None = None
    chosen: int | None = None
    for policy in candidates:
        if policy.category != category:
            continue
        if policy.subcategory_id is not None and policy.subcategory_id != subcategory_id:
            continue
        if policy.priority and policy.priority != priority:
            continue
        specificity = (2 if policy.subcategory_id is not None else 0) + (
            1 if policy.priority else 0
        )
        rank = (-specificity, policy.position, policy.id)
        if best is None or rank < best:
            best, chosen = rank, policy.id
    return chosen
