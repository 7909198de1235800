"""The JSON API under /api/v1: auth, scoping, the error format, bad input, pagination.

Every refusal is checked twice: the exact answer, and that nothing in the database
changed (counts before and after, the row as it was).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from telcodesk.accounts.models import AuditLog, Organization
from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create
from telcodesk.core.tenancy import Actor
from telcodesk.customers import services
from telcodesk.customers.models import (
    Address,
    ContactPoint,
    Customer,
    IdentityDocument,
    Subscription,
    SubscriptionStatusChange,
)
from tests.conftest import World

API = "/api/v1"
NO_SUCH_CUSTOMER = "No such customer. Search again by name, phone or document."
ROLE_REFUSED = "Your role does not allow this action. Ask a supervisor or an administrator."
UNAUTHENTICATED = (
    "Authentication required: send an API key as 'Authorization: Bearer tdk_...' "
    "or 'X-API-Key', or sign in to the console."
)


class Keys:
    """API key secrets per caller; each key has the role of the person it stands for."""

    def __init__(self, world: World) -> None:
        operator_admin = world.actor(world.admin)
        self.agent = api_key_create(actor=operator_admin, name="agent", role=Role.AGENT)[1]
        self.back_office = api_key_create(
            actor=operator_admin, name="back office", role=Role.BACK_OFFICE
        )[1]
        self.admin = api_key_create(actor=operator_admin, name="admin", role=Role.ADMIN)[1]
        self.outsider = api_key_create(
            actor=world.actor(world.outsider), name="outsider", role=Role.ADMIN
        )[1]
        reseller_admin = Actor(organization=world.reseller, role=Role.ADMIN, label="test")
        self.reseller_agent = api_key_create(
            actor=reseller_admin, name="reseller agent", role=Role.AGENT
        )[1]


@pytest.fixture
def keys(world: World) -> Keys:
    return Keys(world)


def call(
    method: str,
    path: str,
    key: str | None,
    body: Any = None,
    *,
    lang: str = "en",
    raw: bytes | None = None,
    client: Client | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request; returns (status, decoded JSON)."""
    client = client or Client()
    headers = dict(headers or {})
    if key is not None:
        headers.setdefault("Authorization", f"Bearer {key}")
    headers["Accept-Language"] = lang
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    response = client.generic(
        method, API + path, data=data, content_type="application/json", headers=headers
    )
    return response.status_code, response.json()


def make_customer(world: World, **fields: Any) -> Customer:
    profile: dict[str, Any] = {"first_name": "Juana", "last_name": "Quispe Mamani"}
    profile.update(fields)
    return services.customer_create(actor=world.actor(world.agent), **profile)


def make_subscription(world: World, customer: Customer, service_id: str = "FTTH-1") -> Subscription:
    return services.subscription_create(
        actor=world.actor(world.back_office),
        customer=customer,
        service_id=service_id,
        contract_number="C-1",
        service_type="fiber_ftth",
        started_on=date(2024, 3, 1),
        monthly_price=None,
    )


def counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "documents": IdentityDocument.objects.count(),
        "contacts": ContactPoint.objects.count(),
        "addresses": Address.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "status_changes": SubscriptionStatusChange.objects.count(),
    }


def snapshot(customer: Customer) -> dict[str, Any]:
    row = Customer.objects.filter(pk=customer.pk).values().get()
    return {**row, "contacts": list(customer.contacts.values_list("value", flat=True))}


def ts(value: Any) -> str:
    """A datetime as ninja renders it (DjangoJSONEncoder)."""
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    return text.replace("+00:00", "Z")


# --- happy paths --------------------------------------------------------------------


