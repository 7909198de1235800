from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from telcodesk.accounts.models import ApiKey, AuditLog, Membership, Organization, Team, User
from telcodesk.core.admin import ReadOnlyAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "country", "currency", "time_zone", "pack_name"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["operators"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [MembershipInline]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Preferences"), {"fields": ("language", "time_zone", "active_organization")}),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "prefix", "role", "last_used_at", "revoked_at"]
    list_filter = ["organization", "role"]
    exclude = ["key_hash"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "organization", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["organization", "action", "object_type"]
    search_fields = ["object_id", "actor_label", "request_id"]
    date_hierarchy = "at"
