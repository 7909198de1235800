"""Channels, conversations, messages and the raw webhook events they come from.

There is no separate "contact" table: a conversation is keyed by the channel and the
customer's address on it (the WhatsApp id, a phone number, an e-mail address) and is
linked to a ``customers.Customer`` when one of the customer's contact points matches.

Every row belongs to the organization of its channel. The raw ``WebhookEvent`` is
stored first and processed after commit; everything derived from it (messages,
statuses, template and preference events) is idempotent on the provider's ids, so a
redelivered webhook changes nothing.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel, TimestampedModel

RATE_LIMIT_MIN = 1
RATE_LIMIT_MAX = 1000


DEFAULT_OPT_OUT_KEYWORDS = ["BAJA", "STOP", "SAIR"]


def default_opt_out_keywords() -> list[str]:
    return list(DEFAULT_OPT_OUT_KEYWORDS)


class SmsProvider(models.TextChoices):
    """Who carries a channel's SMS (one provider today; the wire format lives in
    ``providers/<value>.py``)."""

    TWILIO = "twilio_sms", _("Twilio Programmable Messaging")


TWILIO_API_BASE_URL = "https://api.twilio.com"


class EmailSecurity(models.TextChoices):
    NONE = "none", _("None (plain text, port 25)")
    STARTTLS = "starttls", _("STARTTLS (port 587)")
    TLS = "tls", _("Implicit TLS (port 465)")


def new_inbound_secret() -> str:
    """A random secret that signs inbound e-mail webhooks (copied into the mail service)."""
    return secrets.token_urlsafe(32)


def new_verify_token() -> str:
    """A random verify token for the webhook handshake (copied into the Meta app)."""
    return secrets.token_urlsafe(24)


class Channel(OrganizationOwnedModel):
    """One way of reaching customers: a WhatsApp Business phone number, an SMTP box...

    ``app_secret`` and ``access_token`` are stored as given. In production they should
    be injected from the environment or a secret store (see docs/whatsapp.md).
    """

    class Kind(models.TextChoices):
        WHATSAPP_CLOUD = "whatsapp_cloud", _("WhatsApp Cloud API")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WHATSAPP_CLOUD)
    name = models.CharField(_("name"), max_length=120)
    phone_number_id = models.CharField(
        _("phone number id"), max_length=64, blank=True, help_text=_("Meta's id of the number")
    )
    waba_id = models.CharField(_("WhatsApp Business account id"), max_length=64, blank=True)
    display_phone = models.CharField(_("display phone"), max_length=32, blank=True)
    verify_token = models.CharField(
        _("verify token"), max_length=128, default=new_verify_token, blank=True
    )
    app_secret = models.CharField(_("app secret"), max_length=256, blank=True)
    access_token = models.TextField(_("access token"), blank=True)
    # A CharField with a URL validator rather than a URLField: the sandbox answers on
    # plain http://127.0.0.1, and the admin form should not rewrite the scheme.
    api_base_url = models.CharField(
        _("API base URL"),
        max_length=200,
        default="https://graph.facebook.com",
        validators=[URLValidator(schemes=["https", "http"])],
    )
    api_version = models.CharField(_("API version"), max_length=16, default="v21.0")
    rate_limit_per_second = models.PositiveIntegerField(
        _("messages per second"),
        default=80,
        validators=[MinValueValidator(RATE_LIMIT_MIN), MaxValueValidator(RATE_LIMIT_MAX)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    opt_out_keywords = models.JSONField(
        _("opt-out keywords"),
        default=default_opt_out_keywords,
        blank=True,
        help_text=_("An inbound text equal to one of these withdraws marketing consent."),
    )
    # --- e-mail channels (kind "email"): SMTP out, webhook or IMAP in -------------------
    smtp_host = models.CharField(_("SMTP host"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(
        _("SMTP port"), default=587, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    smtp_security = models.CharField(
        _("SMTP security"),
        max_length=8,
        choices=EmailSecurity.choices,
        default=EmailSecurity.STARTTLS,
    )
    smtp_username = models.CharField(_("SMTP user name"), max_length=255, blank=True)
    smtp_password = models.CharField(_("SMTP password"), max_length=255, blank=True)
    email_from_address = models.CharField(_("from address"), max_length=254, blank=True)
    email_from_name = models.CharField(_("from display name"), max_length=120, blank=True)
    email_reply_domain = models.CharField(
        _("reply domain"),
        max_length=190,
        blank=True,
        help_text=_("Replies go to replies+<token>@this domain, which threads them."),
    )
    email_reply_address = models.CharField(
        _("reply address"),
        max_length=254,
        blank=True,
        help_text=_("Used as <local>+<token>@<domain> when no reply domain is set."),
    )
    email_inbound_secret = models.CharField(
        _("inbound webhook secret"), max_length=128, default=new_inbound_secret, blank=True
    )
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(
        _("IMAP port"), default=993, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    imap_tls = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_username = models.CharField(_("IMAP user name"), max_length=255, blank=True)
    imap_password = models.CharField(_("IMAP password"), max_length=255, blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=120, default="INBOX", blank=True)
    # --- SMS channels (kind "sms"): Twilio Programmable Messaging -------------------------
    sms_provider = models.CharField(
        _("SMS provider"),
        max_length=20,
        choices=SmsProvider.choices,
        default=SmsProvider.TWILIO,
        blank=True,
    )
    sms_account_sid = models.CharField(
        _("Twilio Account SID"), max_length=64, blank=True, help_text=_("AC followed by 32 hex")
    )
    # Authenticates our API calls and signs Twilio's webhooks (X-Twilio-Signature).
    sms_auth_token = models.CharField(_("Twilio auth token"), max_length=128, blank=True)
    sms_from = models.CharField(
        _("SMS sender"),
        max_length=32,
        blank=True,
        help_text=_("The Twilio number (E.164) messages are sent from, if no messaging service."),
    )
    sms_messaging_service_sid = models.CharField(
        _("Twilio messaging service SID"),
        max_length=64,
        blank=True,
        help_text=_("MG followed by 32 hex; used instead of the sender number when set."),
    )
    sms_api_base_url = models.CharField(
        _("SMS API base URL"),
        max_length=200,
        default=TWILIO_API_BASE_URL,
        blank=True,
        validators=[URLValidator(schemes=["https", "http"])],
    )
    sms_webhook_base_url = models.CharField(
        _("public base URL for SMS status callbacks"),
        max_length=200,
        blank=True,
        validators=[URLValidator(schemes=["https", "http"])],
        help_text=_(
            "Where Twilio reaches this server (https://desk.example.com); empty sends no "
            "StatusCallback."
        ),
    )

    class Meta:
        constraints = [
            # Inbound SMS and the sandbox find the channel of a Twilio number.
            models.UniqueConstraint(
                fields=["sms_account_sid", "sms_from"],
                condition=~Q(sms_from=""),
                name="channel_unique_sms_sender",
            ),
            # Webhooks are routed by phone number id: one number, one channel.
            models.UniqueConstraint(
                fields=["kind", "phone_number_id"],
                condition=~Q(phone_number_id=""),
                name="channel_unique_phone_number_id",
            ),
            models.CheckConstraint(
                condition=Q(rate_limit_per_second__gte=RATE_LIMIT_MIN)
                & Q(rate_limit_per_second__lte=RATE_LIMIT_MAX),
                name="channel_rate_limit_range",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        """Check the settings of an e-mail or SMS channel (translated errors per field)."""
        super().clean()
        from django.core.exceptions import ValidationError

        if self.kind == self.Kind.EMAIL:
            from telcodesk.messaging.email import email_channel_settings_errors

            errors = email_channel_settings_errors(self)
            if errors:
                raise ValidationError(errors)
        if self.kind == self.Kind.SMS:
            from telcodesk.messaging.sms import sms_channel_settings_errors

            errors = sms_channel_settings_errors(self)
            if errors:
                raise ValidationError(errors)


class Conversation(OrganizationOwnedModel):
    """Everything exchanged with one address on one channel."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    external_address = models.CharField(
        max_length=254, help_text=_("WhatsApp id, phone number or e-mail address")
    )
    external_user_id = models.CharField(
        max_length=128, blank=True, help_text=_("WhatsApp business-scoped user id, when sent")
    )
    phone_e164 = models.CharField(max_length=20, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
    )
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    # Until when an app waits for the customer's answer here (an NPS survey): inbound
    # handlers that only react to awaited replies read it from the row the ingest loads
    # anyway, instead of querying for every message (see conversation_reply_await).
    reply_awaited_until = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # Set when the customer wrote an opt-out keyword ("BAJA"): no marketing to this
    # address any more, even when no customer record is linked.
    marketing_opt_out_at = models.DateTimeField(null=True, blank=True)
    # E-mail: the token in our Reply-To (replies+<token>@domain) that threads replies.
    email_reply_token = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_address"], name="conversation_unique_address"
            ),
            models.UniqueConstraint(
                fields=["channel", "email_reply_token"],
                condition=~Q(email_reply_token=""),
                name="conversation_unique_reply_token",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "-last_inbound_at"], name="conversation_inbox"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.external_address


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")
    RECEIVED = "received", _("Received")