@pytest.mark.django_db
def test_it_registers_a_customer_with_documents_contacts_and_addresses(
    world: World, keys: Keys
) -> None:
    status, body = call(
        "POST",
        "/customers",
        keys.agent,
        {
            "kind": "person",
            "first_name": "  Juana ",
            "last_name": "Quispe  Mamani",
            "birth_date": "1990-05-17",
            "segment": "residential",
            "preferred_language": "es",
            "preferred_channel": "whatsapp",
            "consents": {"whatsapp": True, "sms": False, "email": False, "calls": True},
            "documents": [{"kind": "bo_ci", "number": "1234567", "issued_in": "LP"}],
            "phones": [{"raw": "71234567", "is_whatsapp": True}],
            "emails": [{"raw": "Juana.Quispe@Example.com"}],
        },
    )

    assert status == 201, body
    customer = Customer.objects.get()
    document = IdentityDocument.objects.get()
    phone = ContactPoint.objects.get(kind="phone")
    email = ContactPoint.objects.get(kind="email")
    assert body == {
        "id": customer.pk,
        "kind": "person",
        "display_name": "Juana Quispe Mamani",
        "first_name": "Juana",
        "last_name": "Quispe Mamani",
        "company_name": "",
        "birth_date": "1990-05-17",
        "segment": "residential",
        "preferred_language": "es",
        "preferred_channel": "whatsapp",
        "created_at": ts(customer.created_at),
        "updated_at": ts(customer.updated_at),
        "consents": {
            "whatsapp": True,
            "sms": False,
            "email": False,
            "calls": True,
            "updated_at": ts(customer.consent_updated_at),
        },
        "external_ref": "",
        "notes": "",
        "documents": [
            {
                "id": document.pk,
                "kind": "bo_ci",
                "number": "1234567",
                "formatted": "1234567 LP",
                "issued_in": "LP",
                "complement": "",
                "is_primary": True,
            }
        ],
        "contacts": [
            {
                "id": email.pk,
                "kind": "email",
                "value": "juana.quispe@example.com",
                "formatted": "juana.quispe@example.com",
                "label": "home",
                "is_whatsapp": False,
                "is_primary": True,
                "verified_on": None,
            },
            {
                "id": phone.pk,
                "kind": "phone",
                "value": "+59171234567",
                "formatted": "71234567",
                "label": "mobile",
                "is_whatsapp": True,
                "is_primary": True,
                "verified_on": None,
            },
        ],
        "addresses": [],
        "subscriptions": [],
        "balance": {
            "currency": "BOB",
            "outstanding": "0",
            "overdue": "0",
            "days_overdue": 0,
            "open_invoices": 0,
        },
    }
    assert customer.organization == world.operator


