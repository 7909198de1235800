"""Base models every domain row builds on."""

from __future__ import annotations

from django.db import models


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OrganizationOwnedModel(TimestampedModel):
    """A domain row: it belongs to exactly one organization.

    Scoping by organization happens in selectors and services (see core.tenancy);
    never rely on a view alone to filter these rows.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """Written by the ``telcodesk.core.ping`` task: proof that a worker ran it."""

    token = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.token} {self.seen_at:%Y-%m-%d %H:%M:%S}"
