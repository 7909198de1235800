"""The ticket's part in playbooks, registered from ``TicketsConfig.ready``.

- targets: ``ticket`` (a run made the ticket's by create_ticket, or started from the
  ticket page), and ``customer`` / ``conversation`` when no other app registered them
  (the customer page's panel, the inbox);
- fields: the ``ticket`` namespace (``tickets.playbook_fields``);
- actions: ``identify_customer``, ``confirm_contact`` (``playbook_customer``),
  ``create_ticket``, ``charge_check`` (``playbook_ticket``), ``run_diagnostics``
  (``playbook_diagnostics``), ``send_template`` (``playbook_messages``).

docs/playbooks.md, "Playbooks and tickets", lists each action's params and facts.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telcodesk.core.tenancy import Actor
from telcodesk.playbooks.actions import register_playbook_action
from telcodesk.playbooks.fields import register_playbook_fields
from telcodesk.playbooks.targets import playbook_target, register_playbook_target


def _ticket_visible(actor: Actor, pk: int) -> bool:
    from telcodesk.tickets.selectors import tickets_visible

    return tickets_visible(actor=actor).filter(pk=pk).exists()


def _customer_visible(actor: Actor, pk: int) -> bool:
    from telcodesk.customers.selectors import customers_visible

    return customers_visible(actor=actor).filter(pk=pk).exists()


def _conversation_visible(actor: Actor, pk: int) -> bool:
    from telcodesk.inbox.selectors import conversations_visible

    return conversations_visible(actor=actor).filter(pk=pk).exists()


def playbook_register() -> None:
    """Register the ticket target, fields and actions with the playbooks app."""
    from telcodesk.tickets.playbook_customer import (
        ConfirmContactParams,
        IdentifyCustomerParams,
        confirm_contact_action,
        identify_customer_action,
    )
    from telcodesk.tickets.playbook_diagnostics import (
        RunDiagnosticsParams,
        run_diagnostics_action,
    )
    from telcodesk.tickets.playbook_fields import TICKET_FIELD_NAMES, ticket_fields_write
    from telcodesk.tickets.playbook_messages import SendTemplateParams, send_template_action
    from telcodesk.tickets.playbook_ticket import (
        ChargeCheckParams,
        CreateTicketParams,
        charge_check_action,
        create_ticket_action,
    )

    register_playbook_target(
        "ticket",
        visible=_ticket_visible,
        url=lambda pk: reverse("tickets:detail", args=[pk]),
    )
    # The owning apps may register these themselves; never replace theirs.
    if playbook_target("customer") is None:
        register_playbook_target(
            "customer",
            visible=_customer_visible,
            url=lambda pk: reverse("customers:detail", args=[pk]),
        )
    if playbook_target("conversation") is None:
        register_playbook_target(
            "conversation",
            visible=_conversation_visible,
            url=lambda pk: reverse("inbox:thread", args=[pk]),
        )
    register_playbook_fields("ticket", TICKET_FIELD_NAMES, writer=ticket_fields_write)
    register_playbook_action(
        "identify_customer",
        identify_customer_action,
        label=_("Find the customer"),
        params=IdentifyCustomerParams,
        facts=("customer_found",),
    )
    register_playbook_action(
        "confirm_contact",
        confirm_contact_action,
        label=_("Confirm the phone and e-mail"),
        params=ConfirmContactParams,
        facts=("contact_confirmed",),
    )
    register_playbook_action(
        "create_ticket",
        create_ticket_action,
        label=_("Open the ticket"),
        params=CreateTicketParams,
    )
    register_playbook_action(
        "run_diagnostics",
        run_diagnostics_action,
        label=_("Run the diagnostics"),
        params=RunDiagnosticsParams,
        facts=("fault_found", "intermittent", "outage", "all_ok"),
    )
    register_playbook_action(
        "send_template",
        send_template_action,
        label=_("Send the WhatsApp template"),
        params=SendTemplateParams,
    )
    register_playbook_action(
        "charge_check",
        charge_check_action,
        label=_("Check for an extra cost"),
        params=ChargeCheckParams,
        facts=("charge_proposed",),
    )
