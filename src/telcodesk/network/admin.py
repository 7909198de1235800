"""Admin for platform staff: the network inventory is configured here; results are read-only.

OLTs, PON ports, ONUs and CPEs have no console forms yet: staff register them here
(``Olt.clean`` refuses an unusable set of SNMP credentials). Diagnostic runs are what
happened and are never edited; outages are declared and closed in the console.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.network.models import Cpe, DiagnosticRun, Olt, Onu, Outage, PonPort


@admin.register(Olt)
class OltAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "model", "management_address", "snmp_version", "organization"]
    list_filter = ["vendor", "snmp_version", "is_active", "organization"]
    search_fields = ["name", "management_address", "model"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "vendor", "model", "is_active"]}),
        (
            _("SNMP"),
            {
                "fields": [
                    "management_address",
                    "snmp_port",
                    "snmp_version",
                    "snmp_community",
                    "timeout_seconds",
                    "retries",
                ]
            },
        ),
        (
            _("SNMP v3"),
            {
                "fields": [
                    "snmp_v3_user",
                    "snmp_v3_auth_protocol",
                    "snmp_v3_auth_key",
                    "snmp_v3_priv_protocol",
                    "snmp_v3_priv_key",
                    "snmp_v3_context",
                ]
            },
        ),
    ]


@admin.register(PonPort)
class PonPortAdmin(admin.ModelAdmin):
    list_display = ["olt", "frame", "slot", "port", "if_index", "organization"]
    list_filter = ["organization"]
    search_fields = ["olt__name", "if_index"]


@admin.register(Onu)
class OnuAdmin(admin.ModelAdmin):
    list_display = ["olt", "pon_port", "onu_id", "serial", "subscription", "traffic_if_index"]
    list_filter = ["organization", "olt"]
    search_fields = ["serial", "subscription__service_id"]
    raw_id_fields = ["subscription"]


@admin.register(Cpe)
class CpeAdmin(admin.ModelAdmin):
    list_display = ["ip_address", "model", "subscription", "organization"]
    search_fields = ["ip_address", "subscription__service_id"]
    raw_id_fields = ["subscription"]


@admin.register(DiagnosticRun)
class DiagnosticRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "kind", "status", "verdict", "target", "subscription"]
    list_filter = ["kind", "status", "verdict", "organization"]
    search_fields = ["subscription__service_id", "target"]
    raw_id_fields = ["subscription", "requested_by"]
    show_full_result_count = False


@admin.register(Outage)
class OutageAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "scope", "olt", "pon_port", "zone", "ended_at", "organization"]
    list_filter = ["scope", "organization"]
