"""Durable timers of the pipelines app (imported at start-up by AutomationConfig.ready).

- ``pipelines.automation_wait_reply`` / ``pipelines.automation_wait``: a pack
  automation's ``start_timer`` is over (e.g. 15 minutes in "Aguardando datos" without a
  reply); the handler re-checks the stage entry (and the reply) and runs the ``then``
  actions (pipelines.automations). A reply cancels the ``_reply`` kind
  (pipelines.inbound); leaving the stage cancels both.
- ``pipelines.daily_follow_up``: the daily follow-up of one pipeline
  (pipelines.follow_up), which schedules its next day when it fires.

Handlers run inside the firing's transaction and are idempotent: every effect is an
AutomationRun unique per (lead, automation, ``timer:<id>``, action).
"""

from __future__ import annotations

from telcodesk.automation.models import Timer
from telcodesk.automation.services import register_timer_handler
from telcodesk.pipelines.automations import WAIT_KIND, WAIT_REPLY_KIND, automation_wait_fire
from telcodesk.pipelines.follow_up import FOLLOW_UP_KIND, follow_up_fire


@register_timer_handler(WAIT_REPLY_KIND)
def automation_wait_reply_over(timer: Timer) -> None:
    automation_wait_fire(timer)


@register_timer_handler(WAIT_KIND)
def automation_wait_over(timer: Timer) -> None:
    automation_wait_fire(timer)


@register_timer_handler(FOLLOW_UP_KIND)
def daily_follow_up(timer: Timer) -> None:
    follow_up_fire(timer)
