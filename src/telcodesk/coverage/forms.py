"""The console's "check an address" form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from telcodesk.coverage.services import point_parse


class CoverageCheckForm(forms.Form):
    address = forms.CharField(
        label=_("Address"),
        max_length=500,
        required=False,
        help_text=_("Street and number, then the barrio or city: Av. Rivadavia 5200, Caballito"),
    )
    city = forms.CharField(label=_("City or barrio"), max_length=120, required=False)
    point = forms.CharField(
        label=_("Point"),
        max_length=64,
        required=False,
        help_text=_("latitude, longitude: -34.61, -58.43"),
    )

    def clean_point(self) -> tuple[float, float] | None:
        raw = self.cleaned_data.get("point", "").strip()
        if not raw:
            return None
        try:
            return point_parse(raw)
        except ValueError:
            raise forms.ValidationError(
                _("Write the point as latitude, longitude, e.g. -34.61, -58.43.")
            ) from None
