"""Settings of the timer engine, each overridable in settings.py or by the environment.

``settings.TIMER_<NAME>`` wins when present (tests use ``override_settings``); otherwise
``TELCODESK_TIMER_<NAME>`` from the environment; otherwise the default below.
"""

from __future__ import annotations

from django.conf import settings

from telcodesk.core.env import env_int


def _setting(name: str, default: int, *, minimum: int, maximum: int) -> int:
    value = getattr(settings, f"TIMER_{name}", None)
    if value is not None:
        return int(value)
    return env_int(f"TELCODESK_TIMER_{name}", default, minimum=minimum, maximum=maximum)


def timer_lease_seconds() -> int:
    """How long a claim holds before the tick gives the timer back to ``pending``."""
    return _setting("LEASE_SECONDS", 300, minimum=1, maximum=86_400)


def timer_max_attempts() -> int:
    """Claims (= attempts) after which a failing timer stays ``failed``."""
    return _setting("MAX_ATTEMPTS", 5, minimum=1, maximum=100)


def timer_retry_seconds() -> int:
    """First retry delay after a handler error; doubles with each attempt."""
    return _setting("RETRY_SECONDS", 30, minimum=0, maximum=86_400)


def timer_batch_size() -> int:
    """Timers one tick claims at a time."""
    return _setting("BATCH_SIZE", 500, minimum=1, maximum=10_000)


def timer_fire_group() -> int:
    """Firings committed together (each with its own savepoint); 1 = a commit each."""
    return _setting("FIRE_GROUP", 50, minimum=1, maximum=1000)


def timer_tick_max_seconds() -> int:
    """How long one Celery tick task keeps draining before it returns."""
    return _setting("TICK_MAX_SECONDS", 55, minimum=1, maximum=3600)
