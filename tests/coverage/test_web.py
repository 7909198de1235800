"""The coverage console page, its htmx partials, and the coverage API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from telcodesk.accounts.models import User
from telcodesk.accounts.roles import Role
from telcodesk.accounts.services import api_key_create
from telcodesk.core.tenancy import Actor
from telcodesk.coverage.models import CoverageArea, StreetRange
from telcodesk.pipelines.models import Lead, LeadStageChange
from tests.coverage.conftest import Coverage

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


# --- console ------------------------------------------------------------------------------


def test_the_page_lists_the_operators_areas_with_counts(coverage: Coverage) -> None:
    response = client_for(coverage.agent).get("/coverage/")

    assert response.status_code == 200
    areas = {area.name: area for area in response.context["areas"]}
    assert set(areas) == {
        "Almagro",
        "Caballito",
        "Casco urbano",
        "Islas",
        "Palermo",
        "Palermo Soho",
        "Villa Crespo",
    }
    assert (areas["Caballito"].range_count, areas["Caballito"].polygon_count) == (1, 0)
    assert (areas["Islas"].range_count, areas["Islas"].polygon_count) == (0, 1)
    assert b"Check an address" in response.content


def test_an_outsider_sees_no_areas(coverage: Coverage) -> None:
    response = client_for(coverage.outsider).get("/coverage/")

    assert response.status_code == 200
    assert response.context["areas"] == []


def test_the_check_form_answers_with_a_partial(coverage: Coverage) -> None:
    response = client_for(coverage.agent).post(
        "/coverage/check/",
        {"address": "Av. Rivadavia 5200", "city": "Caballito", "point": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert response.templates[0].name == "coverage/partials/check.html"
    assert 'data-result="covered"' in response.content.decode()
    assert (
        "Av. Rivadavia 5200 is within Caballito (Av. Rivadavia 5000–5800, even numbers)."
        in response.content.decode()
    )


def test_the_check_form_refuses_a_bad_point(coverage: Coverage) -> None:
    response = client_for(coverage.agent).post(
        "/coverage/check/", {"address": "", "point": "north"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "Write the point as latitude, longitude, e.g. -34.61, -58.43." in (
        response.content.decode()
    )


def test_the_lead_check_moves_the_lead_and_redirects(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Gurruchaga 1800, Palermo")

    response = client_for(coverage.agent).post(
        f"/coverage/leads/{lead.pk}/check/", HTTP_HX_REQUEST="true"
    )

    lead.refresh_from_db()
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/leads/lead/{lead.pk}/"
    assert lead.stage.name == "Con Cobertura"


def test_the_lead_check_unchecked_stays_without_redirect(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Gurruchaga")

    response = client_for(coverage.agent).post(
        f"/coverage/leads/{lead.pk}/check/", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert 'data-result="unchecked"' in response.content.decode()


def test_the_lead_check_of_an_outsider_is_404(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Gurruchaga 1800")
    changes = LeadStageChange.objects.filter(lead=lead).count()

    response = client_for(coverage.outsider).post(f"/coverage/leads/{lead.pk}/check/")

    assert response.status_code == 404
    assert LeadStageChange.objects.filter(lead=lead).count() == changes


# --- API ----------------------------------------------------------------------------------


def test_api_check_an_address(coverage: Coverage) -> None:
    response = post_json(
        client_for(coverage.agent),
        f"{API}/coverage/check",
        {"address": "Sarmiento 3600, Almagro"},
    )

    area = CoverageArea.objects.get(name="Almagro")
    assert response.status_code == 200
    assert response.json() == {
        "covered": False,
        "result": "not_covered",
        "area": None,
        "matched_by": "",
        "street": "Sarmiento",
        "number": 3600,
        "reasons": [
            "No coverage area includes Sarmiento 3600.",
            "Covered on that street: Sarmiento 3501–4299, odd numbers (Almagro).",
        ],
    }
    covered = post_json(
        client_for(coverage.agent),
        f"{API}/coverage/check",
        {"address": "", "point": {"lat": -34.583, "lon": -58.435}},
    ).json()
    assert covered["covered"] is True
    assert covered["area"]["name"] == "Palermo Soho"
    assert area.pk != covered["area"]["id"]


def test_api_check_refuses_a_bad_point(coverage: Coverage) -> None:
    response = post_json(
        client_for(coverage.agent),
        f"{API}/coverage/check",
        {"address": "", "point": {"lat": -134, "lon": 0}},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert list(response.json()["details"]) == ["body.point.lat"]


def test_api_check_a_lead(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Av. Rivadavia 5201")

    response = post_json(client_for(coverage.agent), f"{API}/leads/{lead.pk}/coverage-check", {})

    body = response.json()
    assert response.status_code == 200
    assert (body["result"], body["lost_with"], body["moved_to"]) == (
        "not_covered",
        "Fuera de cobertura",
        "",
    )
    assert body["lead"]["stage"] == "Perdidos"
    assert body["lead"]["data"]["coverage_result"] == "not_covered"


def test_api_check_a_lead_of_another_organization_is_404(coverage: Coverage) -> None:
    lead = coverage.lead(installation_address="Gurruchaga 1800")

    response = post_json(client_for(coverage.outsider), f"{API}/leads/{lead.pk}/coverage-check", {})

    assert response.status_code == 404
    assert Lead.objects.get(pk=lead.pk).stage.name == "Seguimiento"


def test_api_areas_and_import_with_an_api_key(coverage: Coverage) -> None:
    admin = Actor(organization=coverage.operator, role=Role.ADMIN, user=coverage.operator_admin)
    _key, secret = api_key_create(actor=admin, name="gis", role=Role.ADMIN)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    created = post_json(
        Client(),
        f"{API}/coverage/imports",
        {
            "format": "csv",
            "source_file": "flores.csv",
            "content": "city,zone,street,from,to\nCABA,Flores,Yerbal,2000,3000\n",
        },
        **auth,
    )
    refused = post_json(
        Client(),
        f"{API}/coverage/imports",
        {"format": "csv", "source_file": "bad.csv", "content": "city,street,from,to\n,A,1,2\n"},
        **auth,
    )
    areas = Client().get(f"{API}/coverage/areas", **auth)

    assert created.status_code == 201
    assert created.json() == {
        "source_file": "flores.csv",
        "areas": 1,
        "ranges": 1,
        "polygons": 0,
        "areas_removed": 0,
    }
    assert refused.status_code == 422
    assert refused.json()["details"] == {"line 2": ["write the city (e.g. CABA)."]}
    assert not StreetRange.objects.filter(area__source_file="bad.csv").exists()
    assert {"name": "Flores", "ranges": 1, "polygons": 0} in [
        {key: row[key] for key in ("name", "ranges", "polygons")} for row in areas.json()
    ]


def test_api_import_by_a_reseller_agent_is_forbidden(coverage: Coverage) -> None:
    response = post_json(
        client_for(coverage.agent),
        f"{API}/coverage/imports",
        {"format": "csv", "source_file": "x.csv", "content": "city,street,from,to\nA,B,1,2\n"},
    )

    assert response.status_code == 403
    assert not CoverageArea.objects.filter(source_file="x.csv").exists()
