"""Timers in the admin: read-only, for looking into what is pending, failed or fired.

Timers are written by services and the tick only (a timer edited by hand would bypass
the claim protocol), so the admin only lists them.
"""

from __future__ import annotations

from django.contrib import admin

from telcodesk.automation.models import Timer, TimerFiring
from telcodesk.core.admin import ReadOnlyAdmin


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "target_type", "target_id", "due_at", "state", "attempts")
    list_filter = ("state", "kind")
    search_fields = ("kind", "target_type", "dedupe_key", "last_error")
    date_hierarchy = "due_at"
    ordering = ("-due_at",)
    list_select_related = ("organization",)


@admin.register(TimerFiring)
class TimerFiringAdmin(ReadOnlyAdmin):
    list_display = ("timer", "fired_at", "worker")
    search_fields = ("worker",)
    ordering = ("-fired_at",)
    raw_id_fields = ("timer",)
