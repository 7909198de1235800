"""Admin for platform staff: channels are configured here; traffic is read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.messaging.models import (
    Channel,
    Conversation,
    EmailTemplate,
    Message,
    MessageStatusEvent,
    Template,
    WebhookEvent,
)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organization", "display_phone", "phone_number_id", "is_active"]
    list_filter = ["kind", "is_active", "organization"]
    search_fields = [
        "name",
        "display_phone",
        "phone_number_id",
        "waba_id",
        "email_from_address",
        "sms_from",
        "sms_account_sid",
    ]
    fieldsets = [
        (None, {"fields": ["organization", "kind", "name", "is_active"]}),
        (
            _("WhatsApp Cloud API"),
            {
                "fields": [
                    "phone_number_id",
                    "waba_id",
                    "display_phone",
                    "verify_token",
                    "app_secret",
                    "access_token",
                    "api_base_url",
                    "api_version",
                    "rate_limit_per_second",
                    "opt_out_keywords",
                ]
            },
        ),
        (
            _("SMS (Twilio Programmable Messaging)"),
            {
                "fields": [
                    "sms_provider",
                    "sms_account_sid",
                    "sms_auth_token",
                    "sms_from",
                    "sms_messaging_service_sid",
                    "sms_api_base_url",
                    "sms_webhook_base_url",
                ]
            },
        ),
        (
            _("E-mail: sending (SMTP)"),
            {
                "fields": [
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_username",
                    "smtp_password",
                    "email_from_address",
                    "email_from_name",
                    "email_reply_domain",
                    "email_reply_address",
                ]
            },
        ),
        (
            _("E-mail: receiving (webhook or IMAP)"),
            {
                "fields": [
                    "email_inbound_secret",
                    "imap_host",
                    "imap_port",
                    "imap_tls",
                    "imap_username",
                    "imap_password",
                    "imap_folder",
                ]
            },
        ),
    ]


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "channel",
        "external_address",
        "display_name",
        "customer",
        "status",
        "unread_count",
        "last_inbound_at",
    ]
    list_filter = ["status", "channel"]
    raw_id_fields = ["customer", "assigned_user", "assigned_team"]
    show_full_result_count = False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "channel",
        "direction",
        "kind",
        "status",
        "provider_message_id",
        "sent_at",
    ]
    list_filter = ["direction", "kind", "status", "channel"]
    search_fields = ["provider_message_id"]
    raw_id_fields = ["conversation", "webhook_event", "created_by"]
    show_full_result_count = False


@admin.register(MessageStatusEvent)
class MessageStatusEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "channel", "provider_message_id", "status", "occurred_at", "message"]
    list_filter = ["status", "channel"]
    search_fields = ["provider_message_id"]
    raw_id_fields = ["message", "webhook_event"]
    show_full_result_count = False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "channel", "provider", "state", "received_at", "processed_at"]
    list_filter = ["state", "provider", "channel"]
    search_fields = ["request_id"]
    show_full_result_count = False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "category", "status", "channel", "organization"]
    list_filter = ["category", "status", "organization"]
    search_fields = ["name", "body"]
    readonly_fields = ["status_at", "status_reason", "provider_template_id"]


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "subject", "is_active", "organization", "pack_name"]
    list_filter = ["language", "is_active", "organization"]
    search_fields = ["name", "subject", "body"]
