"""run_sync works with and without an event loop running in the calling thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from telcodesk.core.aio import run_sync

T = TypeVar("T")


async def _thread_name() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def in_a_plain_thread(call: Callable[[], T]) -> T:
    """Run ``call`` in a new thread, which has no event loop whatever the suite left in
    the main thread (Playwright's sync API keeps one running there)."""
    box: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(call())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="plain")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return box[0]


async def _fails() -> None:
    await asyncio.sleep(0)
    raise ValueError("from the coroutine")


def test_without_a_running_loop_it_runs_in_the_calling_thread() -> None:
    assert in_a_plain_thread(lambda: run_sync(_thread_name())) == "plain"


def test_inside_a_running_loop_it_runs_on_a_thread_of_its_own() -> None:
    async def outer() -> str:
        # A synchronous call made from a coroutine, as Playwright's sync API or an
        # ASGI worker would do: asyncio.run would refuse here.
        return run_sync(_thread_name())

    assert in_a_plain_thread(lambda: asyncio.run(outer())) == "telcodesk-run-sync"


def test_the_coroutines_exception_reaches_the_caller_in_both_cases() -> None:
    with pytest.raises(ValueError, match="from the coroutine"):
        in_a_plain_thread(lambda: run_sync(_fails()))

    async def outer() -> None:
        run_sync(_fails())

    with pytest.raises(ValueError, match="from the coroutine"):
        in_a_plain_thread(lambda: asyncio.run(outer()))
