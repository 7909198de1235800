"""The tickets app's API operations added after the first part, with a valid body each
(None: no body), for tests/pipelines/test_integration_key.py (an integration key must
get 403 on every one)."""

from __future__ import annotations

from typing import Any

BODIES: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/tickets/sla-policies"): None,
}
