"""Shared pieces for the Django admin (platform staff only, ``is_staff`` users).

Agents and supervisors work in the console; the admin is for the people who run the
installation. Domain records are read-only there: their writes go through services
(validation, audit log, timeline), which the admin would bypass.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

admin.site.site_header = "telcodesk"
admin.site.site_title = "telcodesk"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
