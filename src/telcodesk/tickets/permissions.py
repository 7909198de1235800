"""The permissions tickets use (see accounts/roles.py for who has them)."""

from __future__ import annotations

VIEW_PERMISSION = "ticket.view"
WORK_PERMISSION = "ticket.work"
ASSIGN_PERMISSION = "ticket.assign"
CHARGE_APPROVE_PERMISSION = "ticket.charge_approve"
