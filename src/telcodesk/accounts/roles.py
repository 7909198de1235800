"""Roles and what each may do. Explicit on purpose: a test walks this table.

A permission is a plain string ``<area>.<action>``. Adding one means adding it to
PERMISSIONS and granting it below; anything not granted is refused.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    BACK_OFFICE = "back_office", _("Back office")
    ADMIN = "admin", _("Administrator")
    # For API keys of integrations that only feed leads in (the online store's clicks).
    INTEGRATION = "integration", _("Integration (lead intake only)")


# The roles a person can have; INTEGRATION is for API keys only.
PERSON_ROLES: tuple[Role, ...] = (Role.AGENT, Role.SUPERVISOR, Role.BACK_OFFICE, Role.ADMIN)


PERMISSIONS: dict[str, str] = {
    "customer.view": "See customers, their documents, contacts, services and balance",
    "customer.create": "Register a new customer",
    "customer.edit": "Change a customer's profile, documents, contacts and addresses",
    "customer.confirm_contact": "Mark a phone or e-mail as verified with the customer",
    "customer.delete": "Delete a customer",
    "subscription.edit": "Create or change subscriptions, plans and equipment",
    "subscription.change_status": "Block, unblock, disconnect or cancel a subscription",
    "ledger.view": "See invoices, payments and balance",
    "ledger.edit": "Register invoices and payments",
    "audit.view": "Read the audit log of personal-data access",
    "lead.view": "See pipelines, the board, leads, my queue and coverage areas",
    "lead.work": "Create, take, move, win and lose leads; check coverage; fire bots",
    "lead.assign": "Assign a lead to another agent or team, whoever owns it",
    "lead.intake": "Feed leads in from an integration (the online store's payment-link clicks)",
    "conversation.view": "Read the inbox and the conversations with customers",
    "conversation.reply": "Reply to customers, send templates and bots, take a conversation",
    "conversation.supervise": "See every conversation of the organization and assign them",
    "ticket.view": "See tickets, their replies, notes, answers and charges",
    "ticket.work": "Open, take, answer, reply to and move tickets; propose a charge",
    "ticket.assign": "Give a ticket to another agent or team; see every ticket",
    "ticket.charge_approve": "Approve or reject a charge for internal damage or manipulation",
    "network.view": "See OLTs, ONUs, diagnostics results and outages",
    "network.diagnose": "Run network diagnostics (ping, ONU, optical power, traffic) on a service",
    "outage.manage": "Declare and close network outages",
    "playbook.view": "See guided playbook runs",
    "playbook.work": "Start and work guided playbook runs",
    "playbook.supervise": "See the adherence of agents and steps to the playbooks",
    "team.manage": "Create teams and assign people",
    "org.manage": "Change organization settings, API keys and packs",
}

_AGENT = {
    "customer.view",
    "customer.create",
    "customer.edit",
    "customer.confirm_contact",
    "ledger.view",
    "lead.view",
    "lead.work",
    "conversation.view",
    "conversation.reply",
    "ticket.view",
    "ticket.work",
    "network.view",
    "network.diagnose",
    "playbook.view",
    "playbook.work",
}
_BACK_OFFICE = _AGENT | {"subscription.edit", "subscription.change_status", "ledger.edit"}
_SUPERVISOR = _BACK_OFFICE | {
    "audit.view",
    "team.manage",
    "lead.assign",
    "conversation.supervise",
    "ticket.assign",
    "ticket.charge_approve",
    "outage.manage",
    "playbook.supervise",
}
_ADMIN = set(PERMISSIONS)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.AGENT: frozenset(_AGENT),
    Role.BACK_OFFICE: frozenset(_BACK_OFFICE),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(_ADMIN),
    Role.INTEGRATION: frozenset({"lead.intake"}),
}


def role_allows(role: str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