class Message(OrganizationOwnedModel):
    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        IMAGE = "image", _("image")
        AUDIO = "audio", _("audio")
        VIDEO = "video", _("video")
        DOCUMENT = "document", _("document")
        STICKER = "sticker", _("sticker")
        LOCATION = "location", _("location")
        CONTACTS = "contacts", _("contacts")
        INTERACTIVE = "interactive", _("interactive reply")
        BUTTON = "button", _("button reply")
        REACTION = "reaction", _("reaction")
        ORDER = "order", _("order")
        TEMPLATE = "template", _("template")
        EDIT = "edit", _("edit")
        REVOKE = "revoke", _("deletion")
        EMAIL = "email", _("e-mail")
        SYSTEM = "system", _("system notice")
        UNKNOWN = "unknown", _("unsupported message")

    Status = MessageStatus

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    provider_message_id = models.CharField(max_length=191, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    media_id = models.CharField(max_length=128, blank=True)
    media_mime_type = models.CharField(max_length=128, blank=True)
    media_filename = models.CharField(max_length=255, blank=True)
    media_caption = models.TextField(blank=True)
    reply_to_provider_id = models.CharField(max_length=191, blank=True)
    reply_payload = models.CharField(
        max_length=256, blank=True, help_text=_("id of the tapped button or list row")
    )
    sent_at = models.DateTimeField(null=True, blank=True, help_text=_("provider timestamp"))
    status = models.CharField(
        max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    status_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=255, blank=True)
    error_details = models.TextField(blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Outbound: the outbox's key against double sends (set by the sending increment).
    idempotency_key = models.CharField(max_length=64, blank=True)
    # Outbound: the row is the outbox entry. ``payload`` holds the Graph API body.
    template = models.ForeignKey(
        "Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    webhook_event = models.ForeignKey(
        "WebhookEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="message_unique_provider_id",
            ),
            models.UniqueConstraint(
                fields=["channel", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_conversation"),
            models.Index(fields=["status", "next_attempt_at"], name="message_outbox"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.provider_message_id or self.pk}"


class MessageStatusEvent(TimestampedModel):
    """One status the provider reported for an outbound message (the full history).

    A status may arrive before the message row knows its provider id: it is stored with
    ``message`` empty and applied when the id is assigned (services.message_provider_id_assign).
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="status_events"
    )
    provider_message_id = models.CharField(max_length=191)
    status = models.CharField(max_length=24, help_text=_("as reported by the provider"))
    occurred_at = models.DateTimeField()
    recipient_id = models.CharField(max_length=64, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=255, blank=True)
    error_details = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    webhook_event = models.ForeignKey(
        "WebhookEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id", "status", "occurred_at"],
                name="message_status_event_unique",
            )
        ]
        indexes = [
            models.Index(fields=["channel", "provider_message_id"], name="status_event_provider_id")
        ]

    def __str__(self) -> str:
        return f"{self.provider_message_id} {self.status} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class TemplateStatusEvent(TimestampedModel):
    """A template update from Meta (status, category, quality, components), as history.

    The templates increment applies the latest of these to its Template rows.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=64, help_text=_("webhook field"))
    provider_template_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=512, blank=True)
    language = models.CharField(max_length=16, blank=True)
    event = models.CharField(max_length=64, blank=True, help_text=_("APPROVED, REJECTED, ..."))
    reason = models.TextField(blank=True)
    category = models.CharField(max_length=32, blank=True)
    quality_score = models.CharField(max_length=16, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    webhook_event = models.ForeignKey(
        "WebhookEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.name} [{self.language}] {self.field} {self.event}"


class MarketingPreferenceEvent(TimestampedModel):
    """A user's marketing-messages preference reported by Meta (stop / resume / signup)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    wa_id = models.CharField(max_length=64)
    category = models.CharField(max_length=64, blank=True)
    value = models.CharField(max_length=32)
    detail = models.TextField(blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    webhook_event = models.ForeignKey(
        "WebhookEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["channel", "wa_id"], name="marketing_pref_wa_id")]

    def __str__(self) -> str:
        return f"{self.wa_id} {self.category} {self.value}"


class WebhookEvent(models.Model):
    """A webhook body exactly as received (signature checked), processed after commit.

    Refused requests (bad signature, oversized, not JSON) never become a row: they only
    leave a line in the ``telcodesk.security`` log.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    provider = models.CharField(max_length=20, default=Channel.Kind.WHATSAPP_CLOUD)
    received_at = models.DateTimeField()
    signature_valid = models.BooleanField(default=False)
    body = models.TextField()
    # SHA-256 of the raw body: a redelivery (the same bytes again) is stored only once.
    body_sha256 = models.CharField(max_length=64, blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    kinds = models.JSONField(default=list, blank=True, help_text=_("what the body was parsed into"))
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "received_at"], name="webhook_event_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "body_sha256"],
                condition=~models.Q(body_sha256=""),
                name="webhook_event_unique_body",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} #{self.pk} {self.state}"


class Template(OrganizationOwnedModel):
    """A WhatsApp message template as approved (or not) by Meta.

    ``body`` carries ``{{1}}``, ``{{2}}``... placeholders; ``param_fields[n-1]`` names the
    dotted field that fills ``{{n}}`` ("customer.first_name", "conversation.display_name").
    ``buttons`` is Meta's list of button components, e.g.
    ``[{"type": "QUICK_REPLY", "text": "Sí, me interesa"}]``.
    """

    class Category(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        UTILITY = "utility", _("Utility")
        AUTHENTICATION = "authentication", _("Authentication")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PAUSED = "paused", _("Paused")

    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="templates"
    )
    name = models.CharField(_("name"), max_length=512)
    language = models.CharField(_("language"), max_length=16, default="es")
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.UTILITY
    )
    body = models.TextField(_("body"))
    param_fields = models.JSONField(_("parameter fields"), default=list, blank=True)
    buttons = models.JSONField(_("buttons"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    status_reason = models.TextField(blank=True)
    status_at = models.DateTimeField(null=True, blank=True)
    provider_template_id = models.CharField(max_length=64, blank=True)
    # The operator pack that declared it ("" when created by hand or from Meta).
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel", "name", "language"],
                name="template_unique_name_language",
            )
        ]
        ordering = ["name", "language"]

    def __str__(self) -> str:
        return f"{self.name} [{self.language}]"


class EmailTemplate(OrganizationOwnedModel):
    """An e-mail (subject and text body) in one language, declared in a pack or by hand.

    Subject and body may hold ``{customer_name}``-style placeholders, filled from the
    context given when sending (``email_send_template``).
    """

    name = models.CharField(_("name"), max_length=120)
    language = models.CharField(_("language"), max_length=16, default="es")
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("active"), default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name", "language"],
                name="email_template_unique_name_language",
            )
        ]
        ordering = ["name", "language"]

    def __str__(self) -> str:
        return f"{self.name} [{self.language}]"


