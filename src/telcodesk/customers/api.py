"""Customers, their contacts, documents, addresses and subscriptions, and search.

Views validate the shape of the input (pydantic: types, lengths, enum values) and
call a selector or a service with ``request.auth`` (the Actor); the domain rules and
the organization scoping live there. Objects of another organization, or not assigned
to a reseller, answer 404 exactly like ids that do not exist.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import IPvAnyAddress

from telcodesk.core.api_schemas import CONFLICT_ERRORS, ERRORS, InputSchema
from telcodesk.core.tenancy import Actor
from telcodesk.customers import selectors, services
from telcodesk.customers.addresses import ADDRESS_TEXT_FIELDS
from telcodesk.customers.documents import DOCUMENT_TYPES, format_document
from telcodesk.customers.models import (
    Address,
    Channel,
    ContactPoint,
    Customer,
    IdentityDocument,
    ServiceType,
    Subscription,
    SubscriptionStatus,
    Technology,
)
from telcodesk.customers.phones import format_phone
from telcodesk.customers.search import customer_search

router = Router(tags=["customers"])

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 25
MAX_SEARCH_RESULTS = 100  # customer_search returns at most 100
MAX_NESTED = 10

# --- enums: the model choices, so an unknown value is a 422 and the schema lists them ---

if TYPE_CHECKING:
    CustomerKind = str
    SegmentValue = str
    LanguageValue = str
    ChannelValue = str
    ContactLabel = str
    AddressPurpose = str
    DocumentKind = str
    ServiceTypeValue = str
    TechnologyValue = str
    StatusValue = str
else:
    CustomerKind = Literal[tuple(Customer.Kind.values)]
    SegmentValue = Literal[tuple(Customer.Segment.values)]
    LanguageValue = Literal["", "es", "pt-br", "en"]
    ChannelValue = Literal[("", *Channel.values)]
    ContactLabel = Literal[tuple(ContactPoint.Label.values)]
    AddressPurpose = Literal[tuple(Address.Purpose.values)]
    DocumentKind = Literal[tuple(DOCUMENT_TYPES)]
    ServiceTypeValue = Literal[tuple(ServiceType.values)]
    TechnologyValue = Literal[("", *Technology.values)]
    StatusValue = Literal[tuple(SubscriptionStatus.values)]


def _text(max_length: int, *, min_length: int = 0) -> Any:
    """A string field with the model column's max length (blank allowed unless min_length)."""
    if min_length:
        return Field(..., min_length=min_length, max_length=max_length)
    return Field("", max_length=max_length)


WRITE_ERRORS = CONFLICT_ERRORS

# --- input --------------------------------------------------------------------------


class ConsentsIn(InputSchema):
    whatsapp: bool = False
    sms: bool = False
    email: bool = False
    calls: bool = True


class ConsentsPatch(InputSchema):
    whatsapp: bool | None = None
    sms: bool | None = None
    email: bool | None = None
    calls: bool | None = None


class DocumentIn(InputSchema):
    kind: DocumentKind
    number: str = Field(..., min_length=1, max_length=32)
    issued_in: str = _text(8)
    complement: str = _text(4)
    is_primary: bool = True


class PhoneIn(InputSchema):
    raw: str = Field(..., min_length=1, max_length=32, description="as typed; stored as E.164")
    label: ContactLabel = "mobile"
    is_whatsapp: bool = False
    is_primary: bool = False


class EmailIn(InputSchema):
    raw: str = Field(..., min_length=1, max_length=254)
    label: ContactLabel = "home"
    is_primary: bool = False


Coordinate = Annotated[Decimal, Field(max_digits=9, decimal_places=6)]


class AddressIn(InputSchema):
    purpose: AddressPurpose = "home"
    street: str = _text(160)
    number: str = _text(16)
    between_street_a: str = _text(120)
    between_street_b: str = _text(120)
    corner_street: str = _text(120)
    building_type: str = _text(16)
    building_name: str = _text(120)
    block: str = _text(16)
    floor: str = _text(8)
    apartment: str = _text(16)
    zone: str = _text(120)
    neighbourhood: str = _text(120)
    city: str = _text(120)
    state: str = _text(120)
    postal_code: str = _text(16)
    reference: str = _text(1000)
    is_rural: bool = False
    latitude: Coordinate | None = Field(None, ge=-90, le=90)
    longitude: Coordinate | None = Field(None, ge=-180, le=180)


