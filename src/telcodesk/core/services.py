from __future__ import annotations

from django.utils import timezone

from telcodesk.core.models import WorkerHeartbeat


def worker_heartbeat_record(*, token: str) -> WorkerHeartbeat:
    """Record that a worker ran a task carrying ``token`` (idempotent per token)."""
    heartbeat, _created = WorkerHeartbeat.objects.update_or_create(
        token=token, defaults={"seen_at": timezone.now()}
    )
    return heartbeat
