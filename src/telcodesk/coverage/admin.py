"""Read-only admin for coverage: areas change only by importing their files again."""

from __future__ import annotations

from django.contrib import admin

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.coverage.models import CoverageArea, CoveragePolygon, StreetRange


@admin.register(CoverageArea)
class CoverageAreaAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "city", "zone", "technology", "source_file"]
    list_filter = ["organization", "technology", "is_active"]
    search_fields = ["name", "city", "zone", "source_file"]


@admin.register(StreetRange)
class StreetRangeAdmin(ReadOnlyAdmin):
    list_display = ["street", "number_from", "number_to", "parity", "zone", "city", "area"]
    search_fields = ["street", "street_key", "zone", "city"]


@admin.register(CoveragePolygon)
class CoveragePolygonAdmin(ReadOnlyAdmin):
    list_display = ["area", "organization", "min_lon", "min_lat", "max_lon", "max_lat"]
