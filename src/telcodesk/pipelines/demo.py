"""Sample leads for the demo: the claro-ar-reseller pipelines with work in every state.

Everything is written through pipelines.services, as an agent would, with ``now`` set
in the past so that ages, the queue and the SLA look like a working day: leads spread
over the open stages, some in "Respondió oferta" and "Aguardando datos" at various
ages, some won, some lost with a real reason and a few closed by the system with its
undefined reason (for the supervisor's counter), and some leads in "Seguimiento"
proposed for "Abandono gestión" after their follow-ups. The stage changes run the
pack's automations like any other (demo leads have no WhatsApp conversation, so their
bots are logged as skipped; their tasks and waits are real). Deterministic for a given
``seed``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from faker import Faker

from telcodesk.accounts.models import Membership, Organization
from telcodesk.accounts.roles import Role
from telcodesk.core.errors import DomainError
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.pack_sync import pack_templates_mark_approved_for_sandbox
from telcodesk.pipelines import services
from telcodesk.pipelines.models import Lead, LeadSource, LossReason, Pipeline, QueueRole, Stage

# Share of leads per pipeline, by name; a pipeline not listed gets the rest evenly.
PIPELINE_WEIGHTS = {"FIBRA": 5, "PORTA": 3, "TECHSTORE CHATS": 2}
VALUES = {
    "FIBRA": [Decimal("18999"), Decimal("24999"), Decimal("32999"), Decimal("38999")],
    "PORTA": [Decimal("9999"), Decimal("14999"), Decimal("19999")],
    "TECHSTORE CHATS": [Decimal("349999"), Decimal("589999"), Decimal("24999")],
}
SOURCES = [LeadSource.CHANNEL] * 6 + [LeadSource.CAMPAIGN] * 3 + [LeadSource.MANUAL]
AREA_CODES = ["11", "11", "11", "351", "341", "261", "221"]
# Minutes a lead has been in an awaiting-data stage: some under the 15-minute SLA, most
# past it (they show in the queue as "call now").
AWAITING_AGES = [5, 10, 20, 45, 120, 60 * 26]


def _phone(rng: random.Random) -> str:
    area = rng.choice(AREA_CODES)
    digits = 10 - len(area)
    number = str(rng.randint(4 * 10 ** (digits - 1), 7 * 10 ** (digits - 1) - 1))
    return f"+54 9 {area} {number[:-4]}-{number[-4:]}"


def _choice_values(spec: Any) -> list[str]:
    choices = spec.get("choices") if isinstance(spec, dict) else None
    return [str(choice["value"]) for choice in choices or []]


def _data(pipeline: Pipeline, rng: random.Random, fake: Faker) -> dict[str, Any]:
    fields = pipeline.tab_fields()
    keys = set(fields)
    data: dict[str, Any] = {}
    if "installation_address" in keys:
        data["installation_address"] = f"{fake.street_address()}, {fake.city()}"
        data["floors"] = rng.choice([1, 2, 3, 4, 6, 10])
        data["apartments"] = rng.choice([1, 4, 6, 8, 20])
        data["has_box"] = rng.random() < 0.5
    if "current_carrier" in keys:
        choices = _choice_values(fields["current_carrier"])
        if choices:
            data["current_carrier"] = rng.choice(choices)
        line_choices = _choice_values(fields.get("line_type"))
        if line_choices:
            data["line_type"] = rng.choice(line_choices)
        data["days_with_carrier"] = rng.choice([20, 45, 90, 400])
    if "device_of_interest" in keys:
        data["device_of_interest"] = rng.choice(
            ["Motorola Edge 50", "Samsung Galaxy A55", "Motorola G84", "Samsung Galaxy S24"]
        )
    return {key: value for key, value in data.items() if key in keys}


def demo_leads_generate(
    *, organization: Organization, count: int, seed: int, now: datetime | None = None
) -> int:
    """Create up to ``count`` leads in ``organization``'s pipelines; returns how many.

    Owners are the organization's members who may work leads (their Actor writes the
    history); with none, an organization-level actor creates them without an owner. A
    generated phone that already has an open lead in the pipeline is skipped (not
    counted), and a step a rule refuses leaves the lead where it was.
    """
    now = now or timezone.now()
    rng = random.Random(seed)
    fake = Faker("es_AR")
    fake.seed_instance(seed)
    pipelines = list(
        Pipeline.objects.filter(organization=organization, is_active=True).order_by("position")
    )
    if not pipelines or count <= 0:
        return 0
    actors = [
        Actor(organization=organization, role=m.role, user=m.user)
        for m in Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user_id")
    ]
    actors = [actor for actor in actors if actor.can(services.WORK_PERMISSION)] or [
        Actor(organization=organization, role=Role.ADMIN, label="demo")
    ]
    # The demo talks to the local WhatsApp sandbox, which has no template review.
    pack_templates_mark_approved_for_sandbox(organization)
    weights = [PIPELINE_WEIGHTS.get(pipeline.name, 1) for pipeline in pipelines]
    created = 0
    for _index in range(count):
        pipeline = rng.choices(pipelines, weights=weights)[0]
        actor = rng.choice(actors)
        if _lead_generate(pipeline=pipeline, actor=actor, rng=rng, fake=fake, now=now):
            created += 1
    return created


def _lead_generate(
    *, pipeline: Pipeline, actor: Actor, rng: random.Random, fake: Faker, now: datetime
) -> bool:
    stages = list(pipeline.stages.filter(is_active=True).order_by("position", "id"))
    open_stages = [s for s in stages if s.kind == "open" and not s.is_system]
    reasons = list(LossReason.objects.filter(pipeline=pipeline, is_active=True))
    real_reasons = [reason for reason in reasons if not reason.is_system]
    # When the lead's last step happens, and its creation some time before it.
    last_step = now - timedelta(minutes=rng.randint(1, 60 * 24 * 6))
    created_at = last_step - timedelta(minutes=rng.randint(5, 60 * 24 * 4))
    result = services.lead_create(
        actor=actor,
        pipeline=pipeline,
        name=fake.name(),
        phone=_phone(rng),
        document=str(rng.randint(20_000_000, 45_999_999)),
        source=rng.choice(SOURCES),
        source_ref=rng.choice(["wa-ventas-1", "wa-ventas-2", "campaña-fibra-300", ""]),
        owner=actor.user,
        value=rng.choice(VALUES.get(pipeline.name, [Decimal("0")])),
        now=created_at,
    )
    if not result.created:
        return False
    lead = result.lead
    # created_at is set by the database on insert; backdate it like the rest of the story.
    Lead.objects.filter(pk=lead.pk).update(created_at=created_at)
    lead.created_at = created_at
    try:
        if rng.random() < 0.7:
            lead = services.lead_update_data(
                actor=actor, lead=lead, data=_data(pipeline, rng, fake)
            )
        outcome = rng.random()
        if outcome < 0.12 and real_reasons:
            services.lead_lose(
                actor=actor, lead=lead, reason=rng.choice(real_reasons), now=last_step
            )
        elif outcome < 0.17:
            services.lead_close_automatically(
                lead=lead, note="Cerrado por inactividad (demo)", now=last_step
            )
        elif outcome < 0.27:
            services.lead_greeting_record(lead=lead, at=created_at)
            services.lead_win(actor=actor, lead=lead, now=last_step)
        else:
            _place_open(lead=lead, actor=actor, stages=open_stages, rng=rng, now=now)
    except DomainError:
        pass  # a refused step (e.g. a required tab left empty) leaves the lead as it is
    return True


def _place_open(
    *, lead: Lead, actor: Actor, stages: list[Stage], rng: random.Random, now: datetime
) -> None:
    """Move the lead to a random open stage, favouring the ones of the queue."""
    weights = [4 if stage.queue_role else 1 for stage in stages]
    stage = rng.choices(stages, weights=weights)[0]
    if stage.pk == lead.stage_id:
        return
    if stage.queue_role == QueueRole.AWAITING_DATA:
        moved_at = now - timedelta(minutes=rng.choice(AWAITING_AGES))
    else:
        moved_at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 2))
    moved_at = max(moved_at, lead.stage_entered_at + timedelta(minutes=1))
    services.lead_greeting_record(lead=lead, at=lead.stage_entered_at)
    services.lead_move(actor=actor, lead=lead, to_stage=stage, now=moved_at)
    follow_up = lead.pipeline.follow_up or {}
    if stage.queue_role == QueueRole.FOLLOW_UP and follow_up:
        # Where the daily follow-up leaves a lead after its follow-ups went unanswered.
        count = rng.randint(1, int(follow_up.get("max_follow_ups", 2)))
        reason = LossReason.objects.filter(
            pipeline=lead.pipeline, name=follow_up.get("abandon_reason", "")
        ).first()
        proposed = count == int(follow_up.get("max_follow_ups", 2)) and rng.random() < 0.5
        Lead.objects.filter(pk=lead.pk).update(
            follow_up_count=count,
            last_follow_up_at=moved_at,
            follow_up_at=moved_at,
            proposed_loss_reason=reason if proposed else None,
            proposed_at=moved_at if proposed else None,
        )
