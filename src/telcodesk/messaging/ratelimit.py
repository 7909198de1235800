"""Per-channel send rate limit that holds across any number of workers.

A fixed one-second window: a counter per channel and wall-clock second, incremented
only while below the channel's ``rate_limit_per_second``. With a Redis cache the
counter is a Redis key (atomic ``INCR``); otherwise it is a ``ChannelSendWindow`` row
incremented by a conditional ``UPDATE ... WHERE count < limit`` whose row count says
whether this send got a slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, transaction
from django.db.models import F

from telcodesk.messaging.models import Channel, ChannelSendWindow

# Windows older than this are deleted when a new one is opened.
KEEP_WINDOWS_SECONDS = 60


def _uses_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def _slot_redis(channel: Channel, second: int) -> bool:
    cache = caches["default"]
    key = f"telcodesk:sendrate:{channel.pk}:{second}"
    cache.add(key, 0, timeout=5)
    try:
        count = int(cache.incr(key))
    except ValueError:  # the key expired between add and incr (a stalled worker)
        cache.add(key, 0, timeout=5)
        count = int(cache.incr(key))
    return count <= channel.rate_limit_per_second


def _slot_database(channel: Channel, second: int) -> bool:
    limit = channel.rate_limit_per_second
    updated = ChannelSendWindow.objects.filter(
        channel=channel, second=second, count__lt=limit
    ).update(count=F("count") + 1)
    if updated:
        return True
    if ChannelSendWindow.objects.filter(channel=channel, second=second).exists():
        return False  # the window is full
    try:
        with transaction.atomic():
            ChannelSendWindow.objects.create(channel=channel, second=second, count=1)
    except IntegrityError:
        # Another worker opened the window first: take a slot in it like everyone else.
        return bool(
            ChannelSendWindow.objects.filter(
                channel=channel, second=second, count__lt=limit
            ).update(count=F("count") + 1)
        )
    ChannelSendWindow.objects.filter(
        channel=channel, second__lt=second - KEEP_WINDOWS_SECONDS
    ).delete()
    return True


def send_slot_take(*, channel: Channel, now: float | None = None) -> bool:
    """Take one send slot in the current second; False when the channel is at its limit."""
    second = int(now if now is not None else time.time())
    if _uses_redis():
        return _slot_redis(channel, second)
    return _slot_database(channel, second)


def send_slot_wait(
    *,
    channel: Channel,
    max_wait_seconds: float = 2.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Take a slot, waiting for the next windows up to ``max_wait_seconds``."""
    deadline = clock() + max_wait_seconds
    while True:
        now = clock()
        if send_slot_take(channel=channel, now=now):
            return True
        if now >= deadline:
            return False
        sleep(min(1.0 - (now % 1.0) + 0.001, max(deadline - now, 0.001)))
