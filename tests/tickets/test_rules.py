"""The status workflow table: every pair of statuses, and what a refusal says."""

from __future__ import annotations

import pytest

from telcodesk.tickets.models import TicketStatus
from telcodesk.tickets.rules import TRANSITIONS, allowed_next, status_transition

S = TicketStatus

# The whole table, written out: (from, to) pairs that are allowed.
ALLOWED = {
    (S.NEW, S.IN_PROGRESS),
    (S.NEW, S.WAITING_CUSTOMER),
    (S.NEW, S.VISIT_SCHEDULED),
    (S.NEW, S.RESOLVED),
    (S.IN_PROGRESS, S.WAITING_CUSTOMER),
    (S.IN_PROGRESS, S.VISIT_SCHEDULED),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.WAITING_CUSTOMER, S.IN_PROGRESS),
    (S.WAITING_CUSTOMER, S.VISIT_SCHEDULED),
    (S.WAITING_CUSTOMER, S.RESOLVED),
    (S.VISIT_SCHEDULED, S.IN_PROGRESS),
    (S.VISIT_SCHEDULED, S.WAITING_CUSTOMER),
    (S.VISIT_SCHEDULED, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.IN_PROGRESS),
}
PAIRS = [(a, b) for a in S.values for b in S.values if a != b]


def test_the_table_lists_every_status() -> None:
    assert set(TRANSITIONS) == set(S.values)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_each_move_is_allowed_exactly_as_the_table_says(current: str, target: str) -> None:
    decision = status_transition(current=current, target=target, note="came back")
    assert decision.allowed is ((current, target) in ALLOWED)
    assert (decision.reasons == []) is decision.allowed


def test_a_refusal_names_the_statuses_allowed_from_the_current_one() -> None:
    decision = status_transition(current=S.NEW, target=S.CLOSED)
    assert decision.reasons == [
        "A ticket that is “New” can only move to: In progress, Waiting for the customer, "
        "Visit scheduled, Resolved."
    ]


def test_a_closed_ticket_is_final() -> None:
    for target in S.values:
        if target == S.CLOSED:
            continue
        decision = status_transition(current=S.CLOSED, target=target, note="again")
        assert decision.allowed is False
        assert decision.reasons == [
            "A closed ticket is final and cannot change; open a new ticket instead."
        ]
    assert allowed_next(S.CLOSED) == ()


def test_reopening_a_resolved_ticket_needs_a_note() -> None:
    refused = status_transition(current=S.RESOLVED, target=S.IN_PROGRESS, note="  ")
    assert refused.allowed is False
    assert refused.reasons == [
        "Say why the ticket is reopened: write a note (e.g. the problem came back)."
    ]
    assert status_transition(current=S.RESOLVED, target=S.IN_PROGRESS, note="volvió").allowed


def test_an_unknown_status_is_refused_with_the_allowed_ones() -> None:
    decision = status_transition(current=S.RESOLVED, target="archived")
    assert decision.reasons == ["Unknown status “archived”; choose one of: Closed, In progress."]
