"""An integration's API key (role ``integration``, only "lead.intake") feeds the online
store's clicks in and is refused everything else: every other endpoint of the API
answers 403 and changes nothing."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from telcodesk.accounts.roles import Role
from telcodesk.core.management.commands.openapi import openapi_schema_text
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.models import CoverageArea
from telcodesk.customers.models import ContactPoint, Customer, TimelineEvent
from telcodesk.customers.services import customer_assign, customer_create
from telcodesk.messaging.models import Channel, Conversation, Message
from telcodesk.pipelines.models import Lead, LeadStageChange
from tests.messaging.helpers import make_channel
from tests.pipelines.conftest import Claro
from tests.pipelines.test_automations import inbound
from tests.pipelines.test_store import api_key, click

pytestmark = pytest.mark.django_db

STORE_CLICKS = ("POST", "/api/v1/store/clicks")

# Every operation of the API but the store's, with a body its schema accepts (so the
# answer is about the permission, not the shape). A new endpoint must be added here.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/contacts/{contact_id}/confirm"): None,
    ("GET", "/api/v1/conversations"): None,
    ("GET", "/api/v1/conversations/{conversation_id}"): None,
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): {"user_id": None},
    ("POST", "/api/v1/conversations/{conversation_id}/interactive"): {
        "body": "¿Te interesa?",
        "buttons": [{"id": "si", "title": "Sí"}, {"id": "no", "title": "No"}],
    },
    ("POST", "/api/v1/conversations/{conversation_id}/media"): "multipart",
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): None,
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): {"body": "Hola"},
    ("POST", "/api/v1/conversations/{conversation_id}/read"): None,
    ("POST", "/api/v1/conversations/{conversation_id}/templates"): {"name": "saludo"},
    ("GET", "/api/v1/coverage/areas"): None,
    ("POST", "/api/v1/coverage/check"): {"address": "Av. Rivadavia 5200, Caballito"},
    ("POST", "/api/v1/coverage/imports"): {
        "format": "csv",
        "source_file": "cobertura.csv",
        "content": "city,zone,street,from,to\nCABA,Caballito,Av. Rivadavia,5000,5800\n",
    },
    ("GET", "/api/v1/customers"): None,
    ("POST", "/api/v1/customers"): {"kind": "person", "first_name": "Ana", "last_name": "Ruiz"},
    ("DELETE", "/api/v1/customers/{customer_id}"): None,
    ("GET", "/api/v1/customers/{customer_id}"): None,
    ("PATCH", "/api/v1/customers/{customer_id}"): {"first_name": "Ana"},
    ("POST", "/api/v1/customers/{customer_id}/addresses"): {
        "street": "Gurruchaga",
        "number": "1800",
    },
    ("POST", "/api/v1/customers/{customer_id}/documents"): {"kind": "ar_dni", "number": "27999888"},
    ("POST", "/api/v1/customers/{customer_id}/emails"): {"raw": "ana@example.com"},
    ("POST", "/api/v1/customers/{customer_id}/phones"): {"raw": "11 4000-0000"},
    ("POST", "/api/v1/customers/{customer_id}/subscriptions"): {
        "service_id": "FTTH-1",
        "contract_number": "C-1",
        "service_type": "fiber_ftth",
        "started_on": "2025-03-01",
    },
    ("POST", "/api/v1/leads"): {
        "pipeline_id": "{pipeline_id}",
        "phone": "11 4000-0000",
        "source": "manual",
    },
    ("GET", "/api/v1/leads/queue"): None,
    ("GET", "/api/v1/leads/{lead_id}"): None,
    ("PATCH", "/api/v1/leads/{lead_id}"): {"name": "Otro nombre"},
    ("POST", "/api/v1/leads/{lead_id}/assign"): {"owner_id": None},
    ("POST", "/api/v1/leads/{lead_id}/coverage-check"): None,
    ("PATCH", "/api/v1/leads/{lead_id}/data"): {"data": {"floors": 3}},
    ("POST", "/api/v1/leads/{lead_id}/lose"): {"reason_id": "{reason_id}"},
    ("POST", "/api/v1/leads/{lead_id}/move"): {"stage_id": "{stage_id}"},
    ("POST", "/api/v1/leads/{lead_id}/take"): None,
    ("POST", "/api/v1/leads/{lead_id}/win"): None,
    ("GET", "/api/v1/pipelines"): None,
    ("GET", "/api/v1/pipelines/{pipeline_id}/leads"): None,
    ("GET", "/api/v1/search?q=Lucía"): None,
    ("GET", "/api/v1/subscriptions"): None,
    ("GET", "/api/v1/subscriptions/{subscription_id}"): None,
    ("POST", "/api/v1/subscriptions/{subscription_id}/status"): {
        "to_status": "blocked",
        "reason": "falta de pago",
    },
    # Tickets, network and playbooks: ids that need not exist (the permission comes first).
    ("GET", "/api/v1/tickets"): None,
    ("POST", "/api/v1/tickets"): {
        "customer_id": "{customer_id}",
        "category": "technical",
        "subject": "Sin internet",
    },
    ("GET", "/api/v1/tickets/answer-fields"): None,
    ("GET", "/api/v1/tickets/{ticket_id}"): None,
    ("PATCH", "/api/v1/tickets/{ticket_id}"): {},
    ("PATCH", "/api/v1/tickets/{ticket_id}/answers"): {"answers": {"since_when": "ayer"}},
    ("POST", "/api/v1/tickets/{ticket_id}/assign"): {},
    ("POST", "/api/v1/tickets/{ticket_id}/charges"): {
        "kind": "internal_damage",
        "amount": "150.00",
        "reason": "cable cortado",
    },
    ("POST", "/api/v1/tickets/{ticket_id}/charges/{charge_id}/approve"): {},
    ("POST", "/api/v1/tickets/{ticket_id}/charges/{charge_id}/reject"): {},
    ("POST", "/api/v1/tickets/{ticket_id}/notes"): {"body": "nota"},
    ("POST", "/api/v1/tickets/{ticket_id}/replies"): {},
    ("POST", "/api/v1/tickets/{ticket_id}/status"): {"status": "in_progress"},
    ("POST", "/api/v1/tickets/{ticket_id}/take"): None,
    ("GET", "/api/v1/network/diagnostics/{run_id}"): None,
    ("GET", "/api/v1/network/olts"): None,
    ("GET", "/api/v1/network/olts/{olt_id}"): None,
    ("GET", "/api/v1/network/outages"): None,
    ("POST", "/api/v1/network/outages"): {"scope": "zone", "description": "corte"},
    ("POST", "/api/v1/network/outages/{outage_id}/close"): {},
    ("GET", "/api/v1/subscriptions/{subscription_id}/diagnostics"): None,
    ("POST", "/api/v1/subscriptions/{subscription_id}/diagnostics"): {"kinds": ["ping"]},
    ("GET", "/api/v1/subscriptions/{subscription_id}/outages"): None,
    (
        "GET",
        "/api/v1/playbook-adherence/agents?start=2026-11-01T00:00:00Z&end=2026-12-01T00:00:00Z",
    ): None,
    (
        "GET",
        "/api/v1/playbook-adherence/steps?start=2026-11-01T00:00:00Z&end=2026-12-01T00:00:00Z",
    ): None,
    ("POST", "/api/v1/playbook-runs"): {"playbook_id": 1},
    ("GET", "/api/v1/playbook-runs/{run_id}"): None,
    ("POST", "/api/v1/playbook-runs/{run_id}/abandon"): {"reason": "cortó"},
    ("POST", "/api/v1/playbook-runs/{run_id}/actions"): {"action": "create_ticket"},
    ("GET", "/api/v1/playbook-runs/{run_id}/adherence"): None,
    ("POST", "/api/v1/playbook-runs/{run_id}/answers"): {"question": "since_when", "value": "ayer"},
    ("POST", "/api/v1/playbook-runs/{run_id}/check"): {"item": "greet"},
    ("POST", "/api/v1/playbook-runs/{run_id}/complete"): {},
    ("POST", "/api/v1/playbook-runs/{run_id}/finish"): {},
    ("POST", "/api/v1/playbook-runs/{run_id}/skip"): {"reason": "no aplica"},
    ("GET", "/api/v1/playbooks"): None,
    ("GET", "/api/v1/playbooks/{playbook_id}"): None,
}


def _bodies_of_other_apps() -> dict[tuple[str, str], Any]:
    """Apps list their own operations in ``tests/<app>/api_bodies.py`` (a ``BODIES``
    dict like the one above), so that adding an app's endpoints touches its own tests."""
    found: dict[tuple[str, str], Any] = {}
    for module_file in sorted(Path(__file__).resolve().parent.parent.glob("*/api_bodies.py")):
        module = importlib.import_module(f"tests.{module_file.parent.name}.api_bodies")
        found.update(module.BODIES)
    return found