@pytest.mark.django_db
def test_it_shows_the_full_profile_with_addresses_subscriptions_and_balance(
    world: World, keys: Keys
) -> None:
    customer = make_customer(world)
    address = services.address_add(
        actor=world.actor(world.agent),
        customer=customer,
        purpose="installation",
        street="Av. Blanco Galindo",
        number="1234",
        corner_street="Av. América",
        zone="Cala Cala",
        city="Cochabamba",
    )
    subscription = make_subscription(world, customer)
    today = timezone.localdate()
    services.invoice_register(
        actor=world.actor(world.back_office),
        customer=customer,
        number="F-1",
        period_start=today - timedelta(days=40),
        period_end=today - timedelta(days=10),
        amount="150.00",
        issued_on=today - timedelta(days=20),
        due_on=today - timedelta(days=6),
    )

    status, body = call("GET", f"/customers/{customer.pk}", keys.agent)

    assert status == 200, body
    assert body["addresses"] == [
        {
            "id": address.pk,
            "purpose": "installation",
            "country": "BO",
            "street": address.street,
            "number": address.number,
            "between_street_a": "",
            "between_street_b": "",
            "corner_street": address.corner_street,
            "building_type": "",
            "building_name": "",
            "block": "",
            "floor": "",
            "apartment": "",
            "zone": address.zone,
            "neighbourhood": "",
            "city": address.city,
            "state": address.state,
            "postal_code": "",
            "reference": "",
            "is_rural": False,
            "latitude": None,
            "longitude": None,
            "one_line": address.one_line,
        }
    ]
    assert address.one_line
    assert body["subscriptions"] == [
        {
            "id": subscription.pk,
            "customer_id": customer.pk,
            "service_id": "FTTH-1",
            "contract_number": "C-1",
            "service_type": "fiber_ftth",
            "technology": "",
            "plan_code": "",
            "plan_name": "",
            "speed_mbps": None,
            "monthly_price": "0.00",
            "currency": "BOB",
            "status": "active",
            "status_changed_at": ts(subscription.status_changed_at),
            "started_on": "2024-03-01",
            "permanence_until": None,
            "installation_address_id": None,
            "cpe_ip": None,
            "olt_name": "",
            "pon_port": "",
            "onu_index": None,
        }
    ]
    assert body["balance"] == {
        "currency": "BOB",
        "outstanding": "150.00",
        "overdue": "150.00",
        "days_overdue": 6,
        "open_invoices": 1,
    }
    # Reading a profile is personal-data access: it is audited.
    assert (
        AuditLog.objects.filter(
            action="view", object_type="customer", object_id=str(customer.pk)
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_it_changes_only_the_fields_sent(world: World, keys: Keys) -> None:
    customer = make_customer(world, segment="residential", birth_date=date(1990, 5, 17))

    status, body = call(
        "PATCH",
        f"/customers/{customer.pk}",
        keys.agent,
        {"last_name": "Quispe de Mamani", "consents": {"sms": True}, "birth_date": None},
    )

    assert status == 200, body
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("Juana", "Quispe de Mamani")
    assert customer.birth_date is None
    assert customer.segment == "residential"
    assert (customer.consent_sms, customer.consent_whatsapp, customer.consent_calls) == (
        True,
        False,
        True,
    )
    assert body["display_name"] == "Juana Quispe de Mamani"
    assert body["consents"]["sms"] is True
    assert body["birth_date"] is None


@pytest.mark.django_db
def test_it_adds_phones_emails_documents_and_addresses(world: World, keys: Keys) -> None:
    customer = make_customer(world)

    phone_status, phone = call(
        "POST",
        f"/customers/{customer.pk}/phones",
        keys.agent,
        {"raw": "4 4251234", "label": "home"},
    )
    email_status, email = call(
        "POST", f"/customers/{customer.pk}/emails", keys.agent, {"raw": "J@Example.org"}
    )
    doc_status, document = call(
        "POST",
        f"/customers/{customer.pk}/documents",
        keys.agent,
        {"kind": "bo_nit", "number": "1020304050", "is_primary": False},
    )
    address_status, address = call(
        "POST",
        f"/customers/{customer.pk}/addresses",
        keys.agent,
        {
            "purpose": "billing",
            "street": "Calle Jordán",
            "number": "250",
            "corner_street": "Calle Lanza",
            "zone": "Centro",
            "city": "Cochabamba",
        },
    )

    assert (phone_status, email_status, doc_status, address_status) == (201, 201, 201, 201)
    assert phone == {
        "id": ContactPoint.objects.get(kind="phone").pk,
        "kind": "phone",
        "value": "+59144251234",
        "formatted": "4 4251234",
        "label": "home",
        "is_whatsapp": False,
        "is_primary": True,
        "verified_on": None,
    }
    assert (email["value"], email["label"], email["is_primary"]) == (
        "j@example.org",
        "home",
        True,
    )
    assert document == {
        "id": IdentityDocument.objects.get().pk,
        "kind": "bo_nit",
        "number": "1020304050",
        "formatted": "1020304050",
        "issued_in": "",
        "complement": "",
        "is_primary": False,
    }
    stored = Address.objects.get()
    assert (address["id"], address["purpose"], address["one_line"]) == (
        stored.pk,
        "billing",
        stored.one_line,
    )


@pytest.mark.django_db
def test_an_agent_confirms_a_contact(world: World, keys: Keys) -> None:
    customer = make_customer(world, phones=[{"raw": "71234567"}])
    contact = customer.contacts.get()

    status, body = call("POST", f"/contacts/{contact.pk}/confirm", keys.agent)

    assert status == 200, body
    assert body["verified_on"] == timezone.localdate().isoformat()
    contact.refresh_from_db()
    assert contact.verified_on == timezone.localdate()


@pytest.mark.django_db
def test_it_lists_customers_a_page_at_a_time(world: World, keys: Keys) -> None:
    made = [make_customer(world, first_name=f"Cliente{n}") for n in range(5)]
    make_customer(
        world,
        first_name="Empresa",
        kind="company",
        company_name="Bluecom SRL",
        segment="small_business",
    )

    status, body = call("GET", "/customers?page=2&page_size=2&segment=residential", keys.agent)

    assert status == 200, body
    assert (body["count"], body["page"], body["pages"]) == (5, 2, 3)
    assert [item["id"] for item in body["items"]] == [made[2].pk, made[3].pk]
    _status, last = call("GET", "/customers?page=3&page_size=2&segment=residential", keys.agent)
    assert [item["id"] for item in last["items"]] == [made[4].pk]
    _status, beyond = call("GET", "/customers?page=9&page_size=2", keys.agent)
    assert (beyond["items"], beyond["count"], beyond["pages"]) == ([], 6, 3)


@pytest.mark.django_db
def test_it_lists_subscriptions_a_page_at_a_time(world: World, keys: Keys) -> None:
    customer = make_customer(world)
    subs = [make_subscription(world, customer, f"FTTH-{n}") for n in range(3)]
    other = services.customer_create(
        actor=world.actor(world.outsider), first_name="Maria", last_name="Silva"
    )
    services.subscription_create(
        actor=world.actor(world.outsider),
        customer=other,
        service_id="FTTH-0",
        contract_number="C-9",
        service_type="fiber_ftth",
        started_on=date(2024, 1, 1),
    )

    status, body = call("GET", "/subscriptions?page_size=2", keys.agent)

    assert status == 200, body
    assert (body["count"], body["page"], body["pages"]) == (3, 1, 2)
    assert [item["id"] for item in body["items"]] == [subs[0].pk, subs[1].pk]


@pytest.mark.django_db
def test_back_office_changes_a_subscription_status(world: World, keys: Keys) -> None:
    subscription = make_subscription(world, make_customer(world))

    status, body = call(
        "POST",
        f"/subscriptions/{subscription.pk}/status",
        keys.back_office,
        {"to_status": "blocked", "reason": "unpaid invoices"},
    )

    assert status == 200, body
    assert body["status"] == "blocked"
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in body["status_history"]] == [
        ("active", "blocked", "unpaid invoices"),
        ("", "active", ""),
    ]
    subscription.refresh_from_db()
    assert subscription.status == "blocked"


@pytest.mark.django_db
def test_back_office_registers_a_subscription(world: World, keys: Keys) -> None:
    customer = make_customer(world)

    status, body = call(
        "POST",
        f"/customers/{customer.pk}/subscriptions",
        keys.back_office,
        {
            "service_id": "ftth-100234",
            "contract_number": "c-2024-0042",
            "service_type": "fiber_ftth",
            "technology": "fiber",
            "started_on": "2024-03-01",
            "cpe_ip": "10.20.30.40",
            "monthly_price": "199.90",
        },
    )

    assert status == 201, body
    subscription = Subscription.objects.get()
    assert (body["id"], body["service_id"], body["contract_number"]) == (
        subscription.pk,
        "FTTH-100234",
        "C-2024-0042",
    )
    assert (body["cpe_ip"], body["monthly_price"], body["currency"]) == (
        "10.20.30.40",
        "199.90",
        "BOB",
    )


# --- bad input: 422 with the field named, nothing changed ---------------------------


BAD_CUSTOMER_BODIES = [
    pytest.param({"first_name": 123}, "body.first_name", "Write text here.", id="wrong-type"),
    pytest.param({"last_name": "x" * 121}, "body.last_name",
                 "Too long: at most 120 characters.", id="oversized"),
    pytest.param({"last_name": "Quispe", "segment": "vip"}, "body.segment",
                 "Choose one of: 'residential', 'small_business', 'corporate' or 'government'.",
                 id="unknown-enum"),
    pytest.param({"last_name": "Quispe", "phones": [{"label": "mobile"}]}, "body.phones.0.raw",
                 "This field is required.", id="missing-field"),
    pytest.param({"last_name": "Quispe", "birth_date": "17/05/1990"}, "body.birth_date",
                 "Write the date as YYYY-MM-DD.", id="bad-date"),
    pytest.param({"last_name": "Quispe", "favourite_colour": "red"}, "body.favourite_colour",
                 "This field does not exist.", id="unknown-field"),
    pytest.param({"last_name": "Quispe", "documents": [{"kind": "ssn", "number": "1"}]},
                 "body.documents.0.kind", None, id="unknown-document-kind"),
    pytest.param({"last_name": "Quispe", "consents": {"sms": "maybe"}}, "body.consents.sms",
                 "Write true or false.", id="wrong-bool"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field", "message"), BAD_CUSTOMER_BODIES)
def test_bad_customer_bodies_are_refused_and_change_nothing(
    world: World, keys: Keys, body: dict[str, Any], field: str, message: str | None
) -> None:
    before = counts()

    status, answer = call("POST", "/customers", keys.agent, body)

    assert status == 422, answer
    assert answer["code"] == "invalid"
    assert answer["message"] == f"The request has invalid fields: {field}."
    assert list(answer["details"]) == [field]
    if message is not None:
        assert answer["details"][field] == [message]
    assert counts() == before


@pytest.mark.django_db
def test_a_domain_rule_refusal_uses_the_same_format_and_changes_nothing(
    world: World, keys: Keys
) -> None:
    before = counts()

    status, answer = call(
        "POST", "/customers", keys.agent, {"last_name": "Quispe", "phones": [{"raw": "12"}]}
    )

    assert status == 422, answer
    assert answer["code"] == "invalid_phone"
    assert set(answer) == {"code", "message", "details"}
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "x" * 121}, "body.last_name"),
        ({"kind": None}, "body.kind"),
        ({"segment": "platinum"}, "body.segment"),
        ({"preferred_channel": "fax"}, "body.preferred_channel"),
        ({"birth_date": 19900517}, "body.birth_date"),
    ],
)
def test_bad_patches_are_refused_and_change_nothing(
    world: World, keys: Keys, body: dict[str, Any], field: str
) -> None:
    customer = make_customer(world)
    before = snapshot(customer)

    status, answer = call("PATCH", f"/customers/{customer.pk}", keys.agent, body)

    assert status == 422, answer
    assert (answer["code"], list(answer["details"])) == ("invalid", [field])
    assert snapshot(customer) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contract_number": "C-1", "service_type": "fiber_ftth", "started_on": "2024-03-01"},
         "body.service_id"),
        ({"service_id": "S", "contract_number": "C", "service_type": "carrier_pigeon",
          "started_on": "2024-03-01"}, "body.service_type"),
        ({"service_id": "S", "contract_number": "C", "service_type": "adsl",
          "started_on": "2024-03-01", "status": "frozen"}, "body.status"),
        ({"service_id": "S" * 41, "contract_number": "C", "service_type": "adsl",
          "started_on": "2024-03-01"}, "body.service_id"),
        ({"service_id": "S", "contract_number": "C", "service_type": "adsl",
          "started_on": "2024-03-01", "onu_index": "first"}, "body.onu_index"),
        ({"service_id": "S", "contract_number": "C", "service_type": "adsl",
          "started_on": "2024-03-01", "cpe_ip": "999.1.1.1"}, "body.cpe_ip"),
    ],
)  # fmt: skip
def test_bad_subscription_bodies_are_refused_and_change_nothing(
    world: World, keys: Keys, body: dict[str, Any], field: str
) -> None:
    customer = make_customer(world)
    before = counts()

    status, answer = call("POST", f"/customers/{customer.pk}/subscriptions", keys.back_office, body)

    assert status == 422, answer
    assert (answer["code"], list(answer["details"])) == ("invalid", [field])
    assert counts() == before


