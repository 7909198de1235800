"""The coverage rule: is an address (or a point) inside an operator's coverage?

``coverage_check`` answers for an address typed by an agent or a customer: first the
street-number ranges of the street (parity aware, narrowed by the city or barrio when
the address names one), then, when a point is known, the polygons around it. It returns
a ``CoverageDecision`` whose ``covered`` is True, False, or None when there was nothing
to check ("Sin verificar": the reasons say what to complete). ``lead_coverage_apply``
runs it on a lead's FIBRA tab and qualifies the lead the way the procedure says:
"Con Cobertura", or lost with "Fuera de cobertura".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.geometry import geometry_contains
from telcodesk.coverage.models import CoverageArea, CoveragePolygon, Parity, StreetRange
from telcodesk.coverage.selectors import coverage_owner_ids
from telcodesk.coverage.streets import (
    AddressProblem,
    StreetAddress,
    address_parse,
    locality_key,
)
from telcodesk.pipelines import selectors as lead_selectors
from telcodesk.pipelines.models import Lead, LossReason, Stage
from telcodesk.pipelines.services import lead_lose, lead_move, lead_update_data

ADDRESS_FIELD = "installation_address"
POINT_FIELD = "installation_point"
RESULT_FIELD = "coverage_result"
COVERED_STAGE = "Con Cobertura"
NOT_COVERED_REASON = "Fuera de cobertura"
COVERED, NOT_COVERED, UNCHECKED = "covered", "not_covered", "unchecked"
WORK_PERMISSION = "lead.work"
# Ranges of the street listed as a hint when the number is not covered.
HINT_RANGES = 3

PARITY_TEXT = {
    Parity.ALL: gettext_lazy("all numbers"),
    Parity.EVEN: gettext_lazy("even numbers"),
    Parity.ODD: gettext_lazy("odd numbers"),
}


@dataclass(frozen=True)
class CoverageDecision:
    """``covered`` None: not checked; ``reasons`` say why, or what to complete."""

    covered: bool | None
    reasons: list[str] = field(default_factory=list)
    area: CoverageArea | None = None
    matched_by: str = ""  # "range", "polygon" or ""
    street: str = ""
    number: int | None = None
    # Set by lead_coverage_apply: where the lead went.
    moved_to: str = ""
    lost_with: str = ""

    @property
    def result(self) -> str:
        """The tab value: covered / not_covered / unchecked."""
        if self.covered is None:
            return UNCHECKED
        return COVERED if self.covered else NOT_COVERED


def point_parse(text: str) -> tuple[float, float]:
    """``"-34.61, -58.43"`` (latitude, longitude) -> a point; ValueError when it is not one."""
    parts = [part for part in re.split(r"[,;\s]+", text.strip()) if part]
    if len(parts) != 2:
        raise ValueError(text)
    lat, lon = float(parts[0]), float(parts[1])
    point_check((lat, lon))
    return lat, lon


def point_check(point: tuple[float, float]) -> None:
    lat, lon = point
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise ValueError(point)


def _range_text(street_range: StreetRange) -> str:
    return _("%(street)s %(from)d–%(to)d, %(parity)s") % {
        "street": street_range.street,
        "from": street_range.number_from,
        "to": street_range.number_to,
        "parity": PARITY_TEXT[Parity(street_range.parity)],
    }


def _place(street_range: StreetRange) -> str:
    return street_range.zone or street_range.city


def _check_ranges(
    owners: list[int], parsed: StreetAddress, localities: list[str]
) -> CoverageDecision | None:
    """A covered decision from the ranges, an undecided one, or None (no range matches)."""
    street_ranges = list(
        StreetRange.objects.filter(
            organization_id__in=owners, area__is_active=True, street_key=parsed.key
        )
        .select_related("area")
        .order_by("city_key", "number_from", "id")
    )
    in_place = [
        street_range
        for street_range in street_ranges
        if not localities
        or street_range.city_key in localities
        or street_range.zone_key in localities
    ]
    matches = [street_range for street_range in in_place if street_range.includes(parsed.number)]
    if not matches:
        return None
    cities = sorted({street_range.city for street_range in matches})
    if len(cities) > 1:
        return CoverageDecision(
            covered=None,
            reasons=[
                _(
                    "%(address)s is covered in %(cities)s; add the city or barrio to the "
                    "address to know which one."
                )
                % {"address": parsed.display, "cities": ", ".join(cities)}
            ],
            street=parsed.street,
            number=parsed.number,
        )
    match = matches[0]
    return CoverageDecision(
        covered=True,
        reasons=[
            _("%(address)s is within %(area)s (%(range)s).")
            % {"address": parsed.display, "area": _place(match), "range": _range_text(match)}
        ],
        area=match.area,
        matched_by="range",
        street=parsed.street,
        number=parsed.number,
    )


def _range_miss_reasons(owners: list[int], parsed: StreetAddress) -> list[str]:
    reasons = [
        _("No coverage area includes %(address)s.") % {"address": parsed.display},
    ]
    known = list(
        StreetRange.objects.filter(
            organization_id__in=owners, area__is_active=True, street_key=parsed.key
        ).order_by("city_key", "number_from", "id")[:HINT_RANGES]
    )
    if known:
        reasons.append(
            _("Covered on that street: %(ranges)s.")
            % {
                "ranges": "; ".join(
                    f"{_range_text(street_range)} ({_place(street_range)})"
                    for street_range in known
                )
            }
        )
    return reasons


def _check_point(owners: list[int], point: tuple[float, float]) -> CoverageDecision | None:
    lat, lon = point
    candidates = (
        CoveragePolygon.objects.filter(
            organization_id__in=owners,
            area__is_active=True,
            min_lon__lte=lon,
            max_lon__gte=lon,
            min_lat__lte=lat,
            max_lat__gte=lat,
        )
        .select_related("area")
        .order_by("id")
    )
    for polygon in candidates:
        if geometry_contains(polygon.geometry, lon=lon, lat=lat):
            return CoverageDecision(
                covered=True,
                reasons=[
                    _("The point %(lat)s, %(lon)s is inside the coverage area %(area)s.")
                    % {"lat": lat, "lon": lon, "area": polygon.area.name}
                ],
                area=polygon.area,
                matched_by="polygon",
            )
    return None


def _complete_message(problem: AddressProblem | None) -> str:
    if problem is not None and problem.missing == "number":
        return _(
            "Complete the installation address with the house number (e.g. Av. Rivadavia "
            '5200, Caballito), or the installation point as "latitude, longitude".'
        )
    return _(
        "Complete the installation address with the street and house number (e.g. Av. "
        'Rivadavia 5200, Caballito), or the installation point as "latitude, longitude".'
    )


def coverage_check(
    *,
    organization: Organization,
    address: str,
    point: tuple[float, float] | None = None,
    city: str = "",
) -> CoverageDecision:
    """Is ``address`` (or ``point``, as (latitude, longitude)) covered?

    ``organization`` may be an operator (its own areas) or a reseller (its operators'
    areas). ``city`` narrows the ranges like a city or barrio written in the address.
    Raises ValidationFailed for a point that is not a latitude and a longitude.
    """
    if point is not None:
        try:
            point_check(point)
        except ValueError:
            message = _("The point must be a latitude (-90 to 90) and a longitude (-180 to 180).")
            raise ValidationFailed(message, details={"point": [message]}) from None
    owners = coverage_owner_ids(organization=organization)
    if not CoverageArea.objects.filter(organization_id__in=owners, is_active=True).exists():
        return CoverageDecision(
            covered=None,
            reasons=[
                _(
                    "No coverage areas are loaded for %(organization)s; ask an administrator "
                    "to import the operator's coverage files."
                )
                % {"organization": organization.name}
            ],
        )
    parsed = address_parse(address)
    reasons: list[str] = []
    street, number = "", None
    if isinstance(parsed, StreetAddress):
        street, number = parsed.street, parsed.number
        localities = list(parsed.localities)
        if city.strip():
            localities.append(locality_key(city))
        decision = _check_ranges(owners, parsed, localities)
        if decision is not None:
            return decision
        reasons.extend(_range_miss_reasons(owners, parsed))
    if point is not None:
        decision = _check_point(owners, point)
        if decision is not None:
            return replace(decision, street=street, number=number)
        reasons.append(
            _("The point %(lat)s, %(lon)s is outside every coverage polygon.")
            % {"lat": point[0], "lon": point[1]}
        )
    if isinstance(parsed, StreetAddress) or point is not None:
        return CoverageDecision(covered=False, reasons=reasons, street=street, number=number)
    return CoverageDecision(covered=None, reasons=[_complete_message(parsed)])


# --- the lead -----------------------------------------------------------------------------


def _stage_and_reason(lead: Lead) -> tuple[Stage, LossReason]:
    pipeline = lead.pipeline
    settings = pipeline.rules.get("coverage") or {}
    stage_name = settings.get("covered_stage") or COVERED_STAGE
    reason_name = settings.get("not_covered_reason") or NOT_COVERED_REASON
    stage = Stage.objects.filter(pipeline=pipeline, name=stage_name, is_active=True).first()
    reason = LossReason.objects.filter(pipeline=pipeline, name=reason_name, is_active=True).first()
    if ADDRESS_FIELD not in pipeline.tab_fields() or stage is None or reason is None:
        message = _(
            'Coverage is checked on a pipeline with an installation address, a stage "%(stage)s" '
            'and a loss reason "%(reason)s"; %(pipeline)s lacks them.'
        ) % {"stage": stage_name, "reason": reason_name, "pipeline": pipeline.name}
        raise ValidationFailed(message, details={"pipeline": [message]})
    return stage, reason


def lead_coverage_apply(*, actor: Actor, lead: Lead) -> CoverageDecision:
    """Check the coverage of the lead's installation address and qualify the lead.

    Stores the result in the tab field ``coverage_result`` (when the pipeline has it);
    covered: moves the lead to "Con Cobertura" (reopening it if it was lost); not
    covered: loses it with "Fuera de cobertura"; unchecked: nothing moves. The stage
    and reason names come from ``pipeline.rules["coverage"]`` (covered_stage,
    not_covered_reason) when set. A won lead keeps its stage. One transaction.
    """
    actor.require(WORK_PERMISSION)
    current = lead_selectors.lead_get(actor=actor, lead_id=lead.pk)
    stage, reason = _stage_and_reason(current)
    address = str(current.data.get(ADDRESS_FIELD) or "")
    raw_point = str(current.data.get(POINT_FIELD) or "").strip()
    point: tuple[float, float] | None = None
    notes: list[str] = []
    if raw_point:
        try:
            point = point_parse(raw_point)
        except ValueError:
            notes.append(
                _(
                    'The installation point "%(point)s" is not "latitude, longitude" (e.g. '
                    "-34.61, -58.43); it was not used."
                )
                % {"point": raw_point}
            )
    decision = coverage_check(organization=actor.organization, address=address, point=point)
    decision = replace(decision, reasons=[*decision.reasons, *notes])
    with transaction.atomic():
        if RESULT_FIELD in current.pipeline.tab_fields():
            current = lead_update_data(
                actor=actor, lead=current, data={RESULT_FIELD: decision.result}
            )
        if decision.covered is None:
            return decision
        if current.won_at is not None:
            return replace(
                decision,
                reasons=[*decision.reasons, _("The lead is won; it stays where it is.")],
            )
        note = " ".join(decision.reasons)
        if decision.covered:
            if current.stage_id == stage.pk and current.is_open:
                return decision
            lead_move(actor=actor, lead=current, to_stage=stage, reason=note)
            return replace(
                decision,
                moved_to=stage.name,
                reasons=[
                    *decision.reasons,
                    _('The lead moved to "%(stage)s".') % {"stage": stage.name},
                ],
            )
        if current.lost_at is not None and current.loss_reason_id == reason.pk:
            return decision
        lead_lose(actor=actor, lead=current, reason=reason, note=note)
        return replace(
            decision,
            lost_with=reason.name,
            reasons=[
                *decision.reasons,
                _('The lead was lost with the reason "%(reason)s".') % {"reason": reason.name},
            ],
        )
