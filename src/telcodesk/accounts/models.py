from __future__ import annotations

import hashlib
import secrets
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from telcodesk.accounts.roles import Role
from telcodesk.core.models import OrganizationOwnedModel, TimestampedModel


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(tz)s is not a known time zone."), params={"tz": value})


class Organization(TimestampedModel):
    class Kind(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        RESELLER = "reseller", _("Reseller")

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OPERATOR)
    country = models.CharField(max_length=2, help_text=_("ISO 3166-1 alpha-2"))
    currency = models.CharField(max_length=3, help_text=_("ISO 4217"))
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    languages = models.JSONField(default=list, blank=True)
    default_language = models.CharField(max_length=8, default="es")
    brand_name = models.CharField(max_length=200, blank=True)
    brand_color = models.CharField(max_length=7, default="#1f6feb")
    brand_logo_text = models.CharField(max_length=4, blank=True)
    # A reseller works for one or more operators.
    operators = models.ManyToManyField(
        "self", symmetrical=False, related_name="resellers", blank=True
    )
    pack_name = models.CharField(max_length=64, blank=True)
    pack_version = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_reseller(self) -> bool:
        return self.kind == self.Kind.RESELLER

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name


class Team(OrganizationOwnedModel):
    name = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=[("es", "Español"), ("pt-br", "Português (Brasil)"), ("en", "English")],
    )
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    active_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class Membership(TimestampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class ApiKey(OrganizationOwnedModel):
    """An API key: only a SHA-256 of the secret is stored; the prefix finds the row."""

    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    PREFIX_LEN = 8

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def generate_secret() -> str:
        # The prefix (first 8 characters after "tdk_") is hex, so it never starts with "-"
        # and is safe to type on a command line.
        return "tdk_" + secrets.token_hex(4) + secrets.token_urlsafe(32)


class AuditLog(models.Model):
    """Who viewed or changed personal data, and what changed. Append-only."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        EXPORT = "export", _("Exported")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "object_type", "object_id", "at"])]
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class LoginAttempt(models.Model):
    """Failed logins, kept in the database so throttling holds across processes."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
