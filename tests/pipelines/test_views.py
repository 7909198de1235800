"""The leads console: board, list, lead page, moves by htmx, loss and win, my queue.

Writes go through pipelines.services; these tests check what the console adds: exact
counts on the board, refusals shown inline with 422 and nothing changed, scoping that
answers 404, and the queue in the procedure's order.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telcodesk.accounts.models import User
from telcodesk.pipelines import services
from telcodesk.pipelines.demo import demo_leads_generate
from telcodesk.pipelines.models import Lead, LeadStageChange, Pipeline
from tests.pipelines.conftest import Claro

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board"}


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot(lead: Lead) -> tuple[object, ...]:
    lead.refresh_from_db()
    return (
        lead.stage_id,
        lead.stage_entered_at,
        lead.loss_reason_id,
        lead.lost_at,
        lead.won_at,
        lead.data,
        lead.updated_at,
        LeadStageChange.objects.filter(lead=lead).count(),
    )


def column_counts(response: object) -> dict[str, int]:
    return {
        column["stage"].name: column["count"]
        for column in response.context["columns"]  # type: ignore[attr-defined]
    }


class TestBoard:
    def test_the_board_shows_a_column_per_stage_with_exact_counts(self, claro: Claro) -> None:
        claro.lead(phone="11 2345-0001", value=Decimal("100.50"))
        claro.lead(phone="11 2345-0002", value=Decimal("200"))
        claro.lead(phone="11 2345-0003", stage="Deuda", name="Ana Deuda")
        fibra = claro.pipeline("FIBRA")

        response = client_for(claro.agent).get(reverse("pipelines:board", args=[fibra.pk]))

        assert response.status_code == 200
        assert list(column_counts(response).items()) == [
            ("Leads entrantes", 2),
            ("Con Cobertura", 0),
            ("Respondió oferta", 0),
            ("Seguimiento", 0),
            ("Aguardando datos", 0),
            ("Deuda", 1),
            ("Pedido Acometida", 0),
            ("Ganados", 0),
            ("Perdidos", 0),
        ]
        first = response.context["columns"][0]
        assert first["value"] == "$\xa0300.50"
        assert "Ana Deuda" in response.text
        assert 'draggable="true"' in response.text

    def test_the_owner_filter_keeps_only_that_agents_leads(self, claro: Claro) -> None:
        claro.lead(phone="11 2345-0001")
        claro.lead(phone="11 2345-0002", owner=claro.other_agent, name="De Sofía")
        fibra = claro.pipeline("FIBRA")

        response = client_for(claro.agent).get(
            reverse("pipelines:board", args=[fibra.pk]), {"owner": claro.other_agent.pk}
        )

        assert column_counts(response)["Leads entrantes"] == 1
        assert "De Sofía" in response.text
        assert "Lucía Fernández" not in response.text

    def test_a_lead_closed_by_the_system_is_flagged(self, claro: Claro) -> None:
        lead = claro.lead()
        services.lead_close_automatically(lead=lead, note="abandoned")

        response = client_for(claro.agent).get(reverse("pipelines:board", args=[lead.pipeline_id]))

        assert column_counts(response)["Perdidos"] == 1
        assert "Undefined loss reason: set the real one" in response.text

    def test_the_list_view_pages_the_pipelines_leads(self, claro: Claro) -> None:
        claro.lead(phone="11 2345-0001", name="Primera")
        claro.lead(phone="11 2345-0002", stage="Deuda", name="Segunda")

        response = client_for(claro.agent).get(
            reverse("pipelines:list", args=[claro.pipeline("FIBRA").pk]),
            {"stage": claro.stage("FIBRA", "Deuda").pk},
        )

        assert response.status_code == 200
        assert [card.lead.name for card in response.context["cards"]] == ["Segunda"]


class TestMove:
    def test_a_move_by_htmx_changes_the_stage_and_rerenders_the_board(self, claro: Claro) -> None:
        lead = claro.lead()
        deuda = claro.stage("FIBRA", "Deuda")

        response = client_for(claro.agent).post(
            reverse("pipelines:move", args=[lead.pk]), {"stage": deuda.pk}, **HTMX
        )

        assert response.status_code == 200
        lead.refresh_from_db()
        assert lead.stage == deuda
        assert column_counts(response)["Deuda"] == 1
        assert column_counts(response)["Leads entrantes"] == 0
        assert f'id="lead-card-{lead.pk}"' in response.text
        assert 'id="board"' in response.text

    def test_a_refused_move_shows_its_reason_and_changes_nothing(self, claro: Claro) -> None:
        lead = claro.lead("PORTA", stage="Revisar intención")
        offer = claro.stage("PORTA", "Oferta 40%")
        before = snapshot(lead)

        response = client_for(claro.agent).post(
            reverse("pipelines:move", args=[lead.pk]), {"stage": offer.pk}, **HTMX
        )

        assert response.status_code == 422
        assert (
            "Send the greeting first: the message of &quot;Oferta 40%&quot; only reads right "
            "after it." in response.text
        )
        assert f'id="lead-card-{lead.pk}-error"' in response.text
        assert snapshot(lead) == before

    def test_moving_into_a_won_column_is_refused_with_the_way_to_win(self, claro: Claro) -> None:
        lead = claro.lead()
        won = claro.stage("FIBRA", "Ganados")
        before = snapshot(lead)

        response = client_for(claro.agent).post(
            reverse("pipelines:move", args=[lead.pk]), {"stage": won.pk}, **HTMX
        )

        assert response.status_code == 422
        assert "use &quot;Win&quot; or &quot;Lose&quot;" in response.text
        assert snapshot(lead) == before

    def test_the_move_keeps_the_boards_filters(self, claro: Claro) -> None:
        lead = claro.lead(phone="11 2345-0001")
        claro.lead(phone="11 2345-0002", owner=claro.other_agent)
        url = reverse("pipelines:move", args=[lead.pk]) + f"?owner={claro.agent.pk}"

        response = client_for(claro.agent).post(
            url, {"stage": claro.stage("FIBRA", "Deuda").pk}, **HTMX
        )

        assert column_counts(response)["Deuda"] == 1
        assert column_counts(response)["Leads entrantes"] == 0

    def test_a_plain_form_post_redirects_back_to_the_board(self, claro: Claro) -> None:
        lead = claro.lead()

        response = client_for(claro.agent).post(
            reverse("pipelines:move", args=[lead.pk]),
            {"stage": claro.stage("FIBRA", "Deuda").pk},
        )

        assert response.status_code == 302
        assert response["Location"] == reverse("pipelines:board", args=[lead.pipeline_id])


class TestLeadPage:
    def test_the_lead_page_shows_guidance_counters_and_rules(self, claro: Claro) -> None:
        lead = claro.lead(stage="Respondió oferta")

        response = client_for(claro.agent).get(reverse("pipelines:lead", args=[lead.pk]))

        assert response.status_code == 200
        assert "Estos leads van primero; atendelos antes que cualquier otro." in response.text
        assert "Aprovechá el contacto para venderle otra cosa" in response.text
        assert [row["key"] for row in response.context["decisions"]] == ["riser", "debt"]
        reasons = [reason.name for reason in response.context["reasons"]]
        assert "Razón no definida" not in reasons
        assert "Fuera de cobertura" in reasons

    def test_the_lead_pages_move_form_moves_and_refuses_inline(self, claro: Claro) -> None:
        lead = claro.lead("PORTA", stage="Revisar intención")
        client = client_for(claro.agent)
        url = reverse("pipelines:move", args=[lead.pk])
        before = snapshot(lead)

        refused = client.post(
            url,
            {"from": "lead", "move-stage": claro.stage("PORTA", "Oferta 60%").pk},
            HTTP_HX_REQUEST="true",
        )
        assert refused.status_code == 422
        assert 'id="lead-actions"' in refused.text
        assert "Send the greeting first" in refused.text
        assert snapshot(lead) == before

        moved = client.post(
            url,
            {"from": "lead", "move-stage": claro.stage("PORTA", "Aguardando datos").pk},
            HTTP_HX_REQUEST="true",
        )
        assert moved.status_code == 200
        assert moved["HX-Redirect"] == reverse("pipelines:lead", args=[lead.pk])
        lead.refresh_from_db()
        assert lead.stage.name == "Aguardando datos"

    def test_losing_without_a_reason_is_refused_inline(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)

        response = client_for(claro.agent).post(
            reverse("pipelines:lose", args=[lead.pk]),
            {"reason_id": "", "note": ""},
            HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 422
        assert (
            "Choose why the lead is lost; each reason shows how to counter it before you give up."
            in response.text
        )
        assert 'id="lead-actions"' in response.text
        assert snapshot(lead) == before

    def test_losing_with_a_reason_closes_the_lead(self, claro: Claro) -> None:
        lead = claro.lead()
        reason = claro.reason("FIBRA", "Fuera de cobertura")

        response = client_for(claro.agent).post(
            reverse("pipelines:lose", args=[lead.pk]),
            {"reason_id": reason.pk},
            HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("pipelines:lead", args=[lead.pk])
        lead.refresh_from_db()
        assert (lead.loss_reason, lead.stage.name) == (reason, "Perdidos")

    def test_winning_without_the_required_address_is_refused(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)

        response = client_for(claro.agent).post(
            reverse("pipelines:win", args=[lead.pk]), HTTP_HX_REQUEST="true"
        )

        assert response.status_code == 422
        assert "Fill in Dirección de instalación before winning the lead." in response.text
        assert snapshot(lead) == before

    def test_bad_tab_data_comes_back_inline_and_is_not_saved(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)

        response = client_for(claro.agent).post(
            reverse("pipelines:data", args=[lead.pk]),
            {"floors": "muchos", "installation_address": "Av. Corrientes 1234"},
            HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 422
        assert "Pisos del edificio o pasillo: write a number." in response.text
        assert snapshot(lead) == before

    def test_tab_data_is_saved_typed(self, claro: Claro) -> None:
        lead = claro.lead()

        response = client_for(claro.agent).post(
            reverse("pipelines:data", args=[lead.pk]),
            {"floors": "6", "has_box": "false", "installation_address": "Av. Corrientes 1234"},
            HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 200
        lead.refresh_from_db()
        assert lead.data == {
            "floors": 6,
            "has_box": False,
            "installation_address": "Av. Corrientes 1234",
        }


class TestScoping:
    def test_an_outsider_gets_404_everywhere_and_changes_nothing(self, claro: Claro) -> None:
        lead = claro.lead()
        before = snapshot(lead)
        client = client_for(claro.outsider)

        assert client.get(reverse("pipelines:board", args=[lead.pipeline_id])).status_code == 404
        assert client.get(reverse("pipelines:list", args=[lead.pipeline_id])).status_code == 404
        assert client.get(reverse("pipelines:lead", args=[lead.pk])).status_code == 404
        moved = client.post(
            reverse("pipelines:move", args=[lead.pk]),
            {"stage": claro.stage("FIBRA", "Deuda").pk},
            **HTMX,
        )
        assert moved.status_code == 404
        lost = client.post(
            reverse("pipelines:lose", args=[lead.pk]),
            {"reason_id": claro.reason("FIBRA", "Fuera de cobertura").pk},
        )
        assert lost.status_code == 404
        assert snapshot(lead) == before

    def test_the_picker_lists_only_the_organizations_pipelines(self, claro: Claro) -> None:
        response = client_for(claro.outsider).get(reverse("pipelines:picker"))

        assert [p.name for p in response.context["pipelines"]] == ["FIBRA"]
        assert response.context["pipelines"][0] == claro.outsider_pipeline

    def test_signed_out_visitors_are_sent_to_sign_in(self, claro: Claro) -> None:
        response = Client().get(reverse("pipelines:queue"))

        assert response.status_code == 302


class TestQueue:
    def test_the_queue_lists_replies_then_calls_then_follow_ups(self, claro: Claro) -> None:
        now = timezone.now()
        follow_up = claro.lead(
            phone="11 2345-0001", stage="Seguimiento", now=now - timedelta(hours=3)
        )
        awaiting = claro.lead(
            phone="11 2345-0002", stage="Aguardando datos", now=now - timedelta(minutes=20)
        )
        claro.lead(phone="11 2345-0003", stage="Aguardando datos", now=now - timedelta(minutes=5))
        replied = claro.lead(
            phone="11 2345-0004", stage="Respondió oferta", now=now - timedelta(minutes=1)
        )
        lost = claro.lead(phone="11 2345-0005")
        services.lead_close_automatically(lead=lost, note="abandoned")

        response = client_for(claro.agent).get(reverse("pipelines:queue"))

        assert response.status_code == 200
        order = [int(pk) for pk in re.findall(r'data-lead-id="(\d+)"', response.text)]
        assert order == [replied.pk, awaiting.pk, follow_up.pk]
        assert "call the customer now" in response.text
        assert response.context["undefined_count"] == 1
        assert '<div class="stat-value" id="undefined-count">1</div>' in response.text


class TestDemoData:
    def test_every_page_renders_for_the_demo_leads(self, claro: Claro) -> None:
        demo_leads_generate(organization=claro.reseller, count=30, seed=11)
        client = client_for(claro.supervisor)

        assert client.get(reverse("pipelines:picker")).status_code == 200
        assert client.get(reverse("pipelines:queue")).status_code == 200
        for pipeline in Pipeline.objects.filter(organization=claro.reseller):
            assert client.get(reverse("pipelines:board", args=[pipeline.pk])).status_code == 200
            assert client.get(reverse("pipelines:list", args=[pipeline.pk])).status_code == 200
        for lead in Lead.objects.filter(organization=claro.reseller):
            response = client.get(reverse("pipelines:lead", args=[lead.pk]))
            assert response.status_code == 200, lead
