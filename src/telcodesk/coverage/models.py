"""Coverage areas of an operator: street-number ranges and polygons.

An area belongs to the OPERATOR organization whose network it describes; a reseller
checks addresses against the areas of the operators it works for. Areas come from
files (``coverage.imports``): ``source_file`` names the file, and importing the same
file again replaces what it brought.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel


class CoverageArea(OrganizationOwnedModel):
    name = models.CharField(max_length=120)
    city = models.CharField(max_length=120, blank=True)
    zone = models.CharField(max_length=120, blank=True, help_text=_("barrio, district"))
    technology = models.CharField(max_length=32, default="fiber")
    source_file = models.CharField(max_length=255, help_text=_("the file it was imported from"))
    imported_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_file", "city", "zone", "name", "technology"],
                name="coverage_area_unique_per_file",
            ),
        ]
        ordering = ["organization_id", "city", "zone", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Parity(models.TextChoices):
    ALL = "all", _("All numbers")
    EVEN = "even", _("Even numbers")
    ODD = "odd", _("Odd numbers")


class StreetRange(OrganizationOwnedModel):
    """House numbers ``number_from``..``number_to`` (both included) of one street."""

    area = models.ForeignKey(CoverageArea, on_delete=models.CASCADE, related_name="ranges")
    city = models.CharField(max_length=120)
    city_key = models.CharField(max_length=120)
    zone = models.CharField(max_length=120, blank=True)
    zone_key = models.CharField(max_length=120, blank=True)
    street = models.CharField(max_length=200, help_text=_("as written in the file"))
    street_key = models.CharField(max_length=200, help_text=_("coverage.streets.street_key"))
    number_from = models.PositiveIntegerField()
    number_to = models.PositiveIntegerField()
    parity = models.CharField(max_length=4, choices=Parity.choices, default=Parity.ALL)
    line = models.PositiveIntegerField(default=0, help_text=_("line of the source file"))

    class Meta:
        indexes = [
            models.Index(fields=["organization", "street_key"], name="coverage_range_street"),
        ]
        ordering = ["area_id", "street_key", "number_from", "id"]

    def __str__(self) -> str:
        return f"{self.street} {self.number_from}-{self.number_to} ({self.parity})"

    def includes(self, number: int) -> bool:
        if not self.number_from <= number <= self.number_to:
            return False
        if self.parity == Parity.EVEN:
            return number % 2 == 0
        if self.parity == Parity.ODD:
            return number % 2 == 1
        return True


class CoveragePolygon(OrganizationOwnedModel):
    """A GeoJSON Polygon or MultiPolygon; the bounding box prefilters point checks."""

    area = models.ForeignKey(CoverageArea, on_delete=models.CASCADE, related_name="polygons")
    geometry = models.JSONField()
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "min_lat", "max_lat", "min_lon", "max_lon"],
                name="coverage_polygon_bbox",
            ),
        ]
        ordering = ["area_id", "id"]

    def __str__(self) -> str:
        return f"{self.area.name} ({self.geometry.get('type', '')})"
