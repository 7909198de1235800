"""The questions' answers a ticket keeps, by field name, and how each value is checked.

``TICKET_ANSWER_FIELDS`` is the registry of the field names a ticket knows: the five key
questions of the call procedure (since when, all devices or one, Wi-Fi or cable, the
device's brand, people and devices at home) and what the agent writes down when the
problem persists (observations in the customer's words, the diagnosis, whether there is
an extra cost). A playbook question names the field it fills; the playbooks engine
checks those names against this registry (``ticket_answer_field``), so a pack with a
step referring to an unknown field is refused when it is loaded.

Values are stored as JSON: text and choice as strings, yes/no as booleans, numbers as
numbers, dates as "YYYY-MM-DD".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telcodesk.core.errors import ValidationFailed

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

AnswerType = Literal["text", "choice", "yes_no", "number", "date"]
ANSWER_TYPES: tuple[str, ...] = ("text", "choice", "yes_no", "number", "date")
MAX_TEXT_LENGTH = 2000


@dataclass(frozen=True)
class TicketAnswerField:
    key: str
    label: StrOrPromise
    type: AnswerType
    # (value, label) pairs of a choice field.
    choices: tuple[tuple[str, StrOrPromise], ...] = ()

    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.choices)


_FIELDS = (
    TicketAnswerField("since_when", gettext_lazy("Since when does the problem happen?"), "text"),
    TicketAnswerField(
        "all_devices_or_one",
        gettext_lazy("On every device or only one?"),
        "choice",
        (
            ("all", gettext_lazy("Every device")),
            ("some", gettext_lazy("Some devices")),
            ("one", gettext_lazy("Only one device")),
        ),
    ),
    TicketAnswerField(
        "wifi_or_cable",
        gettext_lazy("Connected by Wi-Fi or by cable?"),
        "choice",
        (
            ("wifi", gettext_lazy("Wi-Fi")),
            ("cable", gettext_lazy("Cable")),
            ("both", gettext_lazy("Both")),
        ),
    ),
    TicketAnswerField(
        "device_brand", gettext_lazy("Brand of the device the test was made on"), "text"
    ),
    TicketAnswerField(
        "people_and_devices",
        gettext_lazy("How many people and devices connect at home?"),
        "text",
    ),
    TicketAnswerField(
        "observations_customer_words",
        gettext_lazy("Observations, in the customer's words"),
        "text",
    ),
    TicketAnswerField(
        "diagnosis_summary", gettext_lazy("Diagnostic results and validations"), "text"
    ),
    TicketAnswerField("extra_cost", gettext_lazy("Is there an extra cost?"), "yes_no"),
)

TICKET_ANSWER_FIELDS: Mapping[str, TicketAnswerField] = MappingProxyType(
    {field.key: field for field in _FIELDS}
)


def ticket_answer_field(name: str) -> TicketAnswerField | None:
    """The registered answer field ``name``, or None when a ticket has no such field."""
    return TICKET_ANSWER_FIELDS.get(name)


def _clean_value(field: TicketAnswerField, value: Any) -> Any:
    """The value as stored, or ValueError with the translated reason."""
    if field.type == "text":
        if not isinstance(value, str):
            raise ValueError(_("Write text here."))
        text = value.strip()
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError(_("Too long: at most %(max)s characters.") % {"max": MAX_TEXT_LENGTH})
        return text
    if field.type == "choice":
        allowed = field.choice_values()
        if value not in allowed:
            raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)})
        return value
    if field.type == "yes_no":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"yes", "true", "1"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"no", "false", "0"}:
            return False
        raise ValueError(_("Answer yes or no."))
    if field.type == "number":
        if isinstance(value, bool):
            raise ValueError(_("Write a number, e.g. 150.00."))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(_("Write a number, e.g. 150.00.")) from None
        if not number.is_finite():
            raise ValueError(_("Write a number, e.g. 150.00."))
        return int(number) if number == number.to_integral_value() else float(number)
    # date
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(_("Write the date as YYYY-MM-DD.")) from None


def answers_clean(answers: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` with ``answers`` merged in; None or "" clears a field.

    Unknown field names and bad values are refused together (ValidationFailed with one
    message per field); nothing is merged then.
    """
    errors: dict[str, list[str]] = {}
    merged = dict(current)
    for name, value in answers.items():
        field = ticket_answer_field(name)
        if field is None:
            errors[name] = [
                _("The ticket has no question field “%(name)s”; use one of: %(known)s.")
                % {"name": name, "known": ", ".join(TICKET_ANSWER_FIELDS)}
            ]
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            merged.pop(name, None)
            continue
        try:
            merged[name] = _clean_value(field, value)
        except ValueError as error:
            errors[name] = [str(error)]
    if errors:
        raise ValidationFailed(
            _("The answers were not saved: fix the marked fields."), details=errors
        )
    return merged
