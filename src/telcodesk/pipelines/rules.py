"""Business rules of lead pipelines: pure functions over plain data.

Each rule returns a ``Decision``: ``allowed`` says whether the lead may go on as it is
(or whether the asked-for move may happen), ``outcome`` names the stage the rule sends
the lead to ("" when it sends it nowhere), and ``reasons`` says why, translated, ready
to show to the agent. Stage names and thresholds come from the pipeline's pack (its
``rules`` section), never from this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Decision:
    allowed: bool
    outcome: str = ""
    reasons: list[str] = field(default_factory=list)


# --- stage transitions -------------------------------------------------------------------


@dataclass(frozen=True)
class StageFacts:
    """What a transition check needs to know about a stage."""

    id: int
    pipeline_id: int
    organization_id: int
    name: str
    kind: str  # open / won / lost
    is_system: bool = False
    requires_greeting: bool = False
    is_active: bool = True


def stage_transition(
    *,
    current: StageFacts,
    target: StageFacts,
    greeting_sent: bool,
    by_hand: bool,
    closing: bool = False,
) -> Decision:
    """May a lead in ``current`` move to ``target``?

    ``by_hand``: an agent asks (system stages are refused); ``closing``: the move is a
    win or a loss (``lead_win``/``lead_lose``), the only way into won and lost stages.
    """
    reasons: list[str] = []
    if target.organization_id != current.organization_id or target.pipeline_id != (
        current.pipeline_id
    ):
        reasons.append(
            _(
                'The stage "%(stage)s" belongs to another pipeline; a lead only moves '
                "between the stages of its own pipeline. Create a lead in the other "
                "pipeline instead."
            )
            % {"stage": target.name}
        )
        return Decision(False, "", reasons)
    if target.id == current.id:
        return Decision(
            False,
            "",
            [_('The lead is already in "%(stage)s".') % {"stage": target.name}],
        )
    if not target.is_active:
        reasons.append(
            _('The stage "%(stage)s" is no longer in use; choose another stage.')
            % {"stage": target.name}
        )
    if current.kind == "won":
        reasons.append(_("This lead was won and is closed; create a new lead for a new sale."))
    if target.kind in ("won", "lost") and not closing:
        reasons.append(
            _(
                'The stage "%(stage)s" closes the lead; use "Win" or "Lose" (with a '
                "reason) instead of moving it."
            )
            % {"stage": target.name}
        )
    if by_hand and not closing:
        if target.is_system:
            reasons.append(
                _('Only the system puts leads in "%(stage)s"; it cannot be chosen by hand.')
                % {"stage": target.name}
            )
        if current.is_system:
            reasons.append(
                _(
                    'The lead is in "%(stage)s", which only the system changes; leave it '
                    "there, or win or lose it."
                )
                % {"stage": current.name}
            )
    if target.requires_greeting and not greeting_sent:
        reasons.append(
            _('Send the greeting first: the message of "%(stage)s" only reads right after it.')
            % {"stage": target.name}
        )
    if reasons:
        return Decision(False, "", reasons)
    return Decision(True, target.name, [])


# --- FIBRA: riser ("Pedido Acometida") --------------------------------------------------


def riser_needed(
    *,
    has_box: bool | None,
    floors: int | None,
    apartments: int | None,
    max_floors: int,
    max_apartments: int,
    stage: str,
) -> Decision:
    """A building without a box and more than ``max_floors`` floors and/or more than
    ``max_apartments`` apartments needs a riser: the lead goes to ``stage``."""
    if has_box is None or (floors is None and apartments is None):
        return Decision(
            False,
            "",
            [
                _(
                    "Ask whether the building already has a box, and how many floors and "
                    "apartments it has."
                )
            ],
        )
    if has_box:
        return Decision(True, "", [_("The building already has a box: no riser is needed.")])
    reasons: list[str] = []
    if floors is not None and floors > max_floors:
        reasons.append(
            _("The building has %(floors)d floors, more than %(max)d, and no box.")
            % {"floors": floors, "max": max_floors}
        )
    if apartments is not None and apartments > max_apartments:
        reasons.append(
            _("The building has %(apartments)d apartments, more than %(max)d, and no box.")
            % {"apartments": apartments, "max": max_apartments}
        )
    if reasons:
        reasons.append(_("Request a riser for the building."))
        return Decision(False, stage, reasons)
    return Decision(
        True,
        "",
        [
            _(
                "No box, but the building is small enough (at most %(floors)d floors and "
                "%(apartments)d apartments): no riser is needed."
            )
            % {"floors": max_floors, "apartments": max_apartments}
        ],
    )


# --- debt under the same document -------------------------------------------------------


@dataclass(frozen=True)
class OverdueInvoice:
    number: str
    outstanding: Decimal
    currency: str
    days_overdue: int


def debt_check(*, document: str, overdue: Sequence[OverdueInvoice], stage: str) -> Decision:
    """Any open overdue invoice under the lead's document sends it to ``stage``."""
    if not document:
        return Decision(False, "", [_("Ask for the customer's document number to check for debt.")])
    if not overdue:
        return Decision(
            True,
            "",
            [_("No overdue invoice under document %(document)s.") % {"document": document}],
        )
    reasons = [
        _("Invoice %(number)s is %(days)d days overdue: %(amount)s %(currency)s outstanding.")
        % {
            "number": invoice.number,
            "days": invoice.days_overdue,
            "amount": invoice.outstanding,
            "currency": invoice.currency,
        }
        for invoice in overdue
    ]
    reasons.append(_("Offer to pay the debt, or to contract the service in another person's name."))
    return Decision(False, stage, reasons)


