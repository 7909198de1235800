"""DEMO DATA (not real coverage) for the demo operator claro-ar, and its loader.

See README.md in this folder: the ranges and polygons are invented.
"""

from __future__ import annotations

from pathlib import Path

from telcodesk.accounts.models import Organization
from telcodesk.accounts.roles import Role
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.imports import coverage_import_csv, coverage_import_geojson

DEMO_DIR = Path(__file__).resolve().parent
DEMO_OPERATOR = "claro-ar"
DEMO_CSV = DEMO_DIR / "claro-ar-demo-ranges.csv"
DEMO_GEOJSON = DEMO_DIR / "claro-ar-demo-areas.geojson"


def coverage_demo_load() -> int:
    """Load the demo coverage into claro-ar; the number of ranges and polygons loaded.

    0 when the organization does not exist (its pack is not loaded). Loading again
    replaces what the demo files brought, so the result is the same.
    """
    organization = Organization.objects.filter(
        slug=DEMO_OPERATOR, kind=Organization.Kind.OPERATOR
    ).first()
    if organization is None:
        return 0
    actor = Actor(organization=organization, role=Role.ADMIN, label="demo")
    ranges = coverage_import_csv(
        actor=actor, content=DEMO_CSV.read_text(encoding="utf-8"), source_file=DEMO_CSV.name
    )
    polygons = coverage_import_geojson(
        actor=actor,
        content=DEMO_GEOJSON.read_text(encoding="utf-8"),
        source_file=DEMO_GEOJSON.name,
    )
    return ranges.ranges + polygons.polygons