BODIES.update(_bodies_of_other_apps())


def operations() -> set[tuple[str, str]]:
    schema = json.loads(openapi_schema_text())
    return {
        (method.upper(), path) for path, methods in schema["paths"].items() for method in methods
    }


@pytest.fixture
def channel(claro: Claro) -> Channel:
    return make_channel(claro.reseller, display_phone="+54 11 5555-0000")


def ids(claro: Claro, channel: Channel) -> dict[str, int]:
    """Real objects of the reseller for every id in a path: a 403 is not a 404 in disguise."""
    inbound(channel, "Hola, ¿hay fibra?")
    lead = Lead.objects.get()
    operator = Actor(organization=claro.operator, role=Role.ADMIN, label="operator")
    customer = customer_create(
        actor=operator,
        kind="person",
        first_name="Lucía",
        last_name="Fernández",
        phones=[{"raw": "+54 9 11 4111-2222"}],
    )
    customer_assign(actor=operator, customer=customer, reseller=claro.reseller)
    return {
        "lead_id": lead.pk,
        "pipeline_id": lead.pipeline_id,
        "stage_id": claro.stage("FIBRA", "Con Cobertura").pk,
        "reason_id": claro.reason("FIBRA", "Abandono gestión").pk,
        "conversation_id": Conversation.objects.get().pk,
        "customer_id": customer.pk,
        "contact_id": ContactPoint.objects.get(customer=customer).pk,
        "subscription_id": 1,
        "ticket_id": 1,
        "charge_id": 1,
        "run_id": 1,
        "olt_id": 1,
        "outage_id": 1,
        "playbook_id": 1,
        "visit_id": 1,
    }


