"""The console pages: devices, a service's diagnostics (htmx), outages."""

from __future__ import annotations

import pytest
from django.test import Client

from telcodesk.accounts.models import User
from telcodesk.accounts.roles import ROLE_PERMISSIONS, Role
from telcodesk.network.models import DiagnosticRun, Olt, Outage
from telcodesk.network.outages import outage_declare
from tests.network.conftest import Net

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_device_list_shows_the_organizations_olts_without_credentials(net: Net) -> None:
    Olt.objects.filter(pk=net.huawei.pk).update(snmp_community="s3cret-community")

    response = client_for(net.world.agent).get("/network/")

    assert response.status_code == 200
    assert [olt.name for olt in response.context["olts"]] == ["OLT-HW-CENTRO", "OLT-ZTE-NORTE"]
    assert [(olt.port_count, olt.onu_count) for olt in response.context["olts"]] == [
        (2, 8),
        (1, 6),
    ]
    assert "s3cret-community" not in response.content.decode()


def test_the_outsider_sees_its_own_olt_and_not_the_operators(net: Net) -> None:
    client = client_for(net.world.outsider)

    assert [olt.name for olt in client.get("/network/").context["olts"]] == ["OLT-FORA"]
    assert client.get(f"/network/olts/{net.huawei.pk}/").status_code == 404


def test_an_olt_page_lists_ports_and_onus_with_their_services(net: Net) -> None:
    response = client_for(net.world.agent).get(f"/network/olts/{net.zte.pk}/")

    assert response.status_code == 200
    assert [port.label for port in response.context["ports"]] == ["1/2/1"]
    assert [onu.onu_id for onu in response.context["onus"]] == [1, 2, 3, 4, 5, 8]
    assert f"/network/subscriptions/{net['zte-good'].pk}/diagnostics/" in response.content.decode()


def _agents_without_diagnose(monkeypatch: pytest.MonkeyPatch) -> None:
    without = ROLE_PERMISSIONS[Role.AGENT] - {"network.diagnose"}
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.AGENT, without)


