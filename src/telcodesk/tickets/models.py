"""Support tickets: the ticket, its number sequence, status history, comments (public
replies and internal notes), attachments, charges and the pack's subcategories.

Every write goes through ``tickets.services``; every read that is more than a ``get``
through ``tickets.selectors``. A ticket belongs to the organization that works it (an
operator, or a reseller working one of its assigned customers); its customer belongs to
the operator.

SLA: ``SlaPolicy`` rows come from the pack; a ticket gets one ``SlaClock`` per metric
(first response, resolution) of the policy that matched when it was opened, counted in
business time (tickets.services.sla). ``Ticket.sla_due_at`` / ``sla_warn_at`` /
``sla_breached_at`` copy the nearest moments of its clocks so the queues filter and
order on indexed columns of the ticket alone.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel, TimestampedModel

NUMBER_PREFIX = "T-"
NUMBER_DIGITS = 6


def ticket_number_display(number: int) -> str:
    """``123`` → ``"T-000123"``: what agents read out and customers are told."""
    return f"{NUMBER_PREFIX}{number:0{NUMBER_DIGITS}d}"


class TicketCategory(models.TextChoices):
    TECHNICAL = "technical", _("Technical")
    ADMINISTRATIVE = "administrative", _("Administrative")
    BILLING = "billing", _("Billing")
    COMMERCIAL = "commercial", _("Commercial")
    OTHER = "other", _("Other")


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# The queues' order: most urgent first. One expression, shared by the selectors and the
# partial indexes below: an index serves the sort only if the expression is identical.
PRIORITY_RANK = Case(
    When(priority=TicketPriority.URGENT, then=Value(0)),
    When(priority=TicketPriority.HIGH, then=Value(1)),
    When(priority=TicketPriority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    VISIT_SCHEDULED = "visit_scheduled", _("Visit scheduled")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Statuses a ticket is still being worked in (the queues' default).
OPEN_STATUSES: tuple[str, ...] = (
    TicketStatus.NEW,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_CUSTOMER,
    TicketStatus.VISIT_SCHEDULED,
)
OPEN_Q = Q(status__in=OPEN_STATUSES)


class TicketChannel(models.TextChoices):
    """How the customer reached us when the ticket was opened."""

    CALL = "call", _("Phone call")
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web")


class TicketCounter(models.Model):
    """The last ticket number given in an organization (one row per organization).

    ``tickets.numbering`` increments it with one conditional UPDATE inside the
    transaction that creates the ticket: the row lock serializes concurrent creations,
    so two tickets never get the same number, and a rolled-back creation gives its
    number back.
    """

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    last_number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.last_number}"


class TicketSubcategory(OrganizationOwnedModel):
    """A subcategory the organization's pack declares under one of the categories
    ("Sin servicio", "Lentitud" under technical). Never deleted while tickets point at
    it: a pack that drops it makes it inactive."""

    category = models.CharField(max_length=16, choices=TicketCategory.choices)
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], name="ticket_subcategory_unique_key"
            )
        ]
        ordering = ["category", "position", "id"]

    def __str__(self) -> str:
        return self.name


def _open_queue_index(name: str, *keys: str, sla: bool = False) -> models.Index:
    """A partial index on the open tickets: organization, ``keys``, then the queue's
    order (PRIORITY_RANK, id); the SLA queues also carry the warn and breach moments."""
    return models.Index(
        F("organization"),
        *(F(key) for key in keys),
        PRIORITY_RANK,
        F("id"),
        include=["sla_warn_at", "sla_breached_at"] if sla else None,
        condition=OPEN_Q,
        name=name,
    )


class Ticket(OrganizationOwnedModel):
    number = models.PositiveIntegerField(help_text=_("per organization; shown as T-000123"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="tickets"
    )
    subscription = models.ForeignKey(
        "customers.Subscription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    category = models.CharField(max_length=16, choices=TicketCategory.choices)
    subcategory = models.ForeignKey(
        TicketSubcategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The customer's own words, as they said them ("observaciones en palabras del cliente").
    customer_words = models.TextField(blank=True)
    priority = models.CharField(
        max_length=8, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW)
    status_changed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets_assigned",
    )
    assigned_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    # The playbook questions' answers by field name (tickets.answers.TICKET_ANSWER_FIELDS).
    answers = models.JSONField(default=dict, blank=True)
    channel = models.CharField(
        max_length=16, choices=TicketChannel.choices, default=TicketChannel.CALL
    )
    # The conversation the ticket came from; public replies go there first.
    conversation = models.ForeignKey(
        "messaging.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The SLA policy that matches the ticket: at opening, and again whenever its category,
    # subcategory or priority changes (tickets.services.sla.sla_on_ticket_change). None:
    # no policy applies.
    sla_policy = models.ForeignKey(
        "tickets.SlaPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    # Copies of the clocks (tickets.services.sla keeps them in step): the nearest due
    # moment and warning point of the running clocks, and the first breach. Null when
    # no clock runs / none breached.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    # The network outage the customer's problem is part of (linked at creation).
    outage = models.ForeignKey(
        "network.Outage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    # Whether a technician's visit may be needed; False with ``visit_skip_reason``
    # "outage" when a known outage explains the problem (the visits app reads these).
    visit_needed = models.BooleanField(default=True)
    visit_skip_reason = models.CharField(max_length=16, blank=True)
    # When the customer was told the linked outage is over (once per customer).
    outage_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ticket_unique_number"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-id"], name="ticket_org_status"),
            # The queues: mine / my team filter on the assignee and the status, and the
            # SLA queues range over sla_due_at / sla_warn_at within them.
            models.Index(
                fields=["organization", "assigned_user", "status", "sla_due_at"],
                name="ticket_org_user_due",
            ),
            models.Index(
                fields=["organization", "assigned_team", "status", "sla_due_at"],
                name="ticket_org_team_due",
            ),
            models.Index(fields=["organization", "status", "sla_due_at"], name="ticket_org_due"),
            models.Index(
                fields=["organization", "status", "sla_breached_at"], name="ticket_org_breached"
            ),
            models.Index(fields=["customer", "-id"], name="ticket_customer"),
            models.Index(fields=["outage", "customer"], name="ticket_outage"),
            # The default queues (open tickets, most urgent first) and the SLA queues
            # (nearest due first) as ordered index scans that stop at the page: partial
            # on the open statuses (about a tenth of the table). bench/ticket_queues.py
            # measured p95 44-633 ms without them and 11-29 ms with them at 1M tickets.
            _open_queue_index("ticket_open_user_rank", "assigned_user"),
            _open_queue_index("ticket_open_team_rank", "assigned_team"),
            _open_queue_index("ticket_open_rank"),
            _open_queue_index("ticket_open_user_due", "assigned_user", "sla_due_at", sla=True),
            _open_queue_index("ticket_open_team_due", "assigned_team", "sla_due_at", sla=True),
            _open_queue_index("ticket_open_due", "sla_due_at", sla=True),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.display_number} {self.subject}"

    @property
    def display_number(self) -> str:
        return ticket_number_display(self.number)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED


class TicketStatusChange(models.Model):
    """One step of a ticket's status history: who moved it, when, from where, to where."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=16, blank=True, choices=TicketStatus.choices)
    to_status = models.CharField(max_length=16, choices=TicketStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ticket", "at"], name="ticket_status_history")]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class SendStatus(models.TextChoices):
    """What happened to a public reply: handed to the outbox, or refused (kept unsent)."""

    SENT = "sent", _("Sent")
    REFUSED = "refused", _("Not sent")


class TicketComment(TimestampedModel):
    """A public reply (sent to the customer through messaging) or an internal note.

    A refused reply (the 24-hour window closed, an opt-out, no channel) is kept with
    ``send_status`` "refused" and the reason, so the agent sees it was not sent and can
    send it again; ``message`` is the outbox row of a reply that went out.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    is_public = models.BooleanField()
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    author_label = models.CharField(max_length=200, blank=True)
    send_status = models.CharField(max_length=8, choices=SendStatus.choices, blank=True)
    refusal_reason = models.CharField(max_length=40, blank=True)
    refusal_message = models.TextField(blank=True)
    # "whatsapp" or "email": the channel kind the reply went (or tried to go) by.
    sent_via = models.CharField(max_length=16, blank=True)
    message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "id"], name="ticket_comment")]
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_public=True) | Q(send_status=""), name="ticket_note_never_sent"
            ),
        ]

    def __str__(self) -> str:
        return f"{'reply' if self.is_public else 'note'} #{self.pk}"


def attachment_upload_to(instance: TicketAttachment, filename: str) -> str:
    """A name of our own under ``tickets/<organization>/<ticket>/``: nothing the uploader
    typed reaches the file system (the original name is kept in ``filename``)."""
    import uuid

    return f"tickets/{instance.ticket.organization_id}/{instance.ticket_id}/{uuid.uuid4().hex}"


class TicketAttachment(TimestampedModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=128)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class ChargeKind(models.TextChoices):
    INTERNAL_DAMAGE = "internal_damage", _("Internal damage")
    MANIPULATION = "manipulation", _("Manipulation")


class ChargeStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class TicketCharge(TimestampedModel):
    """An extra cost for the customer found while working the ticket (damage inside the
    home, equipment manipulated by the customer), proposed by the agent and approved or
    rejected by a supervisor."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="charges")
    kind = models.CharField(max_length=16, choices=ChargeKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    status = models.CharField(
        max_length=8, choices=ChargeStatus.choices, default=ChargeStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="charge_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


# --- SLA ---------------------------------------------------------------------------------------


class SlaMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class SlaClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    # The ticket changed and its policy has no target for this metric any more (or no
    # policy applies): the clock stopped counting; kept as the ticket's SLA history.
    CANCELLED = "cancelled", _("Not applicable")


class SlaPolicy(OrganizationOwnedModel):
    """Targets in business hours for the tickets of a category (optionally one
    subcategory) and a priority (or any), written from the pack
    (``tickets.sla_policies``, matched by ``key``). The most specific active policy that
    matches a new ticket is its policy (tickets.rules.sla_policy_match)."""

    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=80)
    category = models.CharField(max_length=16, choices=TicketCategory.choices)
    subcategory = models.ForeignKey(
        TicketSubcategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_policies",
    )
    priority = models.CharField(
        max_length=8, choices=TicketPriority.choices, blank=True, help_text=_("empty: any")
    )
    first_response_hours = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    resolution_hours = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    # Warn when this share of the budget is used (80 = at 80 %), or this many minutes
    # before the due moment; neither: no warning.
    warn_before_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    warn_before_minutes = models.PositiveIntegerField(null=True, blank=True)
    # A team of the organization by name (case does not matter); empty: the supervisors.
    escalate_to_team = models.CharField(max_length=120, blank=True)
    # None: the organization's default calendar.
    calendar = models.ForeignKey(
        "core.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sla_policies",
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="sla_policy_unique_key"),
            models.CheckConstraint(
                condition=Q(warn_before_percent__isnull=True) | Q(warn_before_percent__lte=100),
                name="sla_policy_warn_percent",
            ),
        ]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SlaClock(OrganizationOwnedModel):
    """One SLA metric of one ticket, counted in business time.

    ``budget`` is the policy's target; ``consumed`` the business time used before the
    current run (it grows at each pause); while running, the clock has used
    ``consumed`` + business time since ``running_since``. ``generation`` changes at each
    resume (at a restart on reopen, and when a policy change re-targets it) so the new
    run gets timers of its own (their dedupe keys name it) and a timer of an older run
    is recognised and ignored.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    metric = models.CharField(max_length=16, choices=SlaMetric.choices)
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    calendar = models.ForeignKey(
        "core.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("empty: round the clock"),
    )
    budget = models.DurationField()
    # The business time used before the warning is due (budget × percent, or budget −
    # minutes); None: no warning.
    warn_after = models.DurationField(null=True, blank=True)
    state = models.CharField(
        max_length=12, choices=SlaClockState.choices, default=SlaClockState.RUNNING
    )
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    consumed = models.DurationField(default=timedelta(0))
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="sla_clock_unique_metric"),
        ]
        ordering = ["ticket_id", "metric"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"


class SlaEventKind(models.TextChoices):
    WARNED = "warned", _("Breaching soon")
    BREACHED = "breached", _("Breached")
    ESCALATED = "escalated", _("Escalated")
    # The ticket's category, subcategory or priority changed and another policy applies:
    # the clock counts on with that policy's target (or was started by it) ...
    RETARGETED = "retargeted", _("Policy changed")
    # ... or the new policy has no target for the clock's metric (or no policy applies).
    CANCELLED = "cancelled", _("No longer applies")


class TicketSlaEvent(TimestampedModel):
    """What an SLA clock did: a warning to the assignee, a breach, the escalation to a
    team or to a supervisor. ``user`` is the person told (the assignee, a supervisor);
    the ticket page and the agent's queue show them."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_events")
    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=SlaEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_sla_events",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    generation = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "id"], name="ticket_sla_event"),
            models.Index(fields=["user", "at"], name="ticket_sla_event_user"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.ticket_id}"
