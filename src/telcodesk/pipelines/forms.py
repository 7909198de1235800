"""Console forms for leads: the board's filters, the data tabs, move and loss.

Forms only check the shape of the input; every rule lives in pipelines.services, whose
refusals (ValidationFailed with ``details``) are put back on the form's fields.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from telcodesk.core.errors import ValidationFailed
from telcodesk.pipelines.models import LeadSource, LossReason, Pipeline, Stage
from telcodesk.pipelines.selectors import LeadFilters

AGE_CHOICES = [
    ("", _("Any age")),
    ("today", _("Created in the last 24 hours")),
    ("week", _("Created in the last 7 days")),
    ("month", _("Created in the last 30 days")),
    ("older", _("Older than 30 days")),
]


class LeadServiceForm(forms.Form):
    """A form whose input goes to a lead service; puts its refusals on the fields."""

    field_aliases: ClassVar[dict[str, str]] = {}

    def add_service_errors(self, error: ValidationFailed) -> None:
        placed: list[str] = []
        for name, messages in (error.details or {}).items():
            target = self.field_aliases.get(name, name)
            field = target if target in self.fields else None
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                self.add_error(field, str(message))
                placed.append(str(message))
        if error.message not in placed:
            self.add_error(None, error.message)


class LeadFilterForm(forms.Form):
    """The board's and the list's filters, read from the query string."""

    owner = forms.TypedChoiceField(label=_("Agent"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(
        label=_("Source"),
        required=False,
        choices=[("", _("Any source")), *LeadSource.choices],
    )
    age = forms.ChoiceField(label=_("Age"), required=False, choices=AGE_CHOICES)
    undefined = forms.BooleanField(
        label=_("Only leads lost with the undefined reason"), required=False
    )

    def __init__(
        self,
        data: Any,
        *,
        owners: list[tuple[int, str]],
        teams: list[tuple[int, str]],
    ) -> None:
        super().__init__(data)
        self.fields["owner"].choices = [("", _("Any agent")), *owners]  # type: ignore[attr-defined]
        self.fields["team"].choices = [("", _("Any team")), *teams]  # type: ignore[attr-defined]

    def lead_filters(self, now: datetime) -> LeadFilters:
        """The selector's filters; an invalid value is ignored (the board still shows)."""
        data: dict[str, Any] = self.cleaned_data if self.is_valid() else {}
        after: datetime | None = None
        before: datetime | None = None
        age = data.get("age") or ""
        if age == "today":
            after = now - timedelta(days=1)
        elif age == "week":
            after = now - timedelta(days=7)
        elif age == "month":
            after = now - timedelta(days=30)
        elif age == "older":
            before = now - timedelta(days=30)
        return LeadFilters(
            owner_id=data.get("owner"),
            team_id=data.get("team"),
            source=data.get("source") or None,
            created_after=after,
            created_before=before,
            undefined_reason=bool(data.get("undefined")),
        )


class LeadNewForm(LeadServiceForm):
    """A lead typed in by an agent (source "manual"); lead_create checks the rest."""

    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(
        label=_("Phone"), max_length=32, help_text=_("As the customer gives it; e.g. 11 2345-6789")
    )
    document = forms.CharField(label=_("Document number"), required=False, max_length=32)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)


class LeadMoveForm(LeadServiceForm):
    """Any stage id is accepted here: lead_move says why a stage is refused."""

    stage = forms.IntegerField(label=_("Move to…"), widget=forms.Select)
    reason = forms.CharField(label=_("Why"), required=False, max_length=500)

    def __init__(self, data: Any = None, *, stages: list[Stage], prefix: str | None = None) -> None:
        super().__init__(data, prefix=prefix)
        self.fields["stage"].widget.choices = [  # type: ignore[attr-defined]
            ("", _("Choose a stage")),
            *[(stage.pk, stage.name) for stage in stages],
        ]
        self.fields["stage"].error_messages["required"] = _("Choose the stage to move the lead to.")


class LeadLoseForm(LeadServiceForm):
    """The reason is optional here so that its absence reaches lead_lose, which says why."""

    field_aliases: ClassVar[dict[str, str]] = {"reason": "reason_id"}

    reason_id = forms.TypedChoiceField(
        label=_("Why was it lost?"), required=False, coerce=int, empty_value=None
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data: Any = None, *, reasons: list[LossReason]) -> None:
        super().__init__(data)
        self.reasons = {reason.pk: reason for reason in reasons}
        self.fields["reason_id"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose a reason")),
            *[(reason.pk, reason.name) for reason in reasons],
        ]

    def reason(self) -> LossReason | None:
        reason_id = self.cleaned_data.get("reason_id")
        return self.reasons.get(reason_id) if reason_id is not None else None


class LeadDataForm(LeadServiceForm):
    """The pipeline's data tabs as fields; values are sent as typed to lead_update_data.

    Every field is optional here: lead_update_data refuses clearing a required one, and
    leaving a field untouched sends its current value back, which changes nothing.
    """

    def __init__(self, data: Any = None, *, pipeline: Pipeline, initial: dict[str, Any]) -> None:
        super().__init__(data, initial=initial)
        self.tabs: list[tuple[str, list[str]]] = []
        for tab in pipeline.tabs:
            keys: list[str] = []
            for spec in tab.get("fields", []):
                key = spec["key"]
                self.fields[key] = self._field_for(spec)
                keys.append(key)
            self.tabs.append((str(tab.get("name", "")), keys))

    @staticmethod
    def _field_for(spec: dict[str, Any]) -> forms.Field:
        label = spec.get("label", spec["key"])
        kind = spec.get("type")
        if kind == "bool":
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))],
            )
        if kind == "choice":
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "—")]
                + [(choice["value"], choice["label"]) for choice in spec.get("choices") or []],
            )
        if kind == "date":
            return forms.CharField(
                label=label,
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        if kind == "number":
            return forms.CharField(
                label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
            )
        return forms.CharField(label=label, required=False, max_length=500)

    @staticmethod
    def initial_for(data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: ("true" if value else "false") if isinstance(value, bool) else value
            for key, value in data.items()
        }

    def changes(self) -> dict[str, Any]:
        """Raw values of the fields the agent changed (strings; the service types them)."""
        changed: dict[str, Any] = {}
        for key in self.fields:
            value = self.data.get(self.add_prefix(key), "")
            current = self.initial.get(key)
            if str(value).strip() != ("" if current is None else str(current)):
                changed[key] = value
        return changed
