"""Opening a ticket for a customer, and correcting what it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from telcodesk.accounts.models import AuditLog, Membership
from telcodesk.accounts.services import audit_record
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import Customer, Subscription
from telcodesk.customers.selectors import customers_visible, subscriptions_visible
from telcodesk.messaging.models import Conversation
from telcodesk.tickets.answers import answers_clean
from telcodesk.tickets.models import (
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    TicketStatusChange,
    TicketSubcategory,
)
from telcodesk.tickets.numbering import ticket_number_next
from telcodesk.tickets.permissions import WORK_PERMISSION
from telcodesk.tickets.services.common import (
    check_not_closed,
    moment,
    text_clean,
    ticket_locked,
    ticket_timeline,
)
from telcodesk.tickets.services.outages import SKIP_VISIT_OUTAGE, ticket_outage_for
from telcodesk.tickets.services.sla import sla_clocks_start, sla_on_ticket_change

SUBJECT_MAX = 200
DESCRIPTION_MAX = 10_000
CUSTOMER_WORDS_MAX = 5_000
LABELS = {
    "subject": gettext_lazy("Subject"),
    "description": gettext_lazy("Description"),
    "customer_words": gettext_lazy("The customer's own words"),
}


def _customer_checked(actor: Actor, customer: Customer) -> Customer:
    found = customers_visible(actor=actor).filter(pk=customer.pk).first()
    if found is None:
        raise NotFound(_("No such customer. Search again by name, phone or document."))
    return found


def _subscription_checked(
    actor: Actor, customer: Customer, subscription: Subscription | None
) -> Subscription | None:
    if subscription is None:
        return None
    found = subscriptions_visible(actor=actor).filter(pk=subscription.pk).first()
    if found is None:
        raise NotFound(_("No such service. Check the service ID and try again."))
    if found.customer_id != customer.pk:
        message = _(
            "The service %(service)s is not one of this customer's services; choose one of "
            "theirs or none."
        ) % {"service": found.service_id}
        raise ValidationFailed(message, details={"subscription": [message]})
    return found


def _choice_errors(category: str, priority: str, channel: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if category not in TicketCategory.values:
        errors["category"] = [
            _("Choose one of the categories: %(choices)s.")
            % {"choices": ", ".join(TicketCategory.values)}
        ]
    if priority not in TicketPriority.values:
        errors["priority"] = [_("Choose low, normal, high or urgent.")]
    if channel not in TicketChannel.values:
        errors["channel"] = [
            _("Choose how the customer reached us: %(choices)s.")
            % {"choices": ", ".join(TicketChannel.values)}
        ]
    return errors


def _subcategory_checked(
    actor: Actor, category: str, subcategory: TicketSubcategory | None
) -> TicketSubcategory | None:
    if subcategory is None:
        return None
    found = TicketSubcategory.objects.filter(
        pk=subcategory.pk, organization=actor.organization
    ).first()
    if found is None or not found.is_active:
        message = _("Choose one of the subcategories in use in your organization.")
        raise ValidationFailed(message, details={"subcategory": [message]})
    if found.category != category:
        message = _("The subcategory “%(name)s” belongs to the category %(category)s.") % {
            "name": found.name,
            "category": found.get_category_display(),
        }
        raise ValidationFailed(message, details={"subcategory": [message]})
    return found


def _conversation_checked(
    actor: Actor, customer: Customer, conversation: Conversation | None
) -> Conversation | None:
    if conversation is None:
        return None
    found = Conversation.objects.filter(pk=conversation.pk, organization=actor.organization).first()
    if found is None:
        raise NotFound(_("This conversation does not exist or is not yours."))
    if found.customer_id not in (None, customer.pk):
        message = _("This conversation is with another customer; open the ticket from theirs.")
        raise ValidationFailed(message, details={"conversation": [message]})
    return found


def ticket_create(
    *,
    actor: Actor,
    customer: Customer,
    category: str,
    subject: str,
    subscription: Subscription | None = None,
    subcategory: TicketSubcategory | None = None,
    description: str = "",
    customer_words: str = "",
    priority: str = TicketPriority.NORMAL,
    channel: str = TicketChannel.CALL,
    conversation: Conversation | None = None,
    answers: dict[str, Any] | None = None,
    take: bool = True,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket for ``customer`` with the organization's next number.

    ``take``: the acting agent works it (with their team); otherwise it starts
    unassigned. Checks, in order: permission ("customer.edit"); the customer, the
    service (it must be the customer's) and the conversation are ones the actor may see
    (NotFound otherwise); then the fields (ValidationFailed, nothing written).
    Writes the first status-history row, the audit log and the customer's timeline,
    starts the SLA clocks of the matching policy (tickets.services.sla) and links the
    ticket to an outage in force on the customer's service (then ``visit_needed`` is
    False, ``visit_skip_reason`` "outage").
    """
    actor.require(WORK_PERMISSION)
    customer = _customer_checked(actor, customer)
    subscription = _subscription_checked(actor, customer, subscription)
    conversation = _conversation_checked(actor, customer, conversation)
    errors = _choice_errors(category, priority, channel)
    if errors:
        raise ValidationFailed(
            _("The ticket was not saved: fix the marked fields."), details=errors
        )
    subcategory = _subcategory_checked(actor, category, subcategory)
    subject = " ".join(
        text_clean(
            subject,
            field="subject",
            label=str(LABELS["subject"]),
            max_length=SUBJECT_MAX,
            required=True,
        ).split()
    )
    description = text_clean(
        description,
        field="description",
        label=str(LABELS["description"]),
        max_length=DESCRIPTION_MAX,
    )
    customer_words = text_clean(
        customer_words,
        field="customer_words",
        label=str(LABELS["customer_words"]),
        max_length=CUSTOMER_WORDS_MAX,
    )
    clean_answers = answers_clean(answers or {}, {})
    assigned_user = actor.user if take else None
    assigned_team = None
    if assigned_user is not None:
        membership = Membership.objects.filter(
            user=assigned_user, organization=actor.organization
        ).first()
        assigned_team = membership.team if membership else None
    at = moment(now)
    # A known outage explains the problem: link it, and no technician needs to go.
    outage = ticket_outage_for(customer=customer, subscription=subscription, at=at)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            organization=actor.organization,
            number=ticket_number_next(organization_id=actor.organization.pk),
            customer=customer,
            subscription=subscription,
            category=category,
            subcategory=subcategory,
            subject=subject,
            description=description,
            customer_words=customer_words,
            priority=priority,
            status=TicketStatus.NEW,
            status_changed_at=at,
            assigned_user=assigned_user,
            assigned_team=assigned_team,
            answers=clean_answers,
            channel=channel,
            conversation=conversation,
            created_by=actor.user,
            outage=outage,
            visit_needed=outage is None,
            visit_skip_reason=SKIP_VISIT_OUTAGE if outage is not None else "",
        )
        TicketStatusChange.objects.create(
            ticket=ticket,
            from_status="",
            to_status=TicketStatus.NEW,
            actor=actor.user,
            actor_label=actor.display,
            at=at,
        )
        audit_record(
            actor=actor,
            action=AuditLog.Action.CREATE,
            object_type="tickets.ticket",
            object_id=ticket.pk,
            changes={
                "number": ticket.display_number,
                "customer": customer.pk,
                "category": category,
                "priority": priority,
            },
        )
        ticket_timeline(
            actor=actor,
            ticket=ticket,
            message=gettext_noop("Ticket %(number)s opened (%(category_label)s): %(subject)s"),
            params={"category_label": TicketCategory(category).label, "subject": subject},
            at=at,
        )
        sla_clocks_start(ticket=ticket, at=at)
    return ticket