@pytest.mark.django_db
def test_an_unknown_status_is_refused(world: World, keys: Keys) -> None:
    subscription = make_subscription(world, make_customer(world))
    before = counts()

    status, answer = call(
        "POST",
        f"/subscriptions/{subscription.pk}/status",
        keys.back_office,
        {"to_status": "suspended", "reason": "x"},
    )

    assert status == 422
    assert list(answer["details"]) == ["body.to_status"]
    assert counts() == before


@pytest.mark.django_db
def test_page_size_is_capped_at_200(world: World, keys: Keys) -> None:
    status, answer = call("GET", "/customers?page_size=201", keys.agent)

    assert status == 422
    assert answer == {
        "code": "invalid",
        "message": "The request has invalid fields: query.page_size.",
        "details": {"query.page_size": ["Too large: the maximum is 200."]},
    }


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_refused(world: World, keys: Keys) -> None:
    before = counts()

    status, answer = call("POST", "/customers", keys.agent, raw=b"{not json")

    assert status == 400
    assert answer == {
        "code": "invalid",
        "message": "The request could not be read: send valid JSON.",
        "details": {},
    }
    assert counts() == before


@pytest.mark.django_db
def test_an_oversized_body_is_refused(world: World, keys: Keys, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()

    status, answer = call("POST", "/customers", keys.agent, {"notes": "x" * 2000})

    assert status == 413
    assert answer["code"] == "too_large"
    assert counts() == before


# --- other organizations and resellers: 404, nothing changed ------------------------


@pytest.mark.django_db
def test_an_outsider_cannot_read_or_change_another_organizations_customer(
    world: World, keys: Keys
) -> None:
    customer = make_customer(world, phones=[{"raw": "71234567"}])
    contact = customer.contacts.get()
    before, before_counts = snapshot(customer), counts()
    missing_id = Customer.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]
    not_found = {"code": "not_found", "message": NO_SUCH_CUSTOMER, "details": {}}

    answers = [
        call("GET", f"/customers/{customer.pk}", keys.outsider),
        call("PATCH", f"/customers/{customer.pk}", keys.outsider, {"last_name": "Hacked"}),
        call("POST", f"/customers/{customer.pk}/phones", keys.outsider, {"raw": "+59171111111"}),
        call("POST", f"/customers/{customer.pk}/documents", keys.outsider,
             {"kind": "bo_ci", "number": "7654321"}),
        call("POST", f"/contacts/{contact.pk}/confirm", keys.outsider),
    ]  # fmt: skip

    assert answers == [(404, not_found)] * 5
    # exactly what an id that does not exist answers: nothing leaks
    assert call("GET", f"/customers/{missing_id}", keys.outsider) == (404, not_found)
    assert snapshot(customer) == before
    assert counts() == before_counts
    contact.refresh_from_db()
    assert contact.verified_on is None
    assert not AuditLog.objects.filter(organization=world.other_operator).exists()