class CustomerIn(InputSchema):
    kind: CustomerKind = "person"
    first_name: str = _text(120)
    last_name: str = _text(120)
    company_name: str = _text(200)
    birth_date: date | None = None
    segment: SegmentValue = "residential"
    preferred_language: LanguageValue = ""
    preferred_channel: ChannelValue = ""
    consents: ConsentsIn = Field(default_factory=ConsentsIn)
    external_ref: str = _text(64)
    notes: str = _text(5000)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=MAX_NESTED)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=MAX_NESTED)
    emails: list[EmailIn] = Field(default_factory=list, max_length=MAX_NESTED)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=MAX_NESTED)


class CustomerPatch(InputSchema):
    """Only the fields sent change; ``null`` is accepted only for ``birth_date``."""

    kind: CustomerKind = "person"
    first_name: str = _text(120)
    last_name: str = _text(120)
    company_name: str = _text(200)
    birth_date: date | None = None
    segment: SegmentValue = "residential"
    preferred_language: LanguageValue = ""
    preferred_channel: ChannelValue = ""
    consents: ConsentsPatch = Field(default_factory=ConsentsPatch)
    external_ref: str = _text(64)
    notes: str = _text(5000)


class SubscriptionIn(InputSchema):
    service_id: str = Field(..., min_length=1, max_length=40)
    contract_number: str = Field(..., min_length=1, max_length=40)
    service_type: ServiceTypeValue
    started_on: date
    plan_code: str = _text(64)
    technology: TechnologyValue = ""
    status: StatusValue = "active"
    permanence_until: date | None = None
    installation_address_id: int | None = Field(None, ge=1)
    cpe_ip: IPvAnyAddress | None = None
    olt_name: str = _text(64)
    pon_port: str = _text(32)
    onu_index: int | None = Field(None, ge=0, le=2_147_483_647)
    monthly_price: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


class StatusChangeIn(InputSchema):
    to_status: StatusValue
    reason: str = Field(..., max_length=240)


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class CustomerFilters(PageQuery):
    segment: SegmentValue | None = None
    q: str = Field("", max_length=100, description="name, phone, document or service id")


class SubscriptionFilters(PageQuery):
    status: StatusValue | None = None
    customer_id: int | None = Field(None, ge=1)


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=100)
    limit: int = Field(20, ge=1, le=50)


# --- output -------------------------------------------------------------------------


class CustomerSummaryOut(Schema):
    id: int
    kind: str
    display_name: str
    first_name: str
    last_name: str
    company_name: str
    birth_date: date | None
    segment: str
    preferred_language: str
    preferred_channel: str
    created_at: datetime
    updated_at: datetime


class ConsentsOut(Schema):
    whatsapp: bool
    sms: bool
    email: bool
    calls: bool
    updated_at: datetime | None


class DocumentOut(Schema):
    id: int
    kind: str
    number: str = Field(description="compact form, as stored and searched")
    formatted: str = Field(description="the form printed on the document")
    issued_in: str
    complement: str
    is_primary: bool


class ContactOut(Schema):
    id: int
    kind: str
    value: str = Field(description="E.164 phone or lower-case e-mail")
    formatted: str
    label: str
    is_whatsapp: bool
    is_primary: bool
    verified_on: date | None


class AddressOut(Schema):
    id: int
    purpose: str
    country: str
    street: str
    number: str
    between_street_a: str
    between_street_b: str
    corner_street: str
    building_type: str
    building_name: str
    block: str
    floor: str
    apartment: str
    zone: str
    neighbourhood: str
    city: str
    state: str
    postal_code: str
    reference: str
    is_rural: bool
    latitude: str | None
    longitude: str | None
    one_line: str


class SubscriptionOut(Schema):
    id: int
    customer_id: int
    service_id: str
    contract_number: str
    service_type: str
    technology: str
    plan_code: str
    plan_name: str
    speed_mbps: str | None
    monthly_price: str
    currency: str
    status: str
    status_changed_at: datetime | None
    started_on: date
    permanence_until: date | None
    installation_address_id: int | None
    cpe_ip: str | None
    olt_name: str
    pon_port: str
    onu_index: int | None


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    reason: str
    at: datetime


