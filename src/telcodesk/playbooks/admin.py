"""Read-only admin for playbooks and their runs.

Playbooks come from the operator's pack (change the pack and load it again); runs
change only through playbooks.services.
"""

from __future__ import annotations

from django.contrib import admin

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.playbooks.models import Playbook, PlaybookRun


@admin.register(Playbook)
class PlaybookAdmin(ReadOnlyAdmin):
    list_display = ["name", "key", "version", "organization", "pack_name", "is_active"]
    list_filter = ["organization", "is_active"]


@admin.register(PlaybookRun)
class PlaybookRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "playbook",
        "organization",
        "agent",
        "status",
        "started_at",
        "finished_at",
    ]
    list_filter = ["organization", "status"]
    show_full_result_count = False
