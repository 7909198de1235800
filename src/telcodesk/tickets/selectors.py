"""Reads of tickets, always scoped to the actor's organization.

A ticket belongs to the organization that works it. A reseller sees its tickets only
while the customer is still assigned to it. Anything else is "not found", never
"forbidden": we do not confirm that another organization's ticket exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Membership, Team
from telcodesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.models import ContactPoint, Customer
from telcodesk.customers.selectors import customer_get
from telcodesk.messaging.models import Channel, Conversation, Template
from telcodesk.messaging.sending import session_window_open
from telcodesk.tickets.models import (
    NUMBER_PREFIX,
    OPEN_STATUSES,
    PRIORITY_RANK,
    SlaClock,
    SlaClockState,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketCharge,
    TicketPriority,
    TicketSlaEvent,
    TicketStatus,
    TicketSubcategory,
)
from telcodesk.tickets.permissions import ASSIGN_PERMISSION, VIEW_PERMISSION

QUEUE_PAGE = 50


def tickets_visible(*, actor: Actor) -> QuerySet[Ticket]:
    """Every ticket the actor's organization may see."""
    actor.require(VIEW_PERMISSION)
    tickets = Ticket.objects.filter(organization=actor.organization)
    if actor.is_reseller:
        tickets = tickets.filter(customer__assignments__reseller=actor.organization)
    return tickets


