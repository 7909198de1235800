"""Pipelines, their stages and loss reasons (loaded from operator packs), and leads.

Pipelines, stages and loss reasons are upserted from the organization's pack by
``pipelines.pack_sync``; they are never deleted while leads point at them, only made
inactive. Every write to a lead goes through ``pipelines.services``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel


class Pipeline(OrganizationOwnedModel):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    pack_name = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    # The data tabs of the pipeline's leads: [{name, fields: [{key, label, type, ...}]}].
    tabs = models.JSONField(default=list, blank=True)
    # Parameters of the rules of pipelines.rules (riser, debt, carrier_offer, permanence).
    rules = models.JSONField(default=dict, blank=True)
    # Where a customer writing to a channel for the first time gets a new lead.
    is_entry = models.BooleanField(
        default=False, help_text=_("new conversations without an open lead start here")
    )
    # The pack's automations of this pipeline (packs.schema.AutomationSpec, as JSON),
    # run by pipelines.automations.
    automations = models.JSONField(default=list, blank=True)
    # The daily follow-up (packs.schema.FollowUpSpec as JSON), or {} for none.
    follow_up = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="pipeline_unique_name"),
        ]
        ordering = ["organization_id", "position", "id"]

    def __str__(self) -> str:
        return self.name

    def tab_fields(self) -> dict[str, dict[str, object]]:
        """Field key -> its definition, across all tabs."""
        return {field["key"]: field for tab in self.tabs for field in tab.get("fields", [])}


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class QueueRole(models.TextChoices):
    REPLIED_OFFER = "replied_offer", _("Replied to an offer")
    AWAITING_DATA = "awaiting_data", _("Awaiting data")
    FOLLOW_UP = "follow_up", _("Follow-up")


class Stage(OrganizationOwnedModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=StageKind.choices, default=StageKind.OPEN)
    color = models.CharField(max_length=7, default="#cccccc")
    sla_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Priority rank: the order of the board's columns.
    position = models.PositiveSmallIntegerField(default=0)
    description = models.TextField(blank=True, help_text=_("when a lead belongs here"))
    guidance = models.TextField(blank=True, help_text=_("what the agent does here"))
    is_system = models.BooleanField(
        default=False, help_text=_("set only by the system; agents cannot move leads in or out")
    )
    requires_greeting = models.BooleanField(
        default=False, help_text=_("the greeting must have been sent before moving here")
    )
    queue_role = models.CharField(max_length=16, choices=QueueRole.choices, blank=True)
    sends_offer = models.BooleanField(
        default=False,
        help_text=_("a customer reply here moves the lead to the replied-offer stage"),
    )
    # The data tab the agent fills in here ("Techstore" for the device stages).
    asks_tab = models.CharField(max_length=80, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
        ]
        ordering = ["pipeline_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.pipeline.name} / {self.name}"


class LossReason(OrganizationOwnedModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="loss_reasons")
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, help_text=_("when the reason applies"))
    counter = models.TextField(blank=True, help_text=_("how the agent counters it"))
    is_system = models.BooleanField(
        default=False, help_text=_("set only when a lead is closed automatically")
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="loss_reason_unique_name"),
        ]
        ordering = ["pipeline_id", "position", "id"]

    def __str__(self) -> str:
        return self.name


class LeadSource(models.TextChoices):
    CHANNEL = "channel", _("Channel")
    CAMPAIGN = "campaign", _("Campaign")
    STORE_CLICK = "store_click", _("Online store click")
    MANUAL = "manual", _("Manual")


class Lead(OrganizationOwnedModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="leads")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="leads")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, help_text=_("E.164"))
    document = models.CharField(max_length=32, blank=True, help_text=_("compact form"))
    # The prospect's e-mail as given with the lead (the online store's order form); the
    # linked customer's own addresses stay on the customer.
    email = models.EmailField(max_length=254, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    source = models.CharField(max_length=16, choices=LeadSource.choices)
    source_ref = models.CharField(
        max_length=120, blank=True, help_text=_("channel, campaign or store reference")
    )
    stage_entered_at = models.DateTimeField()
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    greeting_sent_at = models.DateTimeField(null=True, blank=True)
    follow_up_at = models.DateTimeField(null=True, blank=True)
    loss_reason = models.ForeignKey(
        LossReason, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    lost_at = models.DateTimeField(null=True, blank=True)
    won_at = models.DateTimeField(null=True, blank=True)
    conversation = models.ForeignKey(
        "messaging.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    data = models.JSONField(default=dict, blank=True)
    value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    # The daily follow-up (pipelines.follow_up): how many follow-ups went out without an
    # answer, when the last one did, and the loss proposed after the last one.
    follow_up_count = models.PositiveSmallIntegerField(default=0)
    last_follow_up_at = models.DateTimeField(null=True, blank=True)
    proposed_loss_reason = models.ForeignKey(
        LossReason, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "phone"], name="lead_org_phone"),
            models.Index(fields=["pipeline", "stage"], name="lead_pipeline_stage"),
            models.Index(fields=["owner", "stage"], name="lead_owner_stage"),
            models.Index(fields=["organization", "loss_reason"], name="lead_org_loss_reason"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name or self.phone} ({self.pipeline.name})"

    @property
    def is_open(self) -> bool:
        return self.won_at is None and self.lost_at is None


class LeadStageChange(OrganizationOwnedModel):
    """One step of a lead's stage history: who, when, why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    loss_reason = models.ForeignKey(
        LossReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    automatic = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["lead", "at"], name="lead_change_lead_at")]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_stage_id or '-'} -> {self.to_stage_id}"