class SubscriptionDetailOut(SubscriptionOut):
    status_history: list[StatusChangeOut]


class BalanceOut(Schema):
    currency: str
    outstanding: str
    overdue: str
    days_overdue: int
    open_invoices: int


class CustomerOut(CustomerSummaryOut):
    consents: ConsentsOut
    external_ref: str
    notes: str
    documents: list[DocumentOut]
    contacts: list[ContactOut]
    addresses: list[AddressOut]
    subscriptions: list[SubscriptionOut]
    balance: BalanceOut | None = Field(description="null when the role may not see the ledger")


class CustomerPage(Schema):
    items: list[CustomerSummaryOut]
    count: int
    page: int
    pages: int


class SubscriptionPage(Schema):
    items: list[SubscriptionOut]
    count: int
    page: int
    pages: int


class SearchHitOut(Schema):
    customer: CustomerSummaryOut
    matched_on: str
    score: float


class SearchOut(Schema):
    query: str
    hits: list[SearchHitOut]


# --- building output ----------------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def customer_summary(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "kind": customer.kind,
        "display_name": customer.display_name,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "company_name": customer.company_name,
        "birth_date": customer.birth_date,
        "segment": customer.segment,
        "preferred_language": customer.preferred_language,
        "preferred_channel": customer.preferred_channel,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def document_out(document: IdentityDocument) -> dict[str, Any]:
    return {
        "id": document.pk,
        "kind": document.kind,
        "number": document.number,
        "formatted": format_document(
            document.kind,
            document.number,
            issued_in=document.issued_in,
            complement=document.complement,
        ),
        "issued_in": document.issued_in,
        "complement": document.complement,
        "is_primary": document.is_primary,
    }


def contact_out(contact: ContactPoint, *, region: str) -> dict[str, Any]:
    is_phone = contact.kind == ContactPoint.Kind.PHONE
    return {
        "id": contact.pk,
        "kind": contact.kind,
        "value": contact.value,
        "formatted": format_phone(contact.value, region=region) if is_phone else contact.value,
        "label": contact.label,
        "is_whatsapp": contact.is_whatsapp,
        "is_primary": contact.is_primary,
        "verified_on": contact.verified_on,
    }


def address_out(address: Address) -> dict[str, Any]:
    return {
        "id": address.pk,
        "purpose": address.purpose,
        "country": address.country,
        **{name: getattr(address, name) for name in ADDRESS_TEXT_FIELDS},
        "is_rural": address.is_rural,
        "latitude": _decimal_text(address.latitude),
        "longitude": _decimal_text(address.longitude),
        "one_line": address.one_line,
    }


def subscription_out(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "customer_id": subscription.customer_id,
        "service_id": subscription.service_id,
        "contract_number": subscription.contract_number,
        "service_type": subscription.service_type,
        "technology": subscription.technology,
        "plan_code": subscription.plan.code if subscription.plan else "",
        "plan_name": subscription.plan_name,
        "speed_mbps": _decimal_text(subscription.speed_mbps),
        "monthly_price": str(subscription.monthly_price),
        "currency": subscription.currency,
        "status": subscription.status,
        "status_changed_at": subscription.status_changed_at,
        "started_on": subscription.started_on,
        "permanence_until": subscription.permanence_until,
        "installation_address_id": subscription.installation_address_id,
        "cpe_ip": subscription.cpe_ip,
        "olt_name": subscription.olt_name,
        "pon_port": subscription.pon_port,
        "onu_index": subscription.onu_index,
    }


def customer_out(profile: selectors.CustomerProfile, *, actor: Actor) -> dict[str, Any]:
    customer = profile.customer
    region = customer.organization.country
    balance = profile.balance
    return {
        **customer_summary(customer),
        "consents": {
            "whatsapp": customer.consent_whatsapp,
            "sms": customer.consent_sms,
            "email": customer.consent_email,
            "calls": customer.consent_calls,
            "updated_at": customer.consent_updated_at,
        },
        "external_ref": customer.external_ref,
        "notes": customer.notes,
        "documents": [document_out(document) for document in profile.documents],
        "contacts": [contact_out(contact, region=region) for contact in profile.contacts],
        "addresses": [address_out(address) for address in profile.addresses],
        "subscriptions": [subscription_out(sub) for sub in profile.subscriptions],
        "balance": {
            "currency": balance.currency,
            "outstanding": str(balance.outstanding),
            "overdue": str(balance.overdue),
            "days_overdue": balance.days_overdue,
            "open_invoices": balance.open_invoices,
        }
        if actor.can("ledger.view")
        else None,
    }


