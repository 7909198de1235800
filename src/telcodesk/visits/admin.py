"""Read-only admin for visits: every change goes through visits.services (the slot,
window and capacity rules, the day locks, the ticket's status and the customer's
notice) or the pack (zones, technicians, the policy), which the admin would bypass."""

from __future__ import annotations

from django.contrib import admin

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.visits.models import Technician, Visit, VisitPolicy, Zone


@admin.register(Zone)
class ZoneAdmin(ReadOnlyAdmin):
    list_display = ["name", "key", "organization", "is_active"]
    list_filter = ["organization", "is_active"]


@admin.register(Technician)
class TechnicianAdmin(ReadOnlyAdmin):
    list_display = ["name", "phone", "daily_capacity", "organization", "is_active"]
    list_filter = ["organization", "is_active"]


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["pk", "ticket", "technician", "starts_at", "status"]
    list_filter = ["organization", "status"]
    show_full_result_count = False


@admin.register(VisitPolicy)
class VisitPolicyAdmin(ReadOnlyAdmin):
    list_display = ["organization", "slot_minutes", "window_min_hours", "window_max_hours"]
