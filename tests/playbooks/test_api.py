"""Playbook runs over the JSON API: a call walked through, refusals with their JSON, scoping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.models import User
from telcodesk.playbooks.models import PlaybookRun, RunAnswer, RunItem, RunStatus
from tests.playbooks.conftest import Desk

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}{url}", json.dumps(body or {}), content_type="application/json")


def start(desk: Desk, client: Client) -> dict[str, Any]:
    response = post(
        client,
        "/playbook-runs",
        {
            "playbook_id": desk.playbook.pk,
            "customer_id": desk.customer.pk,
            "target_type": "conversation",
            "target_id": 5,
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_playbooks_list_shows_the_organizations_playbooks(desk: Desk) -> None:
    response = client_for(desk.world.agent).get(f"{API}/playbooks")

    assert response.status_code == 200
    assert [(p["id"], p["key"], p["version"]) for p in response.json()] == [
        (desk.playbook.pk, "support_call", "1.0.0")
    ]
    assert response.json()[0]["steps"][0] == {"key": "greeting", "title": "Greeting"}


def test_a_call_through_the_api_from_start_to_finish(desk: Desk) -> None:
    client = client_for(desk.world.agent)
    run = start(desk, client)
    assert run["current_step"]["key"] == "greeting"
    assert run["current_step"]["open_required"] == ["confirm_holder", "problem_kind"]
    assert run["variables"]["agent_name"] == "Ana"
    url = f"/playbook-runs/{run['id']}"

    post(client, f"{url}/check", {"item": "confirm_holder"})
    post(client, f"{url}/answers", {"question": "problem_kind", "value": "administrative"})
    moved = post(client, f"{url}/complete").json()
    assert moved["current_step"]["key"] == "administrative"
    assert moved["current_step"]["ends_here"] is True
    refused = post(client, f"{url}/finish")
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "invalid",
        "message": 'Before leaving "Administrative route", do these or give a reason for '
        "skipping each: Transfer to billing",
        "details": {"transfer": ["Do it, or write why it was skipped."]},
    }

    finished = post(client, f"{url}/finish", {"skip_reasons": {"transfer": "Billing is closed"}})

    assert finished.status_code == 200
    body = finished.json()
    assert body["status"] == "finished"
    assert body["current_step"] is None
    assert [(s["key"], s["status"]) for s in body["steps"]] == [
        ("greeting", "done"),
        ("administrative", "done"),
    ]
    assert body["adherence"] == {
        "required": 3,
        "done": 2,
        "skipped": 1,
        "open": 0,
        "percent": "66.7",
    }
    assert client.get(f"{API}{url}/adherence").json()["percent"] == "66.7"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "diez",
            "“diez” is not a number. Type a whole number from 0 to 50, with digits only (e.g. 50).",
        ),
        (
            "10!!",
            "“10!!” is not a number. Type a whole number from 0 to 50, with digits only (e.g. 50).",
        ),
        ("51", "51 is out of range. Type a whole number from 0 to 50, with digits only (e.g. 50)."),
        (-1, "-1 is out of range. Type a whole number from 0 to 50, with digits only (e.g. 50)."),
    ],
)
def test_a_bad_number_answers_422_with_what_to_type(desk: Desk, value: Any, message: str) -> None:
    client = client_for(desk.world.agent)
    run = start(desk, client)
    url = f"/playbook-runs/{run['id']}"
    post(client, f"{url}/check", {"item": "confirm_holder"})
    post(client, f"{url}/answers", {"question": "problem_kind", "value": "technical"})
    post(client, f"{url}/complete")

    response = post(client, f"{url}/answers", {"question": "devices", "value": value})

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid",
        "message": message,
        "details": {"devices": [message]},
    }
    assert not RunAnswer.objects.filter(run_id=run["id"], question_key="devices").exists()


def test_a_typed_json_number_is_accepted(desk: Desk) -> None:
    client = client_for(desk.world.agent)
    run = start(desk, client)
    url = f"/playbook-runs/{run['id']}"
    post(client, f"{url}/check", {"item": "confirm_holder"})
    post(client, f"{url}/answers", {"question": "problem_kind", "value": "technical"})
    post(client, f"{url}/complete")

    body = post(client, f"{url}/answers", {"question": "devices", "value": 4}).json()

    assert body["answers"] == {"problem_kind": "technical", "devices": 4}
    devices = next(q for q in body["current_step"]["questions"] if q["key"] == "devices")
    assert (devices["answer"], devices["status"], devices["field"]) == (4, "done", "ticket.devices")


def test_a_second_run_for_the_same_conversation_is_a_409_naming_the_first(desk: Desk) -> None:
    client = client_for(desk.world.agent)
    first = start(desk, client)

    response = post(
        client,
        "/playbook-runs",
        {"playbook_id": desk.playbook.pk, "target_type": "conversation", "target_id": 5},
    )

    assert response.status_code == 409
    assert response.json()["details"] == {"run_id": first["id"]}
    assert PlaybookRun.objects.count() == 1


def test_another_organization_sees_and_changes_nothing(desk: Desk) -> None:
    run = start(desk, client_for(desk.world.agent))
    outsider = client_for(desk.world.outsider)
    url = f"/playbook-runs/{run['id']}"

    assert outsider.get(f"{API}{url}").status_code == 404
    assert outsider.get(f"{API}{url}/adherence").status_code == 404
    assert outsider.get(f"{API}/playbooks/{desk.playbook.pk}").status_code == 404
    for path, body in (
        ("answers", {"question": "problem_kind", "value": "technical"}),
        ("check", {"item": "confirm_holder"}),
        ("complete", {"skip_reasons": {"confirm_holder": "x", "problem_kind": "x"}}),
        ("skip", {"reason": "mine"}),
        ("finish", {}),
        ("abandon", {"reason": "mine"}),
    ):
        response = post(outsider, f"{url}/{path}", body)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    started = post(
        outsider,
        "/playbook-runs",
        {"playbook_id": desk.playbook.pk, "customer_id": desk.customer.pk},
    )
    assert started.status_code == 404

    fresh = PlaybookRun.objects.get(pk=run["id"])
    assert fresh.status == RunStatus.RUNNING
    assert RunItem.objects.filter(run=fresh, status="open").count() == 2
    assert PlaybookRun.objects.count() == 1


def test_adherence_per_agent_needs_a_time_zone_and_the_supervisor_role(desk: Desk) -> None:
    query = {"start": "2025-07-01T00:00:00-04:00", "end": "2035-07-01T00:00:00-04:00"}

    assert (
        client_for(desk.world.agent).get(f"{API}/playbook-adherence/agents", query).status_code
        == 403
    )
    naive = client_for(desk.world.supervisor).get(
        f"{API}/playbook-adherence/agents", {"start": "2025-07-01T00:00:00", "end": query["end"]}
    )
    assert naive.status_code == 422
    assert naive.json()["message"] == (
        "Give start and end with their time zone, e.g. 2025-07-01T00:00:00-06:00."
    )
    client = client_for(desk.world.agent)
    run = start(desk, client)
    post(client, f"/playbook-runs/{run['id']}/abandon", {"reason": "The call dropped"})

    rows = client_for(desk.world.supervisor).get(f"{API}/playbook-adherence/agents", query).json()

    assert rows == [
        {
            "agent_id": desk.world.agent.pk,
            "agent_name": "Ana Quispe",
            "runs": 1,
            "finished": 0,
            "abandoned": 1,
            "adherence": {"required": 2, "done": 0, "skipped": 0, "open": 2, "percent": "0.0"},
        }
    ]
    steps = client_for(desk.world.supervisor).get(f"{API}/playbook-adherence/steps", query).json()
    assert [(s["step_key"], s["visits"], s["adherence"]["open"]) for s in steps] == [
        ("greeting", 1, 2)
    ]
