"""Timer handlers of the messaging app (imported at start-up by AutomationConfig.ready)."""

from __future__ import annotations

from telcodesk.automation.models import Timer
from telcodesk.automation.services import register_timer_handler
from telcodesk.core.tasks import enqueue_on_commit
from telcodesk.messaging.outbox import TIMER_KIND


@register_timer_handler(TIMER_KIND)
def outbox_retry_due(timer: Timer) -> None:
    """A queued message's next attempt is due: enqueue its send after the firing commits.

    Idempotent: the send claims the message, so a message already sent is skipped.
    """
    from telcodesk.messaging.tasks import send_outbox_message

    enqueue_on_commit(send_outbox_message, timer.target_id)