def test_the_diagnostics_page_offers_the_checks_to_who_may_run_them(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/network/subscriptions/{net['hw-good'].pk}/diagnostics/"

    agent = client_for(net.world.agent).get(url)
    assert agent.status_code == 200
    assert agent.context["can_run"] is True  # an agent on a call runs the checks
    assert "Run now" in agent.content.decode()
    _agents_without_diagnose(monkeypatch)
    refused = client_for(net.world.agent).get(url)
    assert refused.context["can_run"] is False
    assert "Run now" not in refused.content.decode()


def test_running_checks_from_the_page_answers_with_the_results_partial(net: Net) -> None:
    url = f"/network/subscriptions/{net['hw-weak'].pk}/diagnostics/"

    response = client_for(net.world.back_office).post(
        url, {"kinds": ["optical_power", "onu_status"]}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert response.templates[0].name == "network/partials/diagnostic_results.html"
    html = response.content.decode()
    assert 'data-kind="optical_power" data-status="ok" data-verdict="fault"' in html
    assert "ONU receives -28.75 dBm (range -27.0 to -8.0 dBm)" in html
    assert "schedule a technical visit" in html
    assert DiagnosticRun.objects.filter(subscription=net["hw-weak"]).count() == 2


def test_running_no_check_is_refused_on_the_page(net: Net) -> None:
    url = f"/network/subscriptions/{net['hw-good'].pk}/diagnostics/"

    response = client_for(net.world.back_office).post(url, {}, HTTP_HX_REQUEST="true")

    assert response.status_code == 422
    assert "Choose at least one diagnostic to run." in response.content.decode()
    assert DiagnosticRun.objects.count() == 0


def test_an_agent_posting_checks_gets_the_refusal_page(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    _agents_without_diagnose(monkeypatch)
    url = f"/network/subscriptions/{net['hw-good'].pk}/diagnostics/"

    response = client_for(net.world.agent).post(url, {"kinds": ["ping"]})

    assert response.status_code == 403
    assert DiagnosticRun.objects.count() == 0


def test_the_outsider_cannot_open_or_run_the_operators_diagnostics(net: Net) -> None:
    url = f"/network/subscriptions/{net['hw-good'].pk}/diagnostics/"
    client = client_for(net.world.outsider)

    assert client.get(url).status_code == 404
    assert client.post(url, {"kinds": ["ping"]}).status_code == 404
    assert DiagnosticRun.objects.count() == 0


def test_an_outage_in_progress_shows_on_the_services_diagnostics_page(net: Net) -> None:
    outage = outage_declare(
        actor=net.world.actor(net.world.supervisor),
        scope="olt",
        olt_id=net.huawei.pk,
        description="OLT rebooting after a power cut",
    ).outage

    response = client_for(net.world.agent).get(
        f"/network/subscriptions/{net['hw-good'].pk}/diagnostics/"
    )

    assert response.context["outages"] == [outage]
    assert "OLT rebooting after a power cut" in response.content.decode()


def test_a_supervisor_declares_and_closes_an_outage_from_the_page(net: Net) -> None:
    client = client_for(net.world.supervisor)

    declared = client.post(
        "/network/outages/",
        {"scope": "zone", "zone": "Sarco", "city": "", "description": "Node without power"},
    )

    assert declared.status_code == 302
    outage = Outage.objects.get()
    assert (outage.scope, outage.zone, outage.declared_by_id) == (
        "zone",
        "Sarco",
        net.world.supervisor.pk,
    )
    page = client.get("/network/outages/")
    assert [o.pk for o in page.context["open_outages"]] == [outage.pk]
    closed = client.post(f"/network/outages/{outage.pk}/close/")
    assert closed.status_code == 302
    outage.refresh_from_db()
    assert outage.ended_at is not None
    again = client.post(f"/network/outages/{outage.pk}/close/", follow=True)
    assert "This outage was already closed at" in again.content.decode()


def test_a_bad_outage_on_the_page_shows_the_field_error(net: Net) -> None:
    response = client_for(net.world.supervisor).post(
        "/network/outages/", {"scope": "zone", "zone": "", "description": "Down"}
    )

    assert response.status_code == 422
    assert "Write the zone as it appears in the installation addresses." in (
        response.content.decode()
    )
    assert Outage.objects.count() == 0


def test_an_agent_sees_outages_but_cannot_declare_them(net: Net) -> None:
    client = client_for(net.world.agent)

    page = client.get("/network/outages/")
    posted = client.post(
        "/network/outages/", {"scope": "zone", "zone": "Sarco", "description": "x"}
    )

    assert page.status_code == 200
    assert page.context["can_manage"] is False
    assert "Declare an outage" not in page.content.decode()
    assert posted.status_code == 403
    assert Outage.objects.count() == 0


def test_the_customer_page_banner_lists_the_outages_on_the_customers_services(net: Net) -> None:
    outage = outage_declare(
        actor=net.world.actor(net.world.supervisor),
        scope="olt",
        olt_id=net.huawei.pk,
        description="OLT rebooting after a power cut",
    ).outage
    affected, spared = net["hw-good"], net["zte-good"]

    banner = client_for(net.world.agent).get(f"/network/customers/{affected.customer_id}/outages/")
    quiet = client_for(net.world.agent).get(f"/network/customers/{spared.customer_id}/outages/")

    assert banner.status_code == 200
    assert banner.context["pairs"] == [(affected, outage)]
    assert f'data-outage="{outage.pk}"' in banner.content.decode()
    assert (quiet.status_code, quiet.context["pairs"]) == (200, [])


def test_the_outsider_gets_no_banner_for_the_operators_customer(net: Net) -> None:
    outage_declare(
        actor=net.world.actor(net.world.supervisor),
        scope="olt",
        olt_id=net.huawei.pk,
        description="OLT rebooting",
    )
    response = client_for(net.world.outsider).get(
        f"/network/customers/{net['hw-good'].customer_id}/outages/"
    )

    assert response.status_code == 404
    assert "OLT rebooting" not in response.content.decode()
