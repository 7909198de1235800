"""Every write to customers and their records.

Services take the acting ``Actor`` first (keyword-only), check its permission, scope
every lookup to what it may see, validate with the parsers (documents, phones,
addresses), write the audit log for personal data and add a timeline entry, all in
one transaction. Bad input raises a ValidationFailed subclass and changes nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telcodesk.accounts.models import AuditLog, Organization
from telcodesk.accounts.services import audit_record
from telcodesk.core.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers import addresses as address_rules
from telcodesk.customers.documents import normalize_document
from telcodesk.customers.models import (
    Address,
    Channel,
    ContactPoint,
    Customer,
    CustomerAssignment,
    IdentityDocument,
    Invoice,
    Payment,
    Plan,
    ServiceType,
    Subscription,
    SubscriptionStatus,
    SubscriptionStatusChange,
    Technology,
    TimelineEvent,
)
from telcodesk.customers.phones import normalize_phone
from telcodesk.customers.search_index import index_customer_names, search_name_for
from telcodesk.customers.selectors import customer_get

PROFILE_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "company_name",
    "birth_date",
    "segment",
    "preferred_language",
    "preferred_channel",
    "consent_whatsapp",
    "consent_sms",
    "consent_email",
    "consent_calls",
    "external_ref",
    "notes",
)
NAME_MAX_LENGTH = {"first_name": 120, "last_name": 120, "company_name": 200}
CONSENT_FIELDS = ("consent_whatsapp", "consent_sms", "consent_email", "consent_calls")
NAME_FIELDS = ("first_name", "last_name", "company_name")


def timeline_add(
    *,
    actor: Actor | None,
    customer: Customer,
    kind: str,
    message: str,
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    at: Any = None,
) -> TimelineEvent:
    """Add an entry to the customer's timeline (other apps call this too).

    ``message`` is an untranslated source string (mark it with gettext_noop) with
    ``%(name)s`` placeholders filled from ``params``; it is translated when shown, in
    the reader's language. Params whose key ends in ``_label`` are translated too.
    """
    with translation.override("en"):  # labels are stored in the source language
        params = {key: str(value) for key, value in (params or {}).items()}
    event = TimelineEvent(
        organization_id=customer.organization_id,
        customer=customer,
        kind=kind,
        message=message,
        params=params,
        data=data or {},
        actor=actor.user if actor else None,
        at=at or timezone.now(),
    )
    event.summary = event.render(translate=False)[:300]
    event.save()
    return event


def _clean_profile(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            details={name: [_("This field does not exist.")] for name in sorted(unknown)},
        )
    errors: dict[str, list[str]] = {}
    cleaned = dict(fields)
    for name in (*NAME_FIELDS, "external_ref"):
        if name in cleaned:
            cleaned[name] = " ".join(str(cleaned[name] or "").split())
    if "kind" in cleaned and cleaned["kind"] not in Customer.Kind.values:
        errors["kind"] = [_("Choose person or company.")]
    if "segment" in cleaned and cleaned["segment"] not in Customer.Segment.values:
        errors["segment"] = [_("Choose one of the listed segments.")]
    if cleaned.get("preferred_channel") and cleaned["preferred_channel"] not in Channel.values:
        errors["preferred_channel"] = [_("Choose WhatsApp, SMS, e-mail or phone call.")]
    if cleaned.get("preferred_language") and cleaned["preferred_language"] not in (
        "es",
        "pt-br",
        "en",
    ):
        errors["preferred_language"] = [_("Choose Spanish, Brazilian Portuguese or English.")]
    birth = cleaned.get("birth_date")
    if birth is not None:
        if not isinstance(birth, date):
            errors["birth_date"] = [_("Write the birth date as YYYY-MM-DD.")]
        elif birth > timezone.localdate() or birth.year < 1900:
            errors["birth_date"] = [_("The birth date must be in the past, after 1900.")]
    for name in NAME_FIELDS:
        if len(cleaned.get(name) or "") > NAME_MAX_LENGTH[name]:
            errors[name] = [_("Too long: shorten it.")]
    if errors:
        raise ValidationFailed(
            _("The customer was not saved: fix the marked fields."), details=errors
        )
    return cleaned


def _check_names(customer: Customer) -> None:
    """A person needs a first or last name; a company its legal name."""
    if customer.kind == Customer.Kind.COMPANY and not customer.company_name:
        raise ValidationFailed(
            _("The customer was not saved: fix the marked fields."),
            details={"company_name": [_("A company needs its legal name.")]},
        )
    if customer.kind == Customer.Kind.PERSON and not (customer.first_name or customer.last_name):
        raise ValidationFailed(
            _("The customer was not saved: fix the marked fields."),
            details={"last_name": [_("Write at least the first or the last name.")]},
        )


@transaction.atomic
def customer_create(
    *,
    actor: Actor,
    documents: list[dict[str, Any]] | None = None,
    phones: list[dict[str, Any]] | None = None,
    emails: list[dict[str, Any]] | None = None,
    addresses: list[dict[str, Any]] | None = None,
    **profile: Any,
) -> Customer:
    """Register a customer with optional documents, phones, e-mails and addresses.

    Only an operator registers customers; a reseller's customers are the operator's,
    assigned to it (see customer_assign).
    """
    actor.require("customer.create")
    if actor.is_reseller:
        raise ValidationFailed(
            _("A reseller cannot register customers directly: ask the operator to assign them.")
        )
    cleaned = _clean_profile(profile)
    customer = Customer(organization=actor.organization, **cleaned)
    _check_names(customer)
    if any(cleaned.get(name) for name in CONSENT_FIELDS):
        customer.consent_updated_at = timezone.now()
    customer.search_name = search_name_for(customer)
    customer.save()
    timeline_add(
        actor=actor,
        customer=customer,
        kind=TimelineEvent.Kind.CHANGE,
        message=gettext_noop("Customer registered"),
    )
    for doc in documents or []:
        document_add(actor=actor, customer=customer, **doc)
    for phone in phones or []:
        phone_add(actor=actor, customer=customer, **phone)
    for email in emails or []:
        email_add(actor=actor, customer=customer, **email)
    for address in addresses or []:
        address_add(actor=actor, customer=customer, **address)
    index_customer_names([customer], replace=False)
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        object_type="customer",
        object_id=customer.pk,
        changes={name: str(value) for name, value in cleaned.items()},
    )
    return customer


@transaction.atomic
def customer_update(*, actor: Actor, customer: Customer, **fields: Any) -> Customer:
    actor.require("customer.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    cleaned = _clean_profile(fields)
    changes: dict[str, list[str]] = {}
    for name, value in cleaned.items():
        old = getattr(customer, name)
        if old != value:
            changes[name] = [str(old), str(value)]
            setattr(customer, name, value)
    if not changes:
        return customer
    _check_names(customer)
    update_fields = list(changes)
    if any(name in changes for name in CONSENT_FIELDS):
        customer.consent_updated_at = timezone.now()
        update_fields.append("consent_updated_at")
    if any(name in changes for name in NAME_FIELDS):
        customer.search_name = search_name_for(customer)
        update_fields.append("search_name")
    customer.save(update_fields=[*update_fields, "updated_at"])
    if "search_name" in update_fields:
        index_customer_names([customer])
    audit_record(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        object_type="customer",
        object_id=customer.pk,
        changes=changes,
        organization=customer.organization,
    )
    timeline_add(
        actor=actor,
        customer=customer,
        kind=TimelineEvent.Kind.CHANGE,
        message=gettext_noop("Profile changed: %(fields)s"),
        params={"fields": ", ".join(sorted(changes))},
        data={"fields": sorted(changes)},
    )
    return customer


@transaction.atomic
def customer_assign(
    *, actor: Actor, customer: Customer, reseller: Organization
) -> CustomerAssignment:
    """Hand one of the operator's customers to a reseller that works for it."""
    actor.require("team.manage")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    if actor.is_reseller or not reseller.operators.filter(pk=actor.organization.pk).exists():
        raise ValidationFailed(
            _("%(reseller)s does not work for %(operator)s: link them first.")
            % {"reseller": reseller.name, "operator": actor.organization.name}
        )
    assignment, _created = CustomerAssignment.objects.get_or_create(
        customer=customer, reseller=reseller, defaults={"assigned_by": actor.user}
    )
    return assignment


