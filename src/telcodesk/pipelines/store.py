"""The online store's click intake: "Links de pago" of TECHSTORE CHATS.

When a customer chooses, in the online store, to get a manual payment link (Getnet,
Open Pay or Viumi), the store posts the click (``pipelines.store_api``) with an API key
whose role has "lead.intake" (the ``integration`` role; administrators too) and
``store_click_register`` puts a lead in the system stage named by the pipeline rule
``store_intake: {stage: ...}``, which agents cannot move leads into or out of by hand.
The key needs no other permission: the lead is written by the system
(``lead_create_automatically``, ``lead_move_automatically``,
``lead_update_automatically``), recorded as automatic, by nobody.

- A new phone gets a new lead (source ``store_click``, source_ref ``store:<order_ref>``)
  in that stage, with the tab filled (payment_app, device_of_interest and
  accessory_of_interest from the items), the order total as its value and the
  customer's name, phone (E.164), document and e-mail as the lead's contact.
- The lead is linked to the organization's customer with that phone (or, when no
  customer has it, that document number) when exactly one is found
  (``store_customer_find``); otherwise it stays a prospect, its contact on the lead.
- A phone with an open lead in that pipeline: that lead is moved there with
  ``lead_move_automatically`` (no second lead), its tab, value and e-mail updated,
  and the customer linked when the lead had none.
- The order ref is the idempotency key: a click already registered returns the same
  lead and changes nothing.
- A phone with an open lead in ANOTHER pipeline of the organization (e.g. FIBRA): the
  store lead is created anyway, and the result names the other lead and its owner.
  ``lead_create`` only looks for duplicates inside one pipeline, and rightly: a device
  bought in the store is a different sale from a fibre installation, so closing or
  refusing it as "Hecha desde otro agente" would lose a sale; the warning lets the two
  agents talk before both contact the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization
from telcodesk.core.errors import DomainError, ErrorCode, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.phones import normalize_phone, phone_query_forms
from telcodesk.customers.selectors import customer_find_by_identifiers
from telcodesk.customers.services import normalize_email
from telcodesk.pipelines.models import Lead, LeadSource, LeadStageChange, Pipeline, Stage
from telcodesk.pipelines.services import (
    CENTS,
    LeadCreateResult,
    lead_create_automatically,
    lead_move_automatically,
    lead_update_automatically,
)

INTAKE_PERMISSION = "lead.intake"
PAYMENT_APPS = ("getnet", "open_pay", "viumi")
ITEM_KINDS = ("device", "accessory")
SOURCE_REF_PREFIX = "store:"
MAX_VALUE = Decimal("9999999999.99")  # Lead.value: 12 digits, 2 decimals


@dataclass(frozen=True)
class StoreItem:
    sku: str
    name: str
    kind: str  # device / accessory
    quantity: int
    unit_price: Decimal
    brand: str = ""


@dataclass(frozen=True)
class StoreClick:
    order_ref: str
    clicked_at: datetime
    payment_app: str
    name: str
    phone: str
    items: list[StoreItem]
    total: Decimal
    currency: str
    email: str = ""
    document: str = ""


@dataclass(frozen=True)
class StoreClickResult:
    """``outcome``: "created", "moved" (an open lead of the phone) or "repeated"."""

    lead: Lead
    outcome: str
    other_leads: list[Lead] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.outcome == "created"

    @property
    def warning(self) -> str:
        if not self.other_leads:
            return ""
        return " ".join(
            LeadCreateResult(lead=other, duplicate_of=other).duplicate_message
            for other in self.other_leads
        )


def _note_ref(order_ref: str) -> str:
    return f" [{SOURCE_REF_PREFIX}{order_ref}]"


def store_pipeline(*, actor: Actor) -> tuple[Pipeline, Stage]:
    """The organization's pipeline with ``rules.store_intake`` and its intake stage."""
    for pipeline in Pipeline.objects.filter(
        organization=actor.organization, is_active=True
    ).order_by("position", "id"):
        intake = pipeline.rules.get("store_intake") or {}
        stage_name = intake.get("stage") if isinstance(intake, dict) else None
        if not stage_name:
            continue
        stage = Stage.objects.filter(pipeline=pipeline, name=stage_name, is_active=True).first()
        if stage is None:
            message = _(
                'The store intake stage "%(stage)s" is not a stage of %(pipeline)s in use; '
                "fix the pipeline's store_intake rule in the pack."
            ) % {"stage": stage_name, "pipeline": pipeline.name}
            raise ValidationFailed(message)
        return pipeline, stage
    raise ValidationFailed(
        _(
            "%(organization)s has no pipeline that takes online store clicks; its pack must "
            "give one pipeline the rule store_intake with the stage to put them in."
        )
        % {"organization": actor.organization.name}
    )


