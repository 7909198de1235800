"""Models of the automation app: durable timers and the audit of their firings.

A timer is a row first (created in the same transaction as its cause), and only then
work for a worker: the tick claims due rows atomically and fires each one exactly once.
See docs/automation.md.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel


class Timer(OrganizationOwnedModel):
    """Something to do at ``due_at`` about one target row (a lead, a ticket, ...).

    The target is generic on purpose (a type label and an id, no foreign key): timers
    outlive nothing they point to, and the handler of the ``kind`` decides what a missing
    target means (usually: nothing to do).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Claimed by a worker")
        FIRED = "fired", _("Fired")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=100)
    target_type = models.CharField(_("target type"), max_length=100)
    target_id = models.BigIntegerField(_("target id"))
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    # How many times a worker claimed it (a claim is an attempt, so that a timer whose
    # handler kills its worker every time ends up failed instead of looping forever).
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True, default="")
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, null=True, blank=True)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        indexes = [
            # The tick: WHERE state='pending' AND due_at <= now ORDER BY due_at, and the
            # lease recovery: WHERE state='claimed' AND claimed_at < cutoff (state prefix).
            models.Index(fields=["state", "due_at"], name="automation_timer_due"),
            # timer_cancel: the pending timers of one target.
            models.Index(
                fields=["organization", "target_type", "target_id"],
                name="automation_timer_target",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="automation_timer_dedupe_per_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_type}#{self.target_id} @ {self.due_at:%Y-%m-%d %H:%M:%S}"


class TimerFiring(models.Model):
    """The audit of firings: one row per fired timer, never two.

    Written by ``timer_fire`` in the same transaction as the handler's effects and the
    ``claimed -> fired`` update, so the unique ``timer`` column is a database-level
    proof that a timer fired once. Append-only: ``fired_at`` is its only timestamp.
    """

    timer = models.OneToOneField(
        Timer, on_delete=models.CASCADE, related_name="firing", verbose_name=_("timer")
    )
    fired_at = models.DateTimeField(_("fired at"))
    worker = models.CharField(_("worker"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("timer firing")
        verbose_name_plural = _("timer firings")

    def __str__(self) -> str:
        return f"timer {self.timer_id} fired {self.fired_at:%Y-%m-%d %H:%M:%S} by {self.worker}"