def _page(items: list[Any], *, count: int, query: PageQuery) -> dict[str, Any]:
    return {
        "items": items,
        "count": count,
        "page": query.page,
        "pages": math.ceil(count / query.page_size) if count else 0,
    }


def _slice(query: PageQuery) -> slice:
    start = (query.page - 1) * query.page_size
    return slice(start, start + query.page_size)


def _profile_fields(payload: CustomerIn | CustomerPatch, *, partial: bool) -> dict[str, Any]:
    """The body as keyword arguments of customer_create / customer_update."""
    exclude = {"consents", "documents", "phones", "emails", "addresses"}
    fields = payload.model_dump(exclude=exclude, exclude_unset=partial)
    consents = payload.consents.model_dump(exclude_unset=partial, exclude_none=partial)
    fields.update({f"consent_{name}": value for name, value in consents.items()})
    return fields


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


# --- customers ----------------------------------------------------------------------


@router.get("/customers", response={200: CustomerPage, **ERRORS}, summary="List customers")
def customers_list(request: HttpRequest, filters: Query[CustomerFilters]) -> dict[str, Any]:
    """Customers the caller may see, oldest first; ``q`` searches (best match first)."""
    actor = _actor(request)
    if filters.q.strip():
        hits = customer_search(actor=actor, query=filters.q, limit=MAX_SEARCH_RESULTS)
        found = [
            hit.customer
            for hit in hits
            if filters.segment is None or hit.customer.segment == filters.segment
        ]
        return _page(
            [customer_summary(c) for c in found[_slice(filters)]], count=len(found), query=filters
        )
    customers: QuerySet[Customer] = selectors.customers_visible(actor=actor).order_by("id")
    if filters.segment is not None:
        customers = customers.filter(segment=filters.segment)
    return _page(
        [customer_summary(c) for c in customers[_slice(filters)]],
        count=customers.count(),
        query=filters,
    )


@router.post("/customers", response={201: CustomerOut, **WRITE_ERRORS}, summary="Register")
def customers_create(request: HttpRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = services.customer_create(
        actor=actor,
        documents=[doc.model_dump() for doc in payload.documents],
        phones=[phone.model_dump() for phone in payload.phones],
        emails=[email.model_dump() for email in payload.emails],
        addresses=[address.model_dump() for address in payload.addresses],
        **_profile_fields(payload, partial=False),
    )
    profile = selectors.customer_profile(actor=actor, customer_id=customer.pk, audit=False)
    return Status(201, customer_out(profile, actor=actor))


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Profile")
def customers_get(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    """The full profile; reading it is written to the personal-data audit log."""
    actor = _actor(request)
    profile = selectors.customer_profile(actor=actor, customer_id=customer_id)
    return customer_out(profile, actor=actor)


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **WRITE_ERRORS})
def customers_update(
    request: HttpRequest, customer_id: int, payload: CustomerPatch
) -> dict[str, Any]:
    actor = _actor(request)
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    services.customer_update(
        actor=actor, customer=customer, **_profile_fields(payload, partial=True)
    )
    profile = selectors.customer_profile(actor=actor, customer_id=customer_id, audit=False)
    return customer_out(profile, actor=actor)


@router.delete("/customers/{customer_id}", response={204: None, **ERRORS}, summary="Delete")
def customers_delete(request: HttpRequest, customer_id: int) -> Status[None]:
    """Delete a customer and its records (administrators only); audited."""
    services.customer_delete(actor=_actor(request), customer_id=customer_id)
    return Status(204, None)


