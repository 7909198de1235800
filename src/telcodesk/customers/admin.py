from django.contrib import admin

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.customers.models import Customer, Plan, Subscription


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    """Plans come from the operator's pack: change the pack and load it again."""

    list_display = ["name", "code", "organization", "service_type", "monthly_price", "currency"]
    list_filter = ["organization", "service_type", "is_active"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "first_name", "last_name", "company_name", "segment"]
    list_filter = ["organization", "segment", "kind"]
    show_full_result_count = False  # no COUNT(*) over millions of rows
    exclude = ["search_name"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["service_id", "contract_number", "organization", "service_type", "status"]
    list_filter = ["organization", "status", "service_type"]
    show_full_result_count = False
    raw_id_fields = ["customer", "plan", "installation_address"]
