"""Kept-alive connections of the provider clients, against a real HTTP/1.1 server on
loopback that counts its TCP connections."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from telcodesk.messaging.providers import http_pool
from telcodesk.messaging.providers.whatsapp_cloud import ProviderError, WhatsAppCloudClient


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.close_after_answer = False
        self.status = 200
        self.lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        with self.lock:
            self.connections += 1
        return sock, address


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        n = len(self.server.requests)
        if self.server.status == 200:
            answer = {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.kept{n}"}]}
        else:
            answer = {"error": {"message": "(#131047) Re-engagement message", "code": 131047}}
        raw = json.dumps(answer).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if self.server.close_after_answer:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def server() -> Iterator[CountingServer]:
    http_pool.close_all()
    srv = CountingServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    http_pool.close_all()


def _client(server: CountingServer) -> WhatsAppCloudClient:
    host, port = server.server_address[:2]
    return WhatsAppCloudClient(
        base_url=f"http://{host}:{port}",
        version="v21.0",
        phone_number_id="1122334455667",
        access_token="EAAG-token",
        timeout=5,
    )


def _text(n: int) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": "59171234567",
        "type": "text",
        "text": {"body": f"hola {n}"},
    }


def test_five_sends_share_one_connection(server: CountingServer) -> None:
    # A new client per send, as the outbox builds them: the connection outlives it.
    wamids = [_client(server).send(_text(n)).wamid for n in range(5)]
    assert wamids == [f"wamid.kept{n}" for n in range(1, 6)]
    assert server.connections == 1
    assert [r["path"] for r in server.requests] == ["/v21.0/1122334455667/messages"] * 5
    assert {r["auth"] for r in server.requests} == {"Bearer EAAG-token"}


def test_a_connection_the_server_closed_is_replaced_before_the_request(
    server: CountingServer,
) -> None:
    server.close_after_answer = True
    _client(server).send(_text(1))
    _client(server).send(_text(2))
    assert server.connections == 2
    # Every request reached the server exactly once: nothing was re-sent.
    assert [r["body"]["text"]["body"] for r in server.requests] == ["hola 1", "hola 2"]


def test_a_peer_that_hung_up_while_idle_is_noticed_and_nothing_is_sent_twice(
    server: CountingServer,
) -> None:
    _client(server).send(_text(1))
    # The server drops the idle connection (as after its keep-alive timeout).
    [kept] = http_pool._connections().values()
    assert kept.connection.sock is not None
    kept.connection.sock.shutdown(socket.SHUT_RD)  # reads EOF, like a closed peer
    _client(server).send(_text(2))
    assert server.connections == 2
    assert len(server.requests) == 2


def test_a_connection_idle_too_long_is_not_reused(
    server: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _client(server).send(_text(1))
    monkeypatch.setattr(http_pool, "IDLE_SECONDS", -1.0)
    _client(server).send(_text(2))
    assert server.connections == 2


def test_an_error_answer_keeps_the_connection_and_becomes_a_provider_error(
    server: CountingServer,
) -> None:
    server.status = 400
    with pytest.raises(ProviderError) as caught:
        _client(server).send(_text(1))
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (131047, 400, False)
    server.status = 200
    assert _client(server).send(_text(2)).wamid == "wamid.kept2"
    assert server.connections == 1


def test_nobody_listening_is_a_retryable_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WhatsAppCloudClient(
        base_url=f"http://127.0.0.1:{port}",
        version="v21.0",
        phone_number_id="1",
        access_token="t",
        timeout=2,
    )
    with pytest.raises(ProviderError) as caught:
        client.send(_text(1))
    assert caught.value.retryable and caught.value.title.startswith("network error")


def test_each_thread_has_its_own_connection(server: CountingServer) -> None:
    results: list[str] = []

    def send_two() -> None:
        for n in range(2):
            results.append(_client(server).send(_text(n)).wamid)
        http_pool.close_all()

    threads = [threading.Thread(target=send_two) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert server.connections == 3


def test_a_redirect_is_not_followed_and_says_to_check_the_base_url(
    server: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def redirect(self: Handler) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append({"path": self.path})
        self.send_response(301)
        self.send_header("Location", "https://graph.example/v21.0/1/messages")
        self.send_header("Content-Length", "0")
        self.end_headers()

    monkeypatch.setattr(Handler, "do_POST", redirect)
    with pytest.raises(ProviderError) as caught:
        _client(server).send(_text(1))
    assert caught.value.title == (
        "HTTP 301 redirect to https://graph.example/v21.0/1/messages: check the channel's "
        "API base URL"
    )
    assert (caught.value.retryable, len(server.requests)) == (False, 1)
