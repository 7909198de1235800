from django.urls import path

from telcodesk.messaging import views

app_name = "messaging"

urlpatterns = [
    path(
        "whatsapp/webhook/<int:channel_id>/",
        views.whatsapp_webhook,
        name="whatsapp_webhook",
    ),
]
