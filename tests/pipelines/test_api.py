"""Leads over the JSON API: happy paths, refusals with their exact JSON, scoping.

The router is registered on the project's API at /api/v1/. Every refusal also checks
that nothing changed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from telcodesk.accounts.models import User
from telcodesk.pipelines.models import Lead, LeadStageChange
from tests.pipelines.conftest import Claro

pytestmark = pytest.mark.django_db

API = "/api/v1"
NO_SUCH_LEAD = {
    "code": "not_found",
    "message": "No such lead. It may have been removed; reload the board.",
    "details": {},
}


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def snapshot(lead: Lead) -> tuple[object, ...]:
    lead.refresh_from_db()
    return (
        lead.stage_id,
        lead.loss_reason_id,
        lead.lost_at,
        lead.won_at,
        lead.data,
        lead.updated_at,
        LeadStageChange.objects.filter(lead=lead).count(),
    )


class TestRead:
    def test_pipelines_lists_the_organizations_pipelines_with_stages(self, claro: Claro) -> None:
        response = client_for(claro.agent).get(f"{API}/pipelines")

        assert response.status_code == 200
        body = response.json()
        assert [p["name"] for p in body] == ["FIBRA", "PORTA", "TECHSTORE CHATS"]
        assert [s["name"] for s in body[0]["stages"]] == [
            "Leads entrantes",
            "Con Cobertura",
            "Respondió oferta",
            "Seguimiento",
            "Aguardando datos",
            "Deuda",
            "Pedido Acometida",
            "Ganados",
            "Perdidos",
        ]
        undefined = [r for r in body[0]["loss_reasons"] if r["is_system"]]
        assert [r["name"] for r in undefined] == ["Razón no definida"]

    def test_leads_of_a_pipeline_filter_by_stage(self, claro: Claro) -> None:
        claro.lead(phone="11 2345-0001")
        deuda = claro.lead(phone="11 2345-0002", stage="Deuda")
        pipeline = claro.pipeline("FIBRA")

        response = client_for(claro.agent).get(
            f"{API}/pipelines/{pipeline.pk}/leads",
            {"stage": claro.stage("FIBRA", "Deuda").pk},
        )

        assert response.status_code == 200
        body = response.json()
        assert (body["count"], body["page"], body["pages"]) == (1, 1, 1)
        assert [item["id"] for item in body["items"]] == [deuda.pk]
        assert body["items"][0]["stage"] == "Deuda"
        assert body["items"][0]["owner"] == {"id": claro.agent.pk, "name": "Lucas Gómez"}

    def test_an_outsider_gets_404_for_a_lead_and_a_pipeline(self, claro: Claro) -> None:
        lead = claro.lead()
        client = client_for(claro.outsider)

        response = client.get(f"{API}/leads/{lead.pk}")
        assert (response.status_code, response.json()) == (404, NO_SUCH_LEAD)
        response = client.get(f"{API}/pipelines/{lead.pipeline_id}/leads")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_the_queue_is_in_the_procedures_order(self, claro: Claro) -> None:
        now = timezone.now()
        follow_up = claro.lead(
            phone="11 2345-0001", stage="Seguimiento", now=now - timedelta(hours=1)
        )
        awaiting = claro.lead(
            phone="11 2345-0002", stage="Aguardando datos", now=now - timedelta(minutes=30)
        )
        replied = claro.lead(phone="11 2345-0003", stage="Respondió oferta")

        response = client_for(claro.agent).get(f"{API}/leads/queue")

        assert response.status_code == 200
        body = response.json()
        assert [(item["lead"]["id"], item["priority"]) for item in body] == [
            (replied.pk, 1),
            (awaiting.pk, 2),
            (follow_up.pk, 3),
        ]
        assert body[1]["reason"] == (
            "No reply for 30 minutes since the data was asked for: call the customer now."
        )

    def test_without_credentials_the_answer_is_401(self, claro: Claro) -> None:
        response = Client().get(f"{API}/pipelines")

        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


class TestCreate:
    def test_a_lead_is_created_in_the_first_open_stage(self, claro: Claro) -> None:
        pipeline = claro.pipeline("FIBRA")

        response = post(
            client_for(claro.agent),
            f"{API}/leads",
            {
                "pipeline_id": pipeline.pk,
                "name": "Martina López",
                "phone": "11 4523-6789",
                "source": "manual",
                "owner_id": claro.agent.pk,
                "data": {"floors": "3"},
                "value": "24999.00",
            },
        )

        assert response.status_code == 201
        body = response.json()
        lead = Lead.objects.get(pk=body["id"])
        assert (body["stage"], body["phone"], body["data"], body["value"]) == (
            "Leads entrantes",
            "+541145236789",
            {"floors": 3},
            "24999.00",
        )
        assert (lead.owner, lead.currency) == (claro.agent, "ARS")

    def test_a_phone_with_an_open_lead_answers_409_with_its_agent(self, claro: Claro) -> None:
        existing = claro.lead(phone="11 4523-6789")
        count = Lead.objects.count()

        response = post(
            client_for(claro.other_agent),
            f"{API}/leads",
            {"pipeline_id": existing.pipeline_id, "phone": "+54 11 4523-6789", "source": "channel"},
        )

        assert response.status_code == 409
        assert response.json() == {
            "code": "conflict",
            "message": 'This phone already has a lead in FIBRA ("Leads entrantes") worked by '
            "Lucas Gómez; talk to them before taking the customer.",
            "details": {
                "lead_id": existing.pk,
                "stage": "Leads entrantes",
                "owner": {"id": claro.agent.pk, "name": "Lucas Gómez"},
            },
        }
        assert Lead.objects.count() == count

    def test_the_prospects_e_mail_is_kept_corrected_and_cleared(self, claro: Claro) -> None:
        client = client_for(claro.agent)
        created = post(
            client,
            f"{API}/leads",
            {
                "pipeline_id": claro.pipeline("FIBRA").pk,
                "phone": "11 4523-6789",
                "source": "manual",
                "email": " Martina@Example.COM ",
            },
        )
        lead_id = created.json()["id"]

        corrected = client.patch(
            f"{API}/leads/{lead_id}",
            json.dumps({"email": "martina.lopez@example.com"}),
            content_type="application/json",
        )
        refused = client.patch(
            f"{API}/leads/{lead_id}",
            json.dumps({"email": "martina"}),
            content_type="application/json",
        )
        after_refusal = Lead.objects.get(pk=lead_id).email
        cleared = client.patch(
            f"{API}/leads/{lead_id}", json.dumps({"email": ""}), content_type="application/json"
        )

        assert (created.status_code, created.json()["email"]) == (201, "martina@example.com")
        assert corrected.json()["email"] == "martina.lopez@example.com"
        assert refused.status_code == 422
        assert refused.json()["details"] == {"email": ["Not a valid e-mail address."]}
        assert after_refusal == "martina.lopez@example.com"
        assert (cleared.status_code, cleared.json()["email"]) == (200, "")

    def test_an_unknown_field_is_refused(self, claro: Claro) -> None:
        response = post(
            client_for(claro.agent),
            f"{API}/leads",
            {
                "pipeline_id": claro.pipeline("FIBRA").pk,
                "phone": "1145236789",
                "source": "manual",
                "colour": "red",
            },
        )

        assert response.status_code == 422
        assert list(response.json()["details"]) == ["body.colour"]
        assert Lead.objects.count() == 0

    def test_a_role_without_lead_permissions_is_refused(self, claro: Claro) -> None:
        response = post(
            client_for(claro.viewer_less),
            f"{API}/leads",
            {"pipeline_id": claro.pipeline("FIBRA").pk, "phone": "1145236789", "source": "manual"},
        )

        assert response.status_code == 403
        assert response.json() == {
            "code": "forbidden",
            "message": "Your role does not allow this action. Ask a supervisor or an "
            "administrator.",
            "details": {},
        }
        assert Lead.objects.count() == 0


class TestWork:
    def test_a_move_answers_the_lead_in_its_new_stage(self, claro: Claro) -> None:
        lead = claro.lead()
        deuda = claro.stage("FIBRA", "Deuda")

        response = post(
            client_for(claro.agent),
            f"{API}/leads/{lead.pk}/move",
            {"stage_id": deuda.pk, "reason": "Tiene una factura vencida"},
        )

        assert response.status_code == 200
        assert (response.json()["stage_id"], response.json()["stage"]) == (deuda.pk, "Deuda")
        change = LeadStageChange.objects.filter(lead=lead).order_by("-id").first()
        assert change is not None
        assert (change.to_stage, change.reason, change.actor) == (
            deuda,
            "Tiene una factura vencida",
            claro.agent,
        )

    def test_a_refused_move_answers_422_with_the_reason(self, claro: Claro) -> None:
        lead = claro.lead("PORTA", stage="Revisar intención")
        before = snapshot(lead)
        message = 'Send the greeting first: the message of "Oferta 40%" only reads right after it.'

        response = post(
            client_for(claro.agent),
            f"{API}/leads/{lead.pk}/move",
            {"stage_id": claro.stage("PORTA", "Oferta 40%").pk},
        )

        assert response.status_code == 422
        assert response.json() == {
            "code": "invalid",
            "message": message,
            "details": {"stage": [message]},
        }
        assert snapshot(lead) == before

    def test_a_stage_of_another_organization_is_404(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)
        foreign = claro.outsider_pipeline.stages.get(name="Nuevo")

        response = post(
            client_for(claro.agent), f"{API}/leads/{lead.pk}/move", {"stage_id": foreign.pk}
        )

        assert response.status_code == 404
        assert response.json() == {
            "code": "not_found",
            "message": "No such stage. Use a stage id from GET /pipelines.",
            "details": {},
        }
        assert snapshot(lead) == before

    def test_losing_without_a_reason_answers_422(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)
        message = (
            "Choose why the lead is lost; each reason shows how to counter it before you give up."
        )

        response = post(client_for(claro.agent), f"{API}/leads/{lead.pk}/lose", {})

        assert response.status_code == 422
        assert response.json() == {
            "code": "invalid",
            "message": message,
            "details": {"reason": [message]},
        }
        assert snapshot(lead) == before

    def test_the_system_reason_cannot_be_chosen(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)
        message = (
            '"Razón no definida" is set only by the system when it closes a lead; choose '
            "the real reason."
        )

        response = post(
            client_for(claro.agent),
            f"{API}/leads/{lead.pk}/lose",
            {"reason_id": claro.reason("FIBRA", "Razón no definida").pk},
        )

        assert response.status_code == 422
        assert response.json() == {
            "code": "invalid",
            "message": message,
            "details": {"reason": [message]},
        }
        assert snapshot(lead) == before

    def test_losing_with_a_reason_and_winning(self, claro: Claro) -> None:
        lost = claro.lead(phone="11 2345-0001")
        won = claro.lead(phone="11 2345-0002", data={"installation_address": "Av. Rivadavia 1"})
        client = client_for(claro.agent)
        reason = claro.reason("FIBRA", "Fuera de cobertura")

        response = post(client, f"{API}/leads/{lost.pk}/lose", {"reason_id": reason.pk})
        assert response.status_code == 200
        assert (response.json()["stage"], response.json()["loss_reason_id"]) == (
            "Perdidos",
            reason.pk,
        )
        assert response.json()["loss_reason_undefined"] is False

        response = post(client, f"{API}/leads/{won.pk}/win")
        assert response.status_code == 200
        assert response.json()["stage"] == "Ganados"
        assert response.json()["won_at"] is not None

    def test_tab_data_is_checked_field_by_field(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)
        client = client_for(claro.agent)

        response = client.patch(
            f"{API}/leads/{lead.pk}/data",
            json.dumps({"data": {"floors": "muchos", "colour": "red"}}),
            content_type="application/json",
        )

        assert response.status_code == 422
        details = response.json()["details"]
        assert details["floors"] == ["Pisos del edificio o pasillo: write a number."]
        assert list(details) == ["floors", "colour"]
        assert snapshot(lead) == before

        response = client.patch(
            f"{API}/leads/{lead.pk}/data",
            json.dumps({"data": {"floors": "7", "has_box": "sí"}}),
            content_type="application/json",
        )
        assert response.status_code == 200
        assert response.json()["data"] == {"floors": 7, "has_box": True}

    def test_an_outsider_cannot_move_a_lead(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)

        response = post(
            client_for(claro.outsider),
            f"{API}/leads/{lead.pk}/move",
            {"stage_id": claro.stage("FIBRA", "Deuda").pk},
        )

        assert (response.status_code, response.json()) == (404, NO_SUCH_LEAD)
        assert snapshot(lead) == before