def ticket_get(*, actor: Actor, ticket_id: int) -> Ticket:
    ticket = (
        tickets_visible(actor=actor)
        .select_related(
            "customer",
            "customer__organization",
            "subscription",
            "subcategory",
            "assigned_user",
            "assigned_team",
            "organization",
            "conversation",
            "created_by",
            "outage__olt",
            "outage__pon_port__olt",
            "sla_policy",
        )
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound(_("No such ticket. It may belong to another organization."))
    return ticket


def ticket_number_parse(text: str) -> int | None:
    """ "T-000123", "t123", "#123" or "123" → 123; None when it is not a ticket number."""
    raw = text.strip().upper().removeprefix(NUMBER_PREFIX).removeprefix("T").lstrip("#")
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


# --- queues ----------------------------------------------------------------------------------


class Scope:
    MINE = "mine"
    TEAM = "team"
    UNASSIGNED = "unassigned"
    ALL = "all"

    CHOICES = (MINE, TEAM, UNASSIGNED, ALL)


def is_supervisor(actor: Actor) -> bool:
    return actor.can(ASSIGN_PERMISSION)


def scopes_for(actor: Actor) -> list[str]:
    """The queues the actor may open, in the order shown."""
    if actor.user is None:  # an API key: nobody is "me"
        return [Scope.UNASSIGNED, Scope.ALL]
    scopes = [Scope.MINE, Scope.TEAM, Scope.UNASSIGNED]
    return [*scopes, Scope.ALL] if is_supervisor(actor) else scopes


def default_scope(actor: Actor) -> str:
    return Scope.MINE if actor.user is not None else Scope.ALL


@dataclass(frozen=True)
class TicketFilters:
    scope: str = ""  # "" = the actor's default
    # "" = the open statuses; "any" = every status; else one status.
    status: str = ""
    category: str = ""
    priority: str = ""
    customer_id: int | None = None
    query: str = ""  # a ticket number or words of the subject
    # "" = any; "breaching_soon": a running clock past its warning point, not yet due
    # and no clock breached; "breached": a clock breached (or due and not yet marked).
    sla: str = ""


class SlaFilter:
    BREACHING_SOON = "breaching_soon"
    BREACHED = "breached"

    CHOICES = (BREACHING_SOON, BREACHED)


def _team_id(actor: Actor) -> int | None:
    if actor.user is None:
        return None
    return (
        Membership.objects.filter(user=actor.user, organization=actor.organization)
        .values_list("team_id", flat=True)
        .first()
    )


def _scoped(actor: Actor, tickets: QuerySet[Ticket], scope: str) -> QuerySet[Ticket]:
    if scope not in scopes_for(actor):
        if scope == Scope.ALL:
            raise PermissionDenied(
                _("Only supervisors see every ticket. Choose “Mine”, “My team” or “Unassigned”.")
            )
        raise NotFound(_("Unknown queue. Choose one of the queues shown."))
    if scope == Scope.MINE:
        return tickets.filter(assigned_user=actor.user)
    if scope == Scope.UNASSIGNED:
        return tickets.filter(assigned_user__isnull=True)
    if scope == Scope.TEAM:
        team_id = _team_id(actor)
        return tickets.filter(assigned_team_id=team_id) if team_id else tickets.none()
    return tickets


def _filter_errors(filters: TicketFilters) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if filters.status not in ("", "any", *TicketStatus.values):
        errors["status"] = [_("Choose one of the listed statuses.")]
    if filters.category and filters.category not in TicketCategory.values:
        errors["category"] = [_("Choose one of the listed categories.")]
    if filters.priority and filters.priority not in TicketPriority.values:
        errors["priority"] = [_("Choose low, normal, high or urgent.")]
    if filters.sla and filters.sla not in SlaFilter.CHOICES:
        errors["sla"] = [_("Choose breaching_soon or breached.")]
    return errors


def sla_filtered(tickets: QuerySet[Ticket], sla: str, now: datetime) -> QuerySet[Ticket]:
    """The SLA queues, on the ticket's own indexed columns (kept by services.sla)."""
    if sla == SlaFilter.BREACHING_SOON:
        return tickets.filter(
            sla_warn_at__lte=now, sla_due_at__gt=now, sla_breached_at__isnull=True
        )
    if sla == SlaFilter.BREACHED:
        return tickets.filter(Q(sla_breached_at__isnull=False) | Q(sla_due_at__lte=now))
    return tickets


def tickets_queue(
    *, actor: Actor, filters: TicketFilters, now: datetime | None = None
) -> QuerySet[Ticket]:
    """A queue (mine, my team, unassigned, all) with its filters: most urgent first, then
    the oldest; the SLA queues (``filters.sla``) the nearest due first. Unknown filter
    values are refused (ValidationFailed)."""
    errors = _filter_errors(filters)
    if errors:
        raise ValidationFailed(_("Fix the marked filters."), details=errors)
    tickets = _scoped(actor, tickets_visible(actor=actor), filters.scope or default_scope(actor))
    if filters.status == "":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif filters.status != "any":
        tickets = tickets.filter(status=filters.status)
    if filters.category:
        tickets = tickets.filter(category=filters.category)
    if filters.priority:
        tickets = tickets.filter(priority=filters.priority)
    if filters.customer_id is not None:
        tickets = tickets.filter(customer_id=filters.customer_id)
    query = filters.query.strip()[:100]
    if query:
        number = ticket_number_parse(query)
        matches = Q(subject__icontains=query)
        if number is not None:
            matches |= Q(number=number)
        tickets = tickets.filter(matches)
    tickets = tickets.select_related("customer", "assigned_user", "assigned_team", "subcategory")
    if filters.sla:
        return sla_filtered(tickets, filters.sla, now or timezone.now()).order_by(
            F("sla_due_at").asc(nulls_last=True), PRIORITY_RANK, "id"
        )
    return tickets.order_by(PRIORITY_RANK, "id")


def customer_tickets(*, actor: Actor, customer_id: int, limit: int = 20) -> list[Ticket]:
    """The customer's tickets worked by the actor's organization: open ones first, then
    the newest (the customer page's panel). NotFound for a customer the actor may not see."""
    customer = customer_get(actor=actor, customer_id=customer_id)
    open_first = Case(
        When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return list(
        tickets_visible(actor=actor)
        .filter(customer=customer)
        .select_related("assigned_user", "subcategory")
        .order_by(open_first, "-id")[:limit]
    )


# --- the ticket page ---------------------------------------------------------------------------


def ticket_comments(*, ticket: Ticket) -> QuerySet[Any]:
    return ticket.comments.select_related("author", "message").order_by("id")


def ticket_history(*, ticket: Ticket) -> QuerySet[Any]:
    return ticket.status_history.select_related("actor").order_by("at", "id")


def ticket_charges(*, ticket: Ticket) -> QuerySet[TicketCharge]:
    return ticket.charges.select_related("proposed_by", "decided_by").order_by("id")


@dataclass(frozen=True)
class ClockView:
    """A clock as the ticket page and the API show it: ``remaining`` is business time
    left now (negative past due; frozen while paused, None once met or breached)."""

    clock: SlaClock
    remaining: timedelta | None

    @property
    def metric_label(self) -> str:
        return str(self.clock.get_metric_display())

    @property
    def state_label(self) -> str:
        return str(self.clock.get_state_display())


def ticket_sla_clocks(*, ticket: Ticket, now: datetime | None = None) -> list[ClockView]:
    """The ticket's SLA clocks (first response, then resolution) with the time left."""
    from telcodesk.tickets.sla_clock import clock_remaining, clock_sla_spec

    at = now or timezone.now()
    views = []
    for clock in SlaClock.objects.filter(ticket=ticket).select_related("calendar", "policy"):
        clock.ticket = ticket
        remaining: timedelta | None = None
        if clock.state == SlaClockState.RUNNING:
            remaining = clock_remaining(clock, clock_sla_spec(clock), at)
        elif clock.state == SlaClockState.PAUSED:
            remaining = clock.budget - clock.consumed
        views.append(ClockView(clock=clock, remaining=remaining))
    return views


def ticket_sla_events(*, ticket: Ticket) -> QuerySet[TicketSlaEvent]:
    return ticket.sla_events.select_related("clock", "user", "team").order_by("id")


def sla_events_for_user(*, actor: Actor, limit: int = 20) -> list[TicketSlaEvent]:
    """The latest SLA warnings and escalations addressed to the actor (the queue's list)."""
    if actor.user is None:
        return []
    return list(
        TicketSlaEvent.objects.filter(
            user=actor.user,
            ticket__in=tickets_visible(actor=actor).filter(status__in=OPEN_STATUSES),
        )
        .select_related("ticket", "clock")
        .order_by("-at", "-id")[:limit]
    )


def sla_policies_list(*, actor: Actor) -> list[SlaPolicy]:
    """The organization's active SLA policies, in the pack's order (read-only: packs
    manage them)."""
    actor.require(VIEW_PERMISSION)
    return list(
        SlaPolicy.objects.filter(organization=actor.organization, is_active=True)
        .select_related("subcategory", "calendar")
        .order_by("position", "id")
    )


def ticket_diagnostic_runs(*, ticket: Ticket, limit: int = 50) -> list[Any]:
    """The diagnostics run for this ticket, newest first."""
    return list(ticket.diagnostic_runs.select_related("subscription").order_by("-id")[:limit])


def ticket_outage_banner(*, ticket: Ticket) -> list[Any]:
    """The outages to show on the ticket page: the linked one (open or closed), then any
    other in force now on the ticket's service or, without one, the customer's."""
    from telcodesk.network.selectors import outages_affecting

    shown: list[Any] = []
    if ticket.outage_id is not None and ticket.outage is not None:
        shown.append(ticket.outage)
    if ticket.subscription is not None:
        subscriptions = [ticket.subscription]
    else:
        subscriptions = list(ticket.customer.subscriptions.all())
    for subscription in subscriptions:
        for outage in outages_affecting(subscription):
            if all(o.pk != outage.pk for o in shown):
                shown.append(outage)
    return shown


def ticket_attachments(*, ticket: Ticket) -> QuerySet[TicketAttachment]:
    return ticket.attachments.select_related("uploaded_by").order_by("id")


def attachment_get(*, actor: Actor, ticket_id: int, attachment_id: int) -> TicketAttachment:
    """One attachment of a ticket the actor may see (NotFound otherwise)."""
    ticket = ticket_get(actor=actor, ticket_id=ticket_id)
    attachment = TicketAttachment.objects.filter(pk=attachment_id, ticket=ticket).first()
    if attachment is None:
        raise NotFound(_("No such file on this ticket."))
    return attachment


def subcategories_for(*, actor: Actor, category: str = "") -> list[TicketSubcategory]:
    """The organization's subcategories in use (of one category when given)."""
    rows = TicketSubcategory.objects.filter(organization=actor.organization, is_active=True)
    if category:
        rows = rows.filter(category=category)
    return list(rows.order_by("category", "position", "id"))


def agents_of(*, actor: Actor) -> list[tuple[int, str]]:
    """(user id, name) of the organization's people, by name."""
    members = (
        Membership.objects.filter(organization=actor.organization)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    return [
        (m.user.pk, m.user.get_full_name() or m.user.get_username())
        for m in members
        if m.user.is_active
    ]


def teams_of(*, actor: Actor) -> list[Team]:
    return list(Team.objects.filter(organization=actor.organization).order_by("name"))


def reply_template_get(*, actor: Actor, template_id: int) -> Template:
    """An approved WhatsApp template of the organization (NotFound otherwise)."""
    template = Template.objects.filter(pk=template_id, organization=actor.organization).first()
    if template is None:
        raise NotFound(_("No such template. Choose one of the templates listed."))
    return template


# --- where a public reply goes -------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyRoute:
    """How a public reply reaches the customer: a WhatsApp conversation, or e-mail to an
    address (with its e-mail conversation when there is one)."""

    kind: str  # "whatsapp" | "email" | "sms"
    address: str
    conversation: Conversation | None  # None: e-mail to an address, or a first SMS
    window_open: bool  # WhatsApp: the 24-hour window; e-mail and SMS: always True

    @property
    def needs_template(self) -> bool:
        return self.kind == "whatsapp" and not self.window_open


ROUTED_KINDS = (Channel.Kind.WHATSAPP_CLOUD, Channel.Kind.EMAIL, Channel.Kind.SMS)


def _route_of(conversation: Conversation) -> ReplyRoute:
    if conversation.channel.kind == Channel.Kind.EMAIL:
        return ReplyRoute("email", conversation.external_address, conversation, True)
    if conversation.channel.kind == Channel.Kind.SMS:
        address = conversation.phone_e164 or "+" + conversation.external_address.lstrip("+")
        return ReplyRoute("sms", address, conversation, True)
    return ReplyRoute(
        "whatsapp",
        conversation.phone_e164 or conversation.external_address,
        conversation,
        session_window_open(conversation=conversation),
    )


def _email_address_of(customer: Customer) -> str:
    return (
        ContactPoint.objects.filter(customer=customer, kind=ContactPoint.Kind.EMAIL)
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
        or ""
    )


def reply_route(*, ticket: Ticket) -> ReplyRoute | None:
    """Where a public reply of ``ticket`` goes, or None when the customer cannot be reached.

    In order: the ticket's own conversation; the customer's preferred channel (their
    latest conversation on it, or for e-mail their address, for SMS their mobile);
    their latest WhatsApp conversation; their latest e-mail conversation or their
    e-mail address through the organization's e-mail channel; their SMS conversation or
    their mobile through the organization's SMS channel. Only active channels of the
    ticket's organization count.
    """
    from telcodesk.messaging.email import email_channel_for

    usable = Conversation.objects.filter(
        organization_id=ticket.organization_id,
        channel__is_active=True,
        channel__kind__in=ROUTED_KINDS,
    ).select_related("channel")
    if ticket.conversation_id is not None:
        own = usable.filter(pk=ticket.conversation_id).first()
        if own is not None:
            return _route_of(own)
    conversations = list(
        usable.filter(customer_id=ticket.customer_id).order_by(
            F("last_inbound_at").desc(nulls_last=True), "-id"
        )
    )
    whatsapp = next(
        (c for c in conversations if c.channel.kind == Channel.Kind.WHATSAPP_CLOUD), None
    )
    email = next((c for c in conversations if c.channel.kind == Channel.Kind.EMAIL), None)
    sms = next((c for c in conversations if c.channel.kind == Channel.Kind.SMS), None)
    address = ""
    if email is None and email_channel_for(organization=ticket.organization) is not None:
        address = _email_address_of(ticket.customer)
    email_route = (
        _route_of(email)
        if email is not None
        else (ReplyRoute("email", address, None, True) if address else None)
    )
    sms_route = _route_of(sms) if sms is not None else _sms_route_new(ticket)
    preferred = ticket.customer.preferred_channel
    if preferred == "email" and email_route is not None:
        return email_route
    if preferred == "sms" and sms_route is not None:
        return sms_route
    if whatsapp is not None:
        return _route_of(whatsapp)
    return email_route or sms_route


def _sms_route_new(ticket: Ticket) -> ReplyRoute | None:
    """A first SMS to the customer's mobile, when the organization has an SMS channel."""
    from telcodesk.messaging.sms import customer_sms_phone, sms_channel_for

    if sms_channel_for(organization=ticket.organization) is None:
        return None
    phone = customer_sms_phone(customer=ticket.customer)
    return ReplyRoute("sms", phone, None, True) if phone else None
