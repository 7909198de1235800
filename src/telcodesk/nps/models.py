"""NPS surveys: the organization's settings (from its pack) and one row per survey sent.

A ``Survey`` is created when the question is put in the outbox (or refused, with the
reason); the customer's replies move it through its stages (``band`` → ``score`` →
``comment`` → ``done``). The score is stored only when it was read without doubt (a
button, or a typed "10", "diez", "9/10"...): see ``nps.parsing``. The agent, team and
category are copied at send time, so the figures do not move when a ticket is
reassigned later.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel

PROMOTER_MIN = 9  # 9–10
DETRACTOR_MAX = 6  # 0–6; 7–8 are passives


class NpsSettings(OrganizationOwnedModel):
    """The ``nps`` section of the organization's pack (``NpsSpec``), one row per
    organization; an organization without one sends no survey by itself (an agent may)."""

    is_enabled = models.BooleanField(default=True)
    send_on_resolved = models.BooleanField(default=True)
    good_threshold = models.SmallIntegerField(default=50)
    template_name = models.CharField(max_length=512, blank=True)
    question = models.TextField(blank=True)
    expires_after_hours = models.PositiveSmallIntegerField(default=72)
    comment_minutes = models.PositiveSmallIntegerField(default=30)
    reasks = models.PositiveSmallIntegerField(default=2)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="nps_settings_one_per_org")
        ]
        verbose_name_plural = "NPS settings"

    def __str__(self) -> str:
        return f"NPS settings of {self.organization_id}"


class SurveyStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    UNANSWERED = "unanswered", _("Unanswered")
    REFUSED = "refused", _("Not sent")


class SurveyStage(models.TextChoices):
    """Where the exchange with the customer is."""

    BAND = "band", _("Waiting for the score")
    SCORE = "score", _("Waiting for the exact score")
    COMMENT = "comment", _("Waiting for a comment")
    DONE = "done", _("Finished")


class SurveyTrigger(models.TextChoices):
    RESOLVED = "resolved", _("Ticket resolved")
    MANUAL = "manual", _("Sent by an agent")
    PLAYBOOK = "playbook", _("Playbook step")


class SurveyVia(models.TextChoices):
    BUTTONS = "buttons", _("WhatsApp reply buttons")
    TEMPLATE = "template", _("WhatsApp template")
    TEXT = "text", _("Text message")


class Survey(OrganizationOwnedModel):
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conversation = models.ForeignKey(
        "messaging.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Attribution, copied at send time: the agent who sent (or the ticket's assignee).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.CharField(max_length=16, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("empty: sent by the system"),
    )
    trigger = models.CharField(max_length=12, choices=SurveyTrigger.choices)
    status = models.CharField(max_length=12, choices=SurveyStatus.choices)
    stage = models.CharField(max_length=8, choices=SurveyStage.choices)
    via = models.CharField(max_length=12, choices=SurveyVia.choices, blank=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # The band the customer chose with a button ("0-6", "7-8", "9-10"), before the score.
    band = models.CharField(max_length=8, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    commented_at = models.DateTimeField(null=True, blank=True)
    # Replies that were not a score; after ``NpsSettings.reasks`` of them, unanswered.
    bad_replies = models.PositiveSmallIntegerField(default=0)
    # The last question put to the customer (the outbox row).
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refusal_reason = models.CharField(max_length=40, blank=True)
    refusal_message = models.TextField(blank=True)
    closed_reason = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=10),
                name="nps_survey_score_0_10",
            ),
            # A score exactly when answered: never a score without an answer, or the reverse.
            models.CheckConstraint(
                condition=Q(status="answered", score__isnull=False)
                | (~Q(status="answered") & Q(score__isnull=True)),
                name="nps_survey_score_iff_answered",
            ),
            # One survey per ticket (one that could not be sent does not count).
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(ticket__isnull=False) & ~Q(status="refused"),
                name="nps_survey_one_per_ticket",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "sent_at"], name="nps_survey_org_sent"),
            models.Index(fields=["conversation", "status", "-sent_at"], name="nps_survey_open"),
        ]
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"NPS survey {self.pk} ({self.status})"

    def status_at(self, now: datetime) -> str:
        """The status as of ``now``: a survey past its expiry is unanswered even before
        its expiry timer has run."""
        if self.status == SurveyStatus.SENT and self.expires_at <= now:
            return SurveyStatus.UNANSWERED
        return self.status

    @property
    def kind(self) -> str:
        """promoter / passive / detractor, or "" without a score."""
        if self.score is None:
            return ""
        if self.score >= PROMOTER_MIN:
            return "promoter"
        return "detractor" if self.score <= DETRACTOR_MAX else "passive"
