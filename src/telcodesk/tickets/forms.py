"""Console forms for tickets: the queue's filters, a new ticket, and the ticket page's
actions. Forms only check the shape of the input; every rule lives in tickets.services,
whose refusals (ValidationFailed with ``details``) are put back on the form's fields."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from telcodesk.core.errors import ValidationFailed
from telcodesk.customers.models import Subscription
from telcodesk.tickets.answers import TICKET_ANSWER_FIELDS, TicketAnswerField
from telcodesk.tickets.models import (
    ChargeKind,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    TicketSubcategory,
)
from telcodesk.tickets.services.attachments import max_attachment_bytes


class TicketServiceForm(forms.Form):
    """A form whose input goes to a ticket service; puts its refusals on the fields."""

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


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open")), ("any", _("Any status")), *TicketStatus.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("Any category")), *TicketCategory.choices],
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any priority")), *TicketPriority.choices],
    )
    sla = forms.ChoiceField(
        label=_("SLA"),
        required=False,
        choices=[
            ("", _("Any SLA")),
            ("breaching_soon", _("Breaching soon")),
            ("breached", _("Breached")),
        ],
    )
    q = forms.CharField(label=_("Number or subject"), required=False, max_length=100, strip=True)

    def values(self) -> dict[str, str]:
        """The valid filters (an invalid value is ignored: the queue still shows)."""
        data: dict[str, Any] = self.cleaned_data if self.is_valid() else {}
        return {
            name: str(data.get(name) or "")
            for name in ("status", "category", "priority", "sla", "q")
        }


def _subscription_label(subscription: Subscription) -> str:
    plan = subscription.plan_name or subscription.get_service_type_display()
    return f"{subscription.service_id} · {plan}"


class TicketNewForm(TicketServiceForm):
    field_aliases: ClassVar[dict[str, str]] = {"subscription_id": "subscription"}

    subscription = forms.TypedChoiceField(
        label=_("Service"), required=False, coerce=int, empty_value=None
    )
    category = forms.ChoiceField(label=_("Category"), choices=TicketCategory.choices)
    subcategory = forms.TypedChoiceField(
        label=_("Subcategory"), required=False, coerce=int, empty_value=None
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    customer_words = forms.CharField(
        label=_("The customer's own words"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Write down what the customer says, as they say it."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL
    )
    channel = forms.ChoiceField(
        label=_("The customer reached us by"),
        choices=TicketChannel.choices,
        initial=TicketChannel.CALL,
    )
    take = forms.BooleanField(label=_("I work this ticket"), required=False, initial=True)

    def __init__(
        self,
        data: Any = None,
        *,
        subscriptions: list[Subscription],
        subcategories: list[TicketSubcategory],
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.fields["subscription"].choices = [  # type: ignore[attr-defined]
            ("", _("No particular service")),
            *[
                (s.pk, f"{s.service_id} · {s.plan_name or s.get_service_type_display()}")
                for s in subscriptions
            ],
        ]
        if len(subscriptions) == 1 and not self.is_bound:  # the customer's only service
            self.fields["subscription"].initial = subscriptions[0].pk
        labels = dict(TicketCategory.choices)
        self.fields["subcategory"].choices = [  # type: ignore[attr-defined]
            ("", _("None")),
            *[(s.pk, f"{labels[s.category]} · {s.name}") for s in subcategories],
        ]


class StatusForm(TicketServiceForm):
    status = forms.ChoiceField(label=_("New status"), choices=TicketStatus.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when reopening: say why."),
    )


class ReplyForm(TicketServiceForm):
    body = forms.CharField(
        label=_("Reply to the customer"),
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    template = forms.TypedChoiceField(
        label=_("WhatsApp template"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, data: Any = None, *, templates: list[tuple[int, str]], **kwargs: Any):
        super().__init__(data, **kwargs)
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            ("", _("No template: send the text")),
            *templates,
        ]


class NoteForm(TicketServiceForm):
    body = forms.CharField(
        label=_("Internal note"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only your organization sees it; it is never sent to the customer."),
    )


def _answer_field(field: TicketAnswerField) -> forms.Field:
    label = field.label
    if field.type == "choice":
        return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *field.choices])
    if field.type == "yes_no":
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
        )
    if field.type == "number":
        return forms.DecimalField(label=label, required=False)
    if field.type == "date":
        return forms.DateField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    long_text = field.key in {"observations_customer_words", "diagnosis_summary"}
    return forms.CharField(
        label=label,
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}) if long_text else forms.TextInput(),
    )


class AnswersForm(TicketServiceForm):
    """One field per registered answer field; an empty field clears the answer."""

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        for key, field in TICKET_ANSWER_FIELDS.items():
            self.fields[key] = _answer_field(field)

    @staticmethod
    def initial_for(answers: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for key, value in answers.items():
            field = TICKET_ANSWER_FIELDS.get(key)
            if field is not None and field.type == "yes_no":
                initial[key] = "yes" if value else "no"
            else:
                initial[key] = value
        return initial

    def answers(self) -> dict[str, Any]:
        """The answers to store: every field of the form (empty ones clear)."""
        values: dict[str, Any] = {}
        for key in TICKET_ANSWER_FIELDS:
            value = self.cleaned_data.get(key)
            values[key] = None if value in (None, "") else value
        return values


class ChargeForm(TicketServiceForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ChargeKind.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=12, decimal_places=2)
    reason = forms.CharField(
        label=_("Why"),
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was found (damage inside the home, manipulated equipment)."),
    )


class AttachmentForm(TicketServiceForm):
    file = forms.FileField(label=_("File"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = max_attachment_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s.") % {"size": filesizeformat(limit)}
            )
        return upload
