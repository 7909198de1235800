from django.urls import path

from telcodesk.network import views

app_name = "network"

urlpatterns = [
    path("", views.olt_list_view, name="devices"),
    path("olts/<int:olt_id>/", views.olt_detail_view, name="olt"),
    path(
        "subscriptions/<int:subscription_id>/diagnostics/",
        views.diagnostics_view,
        name="diagnostics",
    ),
    path("outages/", views.outages_view, name="outages"),
    path(
        "customers/<int:customer_id>/outages/",
        views.customer_outages_view,
        name="customer_outages",
    ),
    path("outages/<int:outage_id>/close/", views.outage_close_view, name="outage_close"),
]
