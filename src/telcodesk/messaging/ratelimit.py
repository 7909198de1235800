"""Per-channel send rate limit that holds across any number of workers and processes.

Even spacing, not windows: GCRA ("virtual scheduling"). A channel keeps the time of its
next free slot. A worker takes the slot ``max(now, next_slot)``, moves ``next_slot`` one
interval further (1 / the channel's ``rate_limit_per_second``, a little more with the
safety margin) and sleeps until its slot before sending. So the sends of all workers
together are never closer than one interval, with no burst at the start of a second;
a worker whose slot is further away than ``max_wait_seconds`` takes nothing.

Where the state lives:

* With a Redis cache (``TELCODESK_CACHE_URL``): one key per channel holding the next slot
  (Unix time in microseconds), read and moved by one Lua script (``EVALSHA``), atomic on
  the server; the clock is the Redis server's (``TIME``), shared by every machine.
* Otherwise: a ``ChannelSendSlot`` row per channel, read and moved by one conditional
  ``UPDATE ... RETURNING`` (the row lock on PostgreSQL, the write lock on SQLite
  serialise the workers); the clock is the worker's (keep machines on NTP). On SQLite
  older than 3.35 (no ``RETURNING``) a locked ``SELECT`` and an ``UPDATE`` in one
  transaction.

The margin (``settings.TELCODESK_SEND_RATE_MARGIN``, default 0.025) paces at
``limit × (1 − margin)``: the provider counts a send when the request *arrives*, and
requests leave a little unevenly (scheduling, network), so pacing at exactly the limit
would put some seconds over it. 2.5 % is the middle of the band [95 %, 100 %] of the limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from telcodesk.messaging.models import Channel, ChannelSendSlot

DEFAULT_MARGIN = 0.025
MAX_MARGIN = 0.5
# How long a Redis key outlives its next slot (after that it is in the past anyway).
KEY_SLACK_MS = 60_000

# KEYS[1]: the channel's key. ARGV: interval (µs), longest wait (µs), now (µs; empty:
# the server's clock). Returns {1, wait µs} with the slot taken, or {0, wait µs} with
# nothing changed when the wait would be longer than allowed.
REDIS_SCRIPT = """
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local next_slot = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local slot = math.max(now, next_slot)
local wait = slot - now
if wait > max_wait then
  return {0, wait}
end
local after = slot + interval
redis.call('SET', KEYS[1], string.format('%d', after),
           'PX', string.format('%d', math.floor((after - now) / 1000) + tonumber(ARGV[4])))
return {1, wait}
"""

_redis_script: Any = None


def send_rate_margin() -> float:
    """The safety margin below the channel's limit (a share: 0.025 paces at 97.5 %)."""
    margin = float(getattr(settings, "TELCODESK_SEND_RATE_MARGIN", DEFAULT_MARGIN))
    if not 0 <= margin < MAX_MARGIN:
        raise ImproperlyConfigured("TELCODESK_SEND_RATE_MARGIN must be in [0, 0.5)")
    return margin


def slot_interval_us(rate_per_second: int, *, margin: float | None = None) -> int:
    """Microseconds between two slots of a channel (rounded up: never faster)."""
    share = 1 - (send_rate_margin() if margin is None else margin)
    return math.ceil(1_000_000 / (max(rate_per_second, 1) * share))


def _uses_redis() -> bool:
    return isinstance(caches["default"], RedisCache)


def _reserve_redis(
    *, channel_id: int, interval_us: int, max_wait_us: int, now_us: int | None
) -> int | None:
    global _redis_script
    cache = caches["default"]
    key = cache.make_key(f"telcodesk:sendslot:{channel_id}")
    client = cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]
    if _redis_script is None:
        _redis_script = client.register_script(REDIS_SCRIPT)
    taken, wait_us = _redis_script(
        keys=[key],
        args=[interval_us, max_wait_us, "" if now_us is None else now_us, KEY_SLACK_MS],
        client=client,
    )
    return int(wait_us) if int(taken) else None


def _update_returning_supported() -> bool:
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35)
    return False


_MISSING = object()


