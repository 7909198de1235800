"""Which operator packs are loaded, at which version, and their validated content."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import TimestampedModel


class LoadedPack(TimestampedModel):
    """The last loaded version of one pack.

    ``data`` is the whole validated pack (``Pack.model_dump(mode="json")``): the parts
    without tables of their own yet (pipelines, notes...) are read from here.
    ``checksum`` is the SHA-256 of its canonical JSON, so a reload of the same content
    is recognised and changes nothing.
    """

    name = models.SlugField(max_length=64, unique=True)
    version = models.CharField(max_length=32)
    title = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict)
    checksum = models.CharField(max_length=64, help_text=_("SHA-256 of the canonical JSON"))
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"
