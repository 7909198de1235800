"""Base models every domain row builds on."""

from __future__ import annotations

from datetime import time

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OrganizationOwnedModel(TimestampedModel):
    """A domain row: it belongs to exactly one organization.

    Scoping by organization happens in selectors and services (see core.tenancy);
    never rely on a view alone to filter these rows.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """Written by the ``telcodesk.core.ping`` task: proof that a worker ran it."""

    token = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.token} {self.seen_at:%Y-%m-%d %H:%M:%S}"


# --- business calendars (the time math is in core.business_time) -------------------------


class BusinessCalendar(OrganizationOwnedModel):
    """When an organization works: weekly hours, public holidays and closed days.

    ``country``/``subdivision`` name the ``holidays`` package's public holidays (empty
    country: none). An organization has at most one default calendar, the one SLA
    clocks use unless told otherwise (``core.calendar_selectors.organization_calendar``).
    A calendar a pack no longer lists is made inactive, never deleted.
    """

    name = models.CharField(_("name"), max_length=80)
    time_zone = models.CharField(_("time zone"), max_length=64)
    country = models.CharField(_("holidays country"), max_length=2, blank=True)
    subdivision = models.CharField(_("holidays subdivision"), max_length=40, blank=True)
    is_default = models.BooleanField(_("default calendar"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    pack_name = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="business_calendar_unique_name"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(is_default=True),
                name="business_calendar_one_default",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BusinessHours(TimestampedModel):
    """One opening range of a calendar on a weekday; ``end`` 00:00 means 24:00."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "weekday", "start"], name="business_hours_unique_start"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="business_hours_weekday_range"
            ),
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")) | models.Q(end=time(0)),
                name="business_hours_end_after_start",
            ),
        ]
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0) else f"{self.end:%H:%M}"
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{end}"


class ClosedDay(TimestampedModel):
    """A local date a calendar is closed besides the public holidays (e.g. Carnival)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closed_days"
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="closed_day_unique_date")
        ]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()