def _reserve_row(
    *, channel_id: int, interval_us: int, max_wait_us: int, now_us: int
) -> int | object | None:
    """Take the slot in the channel's row: the wait (µs), None, or _MISSING (no row)."""
    if _update_returning_supported():
        table = connection.ops.quote_name(ChannelSendSlot._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET next_slot_us = "
                "CASE WHEN next_slot_us > %s THEN next_slot_us ELSE %s END + %s "
                "WHERE channel_id = %s AND next_slot_us <= %s RETURNING next_slot_us",
                [now_us, now_us, interval_us, channel_id, now_us + max_wait_us],
            )
            rows = cursor.fetchall()  # all of them: SQLite commits when the statement ends
        if rows:
            return int(rows[0][0]) - interval_us - now_us
        next_slot = (
            ChannelSendSlot.objects.filter(pk=channel_id)
            .values_list("next_slot_us", flat=True)
            .first()
        )
        if next_slot is None:
            return _MISSING
        if next_slot > now_us + max_wait_us:
            return None
        # The row appeared after our UPDATE (another worker's first send): once more.
        return _reserve_row(
            channel_id=channel_id, interval_us=interval_us, max_wait_us=max_wait_us, now_us=now_us
        )
    with transaction.atomic():
        next_slot = (
            ChannelSendSlot.objects.select_for_update()
            .filter(pk=channel_id)
            .values_list("next_slot_us", flat=True)
            .first()
        )
        if next_slot is None:
            return _MISSING
        slot = max(now_us, next_slot)
        if slot - now_us > max_wait_us:
            return None
        ChannelSendSlot.objects.filter(pk=channel_id).update(next_slot_us=slot + interval_us)
        return slot - now_us


def _reserve_database(
    *, channel_id: int, interval_us: int, max_wait_us: int, now_us: int
) -> int | None:
    arguments = {
        "channel_id": channel_id,
        "interval_us": interval_us,
        "max_wait_us": max_wait_us,
        "now_us": now_us,
    }
    wait = _reserve_row(**arguments)
    if wait is _MISSING:  # the channel's first send: create its row, then as usual
        ChannelSendSlot.objects.bulk_create(
            [ChannelSendSlot(channel_id=channel_id, next_slot_us=0)], ignore_conflicts=True
        )
        wait = _reserve_row(**arguments)
    assert wait is None or isinstance(wait, int)
    return wait


def send_slot_reserve(
    *, channel: Channel, max_wait_seconds: float, now: float | None = None
) -> float | None:
    """Take the channel's next send slot: the seconds until it (0 for now), or None.

    None means the slot is further away than ``max_wait_seconds`` and nothing was taken.
    ``now`` (Unix time) replaces the limiter's clock (the Redis server's, or this
    machine's for the database): for tests. Call outside a transaction (the database
    row stays locked until the transaction ends).
    """
    interval_us = slot_interval_us(channel.rate_limit_per_second)
    max_wait_us = max(round(max_wait_seconds * 1_000_000), 0)
    now_us = None if now is None else round(now * 1_000_000)
    if _uses_redis():
        wait_us = _reserve_redis(
            channel_id=channel.pk, interval_us=interval_us, max_wait_us=max_wait_us, now_us=now_us
        )
    else:
        wait_us = _reserve_database(
            channel_id=channel.pk,
            interval_us=interval_us,
            max_wait_us=max_wait_us,
            now_us=round(time.time() * 1_000_000) if now_us is None else now_us,
        )
    return None if wait_us is None else wait_us / 1_000_000


def send_slot_wait(
    *,
    channel: Channel,
    max_wait_seconds: float = 2.0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Take the channel's next slot and sleep until it; False (nothing taken) when that
    would mean waiting longer than ``max_wait_seconds``.

    ``clock`` replaces the limiter's clock and ``sleep`` the sleeping (tests).
    """
    wait = send_slot_reserve(
        channel=channel,
        max_wait_seconds=max_wait_seconds,
        now=clock() if clock is not None else None,
    )
    if wait is None:
        return False
    if wait > 0:
        sleep(wait)
    return True
