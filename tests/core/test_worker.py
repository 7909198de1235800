"""A real Celery worker, started as a process against the local Redis, runs a task."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from telcodesk.core.models import WorkerHeartbeat

REDIS_URL = os.environ.get("TELCODESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _redis_is_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _database_url_for_this_test_db() -> str:
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(params['NAME']).resolve()}"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    user = params.get("USER") or "postgres"
    return f"postgresql://{user}@{host}:{port}/{params['NAME']}"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_redis(tmp_path: Path) -> None:
    if not _redis_is_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_this_test_db(),
        "TELCODESK_BROKER_URL": REDIS_URL,
        "TELCODESK_VAR_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "telcodesk.cli",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    sender = Celery("test-sender", broker=REDIS_URL, set_as_current=False)
    token = uuid.uuid4().hex
    try:
        sender.send_task("telcodesk.core.ping", args=[token], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if WorkerHeartbeat.objects.filter(token=token).exists():
                break
            if worker.poll() is not None:
                break
            time.sleep(0.2)
        else:
            pass
        seen = WorkerHeartbeat.objects.filter(token=token).count()
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0].decode(errors="replace")
    assert seen == 1, f"the worker did not run the task; its output:\n{output[-3000:]}"


def test_without_a_broker_tasks_run_in_process(db: None) -> None:
    from telcodesk.core.tasks import ping

    token = uuid.uuid4().hex
    result = ping.delay(token)
    assert result.get() == token
    assert WorkerHeartbeat.objects.filter(token=token).count() == 1


def test_worker_refuses_to_start_without_a_broker() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "telcodesk.cli", "worker"],
        env={k: v for k, v in os.environ.items() if k != "TELCODESK_BROKER_URL"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "TELCODESK_BROKER_URL is not set" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_in_process_tasks_run_only_after_the_commit() -> None:
    from django.db import transaction

    from telcodesk.core.tasks import enqueue_on_commit, ping

    committed, rolled_back = uuid.uuid4().hex, uuid.uuid4().hex
    with transaction.atomic():
        enqueue_on_commit(ping, committed)
        assert WorkerHeartbeat.objects.filter(token=committed).count() == 0
    assert WorkerHeartbeat.objects.filter(token=committed).count() == 1

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        enqueue_on_commit(ping, rolled_back)
        raise Abort
    assert WorkerHeartbeat.objects.filter(token=rolled_back).count() == 0
