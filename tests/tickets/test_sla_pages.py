"""The SLA on the console and the API: the ticket page's clocks and diagnostics, the
queue's SLA filter and nearest due, the API's clocks and ``sla`` filter; another
organization's key and people get nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from telcodesk.accounts.services import api_key_create
from telcodesk.network.models import DiagnosticRun
from telcodesk.tickets.services import ticket_status_set

from .conftest import Desk, signed_in
from .sla_helpers import local, sla_setup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _policies(desk: Desk) -> None:
    sla_setup(desk.world.operator)


def _api(desk: Desk, *, outsider: bool = False) -> tuple[Client, dict[str, str]]:
    world = desk.world
    admin = world.outsider if outsider else world.admin
    _key, secret = api_key_create(actor=world.actor(admin), name="k", role="supervisor")
    return Client(), {"Authorization": f"Bearer {secret}"}


def test_the_ticket_page_shows_each_clock_and_the_diagnostics_run_for_it(desk: Desk) -> None:
    ticket = desk.ticket(category="billing", subscription=desk.subscription, now=local(18, 9))
    ticket_status_set(
        actor=desk.world.actor(desk.world.agent),
        ticket=ticket,
        status="waiting_customer",
        now=local(18, 10),
    )
    now = timezone.now()
    DiagnosticRun.objects.create(
        organization=desk.world.operator,
        subscription=desk.subscription,
        ticket=ticket,
        kind="optical_power",
        status="ok",
        verdict="good",
        raw={"onu_rx_dbm": -18.5, "window_dbm": [-27, -8]},
        recommendation="none",
        target="OLT-1 0/1/0 ONU 1",
        started_at=now,
        finished_at=now,
    )

    page = signed_in(desk.world.agent).get(f"/tickets/{ticket.pk}/").content.decode()

    assert 'data-sla-metric="resolution" data-sla-state="paused"' in page
    assert "15 h 00 min" in page  # 16 h budget, 1 h used before the pause
    assert "waiting for the customer" in page
    assert 'data-kind="optical_power"' in page
    assert "ONU receives -18.5 dBm (range -27 to -8 dBm)" in page


def test_the_queue_filters_by_sla_and_shows_the_nearest_due(desk: Desk) -> None:
    overdue = desk.ticket(category="billing", subject="Vencido", now=local(10, 9))
    desk.ticket(category="commercial", subject="Sin SLA")
    client = signed_in(desk.world.agent)

    breached = client.get("/tickets/?scope=mine&sla=breached").content.decode()
    everything = client.get("/tickets/?scope=mine").content.decode()

    assert f'data-ticket-id="{overdue.pk}"' in breached
    assert "Sin SLA" not in breached
    assert 'data-sla-state="breached"' in everything
    assert "Sin SLA" in everything


def test_the_api_answers_the_clocks_and_the_sla_queue(desk: Desk) -> None:
    overdue = desk.ticket(category="billing", now=local(10, 9))
    desk.ticket(category="commercial", subject="Sin SLA")
    client, headers = _api(desk)

    listed = json.loads(
        client.get("/api/v1/tickets?sla=breached&scope=all", headers=headers).content
    )
    one = json.loads(client.get(f"/api/v1/tickets/{overdue.pk}", headers=headers).content)
    bad = client.get("/api/v1/tickets?sla=soon&scope=all", headers=headers)

    assert [item["id"] for item in listed["items"]] == [overdue.pk]
    assert listed["items"][0]["sla_due_at"] == "2025-03-11T22:00:00Z"
    [clock] = one["sla_clocks"]
    assert {k: clock[k] for k in ("metric", "state", "policy", "budget_seconds", "due_at")} == {
        "metric": "resolution",
        "state": "running",
        "policy": "facturacion",
        "budget_seconds": 16 * 3600,
        "due_at": "2025-03-11T22:00:00Z",
    }
    assert clock["remaining_seconds"] < 0
    assert (one["outage"], one["visit_needed"], one["diagnostic_runs"]) == (None, True, [])
    assert bad.status_code == 422


def test_another_organizations_key_gets_none_of_our_sla(desk: Desk) -> None:
    overdue = desk.ticket(category="billing", now=local(10, 9))
    client, headers = _api(desk, outsider=True)

    listed = json.loads(
        client.get("/api/v1/tickets?sla=breached&scope=all", headers=headers).content
    )

    assert listed["items"] == []
    assert client.get(f"/api/v1/tickets/{overdue.pk}", headers=headers).status_code == 404
