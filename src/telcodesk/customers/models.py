"""Customers and everything an agent needs to know about them.

Every row carries its organization (the operator that owns the customer). A reseller
sees a customer only through a CustomerAssignment; see customers.selectors.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from telcodesk.core.models import OrganizationOwnedModel, TimestampedModel


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    CALL = "call", _("Phone call")


class Customer(OrganizationOwnedModel):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Segment(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        SMALL_BUSINESS = "small_business", _("Small business")
        CORPORATE = "corporate", _("Corporate")
        GOVERNMENT = "government", _("Government")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSON)
    first_name = models.CharField(_("first names"), max_length=120, blank=True)
    last_name = models.CharField(_("last names"), max_length=120, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.RESIDENTIAL)
    preferred_language = models.CharField(max_length=8, blank=True)
    preferred_channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    consent_whatsapp = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    consent_calls = models.BooleanField(default=True)
    consent_updated_at = models.DateTimeField(null=True, blank=True)
    external_ref = models.CharField(_("billing system id"), max_length=64, blank=True)
    notes = models.TextField(blank=True)
    # Lower-case, accent-free "first last company": what name search matches against.
    search_name = models.CharField(max_length=400, editable=False, db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "search_name"], name="customer_org_name"),
            models.Index(fields=["organization", "birth_date"], name="customer_org_birth"),
            models.Index(fields=["organization", "created_at"], name="customer_org_created"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.COMPANY and self.company_name:
            return self.company_name
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.company_name


class CustomerAssignment(TimestampedModel):
    """A customer of an operator handed to a reseller (e.g. COMTECO's portfolio to Bluecom)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    reseller = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="assigned_customers"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "reseller"], name="assignment_unique")
        ]
        indexes = [models.Index(fields=["reseller", "customer"], name="assignment_reseller")]


class IdentityDocument(OrganizationOwnedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="documents")
    # Kind codes are defined in customers.documents (e.g. "ar_dni", "br_cnpj", "bo_ci").
    kind = models.CharField(max_length=16)
    number = models.CharField(max_length=32, help_text=_("normalized (compact) form"))
    issued_in = models.CharField(max_length=8, blank=True, help_text=_("issuing department"))
    complement = models.CharField(max_length=4, blank=True)
    is_primary = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "number", "complement"], name="document_unique"
            )
        ]
        indexes = [models.Index(fields=["number"], name="document_number")]


class ContactPoint(OrganizationOwnedModel):
    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")

    class Label(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        HOME = "home", _("Home")
        WORK = "work", _("Work")
        REFERENCE = "reference", _("Reference")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text=_("E.164 phone or lower-case e-mail"))
    label = models.CharField(max_length=16, choices=Label.choices, default=Label.MOBILE)
    is_whatsapp = models.BooleanField(default=False)
    is_primary = models.BooleanField(default=False)
    verified_on = models.DateField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="contact_unique")
        ]
        indexes = [models.Index(fields=["value"], name="contact_value")]


class Address(OrganizationOwnedModel):
    class Purpose(models.TextChoices):
        INSTALLATION = "installation", _("Installation")
        BILLING = "billing", _("Billing")
        HOME = "home", _("Home")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.HOME)
    country = models.CharField(max_length=2)
    street = models.CharField(max_length=160, blank=True)
    number = models.CharField(max_length=16, blank=True)
    between_street_a = models.CharField(max_length=120, blank=True)
    between_street_b = models.CharField(max_length=120, blank=True)
    corner_street = models.CharField(max_length=120, blank=True)
    building_type = models.CharField(max_length=16, blank=True)  # building / condominium
    building_name = models.CharField(max_length=120, blank=True)
    block = models.CharField(max_length=16, blank=True)
    floor = models.CharField(max_length=8, blank=True)
    apartment = models.CharField(max_length=16, blank=True)
    zone = models.CharField(max_length=120, blank=True, help_text=_("zone or neighbourhood"))
    neighbourhood = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=120, blank=True)
    state = models.CharField(max_length=120, blank=True, help_text=_("department / state"))
    postal_code = models.CharField(max_length=16, blank=True)
    reference = models.TextField(blank=True, help_text=_("observations, directions"))
    is_rural = models.BooleanField(default=False)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    one_line = models.CharField(max_length=500, blank=True, editable=False)


class Plan(OrganizationOwnedModel):
    """A commercial plan from the operator's catalogue (loaded from its pack)."""

    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=160)
    service_type = models.CharField(max_length=24)
    technology = models.CharField(max_length=16, blank=True)
    download_mbps = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    upload_mbps = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    monthly_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    components = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="plan_unique_code")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceType(models.TextChoices):
    FIBER_FTTH = "fiber_ftth", _("Fiber FTTH/GPON")
    ADSL = "adsl", _("ADSL")
    VDSL = "vdsl", _("VDSL")
    HFC_TV = "hfc_tv", _("HFC cable TV")
    DTH_TV = "dth_tv", _("DTH satellite TV")
    FIXED_LINE = "fixed_line", _("Fixed line")
    MOBILE_POSTPAID = "mobile_postpaid", _("Mobile postpaid")
    MOBILE_PREPAID = "mobile_prepaid", _("Mobile prepaid")
    HSPA_WIRELESS = "hspa_wireless", _("HSPA+ wireless")
    FIXED_WIRELESS = "fixed_wireless", _("Fixed-wireless internet")
    BUNDLE = "bundle", _("Bundle")


