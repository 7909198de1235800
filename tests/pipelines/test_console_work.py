"""What an agent and a supervisor do on the leads console beyond moving cards: type a lead
in (and be told who already works the phone), mark the automations' tasks done, see the
other leads of a phone, and find the leads left with "Razón no definida"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telcodesk.accounts.models import User
from telcodesk.core.errors import NotFound, PermissionDenied
from telcodesk.pipelines.models import Lead, LeadTask
from telcodesk.pipelines.selectors import my_queue
from telcodesk.pipelines.services import (
    lead_close_automatically,
    lead_move_automatically,
    lead_task_complete,
)
from tests.pipelines.conftest import Claro

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def call_task(claro: Claro, lead: Lead, *, assigned_to: User, timer: int | None = 7) -> LeadTask:
    """A "call the customer" task as the 15-minutes timer makes it."""
    return LeadTask.objects.create(
        organization=claro.reseller,
        lead=lead,
        kind=LeadTask.Kind.CALL_CUSTOMER,
        title="Llamar al cliente: 15 minutos sin respuesta",
        priority=LeadTask.Priority.HIGH,
        due_at=timezone.now() - timedelta(minutes=1),
        assigned_to=assigned_to,
        source_timer_id=timer,
    )


# --- a lead typed in by an agent ----------------------------------------------------------


class TestNewLead:
    def url(self, claro: Claro, pipeline: str = "FIBRA") -> str:
        return reverse("pipelines:new", args=[claro.pipeline(pipeline).pk])

    def test_an_agent_types_a_lead_in_and_it_is_theirs(self, claro: Claro) -> None:
        response = client_for(claro.agent).post(
            self.url(claro),
            {
                "new-name": "Carla Sosa",
                "new-phone": "11 4321-0000",
                "new-document": "28.444.555",
                "new-email": "Carla@Example.com",
            },
        )

        lead = Lead.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("pipelines:lead", args=[lead.pk])
        assert (lead.name, lead.phone, lead.document, lead.email) == (
            "Carla Sosa",
            "+541143210000",
            "28444555",
            "carla@example.com",
        )
        assert (lead.source, lead.owner, lead.stage.name) == (
            "manual",
            claro.agent,
            "Leads entrantes",
        )

    def test_a_phone_with_a_lead_is_refused_naming_the_agent_who_works_it(
        self, claro: Claro
    ) -> None:
        existing = claro.lead(phone="+54 9 11 4321-0000", owner=claro.other_agent)

        response = client_for(claro.agent).post(
            self.url(claro), {"new-name": "Carla Sosa", "new-phone": "11 4321-0000"}
        )

        assert response.status_code == 409
        assert response.context["duplicate"].lead == existing
        assert response.context["duplicate"].error == (
            'This phone already has a lead in FIBRA ("Leads entrantes") worked by Sofía '
            "Martínez; talk to them before taking the customer."
        )
        assert reverse("pipelines:lead", args=[existing.pk]) in response.text
        assert Lead.objects.count() == 1

    def test_a_bad_phone_is_refused_on_its_field_and_nothing_is_written(self, claro: Claro) -> None:
        response = client_for(claro.agent).post(
            self.url(claro), {"new-name": "Carla Sosa", "new-phone": "123"}
        )

        assert response.status_code == 422
        assert response.context["new_form"].errors["phone"] == [
            "123 is not a valid phone number in Argentina. Type it with its area code, for "
            "example 011 15-2345-6789, or with the country code, like +54 9 11 2345-6789."
        ]
        assert not Lead.objects.exists()

    def test_an_outsider_cannot_type_a_lead_into_the_resellers_pipeline(self, claro: Claro) -> None:
        response = client_for(claro.outsider).post(
            self.url(claro), {"new-name": "Carla Sosa", "new-phone": "11 4321-0000"}
        )

        assert response.status_code == 404
        assert not Lead.objects.exists()


# --- the automations' tasks ---------------------------------------------------------------


class TestTasks:
    def test_marking_the_call_done_takes_the_lead_out_of_call_now(self, claro: Claro) -> None:
        lead = claro.lead(phone="11 4321-0000", stage="Con Cobertura")
        task = call_task(claro, lead, assigned_to=claro.agent)
        agent = claro.actor(claro.agent)
        queued = my_queue(actor=agent)
        assert [(item.lead, item.priority, item.task) for item in queued] == [(lead, 2, task)]

        response = client_for(claro.agent).post(
            reverse("pipelines:task_done", args=[task.pk]), {"from": "queue"}
        )

        task.refresh_from_db()
        assert response.status_code == 302
        assert response["Location"] == reverse("pipelines:queue")
        assert task.done_at is not None
        assert my_queue(actor=agent) == []

    def test_the_lead_page_lists_the_open_tasks_with_a_done_button(self, claro: Claro) -> None:
        lead = claro.lead(phone="11 4321-0000")
        task = call_task(claro, lead, assigned_to=claro.agent)
        done = call_task(claro, lead, assigned_to=claro.agent, timer=8)
        LeadTask.objects.filter(pk=done.pk).update(done_at=timezone.now())

        response = client_for(claro.agent).get(reverse("pipelines:lead", args=[lead.pk]))

        assert response.context["tasks"] == [task]
        assert reverse("pipelines:task_done", args=[task.pk]) in response.text
        assert reverse("pipelines:task_done", args=[done.pk]) not in response.text

    def test_another_agents_task_is_theirs_but_a_supervisor_may_close_it(
        self, claro: Claro
    ) -> None:
        lead = claro.lead(phone="11 4321-0000", owner=claro.other_agent)
        task = call_task(claro, lead, assigned_to=claro.other_agent)

        with pytest.raises(PermissionDenied) as refused:
            lead_task_complete(actor=claro.actor(claro.agent), task_id=task.pk)
        task.refresh_from_db()
        assert task.done_at is None
        assert refused.value.message == (
            "This task is assigned to Sofía Martínez; only they or a supervisor can mark it done."
        )

        closed = lead_task_complete(actor=claro.actor(claro.supervisor), task_id=task.pk)
        assert closed.done_at is not None

    def test_a_done_task_stays_done_once(self, claro: Claro) -> None:
        lead = claro.lead(phone="11 4321-0000")
        task = call_task(claro, lead, assigned_to=claro.agent)
        first = lead_task_complete(actor=claro.actor(claro.agent), task_id=task.pk)

        again = lead_task_complete(
            actor=claro.actor(claro.agent),
            task_id=task.pk,
            now=timezone.now() + timedelta(hours=1),
        )

        assert again.done_at == first.done_at

    def test_an_outsider_cannot_close_the_resellers_task(self, claro: Claro) -> None:
        lead = claro.lead(phone="11 4321-0000")
        task = call_task(claro, lead, assigned_to=claro.agent)

        with pytest.raises(NotFound):
            lead_task_complete(actor=claro.actor(claro.outsider), task_id=task.pk)
        response = client_for(claro.outsider).post(reverse("pipelines:task_done", args=[task.pk]))

        task.refresh_from_db()
        assert (response.status_code, task.done_at) == (404, None)


# --- other leads of the same phone --------------------------------------------------------


def test_the_lead_page_names_the_other_leads_of_the_phone_and_their_agents(
    claro: Claro,
) -> None:
    porta = claro.lead("PORTA", phone="+54 9 11 4321-0000", owner=claro.other_agent)
    closed = claro.lead("TECHSTORE CHATS", phone="11 4321-0000")
    lead_close_automatically(lead=closed, note="abandonado")
    fibra = claro.lead("FIBRA", phone="11 4321-0000")

    response = client_for(claro.agent).get(reverse("pipelines:lead", args=[fibra.pk]))

    assert [(card.lead, card.owner) for card in response.context["same_phone"]] == [
        (porta, "Sofía Martínez")
    ]
    assert "worked by Sofía Martínez" in response.text


# --- "Razón no definida": the supervisor finds them -------------------------------------


def test_the_picker_counts_undefined_reasons_per_pipeline_and_the_list_shows_them(
    claro: Claro,
) -> None:
    flagged = claro.lead(phone="11 4321-0001")
    lead_close_automatically(lead=flagged, note="sin respuesta")
    claro.lead(phone="11 4321-0002")
    porta = claro.lead("PORTA", phone="11 4321-0003")
    lead_close_automatically(lead=porta, note="sin respuesta")
    fibra = claro.pipeline("FIBRA")
    supervisor = client_for(claro.supervisor)

    picker = supervisor.get(reverse("pipelines:picker"))
    listed = supervisor.get(reverse("pipelines:list", args=[fibra.pk]), {"undefined": "on"})

    counts = {pipeline.name: pipeline.undefined_count for pipeline in picker.context["pipelines"]}
    assert counts == {"FIBRA": 1, "PORTA": 1, "TECHSTORE CHATS": 0}
    assert picker.context["undefined_count"] == 2
    assert f"{reverse('pipelines:list', args=[fibra.pk])}?undefined=on" in picker.text
    assert [card.lead for card in listed.context["cards"]] == [flagged]
    everything = supervisor.get(reverse("pipelines:list", args=[fibra.pk]))
    assert everything.context["page"].paginator.count == 2


def test_a_lead_in_a_system_stage_offers_win_and_lose_but_no_move(claro: Claro) -> None:
    lead = claro.lead("TECHSTORE CHATS", phone="11 4321-0000", stage="Asesoramiento")
    lead = lead_move_automatically(
        lead=lead, to_stage=claro.stage("TECHSTORE CHATS", "Links de pago"), note="store"
    )

    response = client_for(claro.agent).get(reverse("pipelines:lead", args=[lead.pk]))

    assert 'id="lead-system-stage"' in response.text
    assert reverse("pipelines:move", args=[lead.pk]) not in response.text
    assert reverse("pipelines:win", args=[lead.pk]) in response.text
    assert reverse("pipelines:lose", args=[lead.pk]) in response.text