# --- documents --------------------------------------------------------------------------


@transaction.atomic
def document_add(
    *,
    actor: Actor,
    customer: Customer,
    kind: str,
    number: str,
    issued_in: str = "",
    complement: str = "",
    is_primary: bool = True,
) -> IdentityDocument:
    actor.require("customer.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    doc = normalize_document(kind, number, issued_in=issued_in, complement=complement)
    if IdentityDocument.objects.filter(
        organization_id=customer.organization_id,
        kind=doc.kind,
        number=doc.number,
        complement=doc.complement,
    ).exists():
        raise ValidationFailed(
            _("This document already belongs to a customer: search for it instead of adding it."),
            code=ErrorCode.CONFLICT,
            details={"number": [_("Already registered.")]},
            status=409,
        )
    if is_primary:
        customer.documents.filter(is_primary=True).update(is_primary=False)
    document = IdentityDocument.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        kind=doc.kind,
        number=doc.number,
        issued_in=doc.issued_in,
        complement=doc.complement,
        is_primary=is_primary,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        object_type="identity_document",
        object_id=document.pk,
        changes={"kind": doc.kind, "number": doc.number},
        organization=customer.organization,
    )
    return document


# --- contact points -----------------------------------------------------------------


def _contact_add(
    *,
    actor: Actor,
    customer: Customer,
    kind: str,
    value: str,
    label: str,
    is_whatsapp: bool,
    is_primary: bool,
) -> ContactPoint:
    if label not in ContactPoint.Label.values:
        raise ValidationFailed(
            _("Choose mobile, home, work or reference."), details={"label": [_("Unknown label.")]}
        )
    if customer.contacts.filter(kind=kind, value=value).exists():
        raise ValidationFailed(
            _("The customer already has %(value)s.") % {"value": value},
            code=ErrorCode.CONFLICT,
            details={kind: [_("Already registered for this customer.")]},
            status=409,
        )
    if is_primary or not customer.contacts.filter(kind=kind).exists():
        customer.contacts.filter(kind=kind, is_primary=True).update(is_primary=False)
        is_primary = True
    contact = ContactPoint.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        kind=kind,
        value=value,
        label=label,
        is_whatsapp=is_whatsapp,
        is_primary=is_primary,
    )
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        object_type="contact_point",
        object_id=contact.pk,
        changes={"kind": kind, "value": value},
        organization=customer.organization,
    )
    timeline_add(
        actor=actor,
        customer=customer,
        kind=TimelineEvent.Kind.CHANGE,
        message=gettext_noop("Contact added: %(value)s"),
        params={"value": value},
    )
    return contact