class LeadTask(OrganizationOwnedModel):
    """Something an agent must do about a lead (e.g. call the customer), made by automations.

    A task made by a timer names it in ``source_timer_id``: a timer that fires twice (a
    worker killed after the effect) still makes one task.
    """

    class Kind(models.TextChoices):
        CALL_CUSTOMER = "call_customer", _("Call the customer")
        SEND_MESSAGE = "send_message", _("Send a message")
        OTHER = "other", _("Other")

    class Priority(models.TextChoices):
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    due_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_tasks",
    )
    done_at = models.DateTimeField(null=True, blank=True)
    source_timer_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "kind", "source_timer_id"],
                condition=models.Q(source_timer_id__isnull=False),
                name="lead_task_once_per_timer",
            ),
        ]
        indexes = [models.Index(fields=["assigned_to", "done_at"], name="lead_task_assignee")]
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.lead_id} @ {self.due_at:%Y-%m-%d %H:%M}"


class Bot(OrganizationOwnedModel):
    """A named bot an agent fires with a slash command ("/En cober"), or an automation.

    Synced from the organization's pack. ``messages`` are the session messages
    ([{text, buttons}]); ``template_name`` the approved template sent instead when the
    24-hour window is closed. ``lookup_key`` is the name without "/", accents or case
    (packs.schema.bot_lookup_key), how agents find it.
    """

    name = models.CharField(max_length=40)
    lookup_key = models.CharField(max_length=40)
    title = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    messages = models.JSONField(default=list)
    template_name = models.CharField(max_length=512, blank=True)
    is_greeting = models.BooleanField(default=False)
    move_to = models.CharField(max_length=80, blank=True, help_text=_("stage name"))
    set_fields = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "lookup_key"], name="bot_unique_lookup_key"
            ),
        ]
        ordering = ["organization_id", "position", "id"]

    def __str__(self) -> str:
        return self.name


class AutomationRun(OrganizationOwnedModel):
    """One action of one automation run on a lead, and how it went.

    Unique per (lead, automation, trigger, action index): running the same trigger again
    (a retried timer, a replayed event) finds the row and does nothing twice.
    ``trigger`` names the cause: ``change:<LeadStageChange id>``, ``timer:<Timer id>``,
    ``message:<Message id>``, ``bot:<uuid>`` (a slash command).
    """

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="automation_runs")
    automation_key = models.CharField(max_length=80)
    trigger = models.CharField(max_length=80)
    action_index = models.PositiveSmallIntegerField(default=0)
    action = models.CharField(max_length=32)
    # What the action was about ("/En cober", a stage, a task title), for people.
    subject = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    # Why it was skipped or failed (an untranslated source string, see ``detail_params``).
    detail = models.TextField(blank=True)
    detail_params = models.JSONField(default=dict, blank=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "automation_key", "trigger", "action_index"],
                name="automation_run_once",
            ),
        ]
        indexes = [models.Index(fields=["lead", "at"], name="automation_run_lead_at")]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.automation_key}#{self.action_index} {self.outcome} ({self.trigger})"

    @property
    def detail_text(self) -> str:
        from django.utils.translation import gettext

        if not self.detail:
            return ""
        try:
            return gettext(self.detail) % self.detail_params
        except (KeyError, TypeError, ValueError):
            return gettext(self.detail)


class LeadNotification(OrganizationOwnedModel):
    """An in-app notice for a user about a lead ("no reply in 15 minutes: call now")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_notifications"
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notifications")
    # An untranslated source string (gettext_noop) or the pack's own text, with params.
    message = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    source_run = models.OneToOneField(
        AutomationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["user", "read_at"], name="lead_notification_unread")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.message[:40]}"

    @property
    def text(self) -> str:
        from django.utils.translation import gettext

        try:
            return gettext(self.message) % self.params if self.params else gettext(self.message)
        except (KeyError, TypeError, ValueError):
            return self.message
