"""The online store's click intake: POST /api/v1/store/clicks into "Links de pago".

The store posts with an API key of the ``integration`` role ("lead.intake" only).
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.models import Organization
from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create
from telcodesk.automation.tick import tick
from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer
from telcodesk.customers.services import customer_assign, customer_create, email_add
from telcodesk.pipelines.automations import lead_email_address
from telcodesk.pipelines.models import AutomationRun, Lead, LeadStageChange, Pipeline
from telcodesk.pipelines.services import lead_contact_update, lead_lose, lead_move
from telcodesk.pipelines.store import store_customer_find
from tests.pipelines.conftest import Claro

pytestmark = pytest.mark.django_db

URL = "/api/v1/store/clicks"


def api_key(organization: Organization, role: str = Role.INTEGRATION) -> str:
    admin = Actor(organization=organization, role=Role.ADMIN, label="setup")
    _key, secret = api_key_create(actor=admin, name="tienda online", role=role)
    return secret


def click(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_ref": "TS-1001",
        "clicked_at": "2025-03-10T14:30:00-03:00",
        "payment_app": "getnet",
        "customer": {
            "name": "Martina López",
            "phone": "11 3456-7890",
            "email": "martina@example.com",
            "document": "30.123.456",
        },
        "items": [
            {
                "sku": "MOTO-G84",
                "name": "Motorola Moto G84",
                "kind": "device",
                "brand": "Motorola",
                "quantity": 1,
                "unit_price": "450000.00",
            },
            {
                "sku": "FUNDA-G84",
                "name": "Funda Moto G84",
                "kind": "accessory",
                "quantity": 2,
                "unit_price": "15000.00",
            },
        ],
        "total": "480000.00",
        "currency": "ARS",
    }
    body.update(changes)
    return body


def post(secret: str, body: dict[str, Any]) -> Any:
    return Client().post(
        URL,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


@pytest.fixture
def store(claro: Claro) -> str:
    pipeline = claro.pipeline("TECHSTORE CHATS")
    # The pack carries this rule; set it here too so the test does not depend on it.
    pipeline.rules = {**pipeline.rules, "store_intake": {"stage": "Links de pago"}}
    pipeline.save(update_fields=["rules"])
    return api_key(claro.reseller)


def test_a_click_creates_a_lead_in_links_de_pago(claro: Claro, store: str) -> None:
    response = post(store, click())

    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get(pk=body["lead"]["id"])
    assert body["outcome"] == "created"
    assert (body["other_leads"], body["warning"]) == ([], "")
    assert lead.pipeline == claro.pipeline("TECHSTORE CHATS")
    assert lead.stage == claro.stage("TECHSTORE CHATS", "Links de pago")
    assert (lead.source, lead.source_ref) == ("store_click", "store:TS-1001")
    assert (lead.name, lead.phone, lead.document) == ("Martina López", "+541134567890", "30123456")
    # No customer has this phone or document: a prospect, its contact on the lead.
    assert (lead.email, lead.customer) == ("martina@example.com", None)
    assert (body["lead"]["email"], body["lead"]["customer_id"]) == ("martina@example.com", None)
    assert (lead.value, lead.currency) == (Decimal("480000.00"), "ARS")
    assert lead.data == {
        "payment_app": "getnet",
        "device_of_interest": "Motorola Moto G84",
        "accessory_of_interest": "Funda Moto G84 (x2)",
    }
    change = LeadStageChange.objects.get(lead=lead)
    assert (change.automatic, change.actor) == (True, None)


def test_a_repeated_click_returns_the_same_lead(claro: Claro, store: str) -> None:
    first = post(store, click())
    changes = LeadStageChange.objects.count()

    again = post(store, click(payment_app="viumi"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["outcome"] == "repeated"
    assert again.json()["lead"]["id"] == first.json()["lead"]["id"]
    assert again.json()["lead"]["data"]["payment_app"] == "getnet"
    assert Lead.objects.filter(source="store_click").count() == 1
    assert LeadStageChange.objects.count() == changes


def test_an_open_lead_of_the_phone_is_moved_there(claro: Claro, store: str) -> None:
    existing = claro.lead("TECHSTORE CHATS", phone="11 3456-7890", stage="Motorola")

    response = post(store, click(order_ref="TS-2002", payment_app="open_pay"))

    existing.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["outcome"] == "moved"
    assert response.json()["lead"]["id"] == existing.pk
    assert existing.stage.name == "Links de pago"
    assert existing.owner == claro.agent
    assert existing.value == Decimal("480000.00")
    assert existing.data["payment_app"] == "open_pay"
    assert Lead.objects.filter(pipeline=claro.pipeline("TECHSTORE CHATS")).count() == 1
    change = LeadStageChange.objects.filter(lead=existing).order_by("-id").first()
    assert change is not None and change.automatic
    assert change.reason.endswith("[store:TS-2002]")
    # ...and the same click again is recognised as a repeat.
    again = post(store, click(order_ref="TS-2002", payment_app="open_pay"))
    assert (again.status_code, again.json()["outcome"]) == (200, "repeated")


def test_an_open_lead_in_another_pipeline_gives_a_warning(claro: Claro, store: str) -> None:
    fibra = claro.lead("FIBRA", phone="+54 9 11 3456-7890", owner=claro.other_agent)

    response = post(store, click())

    body = response.json()
    assert response.status_code == 201
    assert body["outcome"] == "created"
    assert body["other_leads"] == [
        {
            "lead_id": fibra.pk,
            "pipeline": "FIBRA",
            "stage": fibra.stage.name,
            "owner": {"id": claro.other_agent.pk, "name": "Sofía Martínez"},
        }
    ]
    assert body["warning"] == (
        f'This phone already has a lead in FIBRA ("{fibra.stage.name}") worked by Sofía '
        "Martínez; talk to them before taking the customer."
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer": {"name": "X", "phone": "123"}}, "customer.phone"),
        ({"payment_app": "paypal"}, "body.payment_app"),
        ({"items": []}, "body.items"),
        ({"total": "-1.00"}, "body.total"),
        ({"currency": "USD"}, "currency"),
        (
            {"customer": {"name": "X", "phone": "11 3456-7890", "email": "martina@"}},
            "customer.email",
        ),
    ],
)
def test_bad_clicks_are_refused_and_nothing_is_written(
    claro: Claro, store: str, changes: dict[str, Any], field: str
) -> None:
    leads = Lead.objects.count()

    response = post(store, click(**changes))

    assert response.status_code == 422
    body = response.json()
    assert body["code"] in ("invalid", "invalid_phone")
    assert list(body["details"]) == [field]
    assert Lead.objects.count() == leads


def test_a_key_of_another_organization_touches_nothing(claro: Claro, store: str) -> None:
    response = post(api_key(claro.outsider_org), click())

    assert response.status_code == 422
    assert response.json()["message"] == (
        "Otro Revendedor has no pipeline that takes online store clicks; its pack must give "
        "one pipeline the rule store_intake with the stage to put them in."
    )
    assert not Lead.objects.filter(source="store_click").exists()


def test_no_key_is_401(claro: Claro, store: str) -> None:
    response = Client().post(URL, json.dumps(click()), content_type="application/json")

    assert response.status_code == 401
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.INTEGRATION, 201),
        (Role.ADMIN, 201),
        (Role.AGENT, 403),
        (Role.BACK_OFFICE, 403),
        (Role.SUPERVISOR, 403),
        ("nobody", 403),
    ],
)
def test_only_integration_and_administrator_keys_may_post_clicks(
    claro: Claro, store: str, role: str, status: int
) -> None:
    response = post(api_key(claro.reseller, role=role), click())

    assert response.status_code == status
    assert Lead.objects.filter(source="store_click").count() == (1 if status == 201 else 0)
    if status == 403:
        assert response.json() == {
            "code": "forbidden",
            "message": "Your role does not allow this action. Ask a supervisor or an "
            "administrator.",
            "details": {},
        }


def test_the_intake_writes_as_the_system_not_as_the_key(claro: Claro, store: str) -> None:
    body = post(store, click()).json()

    lead = Lead.objects.get(pk=body["lead"]["id"])
    entry = LeadStageChange.objects.get(lead=lead)
    assert (entry.actor, entry.automatic, entry.from_stage) == (None, True, None)
    assert (lead.owner, body["lead"]["owner"]) == (None, None)


def test_agents_cannot_move_a_store_lead_in_or_out_by_hand(claro: Claro, store: str) -> None:
    lead = Lead.objects.get(pk=post(store, click()).json()["lead"]["id"])
    other = claro.lead("TECHSTORE CHATS", phone="11 4444-5555", stage="Asesoramiento")
    agent = claro.actor(claro.agent)

    with pytest.raises(ValidationFailed) as out:
        lead_move(actor=agent, lead=lead, to_stage=claro.stage("TECHSTORE CHATS", "Asesoramiento"))
    with pytest.raises(ValidationFailed) as into:
        lead_move(actor=agent, lead=other, to_stage=claro.stage("TECHSTORE CHATS", "Links de pago"))

    assert out.value.message == (
        'The lead is in "Links de pago", which only the system changes; leave it there, or '
        "win or lose it."
    )
    assert into.value.message == (
        'Only the system puts leads in "Links de pago"; it cannot be chosen by hand.'
    )
    lead.refresh_from_db()
    other.refresh_from_db()
    assert (lead.stage.name, other.stage.name) == ("Links de pago", "Asesoramiento")


def test_the_pipeline_needs_the_rule(claro: Claro, store: str) -> None:
    Pipeline.objects.filter(organization=claro.reseller).update(rules={})

    response = post(store, click())

    assert response.status_code == 422
    assert not Lead.objects.exists()


# --- the customer: linked when the organization has exactly one with that phone/document ---


def operator_customer(
    claro: Claro,
    *,
    first_name: str = "Martina",
    phone: str | None = None,
    dni: str | None = None,
    assigned: bool = True,
) -> Customer:
    """A customer of Claro Argentina (the operator), assigned to the reseller by default."""
    operator = Actor(organization=claro.operator, role=Role.ADMIN, label="operator")
    customer = customer_create(
        actor=operator,
        kind="person",
        first_name=first_name,
        last_name="López",
        phones=[{"raw": phone}] if phone else [],
        documents=[{"kind": "ar_dni", "number": dni}] if dni else [],
    )
    if assigned:
        customer_assign(actor=operator, customer=customer, reseller=claro.reseller)
    return customer


def test_the_customer_with_the_phone_is_linked_mobile_9_or_not(claro: Claro, store: str) -> None:
    customer = operator_customer(claro, phone="+54 9 11 3456-7890")

    body = post(store, click()).json()

    lead = Lead.objects.get(pk=body["lead"]["id"])
    assert (lead.customer, body["lead"]["customer_id"]) == (customer, customer.pk)
    # The contact typed in the store stays on the lead.
    assert (lead.name, lead.phone, lead.email) == (
        "Martina López",
        "+541134567890",
        "martina@example.com",
    )


def test_without_the_phone_the_customer_with_the_document_is_linked(
    claro: Claro, store: str
) -> None:
    customer = operator_customer(claro, phone="+54 9 11 4000-0000", dni="30123456")

    body = post(store, click()).json()

    assert Lead.objects.get(pk=body["lead"]["id"]).customer == customer


def test_a_customer_not_assigned_to_the_reseller_is_not_linked(claro: Claro, store: str) -> None:
    operator_customer(claro, phone="+54 9 11 3456-7890", dni="30123456", assigned=False)

    body = post(store, click()).json()

    assert (body["outcome"], body["lead"]["customer_id"]) == ("created", None)


def test_two_customers_with_the_phone_link_the_one_with_the_document(
    claro: Claro, store: str
) -> None:
    operator_customer(claro, first_name="Rosa", phone="+54 9 11 3456-7890")
    martina = operator_customer(claro, phone="+54 9 11 3456-7890", dni="30123456")

    body = post(store, click()).json()

    assert body["lead"]["customer_id"] == martina.pk


def test_two_customers_with_the_phone_and_no_document_link_nobody(claro: Claro, store: str) -> None:
    operator_customer(claro, first_name="Rosa", phone="+54 9 11 3456-7890")
    operator_customer(claro, phone="+54 9 11 3456-7890")
    leads = Lead.objects.count()

    body = post(store, click()).json()

    assert (body["outcome"], body["lead"]["customer_id"]) == ("created", None)
    assert Lead.objects.count() == leads + 1


def test_store_customer_find_says_who_matches(claro: Claro) -> None:
    by_phone = operator_customer(claro, phone="+54 9 11 3456-7890")
    by_document = operator_customer(claro, first_name="Rosa", dni="27999888")

    def find(phone: str, document: str = "") -> Customer | None:
        return store_customer_find(organization=claro.reseller, phone=phone, document=document)

    assert find("+541134567890") == by_phone
    assert find("+5491134567890", "27.999.888") == by_phone
    assert find("+541155550000", "27.999.888") == by_document
    assert find("+541155550000", "20-27999888-5") == by_document  # the CUIL of that DNI
    assert find("+541155550000") is None
    assert (
        store_customer_find(organization=claro.outsider_org, phone="+541134567890", document="")
        is None
    )


def test_a_moved_lead_gets_the_customer_and_the_e_mail(claro: Claro, store: str) -> None:
    existing = claro.lead("TECHSTORE CHATS", phone="11 3456-7890", stage="Motorola")
    customer = operator_customer(claro, phone="+54 11 3456-7890")

    body = post(store, click(order_ref="TS-3003")).json()

    existing.refresh_from_db()
    assert (body["outcome"], body["lead"]["id"]) == ("moved", existing.pk)
    assert (existing.customer, existing.email) == (customer, "martina@example.com")


def test_a_moved_lead_keeps_the_customer_an_agent_linked(claro: Claro, store: str) -> None:
    linked = operator_customer(claro, first_name="Rosa", phone="+54 11 4999-0000")
    existing = claro.lead(
        "TECHSTORE CHATS", phone="11 3456-7890", stage="Motorola", customer=linked
    )
    operator_customer(claro, phone="+54 11 3456-7890")

    post(store, click(order_ref="TS-3004"))

    existing.refresh_from_db()
    assert existing.customer == linked


# --- the e-mail: where the "No realizó el pago" attempts go ------------------------------


def test_the_unpaid_reminder_e_mail_goes_to_the_address_given_in_the_store(
    claro: Claro, store: str
) -> None:
    from tests.messaging.test_email_support import make_email_channel

    make_email_channel(claro.reseller)
    lead = Lead.objects.get(pk=post(store, click()).json()["lead"]["id"])
    lead = lead_lose(
        actor=claro.actor(claro.agent),
        lead=lead,
        reason=claro.reason("TECHSTORE CHATS", "No realizó el pago"),
    )
    assert lead.lost_at is not None

    tick(now=lead.lost_at + timedelta(hours=24, seconds=1))

    run = AutomationRun.objects.get(lead=lead, action="send_email")
    assert run.outcome == "done"
    assert run.message is not None
    assert run.message.conversation.external_address == "martina@example.com"
    assert run.message.body.startswith("Hola Martina: el pago de tu pedido todavía no")


def test_the_lead_s_e_mail_address_prefers_the_tab_then_the_lead_then_the_customer(
    claro: Claro,
) -> None:
    customer = operator_customer(claro, phone="+54 11 4999-0000")
    email_add(
        actor=Actor(organization=claro.operator, role=Role.ADMIN, label="operator"),
        customer=customer,
        raw="martina.lopez@example.com",
    )
    lead = claro.lead("TECHSTORE CHATS", phone="11 3456-7890", customer=customer)
    assert lead_email_address(lead) == "martina.lopez@example.com"

    lead = lead_contact_update(actor=claro.actor(claro.agent), lead=lead, email="M@Example.com")
    assert (lead.email, lead_email_address(lead)) == ("m@example.com", "m@example.com")

    lead.data = {**lead.data, "email": "pagos@example.com"}
    assert lead_email_address(lead) == "pagos@example.com"


def test_a_bad_e_mail_on_the_lead_is_refused_and_changes_nothing(claro: Claro) -> None:
    lead = claro.lead("TECHSTORE CHATS", phone="11 3456-7890")

    with pytest.raises(ValidationFailed) as refused:
        lead_contact_update(actor=claro.actor(claro.agent), lead=lead, email="martina@")

    assert refused.value.message == (
        "martina@ is not an e-mail address: write it like name@example.com."
    )
    lead.refresh_from_db()
    assert lead.email == ""
