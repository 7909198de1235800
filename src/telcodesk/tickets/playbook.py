"""The ticket's part in playbooks (being written): the "ticket" target, the ticket.*
fields and the call actions, registered from TicketsConfig.ready."""

from __future__ import annotations


def playbook_register() -> None:
    """Register the ticket target, fields and actions with the playbooks app."""
