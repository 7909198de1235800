"""Coverage over the JSON API: check an address, check and qualify a lead, import files.

Registered in telcodesk.api with ``api.add_router("/", router, tags=["coverage"])``.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from telcodesk.core.api_schemas import ERRORS, InputSchema
from telcodesk.core.tenancy import Actor
from telcodesk.coverage import services
from telcodesk.coverage.imports import coverage_import_csv, coverage_import_geojson
from telcodesk.coverage.selectors import VIEW_PERMISSION, coverage_areas_visible
from telcodesk.pipelines import selectors as lead_selectors
from telcodesk.pipelines.api import LeadOut, lead_out

router = Router()


class PointIn(InputSchema):
    lat: float = Field(..., ge=-90, le=90, description="latitude")
    lon: float = Field(..., ge=-180, le=180, description="longitude")


class CheckIn(InputSchema):
    address: str = Field("", max_length=500, description='e.g. "Av. Rivadavia 5200, Caballito"')
    point: PointIn | None = Field(None, description="the installation point, when known")
    city: str = Field(
        "", max_length=120, description="narrows the ranges like a city in the address"
    )


class AreaOut(Schema):
    id: int
    name: str
    city: str
    zone: str
    technology: str


class AreaListOut(AreaOut):
    source_file: str
    is_active: bool
    ranges: int
    polygons: int


class DecisionOut(Schema):
    covered: bool | None = Field(description="null: not checked, the reasons say what to complete")
    result: str = Field(description="covered, not_covered or unchecked")
    area: AreaOut | None
    matched_by: str = Field(description="range, polygon or empty")
    street: str
    number: int | None
    reasons: list[str]


class LeadDecisionOut(DecisionOut):
    moved_to: str = Field(description="the stage the lead moved to, or empty")
    lost_with: str = Field(description="the loss reason the lead was lost with, or empty")
    lead: LeadOut


class ImportIn(InputSchema):
    format: Literal["csv", "geojson"]
    source_file: str = Field(
        ..., min_length=1, max_length=255, description="its name identifies it on re-import"
    )
    content: str = Field(..., min_length=1, description="the file's text (UTF-8)")


class ImportOut(Schema):
    source_file: str
    areas: int
    ranges: int
    polygons: int
    areas_removed: int


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def decision_out(decision: services.CoverageDecision) -> dict[str, Any]:
    area = decision.area
    return {
        "covered": decision.covered,
        "result": decision.result,
        "area": (
            {
                "id": area.pk,
                "name": area.name,
                "city": area.city,
                "zone": area.zone,
                "technology": area.technology,
            }
            if area is not None
            else None
        ),
        "matched_by": decision.matched_by,
        "street": decision.street,
        "number": decision.number,
        "reasons": [str(reason) for reason in decision.reasons],
    }


@router.get(
    "/coverage/areas", response={200: list[AreaListOut], **ERRORS}, summary="Coverage areas"
)
def coverage_areas(request: HttpRequest) -> list[dict[str, Any]]:
    """The areas the organization checks against (a reseller: its operators' areas)."""
    return [
        {
            "id": area.pk,
            "name": area.name,
            "city": area.city,
            "zone": area.zone,
            "technology": area.technology,
            "source_file": area.source_file,
            "is_active": area.is_active,
            "ranges": area.range_count,  # type: ignore[attr-defined]
            "polygons": area.polygon_count,  # type: ignore[attr-defined]
        }
        for area in coverage_areas_visible(actor=_actor(request))
    ]


@router.post("/coverage/check", response={200: DecisionOut, **ERRORS}, summary="Check coverage")
def coverage_check(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    """Is an address (or a point) covered? Changes nothing."""
    actor = _actor(request)
    actor.require(VIEW_PERMISSION)
    decision = services.coverage_check(
        organization=actor.organization,
        address=payload.address,
        point=(payload.point.lat, payload.point.lon) if payload.point is not None else None,
        city=payload.city,
    )
    return decision_out(decision)


@router.post(
    "/leads/{lead_id}/coverage-check",
    response={200: LeadDecisionOut, **ERRORS},
    summary="Check a lead's coverage",
)
def lead_coverage_check(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """Checks the lead's installation address (and point), stores coverage_result, and
    moves the lead to "Con Cobertura" or loses it with "Fuera de cobertura"."""
    actor = _actor(request)
    lead = lead_selectors.lead_get(actor=actor, lead_id=lead_id)
    decision = services.lead_coverage_apply(actor=actor, lead=lead)
    return {
        **decision_out(decision),
        "moved_to": decision.moved_to,
        "lost_with": decision.lost_with,
        "lead": lead_out(lead_selectors.lead_get(actor=actor, lead_id=lead_id)),
    }


@router.post(
    "/coverage/imports", response={201: ImportOut, **ERRORS}, summary="Import a coverage file"
)
def coverage_import(request: HttpRequest, payload: ImportIn) -> Status[dict[str, Any]]:
    """Operators only, "org.manage": a CSV of street ranges or a GeoJSON of polygons.
    A bad row refuses the whole file (422, ``details`` by line or feature)."""
    importer = coverage_import_csv if payload.format == "csv" else coverage_import_geojson
    result = importer(
        actor=_actor(request), content=payload.content, source_file=payload.source_file
    )
    return Status(
        201,
        {
            "source_file": result.source_file,
            "areas": result.areas,
            "ranges": result.ranges,
            "polygons": result.polygons,
            "areas_removed": result.areas_removed,
        },
    )
