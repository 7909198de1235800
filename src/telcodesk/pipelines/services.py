"""Every write to a lead: create, move, win, lose, close automatically, update its tabs.

Services take an ``Actor`` and check, in this order: the permission ("customer.edit"
to work leads), the organization (a lead of another organization is NotFound), then
the business rule (pipelines.rules), refusing with ValidationFailed whose message
says why and what to do. Each change is one transaction, holds a row lock on the lead
(SELECT ... FOR UPDATE), records a LeadStageChange and, when the lead is linked to a
customer, a timeline entry.

``lead_close_automatically``, ``lead_move_automatically`` and ``lead_greeting_record``
are for the system (automations, bots, the store intake): they take no actor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import Membership, User
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, TimelineEvent
from telcodesk.customers.phones import normalize_phone, phone_query_forms
from telcodesk.customers.selectors import customers_visible
from telcodesk.customers.services import timeline_add
from telcodesk.pipelines.models import (
    Lead,
    LeadSource,
    LeadStageChange,
    LossReason,
    Pipeline,
    Stage,
    StageKind,
)
from telcodesk.pipelines.rules import Decision, StageFacts, stage_transition
from telcodesk.pipelines.tabs import missing_required, tab_data_clean

# A won lead counts as "a sale in process" for duplicate detection this long.
SALE_IN_PROCESS = timedelta(days=30)
WORK_PERMISSION = "lead.work"
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class LeadCreateResult:
    """``created`` False: the phone already had ``duplicate_of`` (returned as ``lead``)."""

    lead: Lead
    duplicate_of: Lead | None = None

    @property
    def created(self) -> bool:
        return self.duplicate_of is None

    @property
    def duplicate_message(self) -> str:
        if self.duplicate_of is None:
            return ""
        owner = self.duplicate_of.owner
        params = {
            "pipeline": self.duplicate_of.pipeline.name,
            "stage": self.duplicate_of.stage.name,
            "owner": (owner.get_full_name() or owner.get_username()) if owner else "",
        }
        if owner is None:
            return (
                _(
                    'This phone already has a lead in %(pipeline)s ("%(stage)s") with no '
                    "owner yet; work that lead instead of creating another."
                )
                % params
            )
        return (
            _(
                'This phone already has a lead in %(pipeline)s ("%(stage)s") worked by '
                "%(owner)s; talk to them before taking the customer."
            )
            % params
        )


# --- helpers ------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _compact_document(raw: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", raw).upper()[:32]


def _refuse(decision: Decision, field: str = "stage") -> ValidationFailed:
    return ValidationFailed(" ".join(decision.reasons), details={field: list(decision.reasons)})


def _facts(stage: Stage) -> StageFacts:
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


stage_facts = _facts


def _automations_after(lead: Lead, change: LeadStageChange) -> None:
    # Imported here: pipelines.automations calls back into these services.
    from telcodesk.pipelines.automations import automations_after_change

    automations_after_change(lead=lead, change=change)


def lead_lock(*, lead: Lead) -> Lead:
    """``lead`` re-read under a row lock (call inside a transaction)."""
    return _lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)


def lead_lock_by_id(*, organization_id: int, lead_id: int) -> Lead | None:
    """The lead under a row lock, or None when it is gone (timer handlers)."""
    return (
        Lead.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline", "customer", "organization")
        .filter(pk=lead_id, organization_id=organization_id)
        .first()
    )


def _lead_locked(*, organization_id: int, lead_id: int) -> Lead:
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline", "customer", "loss_reason")
        .filter(pk=lead_id, organization_id=organization_id)
        .first()
    )
    if lead is None:
        raise NotFound(_("No such lead. It may have been removed; reload the board."))
    return lead


def _lead_for_actor(*, actor: Actor, lead: Lead) -> Lead:
    actor.require(WORK_PERMISSION)
    return _lead_locked(organization_id=actor.organization.pk, lead_id=lead.pk)


def _closing_stage(pipeline: Pipeline, kind: str) -> Stage:
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


def _stage_change(
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
    """Put ``lead`` in ``to_stage`` and record it (history and customer timeline)."""
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
    # The pack's automations (pipelines.automations), in this same transaction.
    _automations_after(lead, change)


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


# --- create -------------------------------------------------------------------------------


def _check_owner(actor: Actor, owner: User | None) -> Membership | None:
    if owner is None:
        return None
    membership = Membership.objects.filter(user=owner, organization=actor.organization).first()
    if membership is None:
        raise ValidationFailed(
            _("The owner must be a member of your organization; choose one of its agents."),
            details={"owner": [_("Not a member of your organization.")]},
        )
    return membership


def _check_customer(actor: Actor, customer: Customer | None) -> None:
    if customer is not None and not customers_visible(actor=actor).filter(pk=customer.pk).exists():
        raise NotFound(_("No such customer. Search again by name, phone or document."))


def _first_stage(pipeline: Pipeline) -> Stage:
    stage = (
        Stage.objects.filter(
            pipeline=pipeline, kind=StageKind.OPEN, is_active=True, is_system=False
        )
        .order_by("position", "id")
        .first()
    )
    if stage is None:
        raise ValidationFailed(
            _("The pipeline %(pipeline)s has no open stage to start a lead in.")
            % {"pipeline": pipeline.name}
        )
    return stage


def _check_start_stage(actor: Actor, pipeline: Pipeline, stage: Stage) -> None:
    problems: list[str] = []
    if stage.pipeline_id != pipeline.pk:
        problems.append(
            _('The stage "%(stage)s" is not a stage of %(pipeline)s.')
            % {"stage": stage.name, "pipeline": pipeline.name}
        )
    elif stage.kind != StageKind.OPEN or not stage.is_active:
        problems.append(
            _('A lead starts in an open stage in use; "%(stage)s" is not one.')
            % {"stage": stage.name}
        )
    elif stage.is_system and actor.user is not None:
        problems.append(
            _('Only the system puts leads in "%(stage)s"; start the lead in another stage.')
            % {"stage": stage.name}
        )
    if problems:
        raise ValidationFailed(" ".join(problems), details={"stage": problems})


def lead_duplicate_find(
    *, organization_id: int, pipeline: Pipeline, phone: str, region: str
) -> Lead | None:
    """An open lead, or a sale in process, with this phone in this pipeline.

    ``phone`` is E.164; its Argentine twin with or without the mobile 9 matches too
    (``+541123456789`` and ``+5491123456789`` are the same line typed two ways).
    """
    since = timezone.now() - SALE_IN_PROCESS
    phones = phone_query_forms(phone, region=region) or [phone]
    return (
        Lead.objects.select_related("owner", "stage", "pipeline")
        .filter(organization_id=organization_id, pipeline=pipeline, phone__in=phones)
        .filter(Q(won_at__isnull=True, lost_at__isnull=True) | Q(won_at__gte=since))
        .order_by("-created_at", "-id")
        .first()
    )


def lead_create(
    *,
    actor: Actor,
    pipeline: Pipeline,
    name: str,
    phone: str,
    document: str = "",
    source: str,
    owner: User | None = None,
    customer: Customer | None = None,
    data: dict[str, Any] | None = None,
    stage: Stage | None = None,
    source_ref: str = "",
    value: Decimal | None = None,
    now: datetime | None = None,
) -> LeadCreateResult:
    """Create a lead in ``pipeline`` (its first open stage unless ``stage``).

    A phone that already has an open lead, or a lead won in the last 30 days (a sale
    in process), in the same pipeline is not given a second lead: the result carries
    the existing lead as ``duplicate_of`` (and ``lead``) with its owner, and
    ``duplicate_message`` says who works it ("hecha desde otro agente"). Nothing is
    written in that case. A system stage (e.g. the store's payment links) may be the
    start stage only for an actor without a user (an API key of the integration).
    """
    actor.require(WORK_PERMISSION)
    if pipeline.organization_id != actor.organization.pk:
        raise NotFound(_("No such pipeline. Choose one of your organization's pipelines."))
    if not pipeline.is_active:
        raise ValidationFailed(
            _("The pipeline %(pipeline)s is no longer in use; choose another one.")
            % {"pipeline": pipeline.name}
        )
    if source not in LeadSource.values:
        raise ValidationFailed(
            _("Unknown lead source %(source)s; use one of %(sources)s.")
            % {"source": source, "sources": ", ".join(LeadSource.values)},
            details={"source": [_("Unknown source.")]},
        )
    if value is not None and (not value.is_finite() or value < 0):
        message = _("The value of a lead is an amount of zero or more.")
        raise ValidationFailed(message, details={"value": [message]})
    phone_e164 = normalize_phone(phone, region=actor.organization.country)
    membership = _check_owner(actor, owner)
    _check_customer(actor, customer)
    at = _now(now)
    with transaction.atomic():
        # One creation at a time per pipeline, so two agents cannot both create a lead
        # for the same phone.
        locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        start = stage or _first_stage(locked)
        _check_start_stage(actor, locked, start)
        clean = tab_data_clean(locked.tab_fields(), data or {})
        duplicate = lead_duplicate_find(
            organization_id=actor.organization.pk,
            pipeline=locked,
            phone=phone_e164,
            region=actor.organization.country,
        )
        if duplicate is not None:
            return LeadCreateResult(lead=duplicate, duplicate_of=duplicate)
        lead = Lead.objects.create(
            organization=actor.organization,
            pipeline=locked,
            stage=start,
            customer=customer,
            name=name.strip()[:200],
            phone=phone_e164,
            document=_compact_document(document),
            owner=owner,
            team=membership.team if membership else None,
            source=source,
            source_ref=source_ref.strip()[:120],
            stage_entered_at=at,
            data=clean,
            value=(value if value is not None else Decimal("0")).quantize(CENTS),
            currency=actor.organization.currency,
        )
        entry = LeadStageChange.objects.create(
            organization=actor.organization,
            lead=lead,
            from_stage=None,
            to_stage=start,
            actor=actor.user,
            at=at,
            automatic=actor.user is None,
            reason=_("Lead created"),
        )
        _automations_after(lead, entry)
    return LeadCreateResult(lead=lead)


# --- move, win, lose ----------------------------------------------------------------------


def _check_target(actor: Actor, lead: Lead, to_stage: Stage) -> None:
    if (
        to_stage.organization_id != actor.organization.pk
        or to_stage.pipeline_id != lead.pipeline_id
    ):
        message = _(
            'The stage "%(stage)s" is not a stage of %(pipeline)s; a lead only moves between '
            "the stages of its own pipeline. Create a lead in the other pipeline instead."
        ) % {"stage": to_stage.name, "pipeline": lead.pipeline.name}
        raise ValidationFailed(message, details={"stage": [message]})


def lead_move(
    *, actor: Actor, lead: Lead, to_stage: Stage, reason: str = "", now: datetime | None = None
) -> Lead:
    """Move ``lead`` to the open stage ``to_stage`` of its pipeline, by hand.

    Refused: a stage of another pipeline or organization; a won or lost stage (use
    lead_win / lead_lose); into or out of a system stage; a stage that requires the
    greeting before ``greeting_sent_at`` is set; a won lead. Moving a lost lead to an
    open stage reopens it (its loss reason is cleared).
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        _check_target(actor, locked, to_stage)
        target = Stage.objects.get(pk=to_stage.pk)
        decision = stage_transition(
            current=_facts(locked.stage),
            target=_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=True,
        )
        if not decision.allowed:
            raise _refuse(decision)
        extra: tuple[str, ...] = ()
        if locked.lost_at is not None:
            locked.lost_at = None
            locked.loss_reason = None
            extra = ("lost_at", "loss_reason")
        _stage_change(
            lead=locked,
            to_stage=target,
            actor=actor,
            at=_now(now),
            reason=reason.strip(),
            automatic=False,
            extra_fields=extra,
        )
    return locked


def lead_win(*, actor: Actor, lead: Lead, now: datetime | None = None) -> Lead:
    """Close ``lead`` as won, in its pipeline's won stage.

    Its required tab fields must be filled; a lost lead must be reopened first.
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        missing = missing_required(locked.pipeline.tab_fields(), locked.data)
        if missing:
            message = _("Fill in %(fields)s before winning the lead.") % {
                "fields": ", ".join(missing)
            }
            raise ValidationFailed(message, details={"data": [message]})
        target = _closing_stage(locked.pipeline, StageKind.WON)
        if locked.lost_at is not None:
            message = _("This lead is lost; reopen it in an open stage before winning it.")
            raise ValidationFailed(message, details={"stage": [message]})
        decision = stage_transition(
            current=_facts(locked.stage),
            target=_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=True,
            closing=True,
        )
        if not decision.allowed:
            raise _refuse(decision)
        at = _now(now)
        locked.won_at = at
        _stage_change(
            lead=locked,
            to_stage=target,
            actor=actor,
            at=at,
            reason="",
            automatic=False,
            extra_fields=("won_at",),
        )
    return locked


def lead_lose(
    *,
    actor: Actor,
    lead: Lead,
    reason: LossReason | None,
    note: str = "",
    now: datetime | None = None,
) -> Lead:
    """Close ``lead`` as lost with ``reason`` (required), in its pipeline's lost stage.

    The reason must be an active reason of the lead's pipeline and not the system one
    ("Razón no definida"). On a lead already lost this replaces its reason: that is how
    an agent clears a lead the system closed with the undefined reason.
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        if reason is None:
            message = _(
                "Choose why the lead is lost; each reason shows how to counter it before "
                "you give up."
            )
            raise ValidationFailed(message, details={"reason": [message]})
        if (
            reason.pipeline_id != locked.pipeline_id
            or reason.organization_id != actor.organization.pk
        ):
            message = _(
                'The loss reason "%(reason)s" is not a reason of %(pipeline)s; choose one of '
                "its own reasons."
            ) % {"reason": reason.name, "pipeline": locked.pipeline.name}
            raise ValidationFailed(message, details={"reason": [message]})
        reason = LossReason.objects.get(pk=reason.pk)
        if reason.is_system:
            message = _(
                '"%(reason)s" is set only by the system when it closes a lead; choose the '
                "real reason."
            ) % {"reason": reason.name}
            raise ValidationFailed(message, details={"reason": [message]})
        if not reason.is_active:
            message = _('The loss reason "%(reason)s" is no longer in use; choose another.') % {
                "reason": reason.name
            }
            raise ValidationFailed(message, details={"reason": [message]})
        at = _now(now)
        if locked.lost_at is not None:
            if locked.loss_reason_id == reason.pk:
                return locked
            locked.loss_reason = reason
            _stage_change(
                lead=locked,
                to_stage=locked.stage,
                actor=actor,
                at=at,
                reason=note.strip(),
                automatic=False,
                loss_reason=reason,
                extra_fields=("loss_reason",),
            )
            return locked
        target = _closing_stage(locked.pipeline, StageKind.LOST)
        decision = stage_transition(
            current=_facts(locked.stage),
            target=_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=True,
            closing=True,
        )
        if not decision.allowed:
            raise _refuse(decision)
        locked.loss_reason = reason
        locked.lost_at = at
        locked.proposed_loss_reason = None
        locked.proposed_at = None
        _stage_change(
            lead=locked,
            to_stage=target,
            actor=actor,
            at=at,
            reason=note.strip(),
            automatic=False,
            loss_reason=reason,
            extra_fields=("loss_reason", "lost_at", "proposed_loss_reason", "proposed_at"),
        )
    return locked


def lead_update_data(*, actor: Actor, lead: Lead, data: dict[str, Any]) -> Lead:
    """Merge ``data`` into the lead's tabs, each value checked against its field."""
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        clean = tab_data_clean(locked.pipeline.tab_fields(), data, locked.data)
        if clean != locked.data:
            locked.data = clean
            locked.save(update_fields=["data", "updated_at"])
    return locked


def lead_contact_update(
    *,
    actor: Actor,
    lead: Lead,
    name: str | None = None,
    document: str | None = None,
    value: Decimal | None = None,
) -> Lead:
    """Correct the lead's contact name, document number or value (None: unchanged).

    The phone is the lead's identity (duplicate detection, the conversation): a
    different phone is a different lead.
    """
    with transaction.atomic():
        locked = _lead_for_actor(actor=actor, lead=lead)
        fields: list[str] = []
        if name is not None and name.strip() != locked.name:
            locked.name = name.strip()[:200]
            fields.append("name")
        if document is not None and _compact_document(document) != locked.document:
            locked.document = _compact_document(document)
            fields.append("document")
        if value is not None:
            if value < 0:
                message = _("The value cannot be negative.")
                raise ValidationFailed(message, details={"value": [message]})
            if value.quantize(CENTS) != locked.value:
                locked.value = value.quantize(CENTS)
                fields.append("value")
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
    return locked


# --- the system ---------------------------------------------------------------------------


def lead_close_automatically(*, lead: Lead, note: str, now: datetime | None = None) -> Lead:
    """Close an open lead as lost with the pipeline's system reason ("Razón no definida").

    For automations (e.g. a lead abandoned for days). The lead is flagged until an agent
    replaces the reason with lead_lose. Idempotent: a closed lead is left as it is.
    """
    with transaction.atomic():
        locked = _lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)
        if not locked.is_open:
            return locked
        reason = LossReason.objects.filter(pipeline=locked.pipeline, is_system=True).first()
        if reason is None:
            raise ValidationFailed(
                _(
                    "The pipeline %(pipeline)s has no system loss reason; mark one with "
                    "is_system in its pack."
                )
                % {"pipeline": locked.pipeline.name}
            )
        target = _closing_stage(locked.pipeline, StageKind.LOST)
        at = _now(now)
        locked.loss_reason = reason
        locked.lost_at = at
        _stage_change(
            lead=locked,
            to_stage=target,
            actor=None,
            at=at,
            reason=note.strip(),
            automatic=True,
            loss_reason=reason,
            extra_fields=("loss_reason", "lost_at"),
        )
    return locked


