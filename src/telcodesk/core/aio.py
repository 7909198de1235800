"""Running a coroutine to completion from synchronous code.

Django's ORM and our services are synchronous; the network diagnostics and the SNMP
client are asyncio. ``run_sync`` is the one bridge between them. It uses
``asyncio.run`` when the calling thread has no running event loop, and otherwise runs
the coroutine on a fresh loop in a short-lived thread: a thread that already runs a
loop (an ASGI worker, or Playwright's sync API in a test session) cannot start a
second one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion and return its result (or raise its exception)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=target, name="telcodesk-run-sync", daemon=True)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]
