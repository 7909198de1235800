"""Write the pipelines of an operator pack into Pipeline, Stage and LossReason rows.

Registered with ``packs.loader.register_pack_applier`` in ``PipelinesConfig.ready``, so
it runs inside ``pack_load``'s transaction. Pipelines are matched by (organization,
name), stages and loss reasons by (pipeline, name): loading the same pack twice
changes nothing, and a newer version updates rows in place. A stage or loss reason
the pack no longer lists is made inactive, never deleted (leads and their history
point at it); a pipeline the pack no longer lists is made inactive with its stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.text import slugify

from telcodesk.accounts.models import Organization
from telcodesk.packs.loader import Outcome, Tally
from telcodesk.packs.schema import (
    BotSpec,
    LossReasonSpec,
    Pack,
    PipelineSpec,
    StageSpec,
    bot_lookup_key,
)
from telcodesk.pipelines.follow_up import follow_up_schedule
from telcodesk.pipelines.models import Bot, LossReason, Pipeline, Stage


def _upsert(
    model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
) -> tuple[Any, Outcome]:
    """Create, or save only the fields whose values differ."""
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        return model._default_manager.create(**lookup, **values), "created"
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return instance, "unchanged"
    for name in changed:
        setattr(instance, name, values[name])
    instance.save(update_fields=[*changed, "updated_at"])
    return instance, "updated"


def _deactivate(rows: models.QuerySet[Any], tally: Tally) -> None:
    for row in rows.filter(is_active=True):
        row.is_active = False
        row.save(update_fields=["is_active", "updated_at"])
        tally.add("updated")


def _pipeline_values(spec: PipelineSpec, position: int, pack: Pack) -> dict[str, Any]:
    return {
        "slug": slugify(spec.name)[:80] or f"pipeline-{position}",
        "position": position,
        "pack_name": pack.name,
        "is_active": True,
        "tabs": [tab.model_dump(mode="json") for tab in spec.tabs],
        "rules": spec.rules.model_dump(mode="json", exclude_none=True),
        "is_entry": spec.entry,
        "automations": [a.model_dump(mode="json", exclude_none=True) for a in spec.automations],
        "follow_up": spec.follow_up.model_dump(mode="json") if spec.follow_up else {},
    }


def _stage_values(spec: StageSpec, position: int) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "color": spec.color,
        "sla_minutes": spec.sla_minutes,
        "position": position,
        "description": spec.description,
        "guidance": spec.guidance,
        "is_system": spec.is_system,
        "requires_greeting": spec.requires_greeting,
        "queue_role": spec.queue_role or "",
        "sends_offer": spec.sends_offer,
        "asks_tab": spec.asks_tab or "",
        "is_active": True,
    }


def _loss_reason_values(spec: LossReasonSpec, position: int) -> dict[str, Any]:
    return {
        "description": spec.description,
        "counter": spec.counter,
        "is_system": spec.is_system,
        "position": position,
        "is_active": True,
    }


def pipelines_apply(pack: Pack, organizations: Mapping[str, Organization]) -> Tally:
    """Upsert every organization's pipelines from ``pack`` (a pack applier)."""
    tally = Tally()
    for organization_spec in pack.organizations:
        organization = organizations[organization_spec.slug]
        kept: list[int] = []
        for position, spec in enumerate(organization_spec.pipelines):
            pipeline, outcome = _upsert(
                Pipeline,
                {"organization": organization, "name": spec.name},
                _pipeline_values(spec, position, pack),
            )
            tally.add(outcome)
            kept.append(pipeline.pk)
            _stages_sync(spec, pipeline, tally)
            _loss_reasons_sync(spec, pipeline, tally)
            # The daily follow-up's next firing (a durable timer), if the pipeline has one.
            follow_up_schedule(pipeline=pipeline)
        dropped = Pipeline.objects.filter(organization=organization).exclude(pk__in=kept)
        _deactivate(Stage.objects.filter(pipeline__in=dropped), tally)
        _deactivate(LossReason.objects.filter(pipeline__in=dropped), tally)
        _deactivate(dropped, tally)
        _bots_sync(organization_spec.bots, organization, pack, tally)
    return tally


def _bot_values(spec: BotSpec, position: int, pack: Pack) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "messages": [message.model_dump(mode="json") for message in spec.messages],
        "template_name": spec.template or "",
        "is_greeting": spec.is_greeting,
        "move_to": spec.move_to or "",
        "set_fields": dict(spec.set_fields),
        "position": position,
        "is_active": True,
        "pack_name": pack.name,
    }


def _bots_sync(specs: list[BotSpec], organization: Organization, pack: Pack, tally: Tally) -> None:
    keys = []
    for position, spec in enumerate(specs):
        key = bot_lookup_key(spec.name)
        _bot, outcome = _upsert(
            Bot,
            {"organization": organization, "lookup_key": key},
            _bot_values(spec, position, pack),
        )
        tally.add(outcome)
        keys.append(key)
    _deactivate(
        Bot.objects.filter(organization=organization, pack_name=pack.name).exclude(
            lookup_key__in=keys
        ),
        tally,
    )


def _stages_sync(spec: PipelineSpec, pipeline: Pipeline, tally: Tally) -> None:
    names = []
    for position, stage_spec in enumerate(spec.stages):
        _stage, outcome = _upsert(
            Stage,
            {
                "organization_id": pipeline.organization_id,
                "pipeline": pipeline,
                "name": stage_spec.name,
            },
            _stage_values(stage_spec, position),
        )
        tally.add(outcome)
        names.append(stage_spec.name)
    _deactivate(Stage.objects.filter(pipeline=pipeline).exclude(name__in=names), tally)


def _loss_reasons_sync(spec: PipelineSpec, pipeline: Pipeline, tally: Tally) -> None:
    names = []
    for position, reason_spec in enumerate(spec.loss_reasons):
        _reason, outcome = _upsert(
            LossReason,
            {
                "organization_id": pipeline.organization_id,
                "pipeline": pipeline,
                "name": reason_spec.name,
            },
            _loss_reason_values(reason_spec, position),
        )
        tally.add(outcome)
        names.append(reason_spec.name)
    _deactivate(LossReason.objects.filter(pipeline=pipeline).exclude(name__in=names), tally)