def lead_move_automatically(
    *, lead: Lead, to_stage: Stage, note: str, now: datetime | None = None
) -> Lead:
    """Move an open lead to an open stage of its pipeline, system stages included.

    For bots and automations ("Respondió oferta" when the customer answers an offer,
    "Links de pago" from the online store). The greeting requirement still holds.
    """
    with transaction.atomic():
        locked = _lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)
        target = Stage.objects.get(pk=to_stage.pk)
        if not locked.is_open:
            message = _("The lead is closed; reopen it before moving it.")
            raise ValidationFailed(message, details={"stage": [message]})
        decision = stage_transition(
            current=_facts(locked.stage),
            target=_facts(target),
            greeting_sent=locked.greeting_sent_at is not None,
            by_hand=False,
        )
        if not decision.allowed:
            raise _refuse(decision)
        _stage_change(
            lead=locked, to_stage=target, actor=None, at=_now(now), reason=note, automatic=True
        )
    return locked


def lead_greeting_record(*, lead: Lead, at: datetime | None = None) -> Lead:
    """Note that the greeting went out (the messaging app calls this); the first one counts."""
    with transaction.atomic():
        locked = _lead_locked(organization_id=lead.organization_id, lead_id=lead.pk)
        if locked.greeting_sent_at is None:
            locked.greeting_sent_at = _now(at)
            locked.save(update_fields=["greeting_sent_at", "updated_at"])
    return locked
