"""The online store's click intake: POST /api/v1/store/clicks into "Links de pago"."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.models import Organization
from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create
from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.pipelines.models import Lead, LeadStageChange, Pipeline
from telcodesk.pipelines.services import lead_move
from tests.pipelines.conftest import Claro

pytestmark = pytest.mark.django_db

URL = "/api/v1/store/clicks"


def api_key(organization: Organization, role: str = Role.AGENT) -> str:
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


def test_a_key_whose_role_cannot_edit_is_403(claro: Claro, store: str) -> None:
    response = post(api_key(claro.reseller, role="nobody"), click())

    assert response.status_code == 403
    assert not Lead.objects.exists()


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
