"""Console forms: which diagnostics to run, and an outage to declare."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from telcodesk.accounts.models import Organization
from telcodesk.network.models import DiagnosticKind, Olt, OutageScope, PonPort


class DiagnosticsForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Checks"),
        choices=DiagnosticKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one diagnostic to run.")},
    )


class OutageForm(forms.Form):
    scope = forms.ChoiceField(label=_("Affects"), choices=OutageScope.choices)
    olt = forms.ModelChoiceField(label=_("OLT"), queryset=Olt.objects.none(), required=False)
    pon_port = forms.ModelChoiceField(
        label=_("PON port"), queryset=PonPort.objects.none(), required=False
    )
    zone = forms.CharField(label=_("Zone"), max_length=120, required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    description = forms.CharField(
        label=_("What failed"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    estimated_end_at = forms.DateTimeField(
        label=_("Estimated end"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("in your time zone"),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        olt_field = self.fields["olt"]
        port_field = self.fields["pon_port"]
        assert isinstance(olt_field, forms.ModelChoiceField)
        assert isinstance(port_field, forms.ModelChoiceField)
        olt_field.queryset = Olt.objects.filter(organization=organization)
        port_field.queryset = PonPort.objects.filter(organization=organization).select_related(
            "olt"
        )
