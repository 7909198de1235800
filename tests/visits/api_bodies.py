"""Every visits operation with a body its schema accepts (see
tests/pipelines/test_integration_key.py: an integration key must get 403 on each)."""

from __future__ import annotations

from typing import Any

BODIES: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/tickets/{ticket_id}/visit-slots"): None,
    ("GET", "/api/v1/tickets/{ticket_id}/visits"): None,
    ("POST", "/api/v1/tickets/{ticket_id}/visits"): {
        "starts_at": "2026-12-10T09:00:00-06:00",
        "adult_present": True,
    },
    ("GET", "/api/v1/visits/{visit_id}"): None,
    ("POST", "/api/v1/visits/{visit_id}/reschedule"): {
        "starts_at": "2026-12-10T11:00:00-06:00",
        "reason": "el cliente no puede",
    },
    ("POST", "/api/v1/visits/{visit_id}/cancel"): {"reason": "ya funciona"},
    ("POST", "/api/v1/visits/{visit_id}/complete"): {"outcome": "done"},
    ("GET", "/api/v1/technicians"): None,
}
