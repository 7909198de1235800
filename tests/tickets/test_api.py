"""Tickets over the JSON API: queue, get, create, edit, status, assignment, replies,
notes, answers and charges; refusals in the one error shape; another organization's key
gets 404s and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.models import Organization
from telcodesk.accounts.services import api_key_create
from telcodesk.messaging.models import Message
from telcodesk.tickets.models import Ticket, TicketCharge, TicketComment
from tests.messaging.helpers import make_channel
from tests.messaging.outbox_helpers import make_conversation, recent

from .conftest import Desk

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


class Api:
    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str) -> Any:
        return self.client.get(BASE + path, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(
            BASE + path,
            json.dumps(body or {}),
            content_type="application/json",
            headers=self.headers,
        )

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.patch(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )


def _api(desk: Desk, role: str, organization: Organization | None = None) -> Api:
    world = desk.world
    org = organization or world.operator
    admin = world.admin if org == world.operator else world.outsider
    _key, secret = api_key_create(actor=world.actor(admin, org), name=f"{role}-key", role=role)
    return Api(secret)


def _create(api: Api, desk: Desk, **fields: Any) -> Any:
    body = {"customer_id": desk.customer.pk, "category": "technical", "subject": "Sin servicio"}
    body.update(fields)
    return api.post("/tickets", body)


def test_create_get_and_list_with_filters(desk: Desk) -> None:
    api = _api(desk, "supervisor")
    created = _create(
        api,
        desk,
        subscription_id=desk.subscription.pk,
        priority="urgent",
        customer_words="No tengo internet",
        answers={"since_when": "hoy"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["number"], body["display_number"], body["status"], body["priority"]) == (
        1,
        "T-000001",
        "new",
        "urgent",
    )
    assert (body["customer_id"], body["customer_name"], body["subscription_id"]) == (
        desk.customer.pk,
        "Juana Mamani",
        desk.subscription.pk,
    )
    assert body["assigned_user"] is None  # an API key has no user to take it
    assert body["answers"] == {"since_when": "hoy"}
    assert body["allowed_statuses"] == [
        "in_progress",
        "waiting_customer",
        "visit_scheduled",
        "resolved",
    ]
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [("", "new")]
    _create(api, desk, category="billing", subject="Factura doble")

    got = api.get(f"/tickets/{body['id']}")
    assert got.status_code == 200 and got.json()["subject"] == "Sin servicio"
    listed = api.get("/tickets?scope=all")
    assert [t["display_number"] for t in listed.json()["items"]] == ["T-000001", "T-000002"]
    assert listed.json()["count"] == 2
    billing = api.get("/tickets?scope=unassigned&category=billing").json()
    assert [t["subject"] for t in billing["items"]] == ["Factura doble"]
    by_number = api.get("/tickets?scope=all&q=T-000002").json()
    assert [t["number"] for t in by_number["items"]] == [2]


def test_a_bad_filter_and_an_agent_asking_for_all_are_refused(desk: Desk) -> None:
    supervisor = _api(desk, "supervisor")
    bad = supervisor.get("/tickets?scope=all&status=archived")
    assert bad.status_code == 422
    assert bad.json()["details"] == {"status": ["Choose one of the listed statuses."]}
    agent_key = _api(desk, "agent")
    # An API key has no "me": its queues are unassigned and all (as in the inbox).
    assert agent_key.get("/tickets?scope=mine").status_code == 404
    assert agent_key.get("/tickets?scope=all").status_code == 200
    # A signed-in agent calling the API from the console: all is for supervisors.
    session = Client()
    session.force_login(desk.world.agent)
    forbidden = session.get(BASE + "/tickets?scope=all")
    assert forbidden.status_code == 403
    assert forbidden.json()["message"].startswith("Only supervisors see every ticket.")
    assert session.get(BASE + "/tickets?scope=mine").status_code == 200


def test_create_refusals(desk: Desk) -> None:
    api = _api(desk, "agent")
    other_service = _create(api, desk, subscription_id=desk.other_subscription.pk)
    assert other_service.status_code == 422
    assert other_service.json()["details"]["subscription"][0].startswith(
        "The service FTTH-2002 is not one of this customer's services"
    )
    assert _create(api, desk, customer_id=desk.outsider_customer.pk).status_code == 404
    assert _create(api, desk, subscription_id=desk.outsider_subscription.pk).status_code == 404
    unknown = _create(api, desk, colour="red")
    assert unknown.status_code == 422
    assert unknown.json()["details"] == {"body.colour": ["This field does not exist."]}
    assert not Ticket.objects.exists()


def test_status_moves_and_a_refusal_names_the_allowed_ones(desk: Desk) -> None:
    api = _api(desk, "agent")
    ticket_id = _create(api, desk).json()["id"]
    refused = api.post(f"/tickets/{ticket_id}/status", {"status": "closed"})
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "invalid",
        "message": "A ticket that is “New” can only move to: In progress, Waiting for the "
        "customer, Visit scheduled, Resolved.",
        "details": {
            "status": [
                "A ticket that is “New” can only move to: In progress, Waiting for the "
                "customer, Visit scheduled, Resolved."
            ]
        },
    }
    moved = api.post(f"/tickets/{ticket_id}/status", {"status": "resolved", "note": "Reinicio"})
    assert moved.status_code == 200
    assert moved.json()["allowed_statuses"] == ["closed", "in_progress"]
    assert moved.json()["history"][-1]["note"] == "Reinicio"


def test_assign_patch_answers_and_a_note(desk: Desk) -> None:
    world = desk.world
    supervisor = _api(desk, "supervisor")
    ticket_id = _create(supervisor, desk).json()["id"]
    assigned = supervisor.post(f"/tickets/{ticket_id}/assign", {"user_id": world.agent.pk})
    assert assigned.json()["assigned_user"] == {"id": world.agent.pk, "name": "Ana Quispe"}
    stranger = supervisor.post(f"/tickets/{ticket_id}/assign", {"user_id": world.outsider.pk})
    assert stranger.status_code == 422
    patched = supervisor.patch(f"/tickets/{ticket_id}", {"priority": "high", "subject": "Lento"})
    assert (patched.json()["priority"], patched.json()["subject"]) == ("high", "Lento")
    answers = supervisor.patch(
        f"/tickets/{ticket_id}/answers", {"answers": {"wifi_or_cable": "cable", "extra_cost": True}}
    )
    assert answers.json()["answers"] == {"wifi_or_cable": "cable", "extra_cost": True}
    bad = supervisor.patch(f"/tickets/{ticket_id}/answers", {"answers": {"colour": "red"}})
    assert bad.status_code == 422 and list(bad.json()["details"]) == ["colour"]
    note = supervisor.post(f"/tickets/{ticket_id}/notes", {"body": "Revisar OLT 3"})
    assert note.status_code == 201
    assert (note.json()["is_public"], note.json()["send_status"]) == (False, "")


def test_a_reply_is_sent_or_kept_unsent_with_its_reason(desk: Desk) -> None:
    api = _api(desk, "agent")
    ticket_id = _create(api, desk).json()["id"]
    refused = api.post(f"/tickets/{ticket_id}/replies", {"body": "Hola"})
    assert refused.status_code == 201
    assert (refused.json()["send_status"], refused.json()["refusal_reason"]) == (
        "refused",
        "no_channel",
    )
    channel = make_channel(desk.world.operator)
    make_conversation(
        channel, wa_id="59171234567", customer=desk.customer, last_inbound_at=recent()
    )
    sent = api.post(f"/tickets/{ticket_id}/replies", {"body": "Ya revisamos"})
    assert (sent.json()["send_status"], sent.json()["sent_via"], sent.json()["message_status"]) == (
        "sent",
        "whatsapp",
        "queued",
    )
    assert sent.json()["message_id"] == Message.objects.get().pk
    assert (
        api.post(f"/tickets/{ticket_id}/replies", {"body": "", "template_id": 999}).status_code
        == 404
    )
    comments = api.get(f"/tickets/{ticket_id}").json()["comments"]
    assert [c["send_status"] for c in comments] == ["refused", "sent"]


def test_charges_are_proposed_and_approved_by_a_supervisor(desk: Desk) -> None:
    agent = _api(desk, "agent")
    supervisor = _api(desk, "supervisor")
    ticket_id = _create(agent, desk).json()["id"]
    proposed = agent.post(
        f"/tickets/{ticket_id}/charges",
        {"kind": "manipulation", "amount": "45.00", "reason": "ONU desconfigurada"},
    )
    assert proposed.status_code == 201
    assert {k: proposed.json()[k] for k in ("amount", "currency", "status")} == {
        "amount": "45.00",
        "currency": "BOB",
        "status": "proposed",
    }
    charge_id = proposed.json()["id"]
    assert agent.post(f"/tickets/{ticket_id}/charges/{charge_id}/approve").status_code == 403
    approved = supervisor.post(f"/tickets/{ticket_id}/charges/{charge_id}/approve", {"note": "ok"})
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    again = supervisor.post(f"/tickets/{ticket_id}/charges/{charge_id}/reject")
    assert again.status_code == 422
    negative = agent.post(
        f"/tickets/{ticket_id}/charges", {"kind": "manipulation", "amount": "-1", "reason": "x"}
    )
    assert negative.status_code == 422
    assert TicketCharge.objects.count() == 1


def test_the_answer_fields_are_listed(desk: Desk) -> None:
    fields = _api(desk, "agent").get("/tickets/answer-fields").json()
    assert [f["key"] for f in fields][:5] == [
        "since_when",
        "all_devices_or_one",
        "wifi_or_cable",
        "device_brand",
        "people_and_devices",
    ]
    wifi = next(f for f in fields if f["key"] == "wifi_or_cable")
    assert (wifi["type"], [c["value"] for c in wifi["choices"]]) == (
        "choice",
        ["wifi", "cable", "both"],
    )


def test_another_organizations_key_gets_404s_and_changes_nothing(desk: Desk) -> None:
    ours = _api(desk, "supervisor")
    ticket_id = _create(ours, desk).json()["id"]
    charge_id = ours.post(
        f"/tickets/{ticket_id}/charges", {"kind": "manipulation", "amount": "5", "reason": "x"}
    ).json()["id"]
    theirs = _api(desk, "admin", desk.world.other_operator)
    assert theirs.get(f"/tickets/{ticket_id}").status_code == 404
    assert theirs.get("/tickets?scope=all").json()["count"] == 0
    for path, body in (
        (f"/tickets/{ticket_id}/status", {"status": "in_progress"}),
        (f"/tickets/{ticket_id}/take", {}),
        (f"/tickets/{ticket_id}/assign", {"user_id": None}),
        (f"/tickets/{ticket_id}/replies", {"body": "hola"}),
        (f"/tickets/{ticket_id}/notes", {"body": "hola"}),
        (f"/tickets/{ticket_id}/charges", {"kind": "manipulation", "amount": "5", "reason": "x"}),
        (f"/tickets/{ticket_id}/charges/{charge_id}/approve", {}),
    ):
        assert theirs.post(path, body).status_code == 404, path
    assert theirs.patch(f"/tickets/{ticket_id}/answers", {"answers": {}}).status_code == 404
    assert theirs.patch(f"/tickets/{ticket_id}", {"priority": "low"}).status_code == 404
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.priority, ticket.assigned_user) == ("new", "normal", None)
    assert not TicketComment.objects.exists()
    assert TicketCharge.objects.get().status == "proposed"


def test_the_queue_costs_the_same_queries_for_few_or_many_tickets(desk: Desk) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = _api(desk, "supervisor")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/tickets?scope=all").status_code == 200
        return len(captured)

    for _n in range(2):
        desk.ticket()
    few = queries()
    for _n in range(6):
        desk.ticket(desk.world.back_office, priority="high")
    assert queries() == few