class QuickReply(OrganizationOwnedModel):
    """A canned text the agent inserts in the reply box (Kommo's "predeterminados").

    ``shortcut`` is what the agent types after "#" to find it ("saludo", "acometida");
    ``body`` may hold ``{customer_name}``, ``{agent_name}`` and ``{organization}``
    placeholders, filled in when inserted. Declared in packs or created by hand.
    """

    shortcut = models.SlugField(_("shortcut"), max_length=40, allow_unicode=True)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=16, default="es")
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "shortcut", "language"],
                name="quick_reply_unique_shortcut",
            )
        ]
        ordering = ["position", "shortcut"]

    def __str__(self) -> str:
        return f"#{self.shortcut} [{self.language}]"


class ChannelSendSlot(models.Model):
    """The next free send slot of a channel: the rate limit's state without Redis.

    One row per channel. A worker takes the slot ``max(now, next_slot_us)`` and moves
    ``next_slot_us`` one interval (1 / limit) further in a single conditional
    ``UPDATE``, so the slots stay evenly spaced whatever the number of workers
    (``messaging.ratelimit``).
    """

    channel = models.OneToOneField(
        Channel, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    next_slot_us = models.BigIntegerField(
        default=0, help_text=_("Unix time of the next free slot, in microseconds")
    )

    def __str__(self) -> str:
        return f"{self.channel_id}: next slot at {self.next_slot_us}"


class SandboxMessage(models.Model):
    """What the sandbox Graph API saw: a message to or from a simulated phone."""

    class Direction(models.TextChoices):
        TO_PHONE = "to_phone", _("To the phone")
        FROM_PHONE = "from_phone", _("From the phone")

    phone_number_id = models.CharField(max_length=64)
    wa_id = models.CharField(max_length=64)
    direction = models.CharField(max_length=12, choices=Direction.choices)
    wamid = models.CharField(max_length=191, unique=True)
    kind = models.CharField(max_length=16)
    text = models.TextField(blank=True)
    buttons = models.JSONField(default=list, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["phone_number_id", "wa_id", "created_at"], name="sandbox_phone"),
            # The throughput check counts this second's messages of a number.
            models.Index(
                fields=["phone_number_id", "direction", "created_at"], name="sandbox_throughput"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.wa_id} {self.kind}"
