"""Core tasks. Tasks are thin: take ids, call a service, stay idempotent."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` once the current transaction commits (never if it rolls back).

    With a broker the message goes to a worker; without one (embedded mode) the task
    runs in this process, still only after the commit. Pass ids, never objects.
    """
    transaction.on_commit(lambda: task.delay(*args, **kwargs))


@shared_task(name="telcodesk.core.ping")
def ping(token: str) -> str:
    """Round-trip check used by the readiness tooling and the worker test."""
    from telcodesk.core.services import worker_heartbeat_record

    worker_heartbeat_record(token=token)
    return token
