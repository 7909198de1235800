"""Durable timers of the tickets app (imported at start-up by AutomationConfig.ready).

- ``tickets.sla_warn``: a running SLA clock reached its warning point; the handler
  tells the assignee (a TicketSlaEvent the queue and the ticket page show) and notes it.
- ``tickets.sla_breach``: a running clock reached its due moment; the handler marks it
  breached and escalates (tickets.services.sla).

Both re-check, under the ticket's row lock, that the clock still runs and that the
timer belongs to its current run (the payload's ``generation``): a pause cancels the
pending timers, but one a worker had already claimed fires and must do nothing.
"""

from __future__ import annotations

from telcodesk.automation.models import Timer
from telcodesk.automation.services import register_timer_handler
from telcodesk.tickets.services.sla import BREACH_KIND, WARN_KIND, sla_breach_fire, sla_warn_fire


@register_timer_handler(WARN_KIND)
def sla_warn_due(timer: Timer) -> None:
    sla_warn_fire(timer)


@register_timer_handler(BREACH_KIND)
def sla_breach_due(timer: Timer) -> None:
    sla_breach_fire(timer)