def _check(actor: Actor, click: StoreClick) -> str:
    """The phone as E.164, after checking every field (ValidationFailed names them all)."""
    problems: dict[str, list[str]] = {}
    if not click.order_ref.strip() or len(click.order_ref.strip()) > 100:
        problems["order_ref"] = [_("Send the store's order id (1 to 100 characters).")]
    if click.payment_app not in PAYMENT_APPS:
        problems["payment_app"] = [
            _("Unknown payment app %(app)s; use one of %(apps)s.")
            % {"app": click.payment_app, "apps": ", ".join(PAYMENT_APPS)}
        ]
    if not click.items:
        problems["items"] = [_("Send at least one item: what the customer is buying.")]
    for index, item in enumerate(click.items):
        if item.kind not in ITEM_KINDS:
            problems[f"items.{index}.kind"] = [_("Use device or accessory.")]
        if item.quantity < 1:
            problems[f"items.{index}.quantity"] = [_("The quantity is 1 or more.")]
        if not item.unit_price.is_finite() or item.unit_price < 0:
            problems[f"items.{index}.unit_price"] = [_("The price is an amount of zero or more.")]
    if not click.total.is_finite() or click.total < 0 or click.total > MAX_VALUE:
        problems["total"] = [_("The total is an amount of zero or more.")]
    if click.currency.upper() != actor.organization.currency:
        problems["currency"] = [
            _("This organization sells in %(currency)s; send the total in that currency.")
            % {"currency": actor.organization.currency}
        ]
    phone = ""
    try:
        phone = normalize_phone(click.phone, region=actor.organization.country)
    except ValidationFailed as error:
        problems["customer.phone"] = [error.message]
    if click.email.strip():
        try:
            normalize_email(click.email)
        except ValidationFailed as error:
            problems["customer.email"] = [error.message]
    if problems:
        raise ValidationFailed(
            _("The store click was not registered; fix: %(fields)s.")
            % {"fields": ", ".join(problems)},
            details=problems,
        )
    return phone


def _interest(items: list[StoreItem], kind: str) -> str:
    names = [
        f"{item.name.strip()} (x{item.quantity})" if item.quantity > 1 else item.name.strip()
        for item in items
        if item.kind == kind
    ]
    return ", ".join(names)[:500]


def _tab_data(pipeline: Pipeline, click: StoreClick) -> dict[str, Any]:
    data = {
        "payment_app": click.payment_app,
        "device_of_interest": _interest(click.items, "device"),
        "accessory_of_interest": _interest(click.items, "accessory"),
    }
    fields = pipeline.tab_fields()
    # Only the fields this pipeline's tabs have; an empty interest is left untouched.
    return {key: value for key, value in data.items() if key in fields and value}


def _registered(actor: Actor, pipeline: Pipeline, order_ref: str) -> Lead | None:
    ref = SOURCE_REF_PREFIX + order_ref
    lead = Lead.objects.filter(organization=actor.organization, pipeline=pipeline, source_ref=ref)
    found = lead.order_by("id").first()
    if found is not None:
        return found
    change = (
        LeadStageChange.objects.filter(
            organization=actor.organization,
            lead__pipeline=pipeline,
            automatic=True,
            reason__endswith=_note_ref(order_ref),
        )
        .select_related("lead")
        .order_by("id")
        .first()
    )
    return change.lead if change is not None else None


def _other_open_leads(actor: Actor, pipeline: Pipeline, phone: str) -> list[Lead]:
    phones = phone_query_forms(phone, region=actor.organization.country) or [phone]
    return list(
        Lead.objects.select_related("owner", "stage", "pipeline")
        .filter(
            organization=actor.organization,
            phone__in=phones,
            won_at__isnull=True,
            lost_at__isnull=True,
        )
        .exclude(pipeline=pipeline)
        .order_by("-created_at", "-id")
    )


