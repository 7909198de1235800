"""Visits over the JSON API: slots, booking with its refusals, the ticket's visits,
reschedule, cancel, complete, technicians; another organization gets 404."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create
from telcodesk.visits.models import Visit

from .conftest import NOW, Isp, local, make_user

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


class Api:
    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str) -> Any:
        return self.client.get(BASE + path, headers=self.headers)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The API books "now": the agent's Monday 10:00 of the conftest.
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    yield


def _api(isp: Isp, role: str = Role.AGENT, outsider: bool = False) -> Api:
    if outsider:
        actor = isp.world.actor(isp.world.outsider)
    else:
        admin = make_user("mx-admin-" + role, isp.organization, Role.ADMIN)
        actor = isp.world.actor(admin, isp.organization)
    _key, secret = api_key_create(actor=actor, name=f"{role}-key", role=role)
    return Api(secret)


def test_the_slots_list_the_window_with_the_free_technicians(isp: Isp) -> None:
    ticket = isp.ticket()

    answer = _api(isp).get(f"/tickets/{ticket.pk}/visit-slots?part_of_day=afternoon")

    assert answer.status_code == 200
    slots = answer.json()
    assert [slot["starts_at"] for slot in slots][:3] == [
        "2026-12-09T21:00:00Z",
        "2026-12-10T19:00:00Z",
        "2026-12-10T21:00:00Z",
    ]
    assert slots[0]["technicians"] == [
        {"id": isp.technician("Luis Pérez").pk, "name": "Luis Pérez", "used": 0, "capacity": 2},
        {"id": isp.technician("Marta Gómez").pk, "name": "Marta Gómez", "used": 0, "capacity": 1},
    ]


def test_booking_answers_201_with_the_visit_and_a_bad_slot_422(isp: Isp) -> None:
    api = _api(isp)
    ticket = isp.ticket()

    refused = api.post(
        f"/tickets/{ticket.pk}/visits",
        {"starts_at": "2026-12-10T17:00:00-06:00", "adult_present": True},
    )
    booked = api.post(
        f"/tickets/{ticket.pk}/visits",
        {
            "starts_at": "2026-12-10T09:00:00-06:00",
            "adult_present": True,
            "availability_note": "mañanas",
            "extra_cost": {"kind": "internal_damage", "amount": "150.00", "reason": "cableado"},
        },
    )

    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid"
    assert refused.json()["details"] == {"starts_at": [refused.json()["message"]]}
    assert booked.status_code == 201
    body = booked.json()
    assert (body["status"], body["technician"], body["zone"], body["ticket_number"]) == (
        "booked",
        "Luis Pérez",
        "Centro",
        ticket.display_number,
    )
    assert (body["starts_at"], body["ends_at"], body["local_date"]) == (
        "2026-12-10T15:00:00Z",
        "2026-12-10T17:00:00Z",
        "2026-12-10",
    )
    assert body["extra_cost_note"] == "150.00 MXN: cableado"
    assert [event["kind"] for event in body["events"]] == ["booked"]
    listed = api.get(f"/tickets/{ticket.pk}/visits").json()
    assert [visit["id"] for visit in listed] == [body["id"]]


def test_reschedule_cancel_and_complete(isp: Isp) -> None:
    api = _api(isp)
    first = isp.ticket()
    second = isp.ticket()
    one = api.post(
        f"/tickets/{first.pk}/visits",
        {"starts_at": "2026-12-10T09:00:00-06:00", "adult_present": True},
    ).json()
    two = api.post(
        f"/tickets/{second.pk}/visits",
        {"starts_at": "2026-12-11T09:00:00-06:00", "adult_present": True},
    ).json()

    moved = api.post(
        f"/visits/{one['id']}/reschedule",
        {"starts_at": "2026-12-10T11:00:00-06:00", "reason": "más tarde"},
    )
    cancelled = api.post(f"/visits/{two['id']}/cancel", {"reason": "ya funciona"})
    early = api.post(f"/visits/{one['id']}/complete", {"outcome": "done"})

    assert moved.status_code == 200
    assert (moved.json()["status"], moved.json()["starts_at"]) == (
        "rescheduled",
        "2026-12-10T17:00:00Z",
    )
    assert [e["reason"] for e in moved.json()["events"]] == ["", "más tarde"]
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert early.status_code == 422
    assert api.get(f"/visits/{one['id']}").json()["status"] == "rescheduled"


def test_technicians_are_for_supervisors(isp: Isp) -> None:
    agent = _api(isp).get("/technicians")
    supervisor = _api(isp, Role.SUPERVISOR).get("/technicians")

    assert agent.status_code == 403
    assert supervisor.status_code == 200
    assert [(t["name"], t["zones"], t["daily_capacity"]) for t in supervisor.json()] == [
        ("Luis Pérez", ["centro"], 2),
        ("Marta Gómez", ["centro", "norte"], 1),
        ("Nadia Ruiz", ["norte"], 3),
    ]


def test_another_organization_gets_404_and_nothing_changes(isp: Isp) -> None:
    ticket = isp.ticket()
    ours = _api(isp)
    visit = ours.post(
        f"/tickets/{ticket.pk}/visits",
        {"starts_at": "2026-12-10T09:00:00-06:00", "adult_present": True},
    ).json()
    theirs = _api(isp, Role.ADMIN, outsider=True)

    answers = [
        theirs.get(f"/tickets/{ticket.pk}/visit-slots").status_code,
        theirs.get(f"/tickets/{ticket.pk}/visits").status_code,
        theirs.post(
            f"/tickets/{ticket.pk}/visits",
            {"starts_at": "2026-12-10T11:00:00-06:00", "adult_present": True},
        ).status_code,
        theirs.get(f"/visits/{visit['id']}").status_code,
        theirs.post(f"/visits/{visit['id']}/cancel", {"reason": "x"}).status_code,
        theirs.post(
            f"/visits/{visit['id']}/reschedule",
            {"starts_at": "2026-12-10T11:00:00-06:00", "reason": "x"},
        ).status_code,
        theirs.post(f"/visits/{visit['id']}/complete", {"outcome": "done"}).status_code,
    ]

    assert answers == [404] * 7
    assert list(Visit.objects.values_list("status", "starts_at")) == [
        ("booked", local(2026, 12, 10, 9))
    ]
    assert theirs.get("/technicians").json() == []
