from django.conf import settings
from django.urls import path

from telcodesk.messaging import email_views, sandbox_twilio_views, sandbox_views, sms_views, views

app_name = "messaging"

urlpatterns = [
    path(
        "whatsapp/webhook/<int:channel_id>/",
        views.whatsapp_webhook,
        name="whatsapp_webhook",
    ),
    path(
        "email/inbound/<int:channel_id>/",
        email_views.email_inbound,
        name="email_inbound",
    ),
    path("twilio/webhook/<int:channel_id>/", sms_views.twilio_webhook, name="twilio_webhook"),
    path("twilio/status/<int:channel_id>/", sms_views.twilio_status, name="twilio_status"),
]

# The local stand-in for Meta's Graph API and the phone simulator (demo and tests).
sandbox_urlpatterns = [
    path(
        "sandbox/graph/<str:version>/<str:phone_number_id>/messages",
        sandbox_views.graph_messages,
        name="sandbox_graph_messages",
    ),
    path(
        "sandbox/graph/<str:version>/<str:phone_number_id>/media",
        sandbox_views.graph_media_upload,
        name="sandbox_graph_media_upload",
    ),
    path(
        "sandbox/graph/<str:version>/<str:media_id>",
        sandbox_views.graph_media_info,
        name="sandbox_graph_media_info",
    ),
    path(
        "sandbox/media/<str:media_id>/",
        sandbox_views.media_download,
        name="sandbox_media_download",
    ),
    path(
        "sandbox/phone/<int:channel_id>/media/<str:media_id>/",
        sandbox_views.phone_media,
        name="sandbox_phone_media",
    ),
    path("sandbox/phone/<int:channel_id>/", sandbox_views.phone, name="sandbox_phone"),
    path(
        "sandbox/phone/<int:channel_id>/thread/",
        sandbox_views.phone_thread,
        name="sandbox_phone_thread",
    ),
    path(
        "sandbox/phone/<int:channel_id>/send/", sandbox_views.phone_send, name="sandbox_phone_send"
    ),
    # The local stand-in for Twilio's REST API (Programmable Messaging).
    path(
        "sandbox/twilio/2010-04-01/Accounts/<str:account_sid>/Messages.json",
        sandbox_twilio_views.twilio_messages,
        name="sandbox_twilio_messages",
    ),
]

if settings.SANDBOX_ENABLED:
    urlpatterns += sandbox_urlpatterns