@pytest.mark.django_db
def test_an_outsider_cannot_see_or_change_another_organizations_subscription(
    world: World, keys: Keys
) -> None:
    subscription = make_subscription(world, make_customer(world))
    before = counts()

    got = call("GET", f"/subscriptions/{subscription.pk}", keys.outsider)
    changed = call(
        "POST",
        f"/subscriptions/{subscription.pk}/status",
        keys.outsider,
        {"to_status": "cancelled", "reason": "x"},
    )
    listed = call("GET", "/subscriptions", keys.outsider)

    not_found = {
        "code": "not_found",
        "message": "No such service. Check the service ID and try again.",
        "details": {},
    }
    assert got == (404, not_found)
    assert changed == (404, not_found)
    assert listed == (200, {"items": [], "count": 0, "page": 1, "pages": 0})
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert counts() == before


@pytest.mark.django_db
def test_a_reseller_agent_sees_a_customer_only_once_assigned(world: World, keys: Keys) -> None:
    customer = make_customer(world)
    make_customer(world, first_name="Pedro", last_name="Rojas")

    before = call("GET", f"/customers/{customer.pk}", keys.reseller_agent)
    listed_before = call("GET", "/customers", keys.reseller_agent)
    services.customer_assign(
        actor=world.actor(world.supervisor), customer=customer, reseller=world.reseller
    )
    after = call("GET", f"/customers/{customer.pk}", keys.reseller_agent)
    _status, listed_after = call("GET", "/customers", keys.reseller_agent)

    assert before == (404, {"code": "not_found", "message": NO_SUCH_CUSTOMER, "details": {}})
    assert listed_before == (200, {"items": [], "count": 0, "page": 1, "pages": 0})
    assert after[0] == 200
    assert after[1]["id"] == customer.pk
    assert [item["id"] for item in listed_after["items"]] == [customer.pk]


