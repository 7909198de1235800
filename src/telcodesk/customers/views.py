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
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy, to_locale
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from telcodesk.accounts.middleware import request_actor
from telcodesk.accounts.models import AuditLog
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers import selectors, services
from telcodesk.customers.forms import (
    LANGUAGE_CHOICES,
    AddressForm,
    CustomerProfileForm,
    DocumentForm,
    EmailForm,
    PhoneForm,
    ServiceForm,
)
from telcodesk.customers.models import (
    Address,
    Channel,
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

TABS = ("overview", "services", "billing", "timeline", "audit")
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
AUDIT_LIMIT = 100


def console_view(view: ConsoleView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Signed-in only; passes the acting Actor; domain refusals become 404 / 403.

    A 403 is a console page that says why and what to do next (the domain message).
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            actor = request_actor(request)
            if actor is None:
                raise NotFound(_("You are not a member of any organization. Ask an administrator."))
            return view(request, actor, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            return render(
                request,
                "console/forbidden.html",
                {"message": exc.message, "nav_active": ""},
                status=403,
            )

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


# --- the audit-log tab (presentation only) ----------------------------------------------

AUDIT_OBJECT_LABELS = {
    "customer": gettext_lazy("Profile"),
    "contact_point": gettext_lazy("Contact"),
    "identity_document": gettext_lazy("Identity document"),
    "address": gettext_lazy("Address"),
}
AUDIT_FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "value": gettext_lazy("Number or address"),
    "number": gettext_lazy("Number"),
    "one_line": gettext_lazy("Address"),
    "purpose": gettext_lazy("Use"),
}
# Stored values that are codes: shown with the label the agent knows.
AUDIT_VALUE_LABELS: dict[tuple[str, str], dict[str, Any]] = {
    ("customer", "kind"): dict(Customer.Kind.choices),
    ("customer", "segment"): dict(Customer.Segment.choices),
    ("customer", "preferred_channel"): dict(Channel.choices),
    ("customer", "preferred_language"): dict(LANGUAGE_CHOICES),
    ("contact_point", "kind"): dict(ContactPoint.Kind.choices),
    ("address", "purpose"): dict(Address.Purpose.choices),
}


@dataclass(frozen=True)
class AuditChange:
    field: str
    old: str
    new: str
    is_change: bool


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLog
    who: str
    what: str
    changes: list[AuditChange]


def _audit_field_label(object_type: str, name: str) -> str:
    if object_type == "customer" and name in CustomerProfileForm.base_fields:
        return str(CustomerProfileForm.base_fields[name].label)
    if object_type == "identity_document" and name == "kind":
        return _("Document type")
    if name == "kind":
        return _("Type")
    label = AUDIT_FIELD_LABELS.get(name)
    return str(label) if label else name.replace("_", " ")


def _audit_value(object_type: str, name: str, value: object) -> str:
    text = "" if value is None else str(value)
    if text in ("", "None"):
        return "—"
    if text in ("True", "False"):
        return _("yes") if text == "True" else _("no")
    if object_type == "identity_document" and name == "kind":
        return document_kind_label(text)
    if object_type == "contact_point" and name == "value" and text.startswith("+"):
        return phone_display(text)
    label = AUDIT_VALUE_LABELS.get((object_type, name), {}).get(text)
    return str(label) if label else text


def audit_rows(entries: list[AuditLog]) -> list[AuditRow]:
    """Audit entries as the tab shows them: who, about what, and each field's values.

    ``changes`` holds ``{field: [old, new]}`` for an update and ``{field: value}`` for
    a creation or a deletion (see customers.services). Who is the user's current name,
    or the name recorded at the time when the user no longer exists (or an API key).
    """
    rows = []
    for entry in entries:
        changes = []
        for name, value in (entry.changes or {}).items():
            is_change = isinstance(value, list) and len(value) == 2
            if not is_change and value in (None, "", "None"):
                continue  # a blank field of a new record says nothing
            old, new = value if is_change else ("", value)
            changes.append(
                AuditChange(
                    field=_audit_field_label(entry.object_type, name),
                    old=_audit_value(entry.object_type, name, old) if is_change else "",
                    new=_audit_value(entry.object_type, name, new),
                    is_change=is_change,
                )
            )
        if entry.actor is not None:
            who = entry.actor.get_full_name() or entry.actor.get_username()
        else:
            who = entry.actor_label or _("Unknown")
        what = AUDIT_OBJECT_LABELS.get(entry.object_type, entry.object_type)
        rows.append(AuditRow(entry=entry, who=who, what=str(what), changes=changes))
    return rows


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
        "can_audit": actor.can("audit.view"),
        # The support parts of the page, each loaded from its own app (htmx).
        "can_network": actor.can("network.view"),
        "can_tickets": actor.can("ticket.view"),
        "can_playbooks": actor.can("playbook.view"),
        "verified_recently_since": profile.today - timedelta(days=180),
    }


def _audit_page(request: HttpRequest, actor: Actor, customer_id: int) -> dict[str, Any]:
    """One page of the audit log: ``?page=2`` for older entries, ``?show=changes``."""
    page = request.GET.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    changes_only = request.GET.get("show") == "changes"
    entries = selectors.customer_audit_log(
        actor=actor,
        customer_id=customer_id,
        limit=AUDIT_LIMIT + 1,  # one more tells whether there is an older page
        offset=(number - 1) * AUDIT_LIMIT,
        changes_only=changes_only,
    )
    return {
        "audit_rows": audit_rows(entries[:AUDIT_LIMIT]),
        "audit_page": number,
        "audit_has_older": len(entries) > AUDIT_LIMIT,
        "audit_changes_only": changes_only,
        "audit_show": "changes" if changes_only else "",
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
    audit: dict[str, Any] = {}
    if tab == "audit":
        # First, so that a refused or unknown request records no view; this page's own
        # view is recorded once, below, and shows in the log from the next visit.
        audit = _audit_page(request, actor, customer_id)
    context = _page_context(actor, customer_id, audit=True)
    context.update(_forms_for(context["customer"]))
    context.update(audit)
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
