"""Core tasks. Tasks are thin: take ids, call a service, stay idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="telcodesk.core.ping")
def ping(token: str) -> str:
    """Round-trip check used by the readiness tooling and the worker test."""
    from telcodesk.core.services import worker_heartbeat_record

    worker_heartbeat_record(token=token)
    return token
