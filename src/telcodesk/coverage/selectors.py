"""Reads of coverage: whose areas an organization uses, and the areas with counts."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from telcodesk.accounts.models import Organization
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.models import CoverageArea

VIEW_PERMISSION = "lead.view"


def coverage_owner_ids(*, organization: Organization) -> list[int]:
    """The organizations whose areas ``organization`` checks against.

    An operator uses its own areas; a reseller those of the operators it works for.
    """
    if organization.is_reseller:
        return list(organization.operators.order_by("id").values_list("id", flat=True))
    return [organization.pk]


def coverage_areas_visible(*, actor: Actor) -> QuerySet[CoverageArea]:
    """The areas the actor's organization checks against, with range and polygon counts."""
    actor.require(VIEW_PERMISSION)
    return (
        CoverageArea.objects.filter(
            organization_id__in=coverage_owner_ids(organization=actor.organization)
        )
        .select_related("organization")
        .annotate(
            range_count=Count("ranges", distinct=True),
            polygon_count=Count("polygons", distinct=True),
        )
        .order_by("organization__name", "city", "zone", "name", "id")
    )
