import json

import pytest
from django.test import Client, override_settings


def test_healthz_answers_without_the_database(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response["X-Request-ID"]) == 32


def test_a_sane_incoming_request_id_is_kept(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234567890")
    assert response["X-Request-ID"] == "lb-1234567890"
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces"


@pytest.mark.django_db
def test_readyz_checks_the_database_and_reports_in_process_tasks(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "in-process"},
    }


@pytest.mark.django_db
@override_settings(BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_readyz_is_unavailable_when_the_broker_is_unreachable(client: Client) -> None:
    from telcodesk.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = "memory://"
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"].startswith("error")


def test_logs_are_json_with_the_request_id(client: Client, capsys: pytest.CaptureFixture) -> None:
    import logging

    from telcodesk.core.logging import JsonFormatter, RequestIdFilter, request_id_var

    token = request_id_var.set("req-abc")
    try:
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello %s", ("x",), None)
        RequestIdFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    payload = json.loads(line)
    assert payload["message"] == "hello x"
    assert payload["request_id"] == "req-abc"
    assert payload["level"] == "INFO"
