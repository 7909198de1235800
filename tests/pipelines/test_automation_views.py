"""The lead page's timeline, notifications and one-click loss proposal; the queue badge."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from telcodesk.automation.tick import tick
from telcodesk.pipelines.models import Lead, LeadNotification
from telcodesk.pipelines.services import lead_move
from tests.pipelines.conftest import Claro
from tests.pipelines.test_views import client_for


def _awaiting_without_reply(claro: Claro) -> Lead:
    start = timezone.now() - timedelta(minutes=30)
    lead = claro.lead("FIBRA", now=start)
    lead = lead_move(
        actor=claro.actor(claro.agent),
        lead=lead,
        to_stage=claro.stage("FIBRA", "Aguardando datos"),
        now=start,
    )
    tick(now=start + timedelta(minutes=16))
    return lead


def test_the_lead_page_merges_stages_runs_and_tasks_and_shows_the_notification(
    claro: Claro,
) -> None:
    lead = _awaiting_without_reply(claro)

    response = client_for(claro.agent).get(reverse("pipelines:lead", args=[lead.pk]))

    assert response.status_code == 200
    kinds = [entry.kind for entry in response.context["timeline"]]
    assert sorted(kinds) == ["automation", "automation", "automation", "stage", "stage", "task"]
    text = response.content.decode()
    assert "Llamar al cliente: 15 minutos sin respuesta" in text
    assert "aguardando-datos" in text
    assert 'id="lead-notification-count">1<' in text
    assert "Sin respuesta hace 15 minutos en Aguardando datos: llamalo ahora." in text


def test_the_queue_counts_unread_notifications_and_marks_them_read(claro: Claro) -> None:
    _awaiting_without_reply(claro)
    client = client_for(claro.agent)

    page = client.get(reverse("pipelines:queue")).content.decode()
    assert 'id="notification-count">1<' in page
    assert 'id="nav-leads-unread"' in page  # the badge by "Leads" in the navigation
    other = client_for(claro.other_agent).get(reverse("pipelines:queue")).content.decode()
    assert 'id="nav-leads-unread"' not in other
    assert (
        client_for(claro.other_agent).get(reverse("pipelines:queue")).context["notifications"] == []
    )

    response = client.post(reverse("pipelines:notifications_read"))

    assert response.status_code == 302
    assert LeadNotification.objects.get().read_at is not None
    assert 'id="nav-leads-unread"' not in client.get(reverse("pipelines:queue")).content.decode()
    assert 'id="notification-count"' not in client.get(reverse("pipelines:queue")).content.decode()


def test_a_proposed_abandono_is_one_click_away(claro: Claro) -> None:
    lead = claro.lead("FIBRA", stage="Seguimiento")
    reason = claro.reason("FIBRA", "Abandono gestión")
    Lead.objects.filter(pk=lead.pk).update(
        proposed_loss_reason=reason, proposed_at=timezone.now(), follow_up_count=2
    )
    client = client_for(claro.agent)

    page = client.get(reverse("pipelines:lead", args=[lead.pk])).content.decode()
    assert 'id="loss-proposal"' in page
    queue = client.get(reverse("pipelines:queue")).content.decode()
    assert "Lose with “Abandono gestión”" in queue

    client.post(reverse("pipelines:lose", args=[lead.pk]), {"reason_id": reason.pk})

    lead.refresh_from_db()
    assert (lead.loss_reason, lead.proposed_loss_reason) == (reason, None)


def test_the_device_stages_ask_for_the_techstore_tab(claro: Claro) -> None:
    lead = claro.lead("TECHSTORE CHATS", stage="Motorola")

    page = client_for(claro.agent).get(reverse("pipelines:lead", args=[lead.pk])).content.decode()

    assert "Fill in the Techstore tab for this stage." in page
