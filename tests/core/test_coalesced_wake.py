"""CoalescedWake: one broker message now, one trailing, never a call left without a
later send."""

from __future__ import annotations

import threading
import time

from telcodesk.core.tasks import CoalescedWake


class RecordingTask:
    """Stands in for a Celery task object: records when ``delay()`` was called."""

    def __init__(self) -> None:
        self.sent: list[float] = []
        self.lock = threading.Lock()
        self.done = threading.Event()

    def delay(self) -> None:
        with self.lock:
            self.sent.append(time.monotonic())
        self.done.set()


def _wait_for(task: RecordingTask, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(task.sent) < count and time.monotonic() < deadline:
        time.sleep(0.005)


def test_the_first_wake_sends_at_once() -> None:
    task = RecordingTask()
    CoalescedWake(task, interval=10).wake()  # type: ignore[arg-type]
    assert len(task.sent) == 1


def test_a_burst_of_wakes_sends_twice_the_second_after_the_last_call() -> None:
    task = RecordingTask()
    wake = CoalescedWake(task, interval=0.2)  # type: ignore[arg-type]
    for _call in range(500):
        wake.wake()
    last_call = time.monotonic()
    assert len(task.sent) == 1  # the rest wait for the trailing send
    _wait_for(task, 2)
    time.sleep(0.3)  # nothing more comes
    assert len(task.sent) == 2
    assert task.sent[1] >= last_call


def test_every_call_is_followed_by_a_send_from_many_threads() -> None:
    task = RecordingTask()
    wake = CoalescedWake(task, interval=0.01)  # type: ignore[arg-type]
    calls: list[float] = []
    calls_lock = threading.Lock()

    def caller(n: int) -> None:
        for i in range(200):
            at = time.monotonic()
            wake.wake()
            with calls_lock:
                calls.append(at)
            if (i + n) % 7 == 0:
                time.sleep(0.002)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.1)  # the last trailing send
    assert task.sent, "nothing was sent"
    assert max(calls) <= max(task.sent)
    # Coalesced: far fewer messages than calls (about one per interval and a trailing one).
    assert len(task.sent) < len(calls) / 4
    # Sends are spaced by the interval (half of it, for the scheduling noise of threads).
    gaps = [b - a for a, b in zip(task.sent, task.sent[1:], strict=False)]
    assert min(gaps) >= 0.005


def test_a_forked_process_starts_afresh() -> None:
    task = RecordingTask()
    wake = CoalescedWake(task, interval=60)  # type: ignore[arg-type]
    wake.wake()
    wake._pid = -1  # as seen from a child after fork: the parent's state is not its own
    wake.wake()
    assert len(task.sent) == 2