@pytest.mark.django_db
def test_search_is_scoped_to_what_the_caller_may_see(world: World, keys: Keys) -> None:
    ours = make_customer(world, phones=[{"raw": "71234567"}])
    theirs = services.customer_create(
        actor=world.actor(world.outsider), first_name="Juana", last_name="Quispe Mamani"
    )

    _s, by_operator = call("GET", "/search?q=juana quispe", keys.agent)
    _s, by_outsider = call("GET", "/search?q=juana quispe", keys.outsider)
    _s, by_reseller = call("GET", "/search?q=juana quispe", keys.reseller_agent)
    _s, by_phone = call("GET", "/search?q=71234567", keys.agent)
    _s, by_phone_outsider = call("GET", "/search?q=71234567", keys.outsider)

    assert [hit["customer"]["id"] for hit in by_operator["hits"]] == [ours.pk]
    assert by_operator["hits"][0]["matched_on"] == "name"
    assert 0 < by_operator["hits"][0]["score"] <= 1
    assert [hit["customer"]["id"] for hit in by_outsider["hits"]] == [theirs.pk]
    assert by_reseller == {"query": "juana quispe", "hits": []}
    assert [(h["customer"]["id"], h["matched_on"]) for h in by_phone["hits"]] == [
        (ours.pk, "phone")
    ]
    assert by_phone_outsider["hits"] == []


