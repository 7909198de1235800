"""The per-channel send rate limit: evenly spaced slots (GCRA) shared by every worker.

Every expectation is exact: the limiter's clock is injected (``now`` / ``clock``) and so
is the sleeping; nothing here measures wall-clock time. Each test runs on the three
backends: Redis (the default cache pointed at the local Redis server), the database row
with ``UPDATE ... RETURNING``, and the database row with a locked ``SELECT`` and an
``UPDATE`` (SQLite before 3.35). The suite runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test import override_settings

from telcodesk.messaging import outbox, ratelimit
from telcodesk.messaging.models import Channel, ChannelSendSlot, Message, MessageStatus
from telcodesk.messaging.outbox import outbox_message_send
from telcodesk.messaging.sending import message_send_text
from tests.conftest import World

from .helpers import make_channel
from .outbox_helpers import ScriptedClient, make_conversation, recent

T0 = 1_800_000_000.0  # a whole second, far from any real clock


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=0.5).ping())
    except Exception:
        return False


BACKENDS = [
    pytest.param(
        "redis",
        marks=[
            pytest.mark.redis,
            pytest.mark.skipif(not _redis_available(), reason="needs Redis on 127.0.0.1:6379"),
        ],
    ),
    "database",
    "database-locked-select",
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The limiter's backend; no safety margin unless a test sets one."""
    name: str = request.param
    if name == "database-locked-select":
        monkeypatch.setattr(ratelimit, "_update_returning_supported", lambda: False)
    caches_setting = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if name == "redis":
        caches_setting = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/15",
                "KEY_PREFIX": f"test-ratelimit-{uuid.uuid4().hex}",
            }
        }
    with override_settings(CACHES=caches_setting, TELCODESK_SEND_RATE_MARGIN=0):
        assert ratelimit._uses_redis() is (name == "redis")
        yield name


def _channel(world: World, rate: int) -> Channel:
    return make_channel(world.operator, rate_limit_per_second=rate)


def _reserve(channel: Channel, now: float, max_wait: float = 10.0) -> float | None:
    return ratelimit.send_slot_reserve(channel=channel, max_wait_seconds=max_wait, now=now)


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# --- spacing ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_n_slots_taken_at_once_are_spaced_one_over_the_rate(world: World, backend: str) -> None:
    channel = _channel(world, rate=10)
    waits = [_reserve(channel, T0) for _ in range(6)]
    assert waits == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]


@pytest.mark.django_db
def test_a_worker_sleeps_until_its_slot_and_sends_one_interval_after_the_last(
    world: World, backend: str
) -> None:
    channel = _channel(world, rate=4)
    fake = FakeTime()
    sent_at = []
    for _ in range(5):
        assert ratelimit.send_slot_wait(channel=channel, clock=fake.clock, sleep=fake.sleep)
        sent_at.append(fake.now)
    assert fake.slept == [0.25] * 4
    assert sent_at == [T0, T0 + 0.25, T0 + 0.5, T0 + 0.75, T0 + 1.0]


@pytest.mark.django_db
def test_an_idle_channel_gives_no_burst_afterwards(world: World, backend: str) -> None:
    channel = _channel(world, rate=10)
    assert _reserve(channel, T0) == 0.0
    # Five idle seconds earn no credit: the next two are still 1/R apart.
    assert [_reserve(channel, T0 + 5), _reserve(channel, T0 + 5)] == [0.0, 0.1]
    # A caller arriving between two slots waits for the next free one only.
    assert _reserve(channel, T0 + 5.15) == pytest.approx(0.05)


@pytest.mark.django_db
def test_slots_of_one_channel_do_not_delay_another(world: World, backend: str) -> None:
    first = _channel(world, rate=1)
    second = make_channel(world.operator, phone_number_id="999000111", rate_limit_per_second=1)
    assert [_reserve(first, T0), _reserve(first, T0)] == [0.0, 1.0]
    assert _reserve(second, T0) == 0.0


@pytest.mark.django_db
def test_the_interval_follows_a_changed_limit(world: World, backend: str) -> None:
    channel = _channel(world, rate=2)
    assert _reserve(channel, T0) == 0.0  # next slot at T0 + 0.5
    channel.rate_limit_per_second = 1000
    assert [_reserve(channel, T0), _reserve(channel, T0)] == [0.5, 0.501]


# --- the longest wait ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_wait_longer_than_allowed_returns_false_and_takes_nothing(
    world: World, backend: str
) -> None:
    channel = _channel(world, rate=1)
    fake = FakeTime()
    assert ratelimit.send_slot_wait(channel=channel, clock=fake.clock, sleep=fake.sleep)
    # The next slot is 1 s away: refused with a shorter allowance, and nothing slept.
    for max_wait in (0.0, 0.5, 0.999999):
        assert not ratelimit.send_slot_wait(
            channel=channel, max_wait_seconds=max_wait, clock=fake.clock, sleep=fake.sleep
        )
    assert fake.slept == []
    # Nothing was taken by the refusals: the slot at T0 + 1 is still the next one...
    assert _reserve(channel, T0, max_wait=1.0) == 1.0  # (exactly the allowance: taken)
    # ...and the one after it follows at T0 + 2.
    assert _reserve(channel, T0, max_wait=1.5) is None
    assert _reserve(channel, T0, max_wait=2.0) == 2.0


