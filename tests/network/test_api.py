"""The network endpoints of /api/v1: devices, diagnostics on demand, outages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create
from telcodesk.network.demo.agent import free_udp_port
from telcodesk.network.models import DiagnosticRun, Olt, Outage
from tests.network.conftest import Net

pytestmark = pytest.mark.django_db

API = "/api/v1"


class Api:
    def __init__(self, net: Net) -> None:
        world = net.world
        admin = world.actor(world.admin)
        self.keys = {
            "agent": api_key_create(actor=admin, name="agent", role=Role.AGENT)[1],
            "back_office": api_key_create(actor=admin, name="bo", role=Role.BACK_OFFICE)[1],
            "supervisor": api_key_create(actor=admin, name="sup", role=Role.SUPERVISOR)[1],
            "integration": api_key_create(actor=admin, name="store", role=Role.INTEGRATION)[1],
            "outsider": api_key_create(
                actor=world.actor(world.outsider), name="out", role=Role.ADMIN
            )[1],
        }
        self.client = Client()

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"{API}{path}", HTTP_AUTHORIZATION=f"Bearer {self.keys[who]}")

    def post(self, who: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            f"{API}{path}",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.keys[who]}",
        )


@pytest.fixture
def api(net: Net) -> Api:
    return Api(net)


def test_the_olt_list_has_counts_and_no_credentials(api: Api, net: Net) -> None:
    Olt.objects.filter(pk=net.huawei.pk).update(snmp_community="s3cret-community")

    response = api.get("agent", "/network/olts")

    assert response.status_code == 200
    body = response.json()
    assert [(olt["name"], olt["port_count"], olt["onu_count"]) for olt in body] == [
        ("OLT-HW-CENTRO", 2, 8),
        ("OLT-ZTE-NORTE", 1, 6),
    ]
    assert "snmp_community" not in body[0]
    assert "s3cret-community" not in response.content.decode()


def test_an_olt_shows_its_ports_and_onus(api: Api, net: Net) -> None:
    response = api.get("agent", f"/network/olts/{net.zte.pk}")

    assert response.status_code == 200
    body = response.json()
    assert [(port["label"], port["if_index"], port["onu_count"]) for port in body["ports"]] == [
        ("1/2/1", 268566784, 6)
    ]
    assert [onu["onu_id"] for onu in body["onus"]] == [1, 2, 3, 4, 5, 8]
    assert body["onus"][0]["service_id"] == net["zte-good"].service_id


def test_the_outsider_sees_only_its_own_olt(api: Api, net: Net) -> None:
    assert [olt["name"] for olt in api.get("outsider", "/network/olts").json()] == ["OLT-FORA"]
    response = api.get("outsider", f"/network/olts/{net.huawei.pk}")
    assert response.status_code == 404
    assert response.json()["message"] == "No such OLT. Pick one from the device list."


def test_diagnostics_run_on_demand_and_answer_with_every_result(api: Api, net: Net) -> None:
    subscription = net["hw-dead"]

    response = api.post(
        "back_office",
        f"/subscriptions/{subscription.pk}/diagnostics",
        {"kinds": ["onu_status", "optical_power"]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [(run["kind"], run["status"], run["verdict"], run["verdict_label"]) for run in body] == [
        ("onu_status", "ok", "offline", "Offline"),
        ("optical_power", "ok", "fault", "Fault"),
    ]
    assert body[1]["recommendation_text"] == (
        "The optical power is out of range or missing: schedule a technical visit."
    )
    assert body[1]["raw"]["onu_rx_dbm"] is None
    listed = api.get("agent", f"/subscriptions/{subscription.pk}/diagnostics").json()
    assert sorted(run["id"] for run in listed) == sorted(run["id"] for run in body)
    one = api.get("agent", f"/network/diagnostics/{body[0]['id']}").json()
    assert one["raw"]["detail"] == "LOSi"


def test_an_unreachable_olt_is_a_201_with_unreachable_results(api: Api, net: Net) -> None:
    Olt.objects.filter(pk=net.zte.pk).update(snmp_port=free_udp_port())

    response = api.post(
        "back_office", f"/subscriptions/{net['zte-good'].pk}/diagnostics", {"kinds": ["traffic"]}
    )

    assert response.status_code == 201
    assert [(run["status"], run["recommendation"]) for run in response.json()] == [
        ("unreachable", "olt_unreachable")
    ]


def test_an_unknown_kind_is_a_422_and_nothing_runs(api: Api, net: Net) -> None:
    response = api.post(
        "back_office", f"/subscriptions/{net['hw-good'].pk}/diagnostics", {"kinds": ["speed"]}
    )

    assert response.status_code == 422
    assert response.json()["details"] == {
        "body.kinds.0": ["Choose one of: 'ping', 'onu_status', 'optical_power' or 'traffic'."]
    }
    assert DiagnosticRun.objects.count() == 0


def test_an_integration_key_may_neither_read_results_nor_run_them(api: Api, net: Net) -> None:
    path = f"/subscriptions/{net['hw-good'].pk}/diagnostics"

    assert api.post("integration", path, {"kinds": ["ping"]}).status_code == 403
    assert api.get("integration", path).status_code == 403
    assert DiagnosticRun.objects.count() == 0


def test_an_agent_key_may_not_declare_an_outage(api: Api, net: Net) -> None:
    response = api.post(
        "agent",
        "/network/outages",
        {"scope": "pon_port", "pon_port_id": net.zte_port.pk, "description": "Splitter"},
    )

    assert response.status_code == 403


def test_the_outsider_gets_404_for_the_operators_service_and_runs_nothing(
    api: Api, net: Net
) -> None:
    path = f"/subscriptions/{net['hw-good'].pk}/diagnostics"

    assert api.post("outsider", path, {"kinds": ["ping"]}).status_code == 404
    assert api.get("outsider", path).status_code == 404
    assert DiagnosticRun.objects.count() == 0


def test_declaring_an_outage_answers_the_services_it_covers(api: Api, net: Net) -> None:
    response = api.post(
        "supervisor",
        "/network/outages",
        {
            "scope": "pon_port",
            "pon_port_id": net.zte_port.pk,
            "description": "Splitter damaged",
            "estimated_end_at": "2030-01-01T12:00:00-04:00",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outage"]["scope_label"] == "OLT-ZTE-NORTE 1/2/1"
    assert body["outage"]["is_open"] is True
    assert [row["subscription_id"] for row in body["affected"]] == sorted(
        net[name].pk
        for name in ("zte-good", "zte-marginal", "zte-dead", "zte-powered-off", "zte-hot",
                     "zte-missing")
    )  # fmt: skip
    banner = api.get("agent", f"/subscriptions/{net['zte-good'].pk}/outages").json()
    assert [outage["id"] for outage in banner] == [body["outage"]["id"]]
    assert api.get("agent", f"/subscriptions/{net['hw-good'].pk}/outages").json() == []

    closed = api.post("supervisor", f"/network/outages/{body['outage']['id']}/close", {})
    assert closed.status_code == 200
    assert closed.json()["outage"]["is_open"] is False
    assert len(closed.json()["affected"]) == 6
    again = api.post("supervisor", f"/network/outages/{body['outage']['id']}/close", {})
    assert again.status_code == 409


def test_a_naive_start_time_is_refused(api: Api, net: Net) -> None:
    response = api.post(
        "supervisor",
        "/network/outages",
        {"scope": "zone", "zone": "Sarco", "description": "x", "starts_at": "2030-01-01T12:00"},
    )

    assert response.status_code == 422
    assert response.json()["details"] == {"starts_at": ["Give the time with its time zone."]}
    assert Outage.objects.count() == 0


def test_the_outsider_cannot_see_or_close_the_operators_outages(api: Api, net: Net) -> None:
    created = api.post(
        "supervisor", "/network/outages", {"scope": "zone", "zone": "Sarco", "description": "x"}
    ).json()

    assert api.get("outsider", "/network/outages").json() == []
    response = api.post("outsider", f"/network/outages/{created['outage']['id']}/close", {})
    assert response.status_code == 404
    assert Outage.objects.get().ended_at is None
