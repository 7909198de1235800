"""What creating a lead checks and writes, shared by the agents' ``lead_create`` and the
system's ``lead_create_automatically``: the callers check who may do it, this module
checks the lead itself (pipeline, source, value, phone, owner, start stage, tab data,
the duplicate phone) and inserts it."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Membership, Organization, User
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.customers.models import Customer
from telcodesk.customers.phones import normalize_phone
from telcodesk.customers.services import normalize_email
from telcodesk.pipelines.models import Lead, LeadSource, LeadStageChange, Pipeline, Stage, StageKind
from telcodesk.pipelines.services.duplicates import LeadCreateResult, lead_duplicate_find
from telcodesk.pipelines.services.history import automations_after, moment
from telcodesk.pipelines.tabs import tab_data_clean

CENTS = Decimal("0.01")


def compact_document(raw: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", raw).upper()[:32]


def email_clean(raw: str) -> str:
    """The e-mail as stored (lower case), "" for none; refused when it is not one."""
    if not (raw or "").strip():
        return ""
    return normalize_email(raw)


def customer_check_of(organization: Organization, customer: Customer | None) -> None:
    """NotFound unless ``customer`` is one ``organization`` sees (for the system's writes,
    which have no actor: the same scope as customers.selectors.customers_visible)."""
    if customer is None:
        return
    customers = Customer.objects.filter(pk=customer.pk)
    if organization.is_reseller:
        customers = customers.filter(assignments__reseller=organization)
    else:
        customers = customers.filter(organization=organization)
    if not customers.exists():
        raise NotFound(_("No such customer. Search again by name, phone or document."))


def _check_owner(organization: Organization, owner: User | None) -> Membership | None:
    if owner is None:
        return None
    membership = Membership.objects.filter(user=owner, organization=organization).first()
    if membership is None:
        raise ValidationFailed(
            _("The owner must be a member of your organization; choose one of its agents."),
            details={"owner": [_("Not a member of your organization.")]},
        )
    return membership


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


def _check_start_stage(pipeline: Pipeline, stage: Stage, *, system_stage_allowed: bool) -> None:
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
    elif stage.is_system and not system_stage_allowed:
        problems.append(
            _('Only the system puts leads in "%(stage)s"; start the lead in another stage.')
            % {"stage": stage.name}
        )
    if problems:
        raise ValidationFailed(" ".join(problems), details={"stage": problems})


def lead_insert(
    *,
    organization: Organization,
    user: User | None,
    pipeline: Pipeline,
    name: str,
    phone: str,
    document: str,
    email: str,
    source: str,
    owner: User | None,
    customer: Customer | None,
    data: dict[str, Any] | None,
    stage: Stage | None,
    source_ref: str,
    value: Decimal | None,
    now: datetime | None,
    system_stage_allowed: bool,
) -> LeadCreateResult:
    """Check and create the lead; the caller has checked who acts and the customer.

    ``user`` is who created it (None: the system, recorded as ``automatic``). Nothing is
    written when the phone already has a lead in the pipeline (see lead_create).
    """
    if pipeline.organization_id != organization.pk:
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
    phone_e164 = normalize_phone(phone, region=organization.country)
    email = email_clean(email)
    membership = _check_owner(organization, owner)
    at = moment(now)
    with transaction.atomic():
        # One creation at a time per pipeline, so two agents cannot both create a lead
        # for the same phone.
        locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        start = stage or _first_stage(locked)
        _check_start_stage(locked, start, system_stage_allowed=system_stage_allowed)
        clean = tab_data_clean(locked.tab_fields(), data or {})
        duplicate = lead_duplicate_find(
            organization_id=organization.pk,
            pipeline=locked,
            phone=phone_e164,
            region=organization.country,
        )
        if duplicate is not None:
            return LeadCreateResult(lead=duplicate, duplicate_of=duplicate)
        lead = Lead.objects.create(
            organization=organization,
            pipeline=locked,
            stage=start,
            customer=customer,
            name=name.strip()[:200],
            phone=phone_e164,
            document=compact_document(document),
            email=email,
            owner=owner,
            team=membership.team if membership else None,
            source=source,
            source_ref=source_ref.strip()[:120],
            stage_entered_at=at,
            data=clean,
            value=(value if value is not None else Decimal("0")).quantize(CENTS),
            currency=organization.currency,
        )
        entry = LeadStageChange.objects.create(
            organization=organization,
            lead=lead,
            from_stage=None,
            to_stage=start,
            actor=user,
            at=at,
            automatic=user is None,
            reason=_("Lead created"),
        )
        automations_after(lead, entry)
    return LeadCreateResult(lead=lead)
