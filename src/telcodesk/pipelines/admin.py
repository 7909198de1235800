"""Read-only admin for pipelines and leads.

Pipelines, stages and loss reasons come from the operator's pack (change the pack and
load it again); leads change only through pipelines.services, which check the rules.
"""

from __future__ import annotations

from django.contrib import admin

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.pipelines.models import Lead, Pipeline, Stage


@admin.register(Pipeline)
class PipelineAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "pack_name", "position", "is_active"]
    list_filter = ["organization", "is_active"]


@admin.register(Stage)
class StageAdmin(ReadOnlyAdmin):
    list_display = ["name", "pipeline", "kind", "position", "is_system", "requires_greeting"]
    list_filter = ["pipeline__organization", "kind", "is_active"]


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "phone", "pipeline", "stage", "owner", "source", "created_at"]
    list_filter = ["organization", "pipeline", "source"]
    show_full_result_count = False
