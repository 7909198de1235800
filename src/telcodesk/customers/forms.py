"""Console forms: the shape of the input only (types, lengths, choices).

The rules (is this a real phone of the country, is this CI valid, does the customer
already have it) live in customers.services and its parsers. A view calls the
service with ``cleaned_data`` and hands any ValidationFailed back to the form with
``add_service_errors`` so it is shown next to the field it concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from telcodesk.core.errors import ValidationFailed
from telcodesk.customers.models import Address, Channel, ContactPoint, Customer

LANGUAGE_CHOICES = [
    ("", _("Not set")),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("en", "English"),
]


class ServiceForm(forms.Form):
    """A form whose input goes to a service; maps the service's error details onto fields.

    ``field_aliases`` maps the names a service uses in ``details`` to this form's fields;
    a detail for a name the form does not have goes to ``fallback_field`` (or the top).
    """

    field_aliases: ClassVar[dict[str, str]] = {}
    fallback_field: ClassVar[str | None] = None

    def add_service_errors(self, error: ValidationFailed) -> None:
        """Show the service's field messages inline and its message as the summary."""
        placed: list[str] = []
        for name, messages in (error.details or {}).items():
            target = self.field_aliases.get(name, name)
            if target not in self.fields:
                target = self.fallback_field or ""
            for message in _as_list(messages):
                self.add_error(target or None, str(message))
                placed.append(str(message))
        if error.message not in placed:
            self.add_error(None if placed else self.fallback_field, error.message)


def _as_list(messages: Any) -> Iterable[Any]:
    if isinstance(messages, (list, tuple)):
        return messages
    return [messages]


class CustomerProfileForm(ServiceForm):
    kind = forms.ChoiceField(label=_("Type"), choices=Customer.Kind.choices)
    first_name = forms.CharField(label=_("First names"), max_length=120, required=False)
    last_name = forms.CharField(label=_("Last names"), max_length=120, required=False)
    company_name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Write the date as YYYY-MM-DD.")},
    )
    segment = forms.ChoiceField(label=_("Segment"), choices=Customer.Segment.choices)
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=LANGUAGE_CHOICES, required=False
    )
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"),
        choices=[("", _("Not set")), *Channel.choices],
        required=False,
    )
    consent_whatsapp = forms.BooleanField(label=_("Accepts WhatsApp"), required=False)
    consent_sms = forms.BooleanField(label=_("Accepts SMS"), required=False)
    consent_email = forms.BooleanField(label=_("Accepts e-mail"), required=False)
    consent_calls = forms.BooleanField(label=_("Accepts calls"), required=False)
    external_ref = forms.CharField(label=_("Billing system ID"), max_length=64, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    CONSENTS = ("consent_whatsapp", "consent_sms", "consent_email", "consent_calls")

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, Any]:
        return {name: getattr(customer, name) for name in cls.base_fields}


class PhoneForm(ServiceForm):
    raw = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "+591 7…"}
        ),
        help_text=_("With or without the country code; spaces and dashes are fine."),
    )
    label = forms.ChoiceField(
        label=_("Label"), choices=ContactPoint.Label.choices, initial=ContactPoint.Label.MOBILE
    )
    is_whatsapp = forms.BooleanField(label=_("Has WhatsApp"), required=False)
    is_primary = forms.BooleanField(label=_("Main phone"), required=False)

    field_aliases = {"phone": "raw", "number": "raw", "value": "raw", "e164": "raw"}
    fallback_field = "raw"


class EmailForm(ServiceForm):
    raw = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"inputmode": "email", "autocomplete": "off", "placeholder": "name@example.com"}
        ),
    )
    label = forms.ChoiceField(
        label=_("Label"), choices=ContactPoint.Label.choices, initial=ContactPoint.Label.HOME
    )
    is_primary = forms.BooleanField(label=_("Main e-mail"), required=False)

    field_aliases = {"email": "raw", "value": "raw"}
    fallback_field = "raw"


class DocumentForm(ServiceForm):
    kind = forms.ChoiceField(label=_("Document type"))
    number = forms.CharField(label=_("Number"), max_length=40)
    issued_in = forms.CharField(
        label=_("Issued in"),
        max_length=8,
        required=False,
        help_text=_("Department code, when the document has one (e.g. LP, CB, SC)."),
    )
    complement = forms.CharField(label=_("Complement"), max_length=4, required=False)
    is_primary = forms.BooleanField(label=_("Main document"), required=False, initial=True)

    field_aliases = {"document": "number", "value": "number", "raw": "number"}
    fallback_field = "number"

    def __init__(
        self, *args: Any, kinds: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds or []  # type: ignore[attr-defined]


class AddressForm(ServiceForm):
    purpose = forms.ChoiceField(
        label=_("Use"), choices=Address.Purpose.choices, initial=Address.Purpose.INSTALLATION
    )
    street = forms.CharField(label=_("Street or avenue"), max_length=160, required=False)
    number = forms.CharField(label=_("Number"), max_length=16, required=False)
    between_street_a = forms.CharField(label=_("Between street"), max_length=120, required=False)
    between_street_b = forms.CharField(label=_("And street"), max_length=120, required=False)
    building_name = forms.CharField(label=_("Building"), max_length=120, required=False)
    floor = forms.CharField(label=_("Floor"), max_length=8, required=False)
    apartment = forms.CharField(label=_("Apartment"), max_length=16, required=False)
    zone = forms.CharField(label=_("Zone"), max_length=120, required=False)
    neighbourhood = forms.CharField(label=_("Neighbourhood"), max_length=120, required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    state = forms.CharField(label=_("Department / state"), max_length=120, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=16, required=False)
    reference = forms.CharField(
        label=_("Directions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What a technician needs to find the place."),
    )
    is_rural = forms.BooleanField(label=_("Rural area"), required=False)

    fallback_field = None

    def service_fields(self) -> dict[str, Any]:
        """cleaned_data without empty optional parts (the service fills its defaults)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in ("", None) or name == "purpose"
        }
