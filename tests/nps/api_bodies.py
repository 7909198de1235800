"""Every operation of the nps API with a valid body, for the integration-key test
(tests/pipelines/test_integration_key.py imports ``BODIES``)."""

from __future__ import annotations

from typing import Any

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/nps/surveys"): {"customer_id": "{customer_id}"},
    ("GET", "/api/v1/nps/surveys"): None,
    (
        "GET",
        "/api/v1/nps/figures?start=2026-11-01T00:00:00Z&end=2026-12-01T00:00:00Z&group_by=agent",
    ): None,
}