@pytest.mark.django_db
def test_the_customer_list_searches_with_q(world: World, keys: Keys) -> None:
    ours = make_customer(world)
    make_customer(world, first_name="Pedro", last_name="Rojas")

    status, body = call("GET", "/customers?q=quispe", keys.agent)

    assert status == 200, body
    assert ([item["id"] for item in body["items"]], body["count"], body["pages"]) == (
        [ours.pk],
        1,
        1,
    )


# --- authentication and permissions -------------------------------------------------


@pytest.mark.django_db
def test_without_credentials_the_answer_is_401(world: World) -> None:
    response = Client().get(f"{API}/customers", headers={"Accept-Language": "en"})

    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": UNAUTHENTICATED, "details": {}}
    assert response["WWW-Authenticate"] == 'Bearer realm="telcodesk"'


@pytest.mark.django_db
def test_an_unknown_or_revoked_key_is_401(world: World, keys: Keys) -> None:
    customer = make_customer(world)
    prefix = keys.agent[4:12]
    assert call("GET", f"/customers/{customer.pk}", keys.agent)[0] == 200

    # "tdk_" in front: a prefix may start with "-", which argparse reads as an option.
    call_command("apikey", "revoke", f"tdk_{prefix}", stdout=StringIO())

    revoked = call("GET", f"/customers/{customer.pk}", keys.agent)
    last = "A" if keys.back_office[-1] != "A" else "B"
    forged = call("GET", f"/customers/{customer.pk}", keys.back_office[:-1] + last)
    assert revoked == (401, {"code": "unauthenticated", "message": UNAUTHENTICATED, "details": {}})
    assert forged == revoked


@pytest.mark.django_db
def test_the_key_may_come_in_x_api_key(world: World, keys: Keys) -> None:
    status, body = call("GET", "/customers", None, headers={"X-API-Key": keys.agent})

    assert (status, body["count"]) == (200, 0)


@pytest.mark.django_db
def test_an_agent_key_cannot_change_a_subscription_status(world: World, keys: Keys) -> None:
    subscription = make_subscription(world, make_customer(world))
    before = counts()

    status, body = call(
        "POST",
        f"/subscriptions/{subscription.pk}/status",
        keys.agent,
        {"to_status": "blocked", "reason": "unpaid"},
    )

    assert (status, body) == (403, {"code": "forbidden", "message": ROLE_REFUSED, "details": {}})
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert counts() == before


@pytest.mark.django_db
def test_messages_follow_accept_language(world: World, keys: Keys) -> None:
    subscription = make_subscription(world, make_customer(world))
    path = f"/subscriptions/{subscription.pk}/status"
    body = {"to_status": "blocked", "reason": "unpaid"}

    _s, english = call("POST", path, keys.agent, body, lang="en")
    _s, portuguese = call("POST", path, keys.agent, body, lang="pt-br")

    assert english["message"] == ROLE_REFUSED
    with translation.override("pt-br"):
        assert portuguese["message"] == translation.gettext(ROLE_REFUSED)
    assert portuguese["code"] == english["code"] == "forbidden"