# --- PORTA: offer by carrier and permanence ---------------------------------------------


def carrier_offer(
    *,
    carrier: str | None,
    line_type: str | None,
    wants_new_line: bool | None,
    by_carrier: Mapping[str, str],
    prepaid: str | None,
    new_line: str | None,
    unknown: str | None,
    carrier_label: str | None = None,
) -> Decision:
    """The offer stage of a portability lead.

    A new number goes to ``new_line``; otherwise a prepaid line to ``prepaid``;
    otherwise the carrier's stage from ``by_carrier``; a carrier without an offer (or
    not known yet) goes to ``unknown`` with ``allowed`` False. ``carrier`` is the stored
    choice value (the key of ``by_carrier``); the reasons name the carrier by
    ``carrier_label``, its label in the pipeline's tab ("Personal"), when given.
    """
    shown = carrier_label or carrier
    if wants_new_line and new_line:
        return Decision(True, new_line, [_("The customer wants a new number.")])
    if line_type == "prepaid" and prepaid:
        return Decision(True, prepaid, [_("The customer's line is prepaid.")])
    if carrier and carrier in by_carrier:
        return Decision(
            True,
            by_carrier[carrier],
            [_("The customer's current carrier is %(carrier)s.") % {"carrier": shown}],
        )
    if carrier:
        reason = _(
            "There is no offer for carrier %(carrier)s; review the customer's intention."
        ) % {"carrier": shown}
    else:
        reason = _("The current carrier is not known yet; ask the customer.")
    return Decision(False, unknown or "", [reason])


def permanence_check(*, days_with_carrier: int | None, min_days: int, stage: str) -> Decision:
    """A line with fewer than ``min_days`` with its carrier cannot be ported yet."""
    if days_with_carrier is None:
        return Decision(
            False,
            "",
            [_("Ask how many days the line has been with its current carrier.")],
        )
    if days_with_carrier < min_days:
        return Decision(
            False,
            stage,
            [
                _(
                    "The line has %(days)d days with its carrier and needs at least "
                    "%(min)d to be ported; explain it and offer a new line."
                )
                % {"days": days_with_carrier, "min": min_days}
            ],
        )
    return Decision(
        True,
        "",
        [
            _("The line has %(days)d days with its carrier (at least %(min)d): it can be ported.")
            % {"days": days_with_carrier, "min": min_days}
        ],
    )
