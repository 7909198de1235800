"""Putting a lead in a stage and recording it: the stage history, the customer's
timeline and the automations of the new stage, all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import TimelineEvent
from telcodesk.customers.services import timeline_add
from telcodesk.pipelines.models import Lead, LeadStageChange, LossReason, Pipeline, Stage, StageKind
from telcodesk.pipelines.rules import Decision, StageFacts


def moment(now: datetime | None) -> datetime:
    return now or timezone.now()


def refusal(decision: Decision, field: str = "stage") -> ValidationFailed:
    """The ValidationFailed a refused rule decision raises, its reasons under ``field``."""
    return ValidationFailed(" ".join(decision.reasons), details={field: list(decision.reasons)})


def stage_facts(stage: Stage) -> StageFacts:
    """The plain data pipelines.rules.stage_transition reads from a stage."""
    return StageFacts(
        id=stage.pk,
        pipeline_id=stage.pipeline_id,
        organization_id=stage.organization_id,
        name=stage.name,
        kind=stage.kind,
        is_system=stage.is_system,
        requires_greeting=stage.requires_greeting,
        is_active=stage.is_active,
    )


def automations_after(lead: Lead, change: LeadStageChange) -> None:
    # Imported here: pipelines.automations calls back into these services.
    from telcodesk.pipelines.automations import automations_after_change

    automations_after_change(lead=lead, change=change)


def closing_stage(pipeline: Pipeline, kind: str) -> Stage:
    """The pipeline's active won (or lost) stage; refused when the pack has none."""
    stage = (
        Stage.objects.filter(pipeline=pipeline, kind=kind, is_active=True)
        .order_by("position", "id")
        .first()
    )
    if stage is None:
        message = (
            _("The pipeline %(pipeline)s has no won stage; add one to its pack.")
            if kind == StageKind.WON
            else _("The pipeline %(pipeline)s has no lost stage; add one to its pack.")
        )
        raise ValidationFailed(message % {"pipeline": pipeline.name})
    return stage


def stage_change_record(
    *,
    lead: Lead,
    to_stage: Stage,
    actor: Actor | None,
    at: datetime,
    reason: str,
    automatic: bool,
    loss_reason: LossReason | None = None,
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Put ``lead`` (locked) in ``to_stage`` and record it (history and customer timeline).

    Saves ``extra_fields`` too, then runs the pack's automations of the change in this
    same transaction.
    """
    from_stage = lead.stage
    user = actor.user if actor is not None else None
    lead.stage = to_stage
    if from_stage.pk != to_stage.pk:
        lead.stage_entered_at = at
    lead.save(update_fields=["stage", "stage_entered_at", *extra_fields, "updated_at"])
    change = LeadStageChange.objects.create(
        organization_id=lead.organization_id,
        lead=lead,
        from_stage=from_stage,
        to_stage=to_stage,
        actor=user,
        at=at,
        reason=reason,
        loss_reason=loss_reason,
        automatic=automatic,
    )
    if lead.customer_id is not None:
        _timeline(lead, from_stage, to_stage, actor, at, loss_reason)
    automations_after(lead, change)


def _timeline(
    lead: Lead,
    from_stage: Stage,
    to_stage: Stage,
    actor: Actor | None,
    at: datetime,
    loss_reason: LossReason | None,
) -> None:
    assert lead.customer is not None
    params = {"pipeline": lead.pipeline.name, "from": from_stage.name, "to": to_stage.name}
    if loss_reason is not None:
        message = gettext_noop('Lead in %(pipeline)s lost: "%(reason)s"')
        params["reason"] = loss_reason.name
    else:
        message = gettext_noop("Lead in %(pipeline)s moved from %(from)s to %(to)s")
    timeline_add(
        actor=actor,
        customer=lead.customer,
        kind=TimelineEvent.Kind.CHANGE,
        message=message,
        params=params,
        data={"lead": lead.pk, "from_stage": from_stage.pk, "to_stage": to_stage.pk},
        at=at,
    )