class Technology(models.TextChoices):
    COPPER = "copper", _("Copper")
    FIBER = "fiber", _("Fiber")
    COAX = "coax", _("Coaxial")
    WIRELESS = "wireless", _("Wireless")
    SATELLITE = "satellite", _("Satellite")
    MOBILE = "mobile", _("Mobile network")


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PARTIALLY_BLOCKED = "partially_blocked", _("Partially blocked")
    BLOCKED = "blocked", _("Blocked")
    DISCONNECTED = "disconnected", _("Disconnected")
    CANCELLED = "cancelled", _("Cancelled")


class Subscription(OrganizationOwnedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    contract_number = models.CharField(max_length=40)
    service_id = models.CharField(max_length=40, help_text=_("short id agents search by"))
    service_type = models.CharField(max_length=24, choices=ServiceType.choices)
    technology = models.CharField(max_length=16, choices=Technology.choices, blank=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL)
    plan_name = models.CharField(max_length=160, blank=True)
    speed_mbps = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    monthly_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    started_on = models.DateField()
    permanence_until = models.DateField(null=True, blank=True)
    installation_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cpe_ip = models.GenericIPAddressField(null=True, blank=True)
    olt_name = models.CharField(max_length=64, blank=True)
    pon_port = models.CharField(max_length=32, blank=True, help_text=_("frame/slot/port"))
    onu_index = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service_id"], name="subscription_unique_service_id"
            )
        ]
        indexes = [
            models.Index(fields=["service_id"], name="subscription_service_id"),
            models.Index(fields=["contract_number"], name="subscription_contract"),
            models.Index(fields=["organization", "started_on"], name="subscription_org_start"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.plan_name}"


class SubscriptionStatusChange(models.Model):
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="status_history"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    reason = models.CharField(max_length=240, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class Equipment(OrganizationOwnedModel):
    class Kind(models.TextChoices):
        ONT = "ont", _("ONT/ONU")
        MODEM = "modem", _("Modem")
        ROUTER = "router", _("Wi-Fi router")
        DECODER = "decoder", _("TV decoder")
        SIM = "sim", _("SIM card")
        ANTENNA = "antenna", _("Antenna/CPE radio")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="equipment"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    model = models.CharField(max_length=80, blank=True)
    serial = models.CharField(max_length=64)
    mac_address = models.CharField(max_length=17, blank=True)
    installed_on = models.DateField(null=True, blank=True)
    on_loan = models.BooleanField(default=True, help_text=_("comodato: lent, not sold"))

    class Meta:
        indexes = [models.Index(fields=["serial"], name="equipment_serial")]


class Invoice(OrganizationOwnedModel):
    """An invoice. Its state (open / paid / overdue) is derived, never typed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    number = models.CharField(max_length=40)
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    issued_on = models.DateField()
    due_on = models.DateField()
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    is_void = models.BooleanField(default=False)

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("invoice status", "Open")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        VOID = "void", _("Void")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="invoice_unique"),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(paid_amount__gte=0), name="invoice_non_negative"
            ),
        ]
        indexes = [models.Index(fields=["customer", "due_on"], name="invoice_customer_due")]
        ordering = ["-issued_on", "-id"]

    @property
    def outstanding(self) -> Decimal:
        if self.is_void:
            return Decimal("0")
        return max(self.amount - self.paid_amount, Decimal("0"))

    def status_on(self, today: date) -> str:
        if self.is_void:
            return self.Status.VOID
        if self.outstanding <= 0:
            return self.Status.PAID
        if self.due_on < today:
            return self.Status.OVERDUE
        return self.Status.OPEN

    def days_overdue_on(self, today: date) -> int:
        if self.status_on(today) != self.Status.OVERDUE:
            return 0
        return (today - self.due_on).days


class Payment(OrganizationOwnedModel):
    class Method(models.TextChoices):
        CARD = "card", _("Card")
        BANK = "bank", _("Bank transfer or deposit")
        LOTTERY_AGENT = "lottery_agent", _("Lottery / payment agent")
        DIRECT_DEBIT = "direct_debit", _("Direct debit")
        COLLECTION_AGENCY = "collection_agency", _("Collection agency")
        CASH = "cash", _("Cash at an office")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payments")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    paid_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
        ]


class TimelineEvent(models.Model):
    """One entry of a customer's activity timeline (interactions, changes, messages)."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        CHANGE = "change", _("Change")
        CONTACT_VERIFIED = "contact_verified", _("Contact verified")
        SUBSCRIPTION = "subscription", _("Service")
        PAYMENT = "payment", _("Payment")
        INVOICE = "invoice", _("Invoice")
        MESSAGE = "message", _("Message")
        CALL = "call", _("Call")
        TICKET = "ticket", _("Ticket")

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # The source-language message and its parameters; rendered in the reader's
    # language by render(). ``summary`` keeps the English rendering for exports.
    message = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["customer", "-at"], name="timeline_customer_at")]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.summary

    def render(self, *, translate: bool = True) -> str:
        """The entry's text, in the active language when ``translate``."""
        if not self.message:
            return self.summary
        params = dict(self.params)
        if translate:
            for key, value in params.items():
                if key.endswith("_label"):
                    params[key] = gettext(value)
        template = gettext(self.message) if translate else self.message
        try:
            return template % params
        except (KeyError, TypeError, ValueError):
            return self.message % params if not translate else self.summary

    @property
    def text(self) -> str:
        return self.render()


class CustomerNameKey(models.Model):
    """Typo-tolerant name index for SQLite (PostgreSQL uses pg_trgm on search_name).

    For every name token we store the token and its one-character deletions, so a
    query token within one edit of a stored token shares a key with it (the
    symmetric-deletion method). Maintained by customers.search.index_customer_names.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=40)
    token_len = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "key"], name="namekey_org_key")]

    def __str__(self) -> str:
        return self.key
