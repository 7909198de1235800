"""Technical visits: the zones technicians cover, the technicians with their daily
capacity, the organization's visit policy (slot length, the SLA window, the calendar),
the visits themselves and their history.

Every write goes through ``visits.services``; every read that is more than a ``get``
through ``visits.selectors``. A visit belongs to the organization that works its ticket.

Concurrency: two agents may try to give the last free slot of a technician's day at the
same moment. Every booking locks the technician's ``TechnicianDay`` row (SELECT ... FOR
UPDATE) before counting that day's visits, so the bookings of one technician and day are
serialized; the partial unique constraint on (technician, starts_at) of active visits is
the last guard.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel, TimestampedModel

DEFAULT_SLOT_MINUTES = 120
DEFAULT_WINDOW_MIN_HOURS = 24
DEFAULT_WINDOW_MAX_HOURS = 48


class VisitPolicy(TimestampedModel):
    """How an organization books visits (one row per organization, from its pack).

    Without a row the defaults apply: 2-hour slots, 24 to 48 business hours, the
    organization's default business calendar.
    """

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    slot_minutes = models.PositiveSmallIntegerField(default=DEFAULT_SLOT_MINUTES)
    window_min_hours = models.PositiveSmallIntegerField(default=DEFAULT_WINDOW_MIN_HOURS)
    window_max_hours = models.PositiveSmallIntegerField(default=DEFAULT_WINDOW_MAX_HOURS)
    # None: the organization's default calendar.
    calendar = models.ForeignKey(
        "core.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whether the agent must confirm that an adult (18 or older) receives the technician.
    adult_required = models.BooleanField(default=True)
    # WhatsApp template names by event ("booked", "rescheduled", "cancelled"), used when
    # the customer's 24-hour window is closed.
    templates = models.JSONField(default=dict, blank=True)
    pack_name = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.slot_minutes} min"


class Zone(OrganizationOwnedModel):
    """An area technicians cover, matched against customers' installation addresses.

    An address is in the zone when its postal code is one of ``postal_codes``, or its
    neighbourhood (or zone) is one of ``neighbourhoods`` (and, when ``cities`` is not
    empty, its city one of them), or, for a zone that lists only cities, its city is
    one of ``cities``. Comparison ignores case and accents (see visits.rules).
    """

    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=80)
    neighbourhoods = models.JSONField(default=list, blank=True)
    postal_codes = models.JSONField(default=list, blank=True)
    cities = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="visit_zone_unique_key")
        ]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Technician(OrganizationOwnedModel):
    name = models.CharField(max_length=120)
    # Optional: a technician who also signs in to the console.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phone = models.CharField(max_length=20, blank=True, help_text=_("E.164"))
    zones = models.ManyToManyField(Zone, related_name="technicians", blank=True)
    daily_capacity = models.PositiveSmallIntegerField(help_text=_("visits per day"))
    is_active = models.BooleanField(default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="visit_technician_unique_name"
            )
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class TechnicianDay(models.Model):
    """The lock row of one technician's local day: bookings lock it before counting.

    It holds no count of its own (the visits are the truth); it exists so that
    ``SELECT ... FOR UPDATE`` has a row to wait on even for the day's first booking.
    """

    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["technician", "date"], name="technician_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.technician_id} {self.date}"


class VisitStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    # Booked, and moved at least once (the moves are in the history).
    RESCHEDULED = "rescheduled", _("Rescheduled")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("Nobody at home")


# A visit that still takes a technician's slot.
ACTIVE_STATUSES: tuple[str, ...] = (VisitStatus.BOOKED, VisitStatus.RESCHEDULED)


class PartOfDay(models.TextChoices):
    ANY = "any", _("Any time")
    MORNING = "morning", _("Mornings")
    AFTERNOON = "afternoon", _("Afternoons")


class Visit(OrganizationOwnedModel):
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="visits")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="visits"
    )
    subscription = models.ForeignKey(
        "customers.Subscription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    # The address as it was when the visit was booked (the technician's work order).
    address = models.ForeignKey(
        "customers.Address", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address_text = models.CharField(max_length=500)
    address_reference = models.TextField(blank=True)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="visits")
    technician = models.ForeignKey(Technician, on_delete=models.PROTECT, related_name="visits")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # The technician's local day of ``starts_at`` (the capacity is per day).
    local_date = models.DateField()
    status = models.CharField(
        max_length=12, choices=VisitStatus.choices, default=VisitStatus.BOOKED
    )
    part_of_day = models.CharField(
        max_length=12, choices=PartOfDay.choices, default=PartOfDay.ANY, blank=True
    )
    availability_note = models.CharField(max_length=500, blank=True)
    adult_present = models.BooleanField(default=False)
    extra_cost_note = models.CharField(max_length=500, blank=True)
    charge = models.ForeignKey(
        "tickets.TicketCharge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_by_label = models.CharField(max_length=200, blank=True)
    outcome_note = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["technician", "starts_at"],
                condition=Q(status__in=["booked", "rescheduled"]),
                name="visit_technician_slot_taken_once",
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=["booked", "rescheduled"]),
                name="visit_one_active_per_ticket",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="visit_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "local_date"], name="visit_org_day"),
            models.Index(fields=["technician", "local_date"], name="visit_technician_day"),
            models.Index(fields=["ticket", "-id"], name="visit_ticket"),
        ]
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"visit #{self.pk} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class VisitEventKind(models.TextChoices):
    BOOKED = "booked", _("Booked")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("Nobody at home")


class VisitEvent(models.Model):
    """One line of a visit's history: booked, moved (from/to), cancelled, done; why."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=VisitEventKind.choices)
    from_starts_at = models.DateTimeField(null=True, blank=True)
    to_starts_at = models.DateTimeField(null=True, blank=True)
    from_technician = models.ForeignKey(
        Technician, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_technician = models.ForeignKey(
        Technician, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"
