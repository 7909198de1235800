"""The document's rules as pure functions: exact decisions at the boundaries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from telcodesk.pipelines.rules import (
    Decision,
    OverdueInvoice,
    StageFacts,
    carrier_offer,
    debt_check,
    permanence_check,
    riser_needed,
    stage_transition,
)
from telcodesk.pipelines.tabs import choice_label

RISER: dict[str, Any] = {"max_floors": 4, "max_apartments": 7, "stage": "Pedido Acometida"}


@pytest.mark.parametrize(
    ("floors", "apartments", "outcome"),
    [
        (4, 7, ""),
        (5, 7, "Pedido Acometida"),
        (4, 8, "Pedido Acometida"),
        (5, 8, "Pedido Acometida"),
        (1, 2, ""),
        (None, 8, "Pedido Acometida"),
        (5, None, "Pedido Acometida"),
    ],
)
def test_a_building_without_a_box_needs_a_riser_above_4_floors_or_7_apartments(
    floors: int | None, apartments: int | None, outcome: str
) -> None:
    decision = riser_needed(has_box=False, floors=floors, apartments=apartments, **RISER)

    assert (decision.allowed, decision.outcome) == (outcome == "", outcome)


def test_the_riser_decision_says_which_size_is_exceeded() -> None:
    decision = riser_needed(has_box=False, floors=5, apartments=8, **RISER)

    assert decision == Decision(
        False,
        "Pedido Acometida",
        [
            "The building has 5 floors, more than 4, and no box.",
            "The building has 8 apartments, more than 7, and no box.",
            "Request a riser for the building.",
        ],
    )


def test_a_building_with_a_box_needs_no_riser_whatever_its_size() -> None:
    decision = riser_needed(has_box=True, floors=30, apartments=120, **RISER)

    assert decision == Decision(True, "", ["The building already has a box: no riser is needed."])


@pytest.mark.parametrize(("has_box", "floors", "apartments"), [(None, 5, 8), (False, None, None)])
def test_the_riser_rule_asks_for_what_it_does_not_know(
    has_box: bool | None, floors: int | None, apartments: int | None
) -> None:
    decision = riser_needed(has_box=has_box, floors=floors, apartments=apartments, **RISER)

    assert (decision.allowed, decision.outcome) == (False, "")
    assert decision.reasons == [
        "Ask whether the building already has a box, and how many floors and apartments it has."
    ]


def test_an_overdue_invoice_under_the_document_sends_the_lead_to_deuda() -> None:
    overdue = [OverdueInvoice("A-0001", Decimal("12500.00"), "ARS", 12)]

    decision = debt_check(document="30111222", overdue=overdue, stage="Deuda")

    assert decision == Decision(
        False,
        "Deuda",
        [
            "Invoice A-0001 is 12 days overdue: 12500.00 ARS outstanding.",
            "Offer to pay the debt, or to contract the service in another person's name.",
        ],
    )


def test_no_overdue_invoice_means_no_debt() -> None:
    decision = debt_check(document="30111222", overdue=[], stage="Deuda")

    assert decision == Decision(True, "", ["No overdue invoice under document 30111222."])


def test_without_a_document_the_debt_rule_asks_for_it() -> None:
    decision = debt_check(document="", overdue=[], stage="Deuda")

    assert (decision.allowed, decision.outcome) == (False, "")


OFFERS: dict[str, Any] = {
    "by_carrier": {"personal": "Oferta 40%", "movistar": "Oferta 60%"},
    "prepaid": "Oferta prepaga",
    "new_line": "Línea nueva",
    "unknown": "Revisar intención",
}


@pytest.mark.parametrize(
    ("carrier", "line_type", "wants_new_line", "allowed", "outcome"),
    [
        ("personal", "postpaid", False, True, "Oferta 40%"),
        ("movistar", "postpaid", None, True, "Oferta 60%"),
        ("movistar", "prepaid", False, True, "Oferta prepaga"),
        ("personal", "prepaid", True, True, "Línea nueva"),
        (None, None, True, True, "Línea nueva"),
        ("other", "postpaid", False, False, "Revisar intención"),
        (None, None, None, False, "Revisar intención"),
    ],
)
def test_the_porta_offer_follows_the_carrier_map_of_the_pack(
    carrier: str | None,
    line_type: str | None,
    wants_new_line: bool | None,
    allowed: bool,
    outcome: str,
) -> None:
    decision = carrier_offer(
        carrier=carrier, line_type=line_type, wants_new_line=wants_new_line, **OFFERS
    )

    assert (decision.allowed, decision.outcome) == (allowed, outcome)
    assert len(decision.reasons) == 1


def test_the_carrier_map_is_data_not_code() -> None:
    decision = carrier_offer(
        carrier="tuenti",
        line_type=None,
        wants_new_line=None,
        by_carrier={"tuenti": "Oferta Tuenti"},
        prepaid=None,
        new_line=None,
        unknown=None,
    )

    assert decision == Decision(
        True, "Oferta Tuenti", ["The customer's current carrier is tuenti."]
    )


def test_the_reasons_name_the_carrier_by_its_label_not_its_stored_value() -> None:
    known = carrier_offer(
        carrier="personal",
        carrier_label="Personal",
        line_type="postpaid",
        wants_new_line=False,
        **OFFERS,
    )
    unknown = carrier_offer(
        carrier="other", carrier_label="Otra", line_type=None, wants_new_line=None, **OFFERS
    )

    assert known == Decision(True, "Oferta 40%", ["The customer's current carrier is Personal."])
    assert unknown == Decision(
        False,
        "Revisar intención",
        ["There is no offer for carrier Otra; review the customer's intention."],
    )


CARRIER_FIELD = {
    "key": "current_carrier",
    "label": "Empresa actual",
    "type": "choice",
    "choices": [{"value": "personal", "label": "Personal"}, {"value": "other", "label": "Otra"}],
}


@pytest.mark.parametrize(
    ("spec", "value", "label"),
    [
        (CARRIER_FIELD, "personal", "Personal"),
        (CARRIER_FIELD, "other", "Otra"),
        (CARRIER_FIELD, "tuenti", "tuenti"),  # a value the pack no longer offers
        (CARRIER_FIELD, None, ""),
        ({"key": "notes", "label": "Notas", "type": "text"}, "personal", "personal"),
        (None, "personal", "personal"),  # the field is not in the tabs
    ],
)
def test_a_choice_is_shown_by_the_label_the_pack_gives_it(
    spec: dict[str, Any] | None, value: str | None, label: str
) -> None:
    assert choice_label(spec, value) == label


@pytest.mark.parametrize(
    ("days", "allowed", "outcome"),
    [(0, False, "Sin permanencia"), (59, False, "Sin permanencia"), (60, True, ""), (61, True, "")],
)
def test_a_line_needs_60_days_with_its_carrier_to_be_ported(
    days: int, allowed: bool, outcome: str
) -> None:
    decision = permanence_check(days_with_carrier=days, min_days=60, stage="Sin permanencia")

    assert (decision.allowed, decision.outcome) == (allowed, outcome)


def test_the_permanence_refusal_says_the_days_and_what_to_offer() -> None:
    decision = permanence_check(days_with_carrier=59, min_days=60, stage="Sin permanencia")

    assert decision.reasons == [
        "The line has 59 days with its carrier and needs at least 60 to be ported; explain "
        "it and offer a new line."
    ]


def test_the_permanence_threshold_comes_from_the_caller() -> None:
    decision = permanence_check(days_with_carrier=59, min_days=30, stage="Sin permanencia")

    assert decision.allowed is True


def facts(id: int, name: str, kind: str = "open", **fields: object) -> StageFacts:
    values: dict[str, object] = {"pipeline_id": 1, "organization_id": 1}
    values.update(fields)
    return StageFacts(id=id, name=name, kind=kind, **values)  # type: ignore[arg-type]


def test_a_move_between_open_stages_is_allowed() -> None:
    decision = stage_transition(
        current=facts(1, "A"), target=facts(2, "B"), greeting_sent=False, by_hand=True
    )

    assert decision == Decision(True, "B", [])


def test_a_move_to_another_pipeline_is_refused() -> None:
    decision = stage_transition(
        current=facts(1, "A"), target=facts(9, "X", pipeline_id=2), greeting_sent=True, by_hand=True
    )

    assert decision.allowed is False
    assert "belongs to another pipeline" in decision.reasons[0]


def test_a_system_stage_is_refused_by_hand_but_allowed_to_the_system() -> None:
    current, target = facts(1, "A"), facts(2, "Links de pago", is_system=True)

    by_hand = stage_transition(current=current, target=target, greeting_sent=True, by_hand=True)
    by_system = stage_transition(current=current, target=target, greeting_sent=True, by_hand=False)

    assert by_hand.allowed is False
    assert by_system.allowed is True


def test_an_offer_stage_needs_the_greeting_even_for_the_system() -> None:
    target = facts(2, "Oferta 40%", requires_greeting=True)

    refused = stage_transition(
        current=facts(1, "A"), target=target, greeting_sent=False, by_hand=False
    )
    allowed = stage_transition(
        current=facts(1, "A"), target=target, greeting_sent=True, by_hand=True
    )

    assert refused.reasons == [
        'Send the greeting first: the message of "Oferta 40%" only reads right after it.'
    ]
    assert allowed.allowed is True


def test_won_and_lost_stages_are_reached_only_by_closing() -> None:
    lost = facts(3, "Perdidos", kind="lost")

    move = stage_transition(current=facts(1, "A"), target=lost, greeting_sent=True, by_hand=True)
    close = stage_transition(
        current=facts(1, "A"), target=lost, greeting_sent=True, by_hand=True, closing=True
    )

    assert move.allowed is False
    assert close.allowed is True
