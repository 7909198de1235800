"""Agent console pages for customers: home, search and list, the customer page, edits.

Views only translate HTTP to service and selector calls and back: every read goes
through customers.selectors / customers.search, every write through
customers.services. A customer the actor may not see is a 404, whatever the reason.
Edit forms post with htmx and get back the section they change; invalid input comes
back as the same section with the errors inline and status 422.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy, to_locale
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from telcodesk.accounts.services import actor_for_user
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers import selectors, services
from telcodesk.customers.forms import (
    AddressForm,
    CustomerProfileForm,
    DocumentForm,
    EmailForm,
    PhoneForm,
    ServiceForm,
)
from telcodesk.customers.models import (
    ContactPoint,
    Customer,
    IdentityDocument,
    Invoice,
    Payment,
    Subscription,
    SubscriptionStatus,
)
from telcodesk.customers.search import customer_search

P = ParamSpec("P")
ConsoleView = Callable[Concatenate[HttpRequest, Actor, P], HttpResponse]

TABS = ("overview", "services", "billing", "timeline")
MATCH_LABELS = {
    "phone": gettext_lazy("phone"),
    "document": gettext_lazy("document"),
    "service_id": gettext_lazy("service ID"),
    "contract": gettext_lazy("contract"),
    "email": gettext_lazy("e-mail"),
    "name": gettext_lazy("name"),
}
LIST_PAGE_SIZE = 25
POPOVER_LIMIT = 8


def console_view(view: ConsoleView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Signed-in only; passes the acting Actor; domain refusals become 404 / 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            actor = actor_for_user(request.user)  # type: ignore[arg-type]
            request.actor = actor  # type: ignore[attr-defined]
            return view(request, actor, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc

    return wrapper


# --- display helpers (presentation only) ------------------------------------------------


def money(amount: Decimal | None, currency: str, country: str = "") -> str:
    """``Bs 1.234,50`` / ``R$ 1.234,50``: the operator's local symbol, the agent's digits."""
    from babel.numbers import format_decimal, get_currency_symbol

    country_locale = f"{'pt' if country.upper() == 'BR' else 'es'}_{country.upper() or 'BO'}"
    try:
        symbol = get_currency_symbol(currency, locale=country_locale)
    except Exception:  # an unknown country/locale pair: the ISO code is always right
        symbol = currency
    number = format_decimal(
        amount or Decimal("0"), format="#,##0.00", locale=to_locale(get_language() or "es")
    )
    return f"{symbol}\u00a0{number}"


def phone_display(e164: str) -> str:
    from telcodesk.customers.phones import format_phone

    try:
        return format_phone(e164)
    except Exception:  # a stored value the formatter cannot read is shown as stored
        return e164


def document_display(document: IdentityDocument) -> str:
    from telcodesk.customers.documents import format_document

    try:
        return format_document(
            document.kind,
            document.number,
            issued_in=document.issued_in,
            complement=document.complement,
        )
    except Exception:  # a stored value the formatter cannot read is shown as stored
        return " ".join(
            part for part in (document.number, document.complement, document.issued_in) if part
        )


def document_kind_label(kind: str) -> str:
    from telcodesk.customers.documents import DOCUMENT_TYPES

    doc_type = DOCUMENT_TYPES.get(kind)
    return str(doc_type.label) if doc_type else kind.upper()


def document_kinds_for(country: str) -> list[tuple[str, str]]:
    from telcodesk.customers.documents import document_types_for

    return [
        (
            doc.code,
            f"{doc.label} · {doc.name}" if str(doc.label) != str(doc.name) else str(doc.label),
        )
        for doc in document_types_for(country)
    ]


@dataclass(frozen=True)
class ContactRow:
    contact: ContactPoint
    display: str

    @property
    def is_phone(self) -> bool:
        return self.contact.kind == ContactPoint.Kind.PHONE


@dataclass(frozen=True)
class DocumentRow:
    document: IdentityDocument
    display: str
    kind_label: str


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    status: str
    status_label: str
    amount: str
    outstanding: str


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: Subscription
    price: str


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    amount: str


@dataclass(frozen=True)
class CustomerRow:
    """One line of a customer list: who, how to reach them, what they have."""

    customer: Customer
    phone: str
    document: str
    services: int
    worst_status: str
    matched_on: str = ""


def contact_rows(contacts: list[ContactPoint]) -> list[ContactRow]:
    return [
        ContactRow(c, phone_display(c.value) if c.kind == ContactPoint.Kind.PHONE else c.value)
        for c in contacts
    ]


def document_rows(documents: list[IdentityDocument]) -> list[DocumentRow]:
    return [DocumentRow(d, document_display(d), document_kind_label(d.kind)) for d in documents]


_STATUS_WEIGHT: dict[str, int] = {
    SubscriptionStatus.BLOCKED: 4,
    SubscriptionStatus.PARTIALLY_BLOCKED: 3,
    SubscriptionStatus.ACTIVE: 2,
    SubscriptionStatus.DISCONNECTED: 1,
    SubscriptionStatus.CANCELLED: 0,
}


MATCH_LABELS = {
    "phone": gettext_lazy("phone"),
    "document": gettext_lazy("document"),
    "service_id": gettext_lazy("service ID"),
    "contract": gettext_lazy("contract"),
    "email": gettext_lazy("e-mail"),
    "name": gettext_lazy("name"),
}


def customer_row(customer: Customer, matched_on: str = "") -> CustomerRow:
    """Needs contacts, documents and subscriptions prefetched."""
    phones = [c for c in customer.contacts.all() if c.kind == ContactPoint.Kind.PHONE]
    phones.sort(key=lambda c: not c.is_primary)
    documents = sorted(customer.documents.all(), key=lambda d: not d.is_primary)
    statuses = [s.status for s in customer.subscriptions.all()]
    worst = max(statuses, key=lambda s: _STATUS_WEIGHT.get(s, 0)) if statuses else ""
    return CustomerRow(
        customer=customer,
        phone=phone_display(phones[0].value) if phones else "",
        document=document_display(documents[0]) if documents else "",
        services=len(statuses),
        worst_status=worst,
        matched_on=str(MATCH_LABELS.get(matched_on, matched_on)),
    )


def _with_row_data(queryset: Any) -> Any:
    return queryset.prefetch_related(
        Prefetch("contacts", queryset=ContactPoint.objects.order_by("-is_primary", "id")),
        "documents",
        "subscriptions",
    )


def _status_label(status: str) -> str:
    return str(SubscriptionStatus(status).label) if status in SubscriptionStatus.values else ""


# --- home, list, search -----------------------------------------------------------------


@require_GET
@console_view
def home_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    recent = selectors.recent_customers(actor=actor, limit=8)
    recent_rows = [
        customer_row(c)
        for c in _with_row_data(Customer.objects.filter(pk__in=[c.pk for c in recent]))
    ]
    order = {c.pk: i for i, c in enumerate(recent)}
    recent_rows.sort(key=lambda row: order[row.customer.pk])
    stats = selectors.console_home_stats(actor=actor)
    latest = [
        customer_row(c) for c in _with_row_data(selectors.customers_latest(actor=actor, limit=6))
    ]
    return render(
        request,
        "customers/home.html",
        {
            "nav_active": "home",
            "recent_rows": recent_rows,
            "latest_rows": latest,
            "stats": stats,
            "can_create": actor.can("customer.create") and not actor.is_reseller,
        },
    )


@require_GET
@console_view
def customer_list_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:100]
    rows: list[CustomerRow] = []
    page = None
    if query:
        limit = POPOVER_LIMIT if _wants_popover(request) else 50
        hits = customer_search(actor=actor, query=query, limit=limit)
        by_id = {
            c.pk: c
            for c in _with_row_data(Customer.objects.filter(pk__in=[h.customer.pk for h in hits]))
        }
        rows = [
            customer_row(by_id[h.customer.pk], h.matched_on) for h in hits if h.customer.pk in by_id
        ]
    else:
        paginator = Paginator(
            _with_row_data(selectors.customers_visible(actor=actor).order_by("search_name", "id")),
            LIST_PAGE_SIZE,
        )
        page = paginator.get_page(request.GET.get("page"))
        rows = [customer_row(c) for c in page.object_list]
    context = {
        "nav_active": "customers",
        "query": query,
        "rows": rows,
        "page": page,
        "can_create": actor.can("customer.create") and not actor.is_reseller,
    }
    if _wants_popover(request):
        return render(request, "customers/partials/search_popover.html", context)
    return render(request, "customers/list.html", context)


def _wants_popover(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == "search-popover"  # type: ignore[union-attr]


# --- the customer page --------------------------------------------------------------------


def _page_context(actor: Actor, customer_id: int, *, audit: bool) -> dict[str, Any]:
    profile = selectors.customer_profile(actor=actor, customer_id=customer_id, audit=audit)
    customer = profile.customer
    currency = customer.organization.currency
    country = customer.organization.country
    invoices = [
        InvoiceRow(
            invoice=inv,
            status=profile.invoice_status.get(inv.pk, ""),
            status_label=str(Invoice.Status(profile.invoice_status[inv.pk]).label)
            if inv.pk in profile.invoice_status
            else "",
            amount=money(inv.amount, inv.currency, country),
            outstanding=money(inv.outstanding, inv.currency, country),
        )
        for inv in profile.invoices
    ]
    active = [s for s in profile.subscriptions if s.status == SubscriptionStatus.ACTIVE]
    return {
        "nav_active": "customers",
        "profile": profile,
        "customer": customer,
        "contacts": contact_rows(profile.contacts),
        "documents": document_rows(profile.documents),
        "invoices": invoices,
        "subscriptions": [
            SubscriptionRow(s, money(s.monthly_price, s.currency, country))
            for s in profile.subscriptions
        ],
        "active_services": len(active),
        "payments": [PaymentRow(p, money(p.amount, p.currency, country)) for p in profile.payments],
        "balance_outstanding": money(profile.balance.outstanding, currency, country),
        "balance_overdue": money(profile.balance.overdue, currency, country),
        "monthly_total": money(
            sum((s.monthly_price for s in active), Decimal("0")), currency, country
        ),
        "can_edit": actor.can("customer.edit"),
        "can_confirm": actor.can("customer.confirm_contact"),
        "can_ledger": actor.can("ledger.view"),
        "verified_recently_since": profile.today - timedelta(days=180),
    }


def _forms_for(customer: Customer, **bound: ServiceForm) -> dict[str, ServiceForm]:
    forms: dict[str, ServiceForm] = {
        "phone_form": PhoneForm(prefix="phone"),
        "email_form": EmailForm(prefix="email"),
        "document_form": DocumentForm(
            prefix="document", kinds=document_kinds_for(customer.organization.country)
        ),
        "address_form": AddressForm(prefix="address"),
    }
    forms.update(bound)
    return forms


@require_GET
@console_view
def customer_detail_view(
    request: HttpRequest, actor: Actor, customer_id: int, tab: str = "overview"
) -> HttpResponse:
    if tab not in TABS:
        raise Http404
    context = _page_context(actor, customer_id, audit=True)
    context.update(_forms_for(context["customer"]))
    context["tab"] = tab
    return render(request, "customers/detail.html", context)


@require_http_methods(["GET", "POST"])
@console_view
def customer_edit_view(request: HttpRequest, actor: Actor, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    actor.require("customer.edit")
    status = 200
    if request.method == "POST":
        form = CustomerProfileForm(request.POST)
        if form.is_valid():
            try:
                services.customer_update(actor=actor, customer=customer, **form.cleaned_data)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("The customer's profile was saved."))
                return _to(request, reverse("customers:detail", args=[customer.pk]))
        status = 422
    else:
        form = CustomerProfileForm(initial=CustomerProfileForm.initial_for(customer))
    template = (
        "customers/partials/profile_form.html"
        if getattr(request, "htmx", False)
        else "customers/edit.html"
    )
    return render(
        request,
        template,
        {
            "nav_active": "customers",
            "customer": customer,
            "form": form,
            "action": reverse("customers:edit", args=[customer.pk]),
            "cancel_url": reverse("customers:detail", args=[customer.pk]),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@console_view
def customer_create_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require("customer.create")
    status = 200
    if request.method == "POST":
        form = CustomerProfileForm(request.POST)
        phone_form = PhoneForm(request.POST, prefix="phone")
        phone_form.fields["raw"].required = False
        if form.is_valid() and phone_form.is_valid():
            phone = phone_form.cleaned_data
            phones = (
                [
                    {
                        "raw": phone["raw"],
                        "label": phone["label"],
                        "is_whatsapp": phone["is_whatsapp"],
                        "is_primary": True,
                    }
                ]
                if phone.get("raw")
                else []
            )
            try:
                customer = services.customer_create(actor=actor, phones=phones, **form.cleaned_data)
            except ValidationFailed as exc:
                if set(exc.details) & {"phone", "raw", "number", "e164"}:
                    phone_form.add_service_errors(exc)
                else:
                    form.add_service_errors(exc)
            else:
                messages.success(request, _("The customer was registered."))
                return _to(request, reverse("customers:detail", args=[customer.pk]))
        status = 422
    else:
        form = CustomerProfileForm(initial={"kind": Customer.Kind.PERSON})
        phone_form = PhoneForm(prefix="phone")
        phone_form.fields["raw"].required = False
    context = {
        "nav_active": "customers",
        "form": form,
        "phone_form": phone_form,
        "action": reverse("customers:create"),
        "cancel_url": reverse("customers:list"),
    }
    if getattr(request, "htmx", False):
        context["extra_template"] = "customers/partials/create_phone.html"
        return render(request, "customers/partials/profile_form.html", context, status=status)
    return render(request, "customers/create.html", context, status=status)


def _to(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect, the htmx way when the request came from htmx."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


# --- sections edited in place -----------------------------------------------------------

SECTION_TEMPLATES = {
    "contacts": "customers/partials/contacts.html",
    "documents": "customers/partials/documents.html",
    "addresses": "customers/partials/addresses.html",
}


def _section_response(
    request: HttpRequest,
    actor: Actor,
    customer_id: int,
    section: str,
    *,
    saved: str = "",
    status: int = 200,
    **bound: ServiceForm,
) -> HttpResponse:
    """The changed section (htmx) or the whole page (plain form post)."""
    context = _page_context(actor, customer_id, audit=False)
    context.update(_forms_for(context["customer"], **bound))
    context["open_form"] = next(iter(bound), "") if status != 200 else ""
    if getattr(request, "htmx", False):
        context["saved"] = saved
        return render(request, SECTION_TEMPLATES[section], context, status=status)
    if status == 200:
        if saved:
            messages.success(request, saved)
        return redirect("customers:detail", customer_id=customer_id)
    context["tab"] = "overview"
    return render(request, "customers/detail.html", context, status=status)


def _customer(actor: Actor, customer_id: int) -> Customer:
    return selectors.customer_get(actor=actor, customer_id=customer_id)


@require_POST
@console_view
def phone_add_view(request: HttpRequest, actor: Actor, customer_id: int) -> HttpResponse:
    customer = _customer(actor, customer_id)
    form = PhoneForm(request.POST, prefix="phone")
    if form.is_valid():
        try:
            contact = services.phone_add(actor=actor, customer=customer, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            saved = _("Phone %(phone)s saved.") % {"phone": phone_display(contact.value)}
            return _section_response(request, actor, customer_id, "contacts", saved=saved)
    return _section_response(request, actor, customer_id, "contacts", status=422, phone_form=form)


@require_POST
@console_view
def email_add_view(request: HttpRequest, actor: Actor, customer_id: int) -> HttpResponse:
    customer = _customer(actor, customer_id)
    form = EmailForm(request.POST, prefix="email")
    if form.is_valid():
        try:
            contact = services.email_add(actor=actor, customer=customer, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            saved = _("E-mail %(email)s saved.") % {"email": contact.value}
            return _section_response(request, actor, customer_id, "contacts", saved=saved)
    return _section_response(request, actor, customer_id, "contacts", status=422, email_form=form)


def _contact_of(customer: Customer, contact_id: int) -> ContactPoint:
    contact = customer.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    return contact


@require_POST
@console_view
def contact_confirm_view(
    request: HttpRequest, actor: Actor, customer_id: int, contact_id: int
) -> HttpResponse:
    contact = _contact_of(_customer(actor, customer_id), contact_id)
    contact = services.contact_confirm(actor=actor, contact_id=contact.pk)
    display = phone_display(contact.value) if contact.kind == "phone" else contact.value
    saved = _("%(value)s confirmed with the customer.") % {"value": display}
    return _section_response(request, actor, customer_id, "contacts", saved=saved)


@require_POST
@console_view
def contact_delete_view(
    request: HttpRequest, actor: Actor, customer_id: int, contact_id: int
) -> HttpResponse:
    contact = _contact_of(_customer(actor, customer_id), contact_id)
    services.contact_delete(actor=actor, contact_id=contact.pk)
    display = phone_display(contact.value) if contact.kind == "phone" else contact.value
    saved = _("%(value)s removed.") % {"value": display}
    return _section_response(request, actor, customer_id, "contacts", saved=saved)


@require_POST
@console_view
def document_add_view(request: HttpRequest, actor: Actor, customer_id: int) -> HttpResponse:
    customer = _customer(actor, customer_id)
    form = DocumentForm(
        request.POST, prefix="document", kinds=document_kinds_for(customer.organization.country)
    )
    if form.is_valid():
        try:
            document = services.document_add(actor=actor, customer=customer, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            saved = _("Document %(document)s saved.") % {"document": document_display(document)}
            return _section_response(request, actor, customer_id, "documents", saved=saved)
    return _section_response(
        request, actor, customer_id, "documents", status=422, document_form=form
    )


@require_POST
@console_view
def address_add_view(request: HttpRequest, actor: Actor, customer_id: int) -> HttpResponse:
    customer = _customer(actor, customer_id)
    form = AddressForm(request.POST, prefix="address")
    if form.is_valid():
        try:
            address = services.address_add(actor=actor, customer=customer, **form.service_fields())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            saved = _("Address saved: %(address)s") % {"address": address.one_line}
            return _section_response(request, actor, customer_id, "addresses", saved=saved)
    return _section_response(
        request, actor, customer_id, "addresses", status=422, address_form=form
    )
