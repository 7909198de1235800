"""Kept-alive HTTP(S) connections for the provider clients, one set per thread.

A send to the Cloud API is one small POST; opening a TCP connection (and, to
graph.facebook.com, a TLS session) for each costs more than the request. An outbox worker
therefore keeps one connection per host in each of its threads and reuses it while the
server keeps it open.

A POST is never sent twice by this module: a connection that the server closed while it
was idle is noticed *before* the request is written (the socket is readable: end of
stream), and replaced. A failure after the request was written is raised to the caller,
whose retry policy (the outbox's, with its idempotency key) decides. Connections idle for
longer than ``IDLE_SECONDS`` are not reused (servers close idle connections after a
while: a request racing that close would fail). Requests to a host that the environment
routes through a proxy (``HTTPS_PROXY``/``NO_PROXY``) go through urllib, which knows
proxies, on a new connection each time.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

IDLE_SECONDS = 15.0
MAX_RESPONSE_BYTES = 16 * 1024 * 1024

_local = threading.local()
_tls_context: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str
    location: str = ""  # of a redirect (never followed: a POST is not re-sent elsewhere)


@dataclass
class _Kept:
    connection: http.client.HTTPConnection
    idle_since: float


def _context() -> ssl.SSLContext:
    global _tls_context
    with _tls_lock:
        if _tls_context is None:
            _tls_context = ssl.create_default_context()
        return _tls_context


def _connections() -> dict[tuple[str, str, int, float], _Kept]:
    kept = getattr(_local, "connections", None)
    if kept is None:
        kept = _local.connections = {}
    return kept


def _is_reusable(kept: _Kept) -> bool:
    """Open, not idle for too long, and nothing to read (a closed peer reads as EOF)."""
    sock = kept.connection.sock
    if sock is None or time.monotonic() - kept.idle_since > IDLE_SECONDS:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _new_connection(
    scheme: str, host: str, port: int, timeout: float
) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=_context())
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _via_proxy(url: str) -> bool:
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if parts.scheme not in proxies:
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _urllib_request(
    method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float
) -> Response:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return Response(
                answer.status, answer.read(MAX_RESPONSE_BYTES), answer.headers.get_content_type()
            )
    except urllib.error.HTTPError as exc:
        return Response(
            exc.code,
            exc.read(MAX_RESPONSE_BYTES),
            exc.headers.get_content_type(),
            exc.headers.get("Location", ""),
        )
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise OSError(str(reason)) from exc


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Response:
    """One request on this thread's kept connection to the URL's host.

    Returns the answer whatever its status; raises ``OSError`` (timeouts included) or
    ``http.client.HTTPException`` when no complete answer came back.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("only http(s) URLs with a host")
    sent_headers = dict(headers or {})
    if _via_proxy(url):
        return _urllib_request(method, url, body, sent_headers, timeout)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    key = (parts.scheme, parts.hostname, port, timeout)
    connections = _connections()
    kept = connections.pop(key, None)
    if kept is not None and not _is_reusable(kept):
        kept.connection.close()
        kept = None
    connection = (
        kept.connection
        if kept is not None
        else _new_connection(parts.scheme, parts.hostname, port, timeout)
    )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request(method, path, body=body, headers=sent_headers)
        answer = connection.getresponse()
        data = answer.read(MAX_RESPONSE_BYTES + 1)
        if len(data) > MAX_RESPONSE_BYTES:
            raise http.client.HTTPException("answer larger than allowed")
    except BaseException:
        connection.close()
        raise
    content_type = answer.headers.get_content_type()
    location = answer.headers.get("Location", "")
    if answer.will_close or not answer.isclosed():
        connection.close()
    else:
        connections[key] = _Kept(connection, time.monotonic())
    return Response(answer.status, data, content_type, location)


def close_all() -> None:
    """Close this thread's kept connections (tests; a worker that is shutting down)."""
    connections = _connections()
    for kept in connections.values():
        kept.connection.close()
    connections.clear()