@router.post("/customers/{customer_id}/phones", response={201: ContactOut, **WRITE_ERRORS})
def customers_phone_add(
    request: HttpRequest, customer_id: int, payload: PhoneIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    contact = services.phone_add(actor=actor, customer=customer, **payload.model_dump())
    return Status(201, contact_out(contact, region=customer.organization.country))


@router.post("/customers/{customer_id}/emails", response={201: ContactOut, **WRITE_ERRORS})
def customers_email_add(
    request: HttpRequest, customer_id: int, payload: EmailIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    contact = services.email_add(actor=actor, customer=customer, **payload.model_dump())
    return Status(201, contact_out(contact, region=customer.organization.country))


@router.post("/customers/{customer_id}/documents", response={201: DocumentOut, **WRITE_ERRORS})
def customers_document_add(
    request: HttpRequest, customer_id: int, payload: DocumentIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    document = services.document_add(actor=actor, customer=customer, **payload.model_dump())
    return Status(201, document_out(document))


@router.post("/customers/{customer_id}/addresses", response={201: AddressOut, **WRITE_ERRORS})
def customers_address_add(
    request: HttpRequest, customer_id: int, payload: AddressIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    address = services.address_add(actor=actor, customer=customer, **payload.model_dump())
    return Status(201, address_out(address))


@router.post("/contacts/{contact_id}/confirm", response={200: ContactOut, **WRITE_ERRORS})
def contacts_confirm(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    """The phone or e-mail was confirmed with the customer today."""
    actor = _actor(request)
    contact = services.contact_confirm(actor=actor, contact_id=contact_id)
    return contact_out(contact, region=contact.customer.organization.country)


# --- subscriptions ------------------------------------------------------------------


@router.get("/subscriptions", response={200: SubscriptionPage, **ERRORS}, tags=["subscriptions"])
def subscriptions_list(request: HttpRequest, filters: Query[SubscriptionFilters]) -> dict[str, Any]:
    actor = _actor(request)
    subscriptions = (
        selectors.subscriptions_visible(actor=actor).select_related("plan").order_by("id")
    )
    if filters.status is not None:
        subscriptions = subscriptions.filter(status=filters.status)
    if filters.customer_id is not None:
        subscriptions = subscriptions.filter(customer_id=filters.customer_id)
    return _page(
        [subscription_out(s) for s in subscriptions[_slice(filters)]],
        count=subscriptions.count(),
        query=filters,
    )


@router.post(
    "/customers/{customer_id}/subscriptions",
    response={201: SubscriptionOut, **WRITE_ERRORS},
    tags=["subscriptions"],
)
def subscriptions_create(
    request: HttpRequest, customer_id: int, payload: SubscriptionIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = selectors.customer_get(actor=actor, customer_id=customer_id)
    fields = payload.model_dump()
    fields["cpe_ip"] = str(payload.cpe_ip) if payload.cpe_ip is not None else None
    subscription = services.subscription_create(actor=actor, customer=customer, **fields)
    return Status(201, subscription_out(subscription))


def _subscription_detail(subscription: Subscription) -> dict[str, Any]:
    history = [
        {
            "from_status": change.from_status,
            "to_status": change.to_status,
            "reason": change.reason,
            "at": change.at,
        }
        for change in subscription.status_history.all()
    ]
    return {**subscription_out(subscription), "status_history": history}


@router.get(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionDetailOut, **ERRORS},
    tags=["subscriptions"],
)
def subscriptions_get(request: HttpRequest, subscription_id: int) -> dict[str, Any]:
    actor = _actor(request)
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    return _subscription_detail(subscription)


@router.post(
    "/subscriptions/{subscription_id}/status",
    response={200: SubscriptionDetailOut, **WRITE_ERRORS},
    tags=["subscriptions"],
    summary="Block, unblock, disconnect or cancel",
)
def subscriptions_status_change(
    request: HttpRequest, subscription_id: int, payload: StatusChangeIn
) -> dict[str, Any]:
    actor = _actor(request)
    services.subscription_status_change(
        actor=actor,
        subscription_id=subscription_id,
        to_status=payload.to_status,
        reason=payload.reason,
    )
    subscription = selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    return _subscription_detail(subscription)


# --- search -------------------------------------------------------------------------


@router.get("/search", response={200: SearchOut, **ERRORS}, tags=["search"])
def search(request: HttpRequest, query: Query[SearchQuery]) -> dict[str, Any]:
    """Customers by name (typo-tolerant), phone, document or service id."""
    actor = _actor(request)
    hits = customer_search(actor=actor, query=query.q, limit=query.limit)
    return {
        "query": query.q,
        "hits": [
            {
                "customer": customer_summary(hit.customer),
                "matched_on": hit.matched_on,
                "score": hit.score,
            }
            for hit in hits
        ],
    }
