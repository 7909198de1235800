"""Reads of customers, always scoped to what the actor may see.

An operator's people see the operator's customers; a reseller's people see only the
customers assigned to their organization (CustomerAssignment). Anything else is
"not found", never "forbidden": we do not confirm that another organization's
customer exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import AuditLog, Organization
from telcodesk.accounts.services import audit_record
from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.customers.documents import document_query_forms
from telcodesk.customers.models import (
    Address,
    ContactPoint,
    Customer,
    IdentityDocument,
    Invoice,
    Payment,
    Subscription,
    SubscriptionStatus,
    SubscriptionStatusChange,
    TimelineEvent,
)
from telcodesk.customers.phones import phone_query_forms

TIMELINE_PAGE = 50


def _customers_of(organization: Organization) -> QuerySet[Customer]:
    """The customers an organization sees: an operator its own, a reseller those
    assigned to it (a reseller registers none of its own)."""
    if organization.is_reseller:
        return Customer.objects.filter(assignments__reseller=organization)
    return Customer.objects.filter(organization=organization)


def customers_visible(*, actor: Actor) -> QuerySet[Customer]:
    """Every customer the actor's organization may see."""
    actor.require("customer.view")
    return _customers_of(actor.organization)


def customer_find_by_identifiers(
    *, organization: Organization, phone: str = "", document: str = ""
) -> list[Customer]:
    """The customers ``organization`` sees with this phone or this document number.

    A system read for integrations that match a customer without reading it (the online
    store's intake): no actor and no permission, so the caller decides what of the
    customers it may show. The scope is ``customers_visible``'s: an operator's own
    customers, a reseller's assigned ones.

    ``phone`` as typed or E.164, read in the organization's country (an Argentine
    mobile matches with or without the 9); ``document`` as typed (a DNI also finds the
    CUIL/CUIT built on it, see ``documents.document_query_forms``). Those with the phone
    come first, then those with only the document, each in id order. Nothing readable
    as a phone or a document (empty, too short): [].
    """
    phones = phone_query_forms(phone, region=organization.country or "US") if phone else []
    documents = document_query_forms(document) if document else []
    visible = _customers_of(organization)
    with_phone: list[int] = []
    with_document: list[int] = []
    if phones:
        with_phone = sorted(
            set(
                visible.filter(
                    contacts__kind=ContactPoint.Kind.PHONE, contacts__value__in=phones
                ).values_list("pk", flat=True)
            )
        )
    if documents:
        with_document = sorted(
            set(visible.filter(documents__number__in=documents).values_list("pk", flat=True))
            - set(with_phone)
        )
    ids = [*with_phone, *with_document]
    if not ids:
        return []
    found = Customer.objects.select_related("organization").in_bulk(ids)
    return [found[pk] for pk in ids]


def customer_get(*, actor: Actor, customer_id: int, audit: bool = False) -> Customer:
    customer = (
        customers_visible(actor=actor).select_related("organization").filter(pk=customer_id).first()
    )
    if customer is None:
        raise NotFound(_("No such customer. Search again by name, phone or document."))
    if audit:
        audit_record(
            actor=actor,
            action=AuditLog.Action.VIEW,
            object_type="customer",
            object_id=customer.pk,
            organization=customer.organization,
        )
    return customer


@dataclass(frozen=True)
class Balance:
    currency: str
    outstanding: Decimal
    overdue: Decimal
    days_overdue: int
    open_invoices: int

    @property
    def is_in_debt(self) -> bool:
        return self.overdue > 0


def balance_of(invoices: list[Invoice], *, currency: str, today: date) -> Balance:
    """Outstanding and overdue amounts, and the age of the oldest overdue invoice."""
    outstanding = Decimal("0")
    overdue = Decimal("0")
    days = 0
    open_count = 0
    for invoice in invoices:
        status = invoice.status_on(today)
        if status in (Invoice.Status.OPEN, Invoice.Status.OVERDUE):
            open_count += 1
            outstanding += invoice.outstanding
        if status == Invoice.Status.OVERDUE:
            overdue += invoice.outstanding
            days = max(days, invoice.days_overdue_on(today))
    return Balance(
        currency=currency,
        outstanding=outstanding,
        overdue=overdue,
        days_overdue=days,
        open_invoices=open_count,
    )


def customer_balance(*, actor: Actor, customer: Customer, today: date | None = None) -> Balance:
    today = today or timezone.localdate()
    invoices = list(Invoice.objects.filter(customer=customer, is_void=False))
    return balance_of(invoices, currency=customer.organization.currency, today=today)


@dataclass
class CustomerProfile:
    customer: Customer
    documents: list[IdentityDocument]
    contacts: list[ContactPoint]
    addresses: list[Address]
    subscriptions: list[Subscription]
    invoices: list[Invoice]
    payments: list[Payment]
    balance: Balance
    timeline: list[TimelineEvent]
    today: date
    invoice_status: dict[int, str] = field(default_factory=dict)


