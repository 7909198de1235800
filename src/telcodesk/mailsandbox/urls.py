from django.conf import settings
from django.urls import path

from telcodesk.mailsandbox import views

app_name = "mailsandbox"

# The mailbox simulator (demo and tests): mounted only while the sandbox is enabled.
sandbox_urlpatterns = [
    path("<int:channel_id>/", views.mailbox, name="mailbox"),
    path("<int:channel_id>/mails/", views.mailbox_mails, name="mailbox_mails"),
    path("<int:channel_id>/reply/", views.mailbox_reply, name="mailbox_reply"),
]

urlpatterns = sandbox_urlpatterns if settings.SANDBOX_ENABLED else []