@transaction.atomic
def phone_add(
    *,
    actor: Actor,
    customer: Customer,
    raw: str,
    label: str = "mobile",
    is_whatsapp: bool = False,
    is_primary: bool = False,
) -> ContactPoint:
    actor.require("customer.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    e164 = normalize_phone(raw, region=customer.organization.country)
    return _contact_add(
        actor=actor,
        customer=customer,
        kind=ContactPoint.Kind.PHONE,
        value=e164,
        label=label,
        is_whatsapp=is_whatsapp,
        is_primary=is_primary,
    )


def normalize_email(raw: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    value = (raw or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationFailed(
            _("%(value)s is not an e-mail address: write it like name@example.com.")
            % {"value": raw},
            details={"email": [_("Not a valid e-mail address.")]},
        ) from None
    return value


@transaction.atomic
def email_add(
    *, actor: Actor, customer: Customer, raw: str, label: str = "home", is_primary: bool = False
) -> ContactPoint:
    actor.require("customer.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    value = normalize_email(raw)
    return _contact_add(
        actor=actor,
        customer=customer,
        kind=ContactPoint.Kind.EMAIL,
        value=value,
        label=label,
        is_whatsapp=False,
        is_primary=is_primary,
    )


def _contact_get(*, actor: Actor, contact_id: int) -> ContactPoint:
    contact = ContactPoint.objects.select_related("customer").filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("No such contact."))
    customer_get(actor=actor, customer_id=contact.customer_id)  # scope check
    return contact


@transaction.atomic
def contact_confirm(*, actor: Actor, contact_id: int, on: date | None = None) -> ContactPoint:
    """The agent confirmed this phone or e-mail with the customer (the call scripts ask it)."""
    actor.require("customer.confirm_contact")
    contact = _contact_get(actor=actor, contact_id=contact_id)
    contact.verified_on = on or timezone.localdate()
    contact.verified_by = actor.user
    contact.save(update_fields=["verified_on", "verified_by", "updated_at"])
    timeline_add(
        actor=actor,
        customer=contact.customer,
        kind=TimelineEvent.Kind.CONTACT_VERIFIED,
        message=gettext_noop("Contact confirmed with the customer: %(value)s"),
        params={"value": contact.value},
    )
    return contact


@transaction.atomic
def contact_delete(*, actor: Actor, contact_id: int) -> None:
    actor.require("customer.edit")
    contact = _contact_get(actor=actor, contact_id=contact_id)
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        object_type="contact_point",
        object_id=contact.pk,
        changes={"value": contact.value},
        organization=contact.customer.organization,
    )
    timeline_add(
        actor=actor,
        customer=contact.customer,
        kind=TimelineEvent.Kind.CHANGE,
        message=gettext_noop("Contact removed: %(value)s"),
        params={"value": contact.value},
    )
    contact.delete()


# --- addresses ----------------------------------------------------------------------

ADDRESS_FIELDS = address_rules.ADDRESS_FIELD_NAMES


def _decimal_or_none(value: Any, name: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(
            _("The coordinates must be decimal numbers."), details={name: [_("Not a number.")]}
        ) from None


@transaction.atomic
def address_add(
    *,
    actor: Actor,
    customer: Customer,
    purpose: str = Address.Purpose.HOME,
    latitude: Any = None,
    longitude: Any = None,
    **fields: Any,
) -> Address:
    actor.require("customer.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    if purpose not in Address.Purpose.values:
        raise ValidationFailed(
            _("Choose installation, billing or home."), details={"purpose": [_("Unknown.")]}
        )
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    country = customer.organization.country
    checked = address_rules.address_check(address_rules.AddressFields(**fields), country=country)
    address = Address(
        organization_id=customer.organization_id,
        customer=customer,
        purpose=purpose,
        country=country,
        latitude=_decimal_or_none(latitude, "latitude"),
        longitude=_decimal_or_none(longitude, "longitude"),
        **{name: getattr(checked, name) for name in ADDRESS_FIELDS},
    )
    address.one_line = address_rules.render_one_line(checked, country=country)
    address.save()
    audit_record(
        actor=actor,
        action=AuditLog.Action.CREATE,
        object_type="address",
        object_id=address.pk,
        changes={"one_line": address.one_line},
        organization=customer.organization,
    )
    timeline_add(
        actor=actor,
        customer=customer,
        kind=TimelineEvent.Kind.CHANGE,
        message=gettext_noop("Address added: %(line)s"),
        params={"line": address.one_line},
    )
    return address


# --- subscriptions ------------------------------------------------------------------


@transaction.atomic
def subscription_create(
    *,
    actor: Actor,
    customer: Customer,
    service_id: str,
    contract_number: str,
    service_type: str,
    started_on: date,
    plan_code: str = "",
    technology: str = "",
    status: str = SubscriptionStatus.ACTIVE,
    permanence_until: date | None = None,
    installation_address_id: int | None = None,
    cpe_ip: str | None = None,
    olt_name: str = "",
    pon_port: str = "",
    onu_index: int | None = None,
    monthly_price: Decimal | None = None,
) -> Subscription:
    actor.require("subscription.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    errors: dict[str, list[str]] = {}
    service_id = service_id.strip().upper()
    contract_number = contract_number.strip().upper()
    if not service_id:
        errors["service_id"] = [_("The service ID is required.")]
    if not contract_number:
        errors["contract_number"] = [_("The contract number is required.")]
    if service_type not in ServiceType.values:
        errors["service_type"] = [_("Choose one of the listed service types.")]
    if technology and technology not in Technology.values:
        errors["technology"] = [_("Choose copper, fiber, coaxial, wireless, satellite or mobile.")]
    if status not in SubscriptionStatus.values:
        errors["status"] = [_("Choose one of the listed statuses.")]
    if permanence_until and permanence_until < started_on:
        errors["permanence_until"] = [_("The permanence must end after the start date.")]
    plan = None
    if plan_code:
        plan = Plan.objects.filter(organization_id=customer.organization_id, code=plan_code).first()
        if plan is None:
            errors["plan_code"] = [_("No plan with this code in the catalogue.")]
    address = None
    if installation_address_id is not None:
        address = customer.addresses.filter(pk=installation_address_id).first()
        if address is None:
            errors["installation_address_id"] = [_("Pick one of the customer's addresses.")]
    if Subscription.objects.filter(
        organization_id=customer.organization_id, service_id=service_id
    ).exists():
        errors["service_id"] = [_("This service ID is already in use.")]
    if errors:
        raise ValidationFailed(
            _("The service was not saved: fix the marked fields."), details=errors
        )
    subscription = Subscription.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        service_id=service_id,
        contract_number=contract_number,
        service_type=service_type,
        technology=technology or (plan.technology if plan else ""),
        plan=plan,
        plan_name=plan.name if plan else "",
        speed_mbps=plan.download_mbps if plan else None,
        monthly_price=monthly_price
        if monthly_price is not None
        else (plan.monthly_price if plan else Decimal("0")),
        currency=plan.currency if plan else customer.organization.currency,
        status=status,
        status_changed_at=timezone.now(),
        started_on=started_on,
        permanence_until=permanence_until,
        installation_address=address,
        cpe_ip=cpe_ip or None,
        olt_name=olt_name,
        pon_port=pon_port,
        onu_index=onu_index,
    )
    SubscriptionStatusChange.objects.create(
        subscription=subscription,
        from_status="",
        to_status=status,
        reason="",
        changed_by=actor.user,
        at=timezone.now(),
    )
    timeline_add(
        actor=actor,
        customer=customer,
        kind=TimelineEvent.Kind.SUBSCRIPTION,
        message=gettext_noop("Service %(service)s registered (%(plan_label)s)"),
        params={
            "service": service_id,
            "plan_label": subscription.plan_name or ServiceType(service_type).label,
        },
    )
    return subscription


ALLOWED_STATUS_CHANGES: dict[str, set[str]] = {
    SubscriptionStatus.ACTIVE: {
        SubscriptionStatus.PARTIALLY_BLOCKED,
        SubscriptionStatus.BLOCKED,
        SubscriptionStatus.DISCONNECTED,
        SubscriptionStatus.CANCELLED,
    },
    SubscriptionStatus.PARTIALLY_BLOCKED: {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.BLOCKED,
        SubscriptionStatus.CANCELLED,
    },
    SubscriptionStatus.BLOCKED: {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.DISCONNECTED,
        SubscriptionStatus.CANCELLED,
    },
    SubscriptionStatus.DISCONNECTED: {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED},
    SubscriptionStatus.CANCELLED: set(),
}


@transaction.atomic
def subscription_status_change(
    *, actor: Actor, subscription_id: int, to_status: str, reason: str
) -> Subscription:
    from telcodesk.customers.selectors import subscription_get

    actor.require("subscription.change_status")
    subscription = subscription_get(actor=actor, subscription_id=subscription_id)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    reason = " ".join((reason or "").split())
    if to_status not in SubscriptionStatus.values:
        raise ValidationFailed(
            _("Choose one of the listed statuses."), details={"to_status": [_("Unknown status.")]}
        )
    if to_status not in ALLOWED_STATUS_CHANGES[subscription.status]:
        raise ValidationFailed(
            _("A service that is %(current)s cannot become %(target)s.")
            % {
                "current": SubscriptionStatus(subscription.status).label,
                "target": SubscriptionStatus(to_status).label,
            },
            details={"to_status": [_("Not allowed from the current status.")]},
            code=ErrorCode.CONFLICT,
            status=409,
        )
    if not reason:
        raise ValidationFailed(
            _("Write why the status changes."), details={"reason": [_("Required.")]}
        )
    now = timezone.now()
    SubscriptionStatusChange.objects.create(
        subscription=subscription,
        from_status=subscription.status,
        to_status=to_status,
        reason=reason[:240],
        changed_by=actor.user,
        at=now,
    )
    old = subscription.status
    subscription.status = to_status
    subscription.status_changed_at = now
    subscription.save(update_fields=["status", "status_changed_at", "updated_at"])
    timeline_add(
        actor=actor,
        customer=subscription.customer,
        kind=TimelineEvent.Kind.SUBSCRIPTION,
        message=gettext_noop("Service %(service)s: %(old_label)s → %(new_label)s (%(reason)s)"),
        params={
            "service": subscription.service_id,
            "old_label": SubscriptionStatus(old).label,
            "new_label": SubscriptionStatus(to_status).label,
            "reason": reason,
        },
    )
    return subscription


# --- ledger -------------------------------------------------------------------------


def _money(value: Any, name: str, *, positive: bool) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            _("Write the amount as a number, e.g. 150.00."), details={name: [_("Not a number.")]}
        ) from None
    if amount < 0 or (positive and amount == 0):
        raise ValidationFailed(
            _("The amount must be greater than zero."), details={name: [_("Must be positive.")]}
        )
    return amount


@transaction.atomic
def invoice_register(
    *,
    actor: Actor,
    customer: Customer,
    number: str,
    period_start: date,
    period_end: date,
    amount: Any,
    issued_on: date,
    due_on: date,
    subscription_id: int | None = None,
) -> Invoice:
    actor.require("ledger.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    value = _money(amount, "amount", positive=False)
    errors: dict[str, list[str]] = {}
    if period_end < period_start:
        errors["period_end"] = [_("The period must end after it starts.")]
    if due_on < issued_on:
        errors["due_on"] = [_("The due date cannot be before the issue date.")]
    if errors:
        raise ValidationFailed(
            _("The invoice was not saved: fix the marked fields."), details=errors
        )
    subscription = None
    if subscription_id is not None:
        subscription = customer.subscriptions.filter(pk=subscription_id).first()
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                organization_id=customer.organization_id,
                customer=customer,
                subscription=subscription,
                number=number.strip(),
                period_start=period_start,
                period_end=period_end,
                amount=value,
                currency=customer.organization.currency,
                issued_on=issued_on,
                due_on=due_on,
            )
    except IntegrityError:
        raise ValidationFailed(
            _("Invoice %(number)s already exists.") % {"number": number},
            code=ErrorCode.CONFLICT,
            details={"number": [_("Already registered.")]},
            status=409,
        ) from None
    timeline_add(
        actor=actor,
        customer=customer,
        kind=TimelineEvent.Kind.INVOICE,
        message=gettext_noop("Invoice %(number)s issued: %(amount)s %(currency)s, due %(due)s"),
        params={
            "number": invoice.number,
            "amount": value,
            "currency": invoice.currency,
            "due": due_on.isoformat(),
        },
    )
    return invoice


@transaction.atomic
def payment_register(
    *,
    actor: Actor,
    customer: Customer,
    method: str,
    paid_on: date,
    amount: Any,
    invoice_id: int | None = None,
    reference: str = "",
) -> Payment:
    """Register a payment; applied to the given invoice, else to the oldest open ones."""
    actor.require("ledger.edit")
    customer = customer_get(actor=actor, customer_id=customer.pk)
    if method not in Payment.Method.values:
        raise ValidationFailed(
            _("Choose one of the listed payment methods."), details={"method": [_("Unknown.")]}
        )
    value = _money(amount, "amount", positive=True)
    invoices = Invoice.objects.select_for_update().filter(customer=customer, is_void=False)
    if invoice_id is not None:
        invoices = invoices.filter(pk=invoice_id)
        if not invoices.exists():
            raise ValidationFailed(
                _("Pick one of the customer's invoices."), details={"invoice_id": [_("Unknown.")]}
            )
    payment = Payment.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        method=method,
        paid_on=paid_on,
        amount=value,
        currency=customer.organization.currency,
        reference=reference.strip()[:64],
        invoice_id=invoice_id,
    )
    remaining = value
    for invoice in invoices.order_by("due_on", "id"):
        if remaining <= 0:
            break
        applied = min(invoice.outstanding, remaining)
        if applied <= 0:
            continue
        invoice.paid_amount += applied
        invoice.save(update_fields=["paid_amount", "updated_at"])
        remaining -= applied
    timeline_add(
        actor=actor,
        customer=customer,
        kind=TimelineEvent.Kind.PAYMENT,
        message=gettext_noop("Payment received: %(amount)s %(currency)s (%(method_label)s)"),
        params={
            "amount": value,
            "currency": payment.currency,
            "method_label": Payment.Method(method).label,
        },
    )
    return payment


@transaction.atomic
def customer_delete(*, actor: Actor, customer_id: int) -> None:
    """Delete a customer and everything that hangs from it (administrators only).

    The audit log keeps who deleted whom; the row itself and its records are removed.
    """
    actor.require("customer.delete")
    customer = customer_get(actor=actor, customer_id=customer_id)
    if actor.is_reseller:
        raise PermissionDenied(_("Only the operator that owns a customer can delete it."))
    audit_record(
        actor=actor,
        action=AuditLog.Action.DELETE,
        object_type="customer",
        object_id=customer.pk,
        changes={"name": customer.display_name},
        organization=customer.organization,
    )
    customer.delete()
