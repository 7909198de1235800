"""The committed OpenAPI schema (docs/openapi.json) is what the code generates.

Clients are generated from the committed file, so an API change that does not update
it is a broken contract. Fix a failure with ``make schema`` and commit the result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from telcodesk.core.management.commands.openapi import openapi_schema_text

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def test_the_committed_schema_matches_the_code() -> None:
    generated = openapi_schema_text()
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""

    assert committed == generated, (
        "docs/openapi.json is out of date with the API code: run `make schema` and commit "
        "docs/openapi.json"
    )


def test_the_schema_is_stable_text() -> None:
    text = openapi_schema_text()

    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.django_db
def test_the_schema_is_served_at_api_v1_openapi_json() -> None:
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.json() == json.loads(openapi_schema_text())


def test_the_schema_documents_the_endpoints_and_both_ways_to_authenticate() -> None:
    schema = json.loads(openapi_schema_text())

    assert {
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/phones",
        "/api/v1/subscriptions/{subscription_id}/status",
        "/api/v1/search",
    } <= set(schema["paths"])
    assert set(schema["components"]["securitySchemes"]) == {
        "ApiKeyBearer",
        "ApiKeyHeader",
        "ConsoleSession",
    }
