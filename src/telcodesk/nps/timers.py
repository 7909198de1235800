"""Timer handlers of the nps app (imported at start-up by AutomationConfig.ready)."""

from __future__ import annotations

from django.utils import timezone

from telcodesk.automation.models import Timer
from telcodesk.automation.services import register_timer_handler
from telcodesk.nps.services import EXPIRE_TIMER_KIND, survey_expire


@register_timer_handler(EXPIRE_TIMER_KIND)
def survey_expire_due(timer: Timer) -> None:
    """The survey's answer time is over: unanswered unless the score came (re-checked).

    The timer is due at the survey's expiry, so its firing means that moment has passed
    (the tick's clock decides, not this process's).
    """
    survey_expire(survey_id=timer.target_id, now=max(timezone.now(), timer.due_at))
