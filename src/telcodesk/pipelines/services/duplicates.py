"""Duplicate phones ("hecha desde otro agente"): one open lead per phone and pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.customers.phones import phone_query_forms
from telcodesk.pipelines.models import Lead, Pipeline

# A won lead counts as "a sale in process" for duplicate detection this long.
SALE_IN_PROCESS = timedelta(days=30)


@dataclass(frozen=True)
class LeadCreateResult:
    """``created`` False: the phone already had ``duplicate_of`` (returned as ``lead``)."""

    lead: Lead
    duplicate_of: Lead | None = None

    @property
    def created(self) -> bool:
        return self.duplicate_of is None

    @property
    def duplicate_message(self) -> str:
        if self.duplicate_of is None:
            return ""
        owner = self.duplicate_of.owner
        params = {
            "pipeline": self.duplicate_of.pipeline.name,
            "stage": self.duplicate_of.stage.name,
            "owner": (owner.get_full_name() or owner.get_username()) if owner else "",
        }
        if owner is None:
            return (
                _(
                    'This phone already has a lead in %(pipeline)s ("%(stage)s") with no '
                    "owner yet; work that lead instead of creating another."
                )
                % params
            )
        return (
            _(
                'This phone already has a lead in %(pipeline)s ("%(stage)s") worked by '
                "%(owner)s; talk to them before taking the customer."
            )
            % params
        )


def lead_duplicate_find(
    *, organization_id: int, pipeline: Pipeline, phone: str, region: str
) -> Lead | None:
    """An open lead, or a sale in process, with this phone in this pipeline.

    ``phone`` is E.164; its Argentine twin with or without the mobile 9 matches too
    (``+541123456789`` and ``+5491123456789`` are the same line typed two ways).
    """
    since = timezone.now() - SALE_IN_PROCESS
    phones = phone_query_forms(phone, region=region) or [phone]
    return (
        Lead.objects.select_related("owner", "stage", "pipeline")
        .filter(organization_id=organization_id, pipeline=pipeline, phone__in=phones)
        .filter(Q(won_at__isnull=True, lost_at__isnull=True) | Q(won_at__gte=since))
        .order_by("-created_at", "-id")
        .first()
    )