def fill(value: Any, known: dict[str, int]) -> Any:
    if isinstance(value, str):
        for name, number in known.items():
            if value == "{" + name + "}":
                return number
            value = value.replace("{" + name + "}", str(number))
        return value
    if isinstance(value, dict):
        return {key: fill(item, known) for key, item in value.items()}
    return value


def snapshot() -> tuple[Any, ...]:
    return (
        list(Lead.objects.order_by("pk").values()),
        LeadStageChange.objects.count(),
        list(Customer.objects.order_by("pk").values("pk", "first_name", "updated_at")),
        ContactPoint.objects.count(),
        TimelineEvent.objects.count(),
        Message.objects.count(),
        list(Conversation.objects.values("pk", "assigned_user", "unread_count")),
        CoverageArea.objects.count(),
    )


def test_the_table_lists_every_operation_of_the_api() -> None:
    listed = {(method, path.partition("?")[0]) for method, path in BODIES}

    assert operations() - {STORE_CLICKS} == listed


def test_an_integration_key_is_refused_every_endpoint_but_store_clicks(
    claro: Claro, channel: Channel
) -> None:
    known = ids(claro, channel)
    secret = api_key(claro.reseller, role=Role.INTEGRATION)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    before = snapshot()

    answers = {}
    for (method, path), body in BODIES.items():
        url = fill(path, known)
        if body == "multipart":
            photo = SimpleUploadedFile("foto.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
            response = client.post(url, {"file": photo, "caption": ""})
        elif body is None:
            response = client.generic(method, url)
        else:
            response = client.generic(
                method, url, json.dumps(fill(body, known)), content_type="application/json"
            )
        answers[(method, path)] = (response.status_code, response.json()["code"])

    assert answers == {operation: (403, "forbidden") for operation in BODIES}
    assert snapshot() == before


def test_the_same_integration_key_registers_a_store_click(claro: Claro) -> None:
    pipeline = claro.pipeline("TECHSTORE CHATS")
    secret = api_key(claro.reseller, role=Role.INTEGRATION)

    response = Client().post(
        STORE_CLICKS[1],
        json.dumps(click()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert response.status_code == 201
    assert Lead.objects.get(source="store_click").pipeline == pipeline


def test_an_agent_key_is_refused_store_clicks_and_writes_nothing(claro: Claro) -> None:
    secret = api_key(claro.reseller, role=Role.AGENT)

    response = Client().post(
        STORE_CLICKS[1],
        json.dumps(click()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert not Lead.objects.exists()