def customer_profile(*, actor: Actor, customer_id: int, audit: bool = True) -> CustomerProfile:
    """Everything the customer page shows, in a fixed number of queries."""
    customer = customer_get(actor=actor, customer_id=customer_id, audit=audit)
    today = timezone.localdate()
    subscriptions = list(
        Subscription.objects.filter(customer=customer)
        .select_related("plan", "installation_address")
        .prefetch_related(
            "equipment",
            Prefetch(
                "status_history",
                queryset=SubscriptionStatusChange.objects.select_related("changed_by"),
            ),
        )
        .order_by("status", "-started_on")
    )
    invoices = list(Invoice.objects.filter(customer=customer).order_by("-issued_on", "-id"))
    payments: list[Payment] = []
    if actor.can("ledger.view"):
        payments = list(Payment.objects.filter(customer=customer)[:50])
    balance = balance_of(
        [inv for inv in invoices if not inv.is_void],
        currency=customer.organization.currency,
        today=today,
    )
    return CustomerProfile(
        customer=customer,
        documents=list(customer.documents.order_by("-is_primary", "id")),
        contacts=list(
            customer.contacts.select_related("verified_by").order_by("kind", "-is_primary", "id")
        ),
        addresses=list(customer.addresses.order_by("purpose", "id")),
        subscriptions=subscriptions,
        invoices=invoices[:24] if actor.can("ledger.view") else [],
        payments=payments,
        balance=balance,
        timeline=list(customer.timeline.select_related("actor")[:TIMELINE_PAGE]),
        today=today,
        invoice_status={inv.pk: inv.status_on(today) for inv in invoices},
    )


def subscriptions_visible(*, actor: Actor) -> QuerySet[Subscription]:
    return Subscription.objects.filter(customer__in=customers_visible(actor=actor))


def subscription_get(*, actor: Actor, subscription_id: int) -> Subscription:
    subscription = (
        subscriptions_visible(actor=actor)
        .select_related("customer", "plan")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        raise NotFound(_("No such service. Check the service ID and try again."))
    return subscription


def recent_customers(*, actor: Actor, limit: int = 10) -> list[Customer]:
    """The customers this user opened most recently (from the audit log)."""
    if actor.user is None:
        return []
    ids: list[int] = []
    for object_id in (
        AuditLog.objects.filter(
            actor=actor.user, object_type="customer", action=AuditLog.Action.VIEW
        )
        .order_by("-at")
        .values_list("object_id", flat=True)[: limit * 5]
    ):
        if object_id.isdigit() and int(object_id) not in ids:
            ids.append(int(object_id))
        if len(ids) >= limit:
            break
    by_id = {c.pk: c for c in customers_visible(actor=actor).filter(pk__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


def customers_latest(*, actor: Actor, limit: int = 6) -> QuerySet[Customer]:
    """The newest customers (by primary key: indexed, unlike created_at)."""
    return customers_visible(actor=actor).order_by("-pk")[:limit]


def console_home_stats(*, actor: Actor) -> dict[str, int]:
    """The figures on the console home page, for the actor's organization."""
    visible = customers_visible(actor=actor)
    subscriptions = subscriptions_visible(actor=actor)
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    status_counts = dict(
        subscriptions.filter(
            status__in=[
                SubscriptionStatus.ACTIVE,
                SubscriptionStatus.BLOCKED,
                SubscriptionStatus.PARTIALLY_BLOCKED,
            ]
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "customers": visible.count(),
        "new_this_month": visible.filter(created_at__gte=month_start).count(),
        "active_services": status_counts.get(SubscriptionStatus.ACTIVE, 0),
        "blocked_services": status_counts.get(SubscriptionStatus.BLOCKED, 0)
        + status_counts.get(SubscriptionStatus.PARTIALLY_BLOCKED, 0),
    }


def customer_audit_log(
    *,
    actor: Actor,
    customer_id: int,
    limit: int = 100,
    offset: int = 0,
    changes_only: bool = False,
) -> list[AuditLog]:
    """Who viewed or changed this customer's personal data, newest first, at most ``limit``.

    ``offset`` skips that many newer entries (paging); ``changes_only`` leaves out the
    views, which otherwise bury the changes: every opening of the page is one entry.

    Covers the customer itself and its current contact points, identity documents and
    addresses. Those rows are matched by the ids the customer has now, so entries about
    a phone, e-mail, document or address that was deleted since (including the deletion
    itself) are no longer found; the timeline still says it was removed.

    Scoped like every customer read (a customer the actor may not see is NotFound), and
    an operator's customers are always logged under the operator. A reseller sees only
    what its own people did, not the operator's staff. Reading the log records nothing:
    the page that shows it records the view.
    """
    # Imported here so that this addition leaves the module's header untouched.
    from typing import Any

    from django.db.models import CharField, Q
    from django.db.models.functions import Cast

    actor.require("audit.view")
    customer = customer_get(actor=actor, customer_id=customer_id)

    def ids_of(model: type[ContactPoint | IdentityDocument | Address]) -> QuerySet[Any]:
        return (
            model.objects.filter(customer=customer)
            .annotate(pk_text=Cast("pk", output_field=CharField()))
            .values("pk_text")
        )

    about_customer = (
        Q(object_type="customer", object_id=str(customer.pk))
        | Q(object_type="contact_point", object_id__in=ids_of(ContactPoint))
        | Q(object_type="identity_document", object_id__in=ids_of(IdentityDocument))
        | Q(object_type="address", object_id__in=ids_of(Address))
    )
    rows = AuditLog.objects.filter(about_customer, organization=customer.organization)
    if actor.is_reseller:
        rows = rows.filter(actor__memberships__organization=actor.organization)
    if changes_only:
        rows = rows.exclude(action=AuditLog.Action.VIEW)
    offset = max(offset, 0)
    return list(rows.select_related("actor").order_by("-at", "-pk")[offset : offset + limit])