EDITABLE_FIELDS = (
    "subject",
    "description",
    "customer_words",
    "priority",
    "category",
    "subcategory",
    "subscription",
)


def ticket_update(
    *, actor: Actor, ticket: Ticket, now: datetime | None = None, **fields: Any
) -> Ticket:
    """Correct what the ticket is about: subject, description, the customer's words,
    priority, category and subcategory, the service. Omitted fields stay as they are;
    ``subcategory`` and ``subscription`` take an object or None. A closed ticket is final.
    Changes of priority and category are written to the audit log; a change of category,
    subcategory or priority matches the SLA policy again
    (tickets.services.sla.sla_on_ticket_change) at ``now`` (default: the current time)."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)},
            details={name: [_("This field does not exist.")] for name in unknown},
        )
    with transaction.atomic():
        locked = ticket_locked(actor=actor, ticket=ticket)
        check_not_closed(locked, field="subject")
        category = fields.get("category", locked.category)
        priority = fields.get("priority", locked.priority)
        errors = _choice_errors(category, priority, locked.channel)
        if errors:
            raise ValidationFailed(
                _("The ticket was not saved: fix the marked fields."), details=errors
            )
        values: dict[str, Any] = {"category": category, "priority": priority}
        if "subcategory" in fields or category != locked.category:
            subcategory = fields.get(
                "subcategory", locked.subcategory if category == locked.category else None
            )
            values["subcategory"] = _subcategory_checked(actor, category, subcategory)
        if "subscription" in fields:
            values["subscription"] = _subscription_checked(
                actor, locked.customer, fields["subscription"]
            )
        if "subject" in fields:
            values["subject"] = " ".join(
                text_clean(
                    fields["subject"],
                    field="subject",
                    label=str(LABELS["subject"]),
                    max_length=SUBJECT_MAX,
                    required=True,
                ).split()
            )
        for name, limit in (
            ("description", DESCRIPTION_MAX),
            ("customer_words", CUSTOMER_WORDS_MAX),
        ):
            if name in fields:
                values[name] = text_clean(
                    fields[name], field=name, label=str(LABELS[name]), max_length=limit
                )
        changed = {name: value for name, value in values.items() if getattr(locked, name) != value}
        if not changed:
            return locked
        audited = {
            name: [getattr(locked, name), changed[name]]
            for name in ("priority", "category")
            if name in changed
        }
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*changed, "updated_at"])
        if audited:
            audit_record(
                actor=actor,
                action=AuditLog.Action.UPDATE,
                object_type="tickets.ticket",
                object_id=locked.pk,
                changes=audited,
            )
        if {"category", "subcategory", "priority"} & set(changed):
            sla_on_ticket_change(actor=actor, ticket=locked, at=moment(now))
    return locked
