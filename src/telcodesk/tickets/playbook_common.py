"""What the ticket's playbook actions share: the run's customer, ticket and service.

The actions (``tickets.playbook_*``) read the run through its ``ActionContext`` and
write only through the owning apps' services with the context's actor, so every
scoping and permission rule of those services applies to a playbook exactly as to the
console. A run's customer and ticket are re-read through the selectors each time: a
reseller that lost the customer's assignment mid-call gets "not found", never the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from telcodesk.core.errors import NotFound
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, Subscription, SubscriptionStatus
from telcodesk.customers.selectors import customers_visible, subscriptions_visible
from telcodesk.playbooks.actions import ActionContext, ActionResult
from telcodesk.playbooks.models import PlaybookRun
from telcodesk.tickets.answers import ticket_answer_field
from telcodesk.tickets.models import Ticket
from telcodesk.tickets.selectors import tickets_visible

# The run variable identify_customer sets when the customer was found by a service ID:
# create_ticket and run_diagnostics then work on that service.
SERVICE_VARIABLE = "service_id"


def question_text(context: ActionContext, key: str) -> str:
    """The question's text as the agent reads it (its key when the playbook lacks it)."""
    question = context.playbook.questions().get(key)
    return question.text if question is not None else key


def answer_of(context: ActionContext, key: str | None) -> Any:
    """The typed answer to question ``key`` (None: no such key, or not answered)."""
    if not key:
        return None
    return context.answers.get(key)


def not_answered(context: ActionContext, key: str) -> ActionResult:
    return ActionResult(
        ok=False,
        message=_("Ask the customer “%(question)s” and write the answer first.")
        % {"question": question_text(context, key)},
    )


def run_customer(actor: Actor, run: PlaybookRun) -> Customer | None:
    """The run's customer (None: not identified yet).

    NotFound when the actor no longer sees it: a reseller whose assignment of the
    customer ended during the call.
    """
    if run.customer_id is None:
        return None
    customer = (
        customers_visible(actor=actor)
        .select_related("organization")
        .filter(pk=run.customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(_("No such customer. Search again by name, phone or service ID."))
    return customer


def ticket_of(actor: Actor, ticket_id: int | None) -> Ticket | None:
    """The ticket ``ticket_id`` if the actor sees it."""
    if ticket_id is None:
        return None
    return (
        tickets_visible(actor=actor)
        .select_related("customer", "organization", "subscription", "conversation")
        .filter(pk=ticket_id)
        .first()
    )


def linked_ticket_id(run: PlaybookRun) -> int | None:
    """The latest ticket the run is attached to (what ``context.link("ticket")`` says;
    field writers get no context, only the run)."""
    return (
        run.links.filter(target_type="ticket").order_by("-id").values_list("target_id", flat=True)
    ).first()


def no_customer() -> ActionResult:
    return ActionResult(
        ok=False,
        message=_(
            "Identify the customer first: search them by name, phone or service ID in this "
            "playbook, or start it from the customer's page."
        ),
    )


@dataclass(frozen=True)
class ServiceChoice:
    """The service an action works on, or why there is none (``refusal``)."""

    subscription: Subscription | None
    refusal: str = ""


def service_choose(
    *,
    actor: Actor,
    customer: Customer,
    context: ActionContext,
    service_question: str | None = None,
    ticket: Ticket | None = None,
) -> ServiceChoice:
    """Which of ``customer``'s services the call is about.

    In order: the ticket's service; the service ID answered to ``service_question``;
    the one identify_customer found the customer by; the customer's only active
    service. A service ID that is not the customer's is refused with theirs listed;
    several active services and nothing naming one gives no service (no refusal: the
    caller decides whether it needs one).
    """
    services = subscriptions_visible(actor=actor).filter(customer=customer).order_by("id")
    if ticket is not None and ticket.subscription_id is not None:
        found = services.filter(pk=ticket.subscription_id).first()
        if found is not None:
            return ServiceChoice(found)
    named = answer_of(context, service_question)
    if not isinstance(named, str) or not named.strip():
        named = context.variables.get(SERVICE_VARIABLE, "")
    if named.strip():
        wanted = "".join(named.split()).upper()
        found = services.filter(service_id=wanted).first()
        if found is not None:
            return ServiceChoice(found)
        theirs = ", ".join(services.values_list("service_id", flat=True)) or _("(none)")
        return ServiceChoice(
            None,
            _(
                "The service ID %(service)s is not one of %(customer)s's services; theirs "
                "are: %(services)s. Check it with the customer."
            )
            % {"service": wanted, "customer": customer.display_name, "services": theirs},
        )
    active = list(services.filter(status=SubscriptionStatus.ACTIVE)[:2])
    return ServiceChoice(active[0] if len(active) == 1 else None)


def values_split(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Field values of the ``ticket`` namespace split into the ticket's question answers
    (``Ticket.answers``) and its own text attributes (customer_words, description).

    A text field filled by a number or yes/no question gets the value as text ("3"), so
    a pack may ask "how many people?" as a number and keep it in a text field.
    """
    answers: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    for name, value in values.items():
        if name in TICKET_ATTRIBUTES:
            attributes[name] = "" if value is None else _as_text(value)
            continue
        field = ticket_answer_field(name)
        if field is not None and field.type == "text" and value is not None:
            answers[name] = _as_text(value)
        else:
            answers[name] = value
    return answers, attributes


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


# Ticket attributes a question may fill besides the answers (ticket.customer_words).
TICKET_ATTRIBUTES: tuple[str, ...] = ("customer_words", "description")
