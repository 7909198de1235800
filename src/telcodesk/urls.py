from django.contrib import admin
from django.urls import include, path

from telcodesk.api import api
from telcodesk.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("telcodesk.accounts.urls")),
    path("messaging/", include("telcodesk.messaging.urls")),
    path("mailsandbox/", include("telcodesk.mailsandbox.urls")),
    path("inbox/", include("telcodesk.inbox.urls")),
    path("leads/", include("telcodesk.pipelines.urls")),
    path("coverage/", include("telcodesk.coverage.urls")),
    path("tickets/", include("telcodesk.tickets.urls")),
    path("network/", include("telcodesk.network.urls")),
    path("playbooks/", include("telcodesk.playbooks.urls")),
    path("visits/", include("telcodesk.visits.urls")),
    path("nps/", include("telcodesk.nps.urls")),
    path("", include("telcodesk.customers.urls")),
]