def store_customer_find(
    *, organization: Organization, phone: str, document: str
) -> Customer | None:
    """The one customer ``organization`` sees with this phone, else with this document.

    ``phone`` is E.164 (its Argentine twin with or without the mobile 9 matches too);
    ``document`` as typed (a DNI also finds the CUIL/CUIT built on it). Several
    customers with the phone: the document picks one of them, or nobody. Nobody with
    the phone: the one customer with the document, or nobody. None means a prospect:
    an agent links the customer by hand when it is ambiguous.

    The lookup is the customers' system read ``customer_find_by_identifiers``, with
    their scoping (a reseller sees only the customers assigned to it): the
    integration's key may not read customers, and only the match (never the
    customer's data) reaches the integration, as the lead's customer id.
    """
    by_phone = customer_find_by_identifiers(organization=organization, phone=phone)
    if len(by_phone) == 1:
        return by_phone[0]
    by_document = (
        customer_find_by_identifiers(organization=organization, document=document)
        if document.strip()
        else []
    )
    if by_phone:
        with_document = {customer.pk for customer in by_document}
        narrowed = [customer for customer in by_phone if customer.pk in with_document]
        return narrowed[0] if len(narrowed) == 1 else None
    return by_document[0] if len(by_document) == 1 else None


def _reloaded(lead: Lead) -> Lead:
    return Lead.objects.select_related(
        "pipeline", "stage", "owner", "team", "customer", "loss_reason"
    ).get(pk=lead.pk)


def store_click_register(
    *, actor: Actor, click: StoreClick, now: datetime | None = None
) -> StoreClickResult:
    """Register an online store click: create or move the phone's lead into the intake
    stage (see the module's docstring). All or nothing: one transaction.

    Needs "lead.intake"; the lead itself is written by the system, so the key needs
    no permission to work leads.
    """
    actor.require(INTAKE_PERMISSION)
    organization = actor.organization
    phone = _check(actor, click)
    pipeline, stage = store_pipeline(actor=actor)
    order_ref = click.order_ref.strip()
    at = min(click.clicked_at, now or timezone.now())
    total = click.total.quantize(CENTS)
    note = (
        _("Online store: the customer asked for a %(app)s payment link (order %(order)s).")
        % {"app": click.payment_app, "order": order_ref}
    ) + _note_ref(order_ref)
    with transaction.atomic():
        # Clicks of one pipeline one at a time: a click posted twice at once is one lead.
        Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        existing = _registered(actor, pipeline, order_ref)
        if existing is not None:
            return StoreClickResult(lead=_reloaded(existing), outcome="repeated")
        others = _other_open_leads(actor, pipeline, phone)
        customer = store_customer_find(
            organization=organization, phone=phone, document=click.document
        )
        result = lead_create_automatically(
            organization=organization,
            pipeline=pipeline,
            name=click.name,
            phone=phone,
            document=click.document,
            email=click.email,
            customer=customer,
            source=LeadSource.STORE_CLICK,
            source_ref=SOURCE_REF_PREFIX + order_ref,
            stage=stage,
            data=_tab_data(pipeline, click),
            value=total,
            now=at,
        )
        if result.duplicate_of is None:
            return StoreClickResult(
                lead=_reloaded(result.lead), outcome="created", other_leads=others
            )
        lead = result.duplicate_of
        if not lead.is_open:
            raise DomainError(
                _(
                    "This phone's last purchase (lead %(lead)s) was closed as won less than "
                    "30 days ago and is still in process; an agent must create the new "
                    "lead by hand."
                )
                % {"lead": lead.pk},
                code=ErrorCode.CONFLICT,
                status=409,
                details={"lead_id": lead.pk},
            )
        if lead.stage_id != stage.pk:
            lead = lead_move_automatically(lead=lead, to_stage=stage, note=note, now=at)
        else:
            LeadStageChange.objects.create(
                organization=organization,
                lead=lead,
                from_stage=stage,
                to_stage=stage,
                actor=None,
                at=at,
                reason=note,
                automatic=True,
            )
        lead = lead_update_automatically(
            lead=lead,
            data=_tab_data(pipeline, click),
            value=total,
            email=click.email,
            customer=customer,
        )
    return StoreClickResult(lead=_reloaded(lead), outcome="moved", other_leads=others)