@pytest.mark.django_db
def test_the_console_session_works_and_writes_need_the_csrf_token(world: World) -> None:
    customer = make_customer(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.agent)

    read = call("GET", f"/customers/{customer.pk}", None, client=client)
    refused = call("PATCH", f"/customers/{customer.pk}", None, {"notes": "x"}, client=client)
    client.cookies["csrftoken"] = "a" * 32
    accepted = call(
        "PATCH", f"/customers/{customer.pk}", None, {"notes": "x"}, client=client,
        headers={"X-CSRFToken": "a" * 32},
    )  # fmt: skip

    assert read[0] == 200
    assert refused[0] == 403
    assert refused[1]["code"] == "forbidden"
    assert accepted[0] == 200, accepted
    customer.refresh_from_db()
    assert customer.notes == "x"


@pytest.mark.django_db
def test_a_user_of_no_organization_is_401(world: World) -> None:
    from telcodesk.accounts.models import User

    loner = User.objects.create_user(username="loner", password="x-long-password-1")
    client = Client()
    client.force_login(loner)

    status, body = call("GET", "/customers", None, client=client)

    assert (status, body["code"]) == (401, "unauthenticated")


@pytest.mark.django_db
def test_a_method_that_does_not_exist_is_405_in_the_error_format(world: World, keys: Keys) -> None:
    customer = make_customer(world)

    status, body = call("PUT", f"/customers/{customer.pk}", keys.admin)

    assert status == 405
    assert body["code"] == "method_not_allowed"
    assert body["details"] == {"allowed": ["DELETE", "GET", "PATCH"]}
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_an_unknown_endpoint_is_404_in_the_error_format(world: World, keys: Keys) -> None:
    assert call("GET", "/nothing/here", keys.agent) == (
        404,
        {
            "code": "not_found",
            "message": "There is no API endpoint at this address.",
            "details": {},
        },
    )


@pytest.mark.django_db
def test_the_apikey_command_creates_and_lists_keys(world: World, capsys: Any) -> None:
    call_command("apikey", "create", "--org", world.operator.slug, "--name", "sync",
                 "--role", "back_office")  # fmt: skip
    secret = capsys.readouterr().out.strip()
    call_command("apikey", "list", "--org", world.operator.slug)
    listing = capsys.readouterr().out

    assert secret.startswith("tdk_")
    assert listing.startswith(f"{secret[4:12]}\tback_office\tactive\tlast used never\tsync")
    assert call("GET", "/customers", secret)[0] == 200
    assert Organization.objects.get(slug=world.operator.slug).pk == world.operator.pk


@pytest.mark.django_db
def test_a_bug_answers_500_in_the_error_format_without_a_traceback(
    world: World, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("telcodesk.customers.selectors.customers_visible", broken)

    status, body = call("GET", "/customers", keys.agent, headers={"X-Request-ID": "req-0123456789"})

    assert status == 500
    assert body["details"] == {"request_id": "req-0123456789"}
    assert body["code"] == "server_error"
    assert body["message"] == (
        "Something went wrong on our side. Try again; if it persists, report the id."
    )
    assert "secret internals" not in json.dumps(body)


@pytest.mark.django_db
def test_only_an_admin_deletes_a_customer_and_it_is_audited(world: World) -> None:
    customer = services.customer_create(
        actor=world.actor(world.agent), first_name="Rosa", last_name="Vargas"
    )
    _agent_key, agent_secret = api_key_create(
        actor=world.actor(world.admin), name="agent", role="agent"
    )
    _admin_key, admin_secret = api_key_create(
        actor=world.actor(world.admin), name="admin", role="admin"
    )
    _out_key, outsider_secret = api_key_create(
        actor=world.actor(world.outsider), name="other", role="admin"
    )
    client = Client()
    url = f"/api/v1/customers/{customer.pk}"
    assert client.delete(url, HTTP_AUTHORIZATION=f"Bearer {agent_secret}").status_code == 403
    assert client.delete(url, HTTP_AUTHORIZATION=f"Bearer {outsider_secret}").status_code == 404
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert client.delete(url, HTTP_AUTHORIZATION=f"Bearer {admin_secret}").status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert AuditLog.objects.filter(action="delete", object_id=str(customer.pk)).count() == 1
