"""Taking a lead ("aceptar el lead") and assigning it: services, lead page and API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from telcodesk.accounts.models import AuditLog
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.messaging.models import Channel, Conversation
from telcodesk.pipelines.assignment import lead_assign, lead_take
from telcodesk.pipelines.models import Lead
from telcodesk.pipelines.services import lead_create, lead_lose
from tests.pipelines.conftest import Claro

pytestmark = pytest.mark.django_db


def unowned_lead(claro: Claro, phone: str = "11 4000-1000") -> Lead:
    """A lead as it comes in from WhatsApp: in the entry stage, with nobody working it."""
    result = lead_create(
        actor=claro.actor(claro.supervisor),
        pipeline=claro.pipeline("FIBRA"),
        name="Martina Gómez",
        phone=phone,
        source="channel",
        owner=None,
    )
    assert result.created and result.lead.owner_id is None
    return result.lead


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


class TestServices:
    def test_an_agent_takes_an_unowned_lead_and_its_conversation(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        channel = Channel.objects.create(
            organization=claro.reseller, name="WA", phone_number_id="pn-assign"
        )
        conversation = Conversation.objects.create(
            organization=claro.reseller,
            channel=channel,
            external_address="5491140001000",
            phone_e164="+5491140001000",
        )
        Lead.objects.filter(pk=lead.pk).update(conversation=conversation)
        lead.refresh_from_db()

        taken = lead_take(actor=claro.actor(claro.agent), lead=lead)

        assert taken.owner_id == claro.agent.pk
        conversation.refresh_from_db()
        assert conversation.assigned_user_id == claro.agent.pk
        entry = AuditLog.objects.get(
            action="update", object_type="pipelines.lead", object_id=str(lead.pk)
        )
        assert entry.changes["owner"] == [None, claro.agent.pk]

    def test_a_conversation_someone_answers_keeps_its_agent(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        channel = Channel.objects.create(
            organization=claro.reseller, name="WA", phone_number_id="pn-assign-2"
        )
        conversation = Conversation.objects.create(
            organization=claro.reseller,
            channel=channel,
            external_address="5491140001000",
            assigned_user=claro.other_agent,
        )
        Lead.objects.filter(pk=lead.pk).update(conversation=conversation)
        lead.refresh_from_db()

        lead_take(actor=claro.actor(claro.agent), lead=lead)

        conversation.refresh_from_db()
        assert conversation.assigned_user_id == claro.other_agent.pk

    def test_an_agent_cannot_take_another_agents_lead(self, claro: Claro) -> None:
        lead = claro.lead(owner=claro.other_agent)
        with pytest.raises(PermissionDenied, match="Another agent already works this lead"):
            lead_take(actor=claro.actor(claro.agent), lead=lead)
        lead.refresh_from_db()
        assert lead.owner_id == claro.other_agent.pk
        assert not AuditLog.objects.filter(object_type="pipelines.lead").exists()

    def test_an_agent_cannot_give_a_lead_to_someone_else(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        with pytest.raises(PermissionDenied, match="Only supervisors give leads"):
            lead_assign(actor=claro.actor(claro.agent), lead=lead, owner=claro.other_agent)
        lead.refresh_from_db()
        assert lead.owner_id is None

    def test_a_supervisor_reassigns_and_an_outsider_is_refused(self, claro: Claro) -> None:
        lead = claro.lead(owner=claro.agent)
        supervisor = claro.actor(claro.supervisor)

        lead_assign(actor=supervisor, lead=lead, owner=claro.other_agent)
        lead.refresh_from_db()
        assert lead.owner_id == claro.other_agent.pk

        with pytest.raises(ValidationFailed, match="must be a member of your organization"):
            lead_assign(actor=supervisor, lead=lead, owner=claro.outsider)
        lead.refresh_from_db()
        assert lead.owner_id == claro.other_agent.pk

    def test_a_closed_lead_keeps_its_owner(self, claro: Claro) -> None:
        lead = claro.lead(owner=claro.agent)
        lead_lose(
            actor=claro.actor(claro.agent),
            lead=lead,
            reason=claro.reason("FIBRA", "Abandono gestión"),
        )
        with pytest.raises(ValidationFailed, match="This lead is closed"):
            lead_assign(actor=claro.actor(claro.supervisor), lead=lead, owner=None)

    def test_another_organizations_lead_does_not_exist(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        outsider = claro.actor(claro.outsider)
        with pytest.raises(NotFound):
            lead_take(actor=outsider, lead=lead)


class TestPages:
    def test_the_lead_page_offers_take_and_taking_works(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        client = client_for(claro.agent)
        page = client.get(reverse("pipelines:lead", args=[lead.pk]))
        assert "Take this lead" in page.content.decode()

        answer = client.post(reverse("pipelines:take", args=[lead.pk]))

        assert answer.status_code == 302
        lead.refresh_from_db()
        assert lead.owner_id == claro.agent.pk
        page = client.get(reverse("pipelines:lead", args=[lead.pk]))
        assert "Take this lead" not in page.content.decode()

    def test_an_agent_posting_assign_is_refused_inline(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        answer = client_for(claro.agent).post(
            reverse("pipelines:assign", args=[lead.pk]), {"owner": claro.other_agent.pk}
        )
        assert answer.status_code == 422
        assert "Only supervisors give leads" in answer.content.decode()
        lead.refresh_from_db()
        assert lead.owner_id is None

    def test_a_supervisor_assigns_from_the_lead_page(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        client = client_for(claro.supervisor)
        assert (
            'id="lead-owner"'
            in client.get(reverse("pipelines:lead", args=[lead.pk])).content.decode()
        )
        answer = client.post(
            reverse("pipelines:assign", args=[lead.pk]), {"owner": claro.other_agent.pk}
        )
        assert answer.status_code == 302
        lead.refresh_from_db()
        assert lead.owner_id == claro.other_agent.pk


class TestApi:
    def test_take_and_assign(self, claro: Claro) -> None:
        lead = unowned_lead(claro)
        answer = client_for(claro.agent).post(
            f"/api/v1/leads/{lead.pk}/take", "{}", content_type="application/json"
        )
        assert answer.status_code == 200
        assert answer.json()["owner"]["id"] == claro.agent.pk

        refused = client_for(claro.agent).post(
            f"/api/v1/leads/{lead.pk}/assign",
            json.dumps({"owner_id": claro.other_agent.pk}),
            content_type="application/json",
        )
        assert refused.status_code == 403

        moved = client_for(claro.supervisor).post(
            f"/api/v1/leads/{lead.pk}/assign",
            json.dumps({"owner_id": claro.other_agent.pk}),
            content_type="application/json",
        )
        assert moved.status_code == 200
        assert moved.json()["owner"]["id"] == claro.other_agent.pk


class TestContact:
    def test_patch_corrects_name_document_and_value(self, claro: Claro) -> None:
        lead = claro.lead()
        answer = client_for(claro.agent).patch(
            f"/api/v1/leads/{lead.pk}",
            json.dumps(
                {"name": " Lucía Fernández Paz ", "document": "30.123.456", "value": "41000"}
            ),
            content_type="application/json",
        )
        assert answer.status_code == 200
        body = answer.json()
        assert (body["name"], body["document"], body["value"]) == (
            "Lucía Fernández Paz",
            "30123456",
            "41000.00",
        )

    def test_patch_refuses_unknown_fields_and_other_organizations(self, claro: Claro) -> None:
        lead = claro.lead()
        typo = client_for(claro.agent).patch(
            f"/api/v1/leads/{lead.pk}", json.dumps({"nmae": "x"}), content_type="application/json"
        )
        assert typo.status_code == 422
        outsider = client_for(claro.outsider).patch(
            f"/api/v1/leads/{lead.pk}", json.dumps({"name": "x"}), content_type="application/json"
        )
        assert outsider.status_code == 404
        lead.refresh_from_db()
        assert lead.name == "Lucía Fernández"
