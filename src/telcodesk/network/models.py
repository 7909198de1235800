"""The access network as the support desk sees it, the diagnostics run on it, and outages.

Devices belong to the operator that runs them (``organization``): an OLT with its PON
ports, the ONUs (ONTs) registered on those ports and linked to a subscription, and the
customer's CPE with the IP the ping diagnostic targets. SNMP credentials are stored as
given, like the channels' tokens in messaging; in production inject them from a secret
store (see docs/network.md).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel


class Vendor(models.TextChoices):
    HUAWEI = "huawei", _("Huawei (MA5600/MA5800)")
    ZTE = "zte", _("ZTE (C300/C320)")


class SnmpVersion(models.TextChoices):
    V2C = "2c", _("SNMP v2c (community)")
    V3 = "3", _("SNMP v3 (user)")


class SnmpAuthProtocol(models.TextChoices):
    NONE = "none", _("No authentication")
    MD5 = "md5", "HMAC-MD5-96"
    SHA = "sha", "HMAC-SHA-96"
    SHA256 = "sha256", "HMAC-SHA-256"
    SHA512 = "sha512", "HMAC-SHA-512"


class SnmpPrivProtocol(models.TextChoices):
    NONE = "none", _("No encryption")
    DES = "des", "DES"
    AES128 = "aes128", "AES-128"
    AES256 = "aes256", "AES-256"


class Olt(OrganizationOwnedModel):
    """An optical line terminal the diagnostics read over SNMP."""

    name = models.CharField(_("name"), max_length=64)
    vendor = models.CharField(_("vendor"), max_length=16, choices=Vendor.choices)
    model = models.CharField(_("model"), max_length=64, blank=True)
    management_address = models.CharField(
        _("management address"), max_length=255, help_text=_("IP address or host name")
    )
    snmp_port = models.PositiveIntegerField(_("SNMP port"), default=161)
    snmp_version = models.CharField(
        _("SNMP version"), max_length=2, choices=SnmpVersion.choices, default=SnmpVersion.V2C
    )
    snmp_community = models.CharField(_("SNMP community"), max_length=128, blank=True)
    snmp_v3_user = models.CharField(_("SNMP v3 user"), max_length=64, blank=True)
    snmp_v3_auth_protocol = models.CharField(
        _("SNMP v3 authentication"),
        max_length=8,
        choices=SnmpAuthProtocol.choices,
        default=SnmpAuthProtocol.NONE,
    )
    snmp_v3_auth_key = models.CharField(_("SNMP v3 authentication key"), max_length=128, blank=True)
    snmp_v3_priv_protocol = models.CharField(
        _("SNMP v3 privacy"),
        max_length=8,
        choices=SnmpPrivProtocol.choices,
        default=SnmpPrivProtocol.NONE,
    )
    snmp_v3_priv_key = models.CharField(_("SNMP v3 privacy key"), max_length=128, blank=True)
    snmp_v3_context = models.CharField(
        _("SNMP v3 context name"), max_length=64, blank=True, help_text=_("usually empty")
    )
    timeout_seconds = models.DecimalField(
        _("SNMP timeout (seconds)"), max_digits=4, decimal_places=1, default=2
    )
    retries = models.PositiveSmallIntegerField(_("SNMP retries"), default=1)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="olt_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from telcodesk.network.credentials import snmp_credential_problems

        problems = snmp_credential_problems(
            version=self.snmp_version,
            community=self.snmp_community,
            user=self.snmp_v3_user,
            auth_protocol=self.snmp_v3_auth_protocol,
            auth_key=self.snmp_v3_auth_key,
            priv_protocol=self.snmp_v3_priv_protocol,
            priv_key=self.snmp_v3_priv_key,
        )
        if problems:
            raise ValidationError({field: [str(message)] for field, message in problems.items()})


class PonPort(OrganizationOwnedModel):
    """A GPON port of an OLT: frame/slot/port as the CLI shows it, ifIndex as SNMP does."""

    olt = models.ForeignKey(Olt, on_delete=models.CASCADE, related_name="pon_ports")
    frame = models.PositiveSmallIntegerField(_("frame (shelf)"), default=0)
    slot = models.PositiveSmallIntegerField(_("slot"))
    port = models.PositiveSmallIntegerField(_("port"))
    if_index = models.PositiveBigIntegerField(
        _("ifIndex"), help_text=_("the interface index the OLT uses for this port in SNMP")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["olt", "frame", "slot", "port"], name="ponport_unique_position"
            ),
            models.UniqueConstraint(fields=["olt", "if_index"], name="ponport_unique_ifindex"),
        ]
        ordering = ["olt", "frame", "slot", "port"]

    def __str__(self) -> str:
        return f"{self.olt.name} {self.label}"

    @property
    def label(self) -> str:
        return f"{self.frame}/{self.slot}/{self.port}"


class Onu(OrganizationOwnedModel):
    """An ONU/ONT registered on a PON port, serving one subscription."""

    olt = models.ForeignKey(Olt, on_delete=models.CASCADE, related_name="onus")
    pon_port = models.ForeignKey(PonPort, on_delete=models.CASCADE, related_name="onus")
    onu_id = models.PositiveIntegerField(_("ONU/ONT id"), help_text=_("its number on the port"))
    serial = models.CharField(_("serial number"), max_length=32, blank=True)
    subscription = models.ForeignKey(
        "customers.Subscription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="onus",
    )
    traffic_if_index = models.PositiveBigIntegerField(
        _("traffic ifIndex"),
        null=True,
        blank=True,
        help_text=_(
            "the OLT interface whose IF-MIB counters carry this customer's traffic "
            "(the traffic diagnostic reads it)"
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pon_port", "onu_id"], name="onu_unique_position")
        ]
        indexes = [models.Index(fields=["serial"], name="onu_serial")]
        ordering = ["olt", "pon_port", "onu_id"]

    def __str__(self) -> str:
        return f"{self.pon_port} ONU {self.onu_id}"


class Cpe(OrganizationOwnedModel):
    """The customer's router/CPE: the address the ping diagnostic sends ICMP to."""

    subscription = models.ForeignKey(
        "customers.Subscription", on_delete=models.CASCADE, related_name="cpes"
    )
    ip_address = models.GenericIPAddressField(_("IP address"))
    model = models.CharField(_("model"), max_length=64, blank=True)

    class Meta:
        ordering = ["subscription", "id"]

    def __str__(self) -> str:
        return str(self.ip_address)