@pytest.mark.django_db
def test_the_margin_paces_a_little_below_the_limit(world: World, backend: str) -> None:
    assert ratelimit.slot_interval_us(80, margin=0) == 12_500
    assert ratelimit.slot_interval_us(80, margin=0.025) == 12_821  # 78.0/s
    assert ratelimit.slot_interval_us(500, margin=0.025) == 2_052  # 487.3/s
    assert ratelimit.slot_interval_us(1000, margin=0.025) == 1_026  # 974.7/s
    channel = _channel(world, rate=80)
    with override_settings(TELCODESK_SEND_RATE_MARGIN=0.025):
        assert [_reserve(channel, T0) for _ in range(3)] == [0.0, 0.012821, 0.025642]
        assert ratelimit.send_rate_margin() == 0.025
    with override_settings(TELCODESK_SEND_RATE_MARGIN=0.6), pytest.raises(ImproperlyConfigured):
        ratelimit.send_rate_margin()


def test_the_default_margin_is_two_and_a_half_percent(settings: Any) -> None:
    if hasattr(settings, "TELCODESK_SEND_RATE_MARGIN"):
        del settings.TELCODESK_SEND_RATE_MARGIN
    assert ratelimit.send_rate_margin() == ratelimit.DEFAULT_MARGIN == 0.025
    assert ratelimit.slot_interval_us(80) == 12_821


# --- several workers ----------------------------------------------------------------------------


def _take_concurrently(channel: Channel, *, workers: int, each: int) -> list[float | None]:
    barrier = threading.Barrier(workers)
    waits: list[float | None] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(each):
                wait = _reserve(channel, T0, max_wait=60)
                with lock:
                    waits.append(wait)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return waits


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_get_slots_closer_than_one_interval(
    world: World, backend: str
) -> None:
    channel = _channel(world, rate=50)
    waits = _take_concurrently(channel, workers=4, each=10)
    # 40 slots from the same instant: each a distinct multiple of 20 ms, none missing.
    assert len(waits) == 40
    assert sorted(round(w * 1_000_000) for w in waits if w is not None) == [
        i * 20_000 for i in range(40)
    ]


def _process_take(channel_id: int, each: int, start: Any, out: Any) -> None:
    connections.close_all()  # the parent's connections are not ours to use
    channel = Channel.objects.get(pk=channel_id)
    start.wait(30)
    try:
        out.put([_reserve(channel, T0, max_wait=60) for _ in range(each)])
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_the_schedule(world: World, backend: str) -> None:
    channel = _channel(world, rate=100)
    ChannelSendSlot.objects.all().delete()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start, out = context.Event(), context.Queue()
    processes = [
        context.Process(target=_process_take, args=(channel.pk, 15, start, out)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    start.set()
    waits = [w for _ in processes for w in out.get(timeout=60)]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert sorted(round(w * 1_000_000) for w in waits if w is not None) == [
        i * 10_000 for i in range(30)
    ]


# --- where the state lives ----------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(TELCODESK_SEND_RATE_MARGIN=0)
def test_without_redis_the_next_slot_is_a_row_per_channel(world: World) -> None:
    assert not ratelimit._uses_redis()
    channel = _channel(world, rate=10)
    assert not ChannelSendSlot.objects.exists()
    _reserve(channel, T0)
    _reserve(channel, T0)
    assert ChannelSendSlot.objects.get(channel=channel).next_slot_us == 1_800_000_000_200_000


@pytest.mark.django_db
@pytest.mark.parametrize("backend", BACKENDS[:1], indirect=True)
def test_with_redis_the_next_slot_is_a_key_on_the_server_clock(world: World, backend: str) -> None:
    import redis

    assert not ChannelSendSlot.objects.exists()
    channel = _channel(world, rate=10)
    cache = caches["default"]
    key = cache.make_key(f"telcodesk:sendslot:{channel.pk}")
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    seconds, micros = server.time()
    far = (seconds + 1_000_000) * 1_000_000 + micros  # the next slot in eleven days
    server.set(key, far)
    try:
        # No ``now``: the script reads the server's clock (TIME).
        assert ratelimit.send_slot_reserve(channel=channel, max_wait_seconds=990_000) is None
        assert int(server.get(key) or 0) == far  # refused: unchanged
        wait = ratelimit.send_slot_reserve(channel=channel, max_wait_seconds=1_100_000)
        assert wait is not None and 990_000 < wait <= 1_000_000
        assert int(server.get(key) or 0) == far + 100_000
        assert int(server.pttl(key)) > 0
    finally:
        server.delete(key)
    assert not ChannelSendSlot.objects.exists()


# --- in the outbox ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_sends_within_its_slot_and_requeues_beyond_the_wait(
    world: World, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = _channel(world, rate=1)
    conversation = make_conversation(channel, last_inbound_at=recent())
    first, second = (
        message_send_text(actor_or_none=None, conversation=conversation, body=f"Hola {n}")
        for n in range(2)
    )
    fake = FakeTime()
    monkeypatch.setattr(outbox, "send_slot_wait", _wait_with(fake))
    client = ScriptedClient("wamid.R1", "wamid.R2")
    assert outbox_message_send(message_id=first.pk, client=client, max_wait_seconds=0) == "sent"
    # The second one's slot is a second away: back to the queue, no attempt used.
    assert (
        outbox_message_send(message_id=second.pk, client=client, max_wait_seconds=0.5)
        == "throttled"
    )
    second.refresh_from_db()
    assert (second.status, second.attempts) == (MessageStatus.QUEUED, 0)
    assert fake.slept == []
    # Due again: with the default allowance (2 s) it sleeps until its slot and sends.
    Message.objects.filter(pk=second.pk).update(next_attempt_at=None)
    assert outbox_message_send(message_id=second.pk, client=client) == "sent"
    assert fake.slept == [1.0]
    assert [p["to"] for p in client.payloads] == [conversation.external_address] * 2


def _wait_with(fake: FakeTime) -> Any:
    def wait(**kwargs: Any) -> bool:
        return ratelimit.send_slot_wait(**kwargs, clock=fake.clock, sleep=fake.sleep)

    return wait
