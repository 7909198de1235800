"""Writes of the timer engine: schedule, cancel, and the registry of timer handlers.

Call ``timer_schedule`` inside the transaction of the cause (the lead entered
"Aguardando datos", the outbound message was saved): the timer row commits or rolls back
with it, and nothing is enqueued: the tick finds it when it is due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.automation.models import Timer
from telcodesk.core.errors import ValidationFailed

if TYPE_CHECKING:
    from telcodesk.accounts.models import Organization

TimerHandler = Callable[[Timer], None]

_HANDLERS: dict[str, TimerHandler] = {}

_KIND_MAX = Timer._meta.get_field("kind").max_length or 100
_TARGET_TYPE_MAX = Timer._meta.get_field("target_type").max_length or 100
_DEDUPE_MAX = Timer._meta.get_field("dedupe_key").max_length or 200


def register_timer_handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    """Register ``func(timer)`` as the effect of timers of ``kind``.

    The handler runs inside the transaction that marks the timer fired, so its database
    effects commit exactly once with the firing. It must still be idempotent (a worker
    killed in the middle leaves the timer claimed; after the lease it runs again), must
    re-check its condition (the customer may have replied a second before), and must not
    talk to the outside world directly: write an outbox row and let the outbox send it.
    Register handlers in a ``timers`` module of your app (imported at start-up by
    ``AutomationConfig.ready``) so that every worker knows them.
    """

    def decorator(func: TimerHandler) -> TimerHandler:
        current = _HANDLERS.get(kind)
        if current is not None and current is not func and _qualname(current) != _qualname(func):
            raise ValueError(f"timer kind {kind!r} already has a handler: {_qualname(current)}")
        _HANDLERS[kind] = func
        return func

    return decorator


def unregister_timer_handler(kind: str) -> None:
    """Forget the handler of ``kind`` (tests)."""
    _HANDLERS.pop(kind, None)


def timer_handler_for(kind: str) -> TimerHandler | None:
    return _HANDLERS.get(kind)


def _qualname(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{getattr(func, '__qualname__', type(func).__qualname__)}"


def timer_schedule(
    *,
    organization: Organization,
    kind: str,
    target_type: str,
    target_id: int,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Timer:
    """Create a pending timer (or return the existing one with the same ``dedupe_key``).

    Call inside the transaction of the cause. With ``dedupe_key`` set, scheduling the
    same logical timer twice returns the first one, whatever its state: a key names one
    timer for ever in the organization (put the cause's id in it, e.g.
    ``f"lead:{lead.id}:no-reply:{message.id}"``).
    """
    errors: dict[str, list[str]] = {}
    if not kind or len(kind) > _KIND_MAX:
        errors["kind"] = [
            _("Give the timer a kind of at most %(max)d characters.") % {"max": _KIND_MAX}
        ]
    if not target_type or len(target_type) > _TARGET_TYPE_MAX:
        errors["target_type"] = [
            _("Give the target type in at most %(max)d characters.") % {"max": _TARGET_TYPE_MAX}
        ]
    if timezone.is_naive(due_at):
        errors["due_at"] = [
            _("The due time has no time zone. Give an aware date and time (e.g. in UTC).")
        ]
    if dedupe_key is not None and (not dedupe_key or len(dedupe_key) > _DEDUPE_MAX):
        errors["dedupe_key"] = [
            _("The dedupe key must have between 1 and %(max)d characters.") % {"max": _DEDUPE_MAX}
        ]
    if errors:
        raise ValidationFailed(
            _("The timer cannot be scheduled. Correct the fields shown."), details=errors
        )

    fields = {
        "kind": kind,
        "target_type": target_type,
        "target_id": target_id,
        "due_at": due_at,
        "payload": payload or {},
    }
    if dedupe_key is None:
        return Timer.objects.create(organization=organization, **fields)
    existing = Timer.objects.filter(organization=organization, dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    try:
        # A savepoint, so that losing the race to a concurrent scheduler does not break
        # the caller's transaction.
        with transaction.atomic():
            return Timer.objects.create(organization=organization, dedupe_key=dedupe_key, **fields)
    except IntegrityError:
        return Timer.objects.get(organization=organization, dedupe_key=dedupe_key)


def timer_cancel(
    *,
    organization: Organization,
    kind: str | None = None,
    target_type: str,
    target_id: int,
) -> int:
    """Cancel the pending timers of one target (of one ``kind``, or all); return how many.

    Call when the condition of the timers no longer holds (the customer replied). A timer
    already claimed by a worker is not stopped: that is why handlers re-check their
    condition before acting.
    """
    timers = Timer.objects.filter(
        organization=organization,
        target_type=target_type,
        target_id=target_id,
        state=Timer.State.PENDING,
    )
    if kind is not None:
        timers = timers.filter(kind=kind)
    return timers.update(state=Timer.State.CANCELLED, updated_at=timezone.now())
