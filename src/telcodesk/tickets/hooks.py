"""What other apps do when a ticket changes, registered by them so that the tickets app
imports none of them (the NPS app sends its survey when a ticket is resolved; the visits
app could react to a closed ticket).

A handler is called inline by ``ticket_status_set`` (and every service that changes the
status), inside the transaction that changes it, after the status change row is saved::

    register_ticket_status_handler(nps_on_ticket_status)

    def nps_on_ticket_status(change: TicketStatusEvent) -> None:
        if change.to_status == "resolved": ...

A handler writes through its own app's services (rows first, e.g. an outbox message);
if it raises, the status change is rolled back with it, so a handler that may fail for
reasons of its own catches them and records them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telcodesk.core.tenancy import Actor
    from telcodesk.tickets.models import Ticket


@dataclass(frozen=True)
class TicketStatusEvent:
    actor: Actor | None  # None: the system (a timer, an automation)
    ticket: Ticket
    from_status: str
    to_status: str


TicketStatusHandler = Callable[[TicketStatusEvent], None]
_STATUS_HANDLERS: list[TicketStatusHandler] = []


def _name(func: Callable[..., object]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def register_ticket_status_handler(func: TicketStatusHandler) -> TicketStatusHandler:
    """Call ``func(event)`` on every status change of a ticket (registering twice is one)."""
    if all(_name(h) != _name(func) for h in _STATUS_HANDLERS):
        _STATUS_HANDLERS.append(func)
    return func


def ticket_status_handlers() -> tuple[TicketStatusHandler, ...]:
    return tuple(_STATUS_HANDLERS)


def ticket_status_changed(event: TicketStatusEvent) -> None:
    """Run the registered handlers (called by the tickets services only)."""
    for handler in _STATUS_HANDLERS:
        handler(event)
