"""Playbooks (from operator packs) and their runs: steps visited, items, answers, actions.

A ``Playbook`` row is one version of a pack's playbook: a pack that raises a
playbook's version adds a row and makes the older one inactive, so a run always reads
the definition it started with. Every write to a run goes through
``playbooks.services``; every read that is more than a get through
``playbooks.selectors`` / ``playbooks.adherence``.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel

if TYPE_CHECKING:
    from telcodesk.playbooks.pack_spec import PlaybookSpec


class Playbook(OrganizationOwnedModel):
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=20)
    description = models.TextField(blank=True)
    pack_name = models.CharField(max_length=64, blank=True)
    # The validated PlaybookSpec as JSON (read it with .spec).
    definition = models.JSONField()
    checksum = models.CharField(max_length=64)
    # The version agents start new runs with; older versions stay for their runs.
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key", "version"], name="playbook_unique_version"
            ),
        ]
        ordering = ["organization_id", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @cached_property
    def spec(self) -> PlaybookSpec:
        from telcodesk.playbooks.pack_spec import playbook_spec_load

        return playbook_spec_load(self.definition)


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    ABANDONED = "abandoned", _("Abandoned")


class PlaybookRun(OrganizationOwnedModel):
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="runs")
    # Who started it; ``agent_label`` names an API key when there is no user.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent_label = models.CharField(max_length=200, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The subject: the interaction or the ticket (a generic reference; see RunLink for
    # everything the run was attached to).
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    current_step = models.ForeignKey(
        "RunStep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    variables = models.JSONField(default=dict, blank=True)
    # What actions reported (ActionResult.facts); next rules read them like answers.
    facts = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    abandon_reason = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "agent", "started_at"], name="run_org_agent_started"
            ),
            models.Index(fields=["organization", "started_at"], name="run_org_started"),
            models.Index(fields=["organization", "customer", "status"], name="run_org_customer"),
        ]
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.playbook.name} #{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.status == RunStatus.RUNNING


class RunLink(OrganizationOwnedModel):
    """A target the run is attached to: the conversation, then the ticket, ..."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="links")
    target_type = models.CharField(max_length=40)
    target_id = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "target_type", "target_id"], name="run_link_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "target_type", "target_id"], name="run_link_target"
            )
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.target_type}:{self.target_id}"


class StepStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class RunStep(OrganizationOwnedModel):
    """One visit of a step (a loop back visits a step again: a new row)."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="steps")
    step_key = models.CharField(max_length=48)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=StepStatus.choices, default=StepStatus.PENDING)
    skip_reason = models.TextField(blank=True)
    entered_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="run_step_unique_position"),
        ]
        ordering = ["run_id", "position"]

    def __str__(self) -> str:
        return f"{self.step_key} ({self.status})"


class ItemKind(models.TextChoices):
    CHECKLIST = "checklist", _("Checklist item")
    QUESTION = "question", _("Question")
    ACTION = "action", _("Action")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class RunItem(OrganizationOwnedModel):
    """One thing to do in a visited step: a checklist item, a question, a manual action.

    Adherence counts the required ones: done, skipped (with the agent's reason), or
    still open.
    """

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="items")
    run_step = models.ForeignKey(RunStep, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    key = models.CharField(max_length=48)
    required = models.BooleanField(default=True)
    status = models.CharField(max_length=8, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    skip_reason = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run_step", "key"], name="run_item_unique_key"),
        ]
        indexes = [models.Index(fields=["organization", "required", "status"], name="run_item_org")]
        ordering = ["run_step_id", "id"]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"

    @property
    def checked(self) -> bool:
        return self.status == ItemStatus.DONE


class RunAnswer(OrganizationOwnedModel):
    """The answer to a question (one per question and run; answering again replaces it)."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="answers")
    question_key = models.CharField(max_length=48)
    step_key = models.CharField(max_length=48)
    # The typed value as JSON (str, int, float, bool, "YYYY-MM-DD").
    value = models.JSONField(null=True)
    answered_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "question_key"], name="run_answer_unique"),
        ]
        ordering = ["run_id", "id"]

    def __str__(self) -> str:
        return f"{self.question_key}={self.value!r}"


class ActionStatus(models.TextChoices):
    OK = "ok", _("Done")
    FAILED = "failed", _("Failed")


class RunAction(OrganizationOwnedModel):
    """Every time an action ran for the run (or a field writer wrote its answers)."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="actions")
    step_key = models.CharField(max_length=48)
    action_key = models.CharField(max_length=48)
    action = models.CharField(max_length=64)
    # entered, completed, manual, or "answer" for a field writer.
    trigger = models.CharField(max_length=10)
    status = models.CharField(max_length=8, choices=ActionStatus.choices)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ran_at = models.DateTimeField()

    class Meta:
        ordering = ["run_id", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.status}"
