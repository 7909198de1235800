"""Read-only admin for tickets: every change goes through tickets.services (numbering,
status rules, audit log, timeline), which the admin would bypass."""

from __future__ import annotations

from django.contrib import admin

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.tickets.models import Ticket, TicketSubcategory


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["number", "organization", "subject", "category", "priority", "status"]
    list_filter = ["organization", "status", "category", "priority"]
    show_full_result_count = False


@admin.register(TicketSubcategory)
class TicketSubcategoryAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "category", "organization", "pack_name", "is_active"]
    list_filter = ["organization", "category", "is_active"]