class DiagnosticKind(models.TextChoices):
    PING = "ping", _("Ping to the customer's equipment")
    ONU_STATUS = "onu_status", _("ONU status")
    OPTICAL_POWER = "optical_power", _("Optical power")
    TRAFFIC = "traffic", _("Traffic against the plan")


class DiagnosticStatus(models.TextChoices):
    OK = "ok", _("Done")
    UNREACHABLE = "unreachable", _("Device did not answer")
    ERROR = "error", _("Error")
    TIMEOUT = "timeout", _("Timed out")


class DiagnosticRun(OrganizationOwnedModel):
    """One diagnostic of one subscription, as it ran: raw readings, verdict, next step.

    ``verdict`` and ``recommendation`` are stable keys (see network.verdicts); their
    translated texts are rendered for the reader. A failure is a row too: ``status``
    says how it failed and ``error`` keeps the device's or the socket's message.
    """

    subscription = models.ForeignKey(
        "customers.Subscription", on_delete=models.CASCADE, related_name="diagnostic_runs"
    )
    # The ticket the checks were run for (the call's ticket), if any.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="diagnostic_runs",
    )
    kind = models.CharField(max_length=16, choices=DiagnosticKind.choices)
    status = models.CharField(max_length=12, choices=DiagnosticStatus.choices)
    verdict = models.CharField(max_length=24, blank=True)
    recommendation = models.CharField(max_length=40, blank=True)
    target = models.CharField(max_length=200, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=120, blank=True)
    # The runs of one request share it: "this round of checks".
    batch = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["subscription", "-id"], name="diagrun_subscription"),
            models.Index(fields=["organization", "-started_at"], name="diagrun_org"),
            models.Index(fields=["ticket", "-id"], name="diagrun_ticket"),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.verdict}"

    @property
    def duration_ms(self) -> int:
        return int((self.finished_at - self.started_at).total_seconds() * 1000)

    @property
    def verdict_label(self) -> str:
        from telcodesk.network.verdicts import verdict_label

        return verdict_label(self.verdict)

    @property
    def recommendation_text(self) -> str:
        from telcodesk.network.verdicts import recommendation_text

        return recommendation_text(self.recommendation)


class OutageScope(models.TextChoices):
    OLT = "olt", _("A whole OLT")
    PON_PORT = "pon_port", _("A PON port")
    ZONE = "zone", _("A zone")


class Outage(OrganizationOwnedModel):
    """A known network failure: customers it covers get a banner instead of a visit."""

    scope = models.CharField(max_length=12, choices=OutageScope.choices)
    olt = models.ForeignKey(
        Olt, null=True, blank=True, on_delete=models.PROTECT, related_name="outages"
    )
    pon_port = models.ForeignKey(
        PonPort, null=True, blank=True, on_delete=models.PROTECT, related_name="outages"
    )
    zone = models.CharField(
        _("zone"), max_length=120, blank=True, help_text=_("as written in installation addresses")
    )
    city = models.CharField(
        _("city"), max_length=120, blank=True, help_text=_("narrows a zone outage to one city")
    )
    description = models.TextField(_("description"))
    starts_at = models.DateTimeField(_("starts at"))
    estimated_end_at = models.DateTimeField(_("estimated end"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="olt", olt__isnull=False)
                    | Q(scope="pon_port", pon_port__isnull=False)
                    | (Q(scope="zone") & ~Q(zone=""))
                ),
                name="outage_scope_target",
            ),
        ]
        indexes = [models.Index(fields=["organization", "ended_at"], name="outage_org_open")]
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.scope_label}"

    @property
    def scope_label(self) -> str:
        if self.scope == OutageScope.OLT and self.olt is not None:
            return self.olt.name
        if self.scope == OutageScope.PON_PORT and self.pon_port is not None:
            return str(self.pon_port)
        return f"{self.zone}, {self.city}" if self.city else self.zone

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
