"""Loading an operator's own customers from a CSV file.

Every row goes through the same services as the console and the API
(``customer_create``, then ``subscription_create``), so the same validation, audit log
and timeline apply. Each row is its own transaction: a refused row changes nothing and
is reported with its line, its column and the reason; the other rows are created.

The file is read whole before the first row is written, so a file that is not UTF-8
or whose header is wrong is refused before anything changes. The format is described
in docs/import.md.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TextIO

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from telcodesk.core.errors import DomainError, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers import services
from telcodesk.customers.addresses import ADDRESS_FIELD_NAMES
from telcodesk.customers.documents import (
    DOCUMENT_TYPES,
    InvalidDocument,
    document_types_for,
    format_document,
    normalize_document,
)
from telcodesk.customers.models import Address, ContactPoint, Customer, IdentityDocument
from telcodesk.customers.phones import InvalidPhone, is_mobile, normalize_phone

PROFILE_COLUMNS = (
    "kind",
    "first_name",
    "last_name",
    "company_name",
    "birth_date",
    "segment",
    "preferred_language",
    "preferred_channel",
    "consent_whatsapp",
    "consent_sms",
    "consent_email",
    "consent_calls",
    "external_ref",
)
CONSENT_COLUMNS = ("consent_whatsapp", "consent_sms", "consent_email", "consent_calls")
# Codes people may type in any case: "Person", "FIBER_FTTH".
CODE_COLUMNS = (
    "kind",
    "segment",
    "preferred_language",
    "preferred_channel",
    "document_kind",
    "service_type",
    "technology",
    "status",
)
DOCUMENT_COLUMNS = ("document_kind", "document_number", "document_issued_in", "document_complement")
PHONE_COLUMNS = ("phone", "phone_whatsapp", "phone2")
ADDRESS_COLUMNS = tuple(f"address_{name}" for name in ADDRESS_FIELD_NAMES)
SUBSCRIPTION_COLUMNS = (
    "service_id",
    "contract_number",
    "service_type",
    "plan_code",
    "technology",
    "started_on",
    "permanence_until",
    "status",
)
COLUMNS = (
    *PROFILE_COLUMNS,
    *DOCUMENT_COLUMNS,
    *PHONE_COLUMNS,
    "email",
    *ADDRESS_COLUMNS,
    *SUBSCRIPTION_COLUMNS,
)

TRUE_WORDS = frozenset(("1", "yes", "y", "si", "sí", "s", "sim", "true", "verdadero"))
FALSE_WORDS = frozenset(("0", "no", "n", "não", "nao", "false", "falso"))

# Where the services' ``details`` keys point in the file.
_DETAIL_COLUMNS = {"number": "document_number", "email": "email"}


@dataclass
class RowProblem:
    """Why a row was refused (or skipped): ``line`` of the file, ``field`` is its column.

    ``field`` is ``"address"`` for a problem of the address as a whole (the Bolivian
    protocol checks the parts together) and ``""`` for one of the whole row.
    """

    line: int
    field: str
    messages: list[str]
    skipped: bool = False


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False


@dataclass
class _RowPlan:
    """One row, read into the arguments of the services."""

    profile: dict[str, Any] = field(default_factory=dict)
    documents: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    phone_columns: list[str] = field(default_factory=list)  # the column of each phone
    emails: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    subscription: dict[str, Any] | None = None
    document_key: tuple[str, str, str] | None = None  # (kind, compact number, complement)


class _Refused(Exception):
    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__()
        self.problems = problems


# --- cells ------------------------------------------------------------------------


def _parse_bool(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(word)


def _parse_date(value: str) -> date:
    text = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _bad_bool(value: str) -> str:
    return _(
        "Write 1 or 0 (or yes/no, si/no, sim/não, true/false); '%(value)s' is none of them."
    ) % {"value": value}


def _bad_date(value: str) -> str:
    return _(
        "Write the date as YYYY-MM-DD (2024-03-31) or DD/MM/YYYY (31/03/2024); "
        "'%(value)s' is neither, or is not a real date."
    ) % {"value": value}


def _read_document(
    cells: dict[str, str], plan: _RowPlan, errors: dict[str, list[str]], *, country: str
) -> None:
    if not any(cells[name] for name in DOCUMENT_COLUMNS):
        return
    kind = cells["document_kind"]
    if not kind:
        codes = ", ".join(doc.code for doc in document_types_for(country))
        errors["document_kind"] = [
            _("Give the document type of the number, one of: %(codes)s.") % {"codes": codes}
        ]
        return
    try:
        document = normalize_document(
            kind,
            cells["document_number"],
            issued_in=cells["document_issued_in"],
            complement=cells["document_complement"],
        )
    except InvalidDocument as error:
        column = "document_kind" if kind not in DOCUMENT_TYPES else "document_number"
        errors[column] = list(error.details["number"])
        return
    plan.document_key = (document.kind, document.number, document.complement)
    plan.documents.append(
        {
            "kind": kind,
            "number": cells["document_number"],
            "issued_in": cells["document_issued_in"],
            "complement": cells["document_complement"],
        }
    )


def _read_phones(
    cells: dict[str, str], plan: _RowPlan, errors: dict[str, list[str]], *, country: str
) -> None:
    """Phones in column order; the WhatsApp number marks the same phone when repeated.

    Each number is checked here, with the parser the service uses, so that a refusal
    names its column (the service only knows "phone").
    """
    by_number: dict[str, dict[str, Any]] = {}
    for column in PHONE_COLUMNS:
        raw = cells[column]
        if not raw:
            continue
        try:
            e164 = normalize_phone(raw, region=country)
        except InvalidPhone as error:
            errors[column] = list(error.details["phone"])
            continue
        whatsapp = column == "phone_whatsapp"
        if e164 in by_number:
            by_number[e164]["is_whatsapp"] = by_number[e164]["is_whatsapp"] or whatsapp
            continue
        label = ContactPoint.Label.MOBILE if is_mobile(e164) else ContactPoint.Label.HOME
        by_number[e164] = {"raw": raw, "label": label, "is_whatsapp": whatsapp}
        plan.phone_columns.append(column)
    plan.phones = list(by_number.values())


def _read_address(cells: dict[str, str], plan: _RowPlan, errors: dict[str, list[str]]) -> None:
    parts: dict[str, Any] = {
        name: cells[f"address_{name}"] for name in ADDRESS_FIELD_NAMES if name != "is_rural"
    }
    rural = cells["address_is_rural"]
    is_rural = False
    if rural:
        try:
            is_rural = _parse_bool(rural)
        except ValueError:
            errors["address_is_rural"] = [_bad_bool(rural)]
            return
    if not is_rural and not any(parts.values()):
        return
    # The address of a row with a service is where the service is installed.
    purpose = Address.Purpose.INSTALLATION if plan.subscription else Address.Purpose.HOME
    plan.addresses.append({"purpose": purpose, "is_rural": is_rural, **parts})


def _read_subscription(cells: dict[str, str], plan: _RowPlan, errors: dict[str, list[str]]) -> None:
    if not any(cells[name] for name in SUBSCRIPTION_COLUMNS):
        return
    subscription: dict[str, Any] = {
        name: cells[name]
        for name in ("service_id", "contract_number", "service_type", "plan_code", "technology")
    }
    if cells["status"]:
        subscription["status"] = cells["status"]
    if not cells["started_on"]:
        errors["started_on"] = [_("Write the date the service started, like 2024-03-31.")]
    for name in ("started_on", "permanence_until"):
        if cells[name]:
            try:
                subscription[name] = _parse_date(cells[name])
            except ValueError:
                errors[name] = [_bad_date(cells[name])]
    plan.subscription = subscription


def _read_row(cells: dict[str, str], *, country: str) -> _RowPlan:
    """The service arguments for a row; raises _Refused with every problem of its cells."""
    plan = _RowPlan()
    errors: dict[str, list[str]] = {}
    for name in PROFILE_COLUMNS:
        value = cells[name]
        if not value:
            continue  # the model's default (a person, residential, calls allowed...)
        if name in CONSENT_COLUMNS:
            try:
                plan.profile[name] = _parse_bool(value)
            except ValueError:
                errors[name] = [_bad_bool(value)]
        elif name == "birth_date":
            try:
                plan.profile[name] = _parse_date(value)
            except ValueError:
                errors[name] = [_bad_date(value)]
        else:
            plan.profile[name] = value
    _read_document(cells, plan, errors, country=country)
    _read_phones(cells, plan, errors, country=country)
    if cells["email"]:
        plan.emails.append({"raw": cells["email"]})
    _read_subscription(cells, plan, errors)
    _read_address(cells, plan, errors)
    if errors:
        raise _Refused(errors)
    return plan


# --- the file ---------------------------------------------------------------------


def _read_text(stream: TextIO) -> str:
    try:
        text = stream.read()
    except UnicodeDecodeError:
        raise ValidationFailed(
            _(
                "The file is not UTF-8 text. In Excel choose Save as > 'CSV UTF-8'; in "
                "LibreOffice choose the UTF-8 character set."
            )
        ) from None
    return text.removeprefix("\ufeff")


def _delimiter(header_line: str) -> str:
    # Excel writes semicolons where the decimal separator is a comma (most of Latin
    # America); column names contain neither character.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _header(row: list[str]) -> list[str]:
    names = [" ".join(cell.split()).lower() for cell in row]
    while names and not names[-1]:  # trailing separators
        names.pop()
    if not names:
        raise ValidationFailed(
            _("The file is empty: its first line must name the columns, like kind;first_name.")
        )
    if "" in names:
        raise ValidationFailed(
            _("Column %(position)d has no name in the first line: name it or remove it.")
            % {"position": names.index("") + 1}
        )
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise ValidationFailed(
            _(
                "Unknown columns: %(unknown)s. Nothing was imported. Rename or remove them; "
                "the known columns are: %(known)s."
            )
            % {"unknown": ", ".join(unknown), "known": ", ".join(COLUMNS)},
            details={"header": unknown},
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValidationFailed(
            _("These columns appear more than once: %(columns)s. Keep one of each.")
            % {"columns": ", ".join(repeated)},
            details={"header": repeated},
        )
    return names


def _check_actor(actor: Actor, header: list[str]) -> None:
    actor.require("customer.create")
    if set(header) & set(SUBSCRIPTION_COLUMNS):
        actor.require("subscription.edit")
    if actor.is_reseller:
        raise ValidationFailed(
            _(
                "A reseller cannot import customers: the operator imports them and assigns "
                "them to the reseller."
            )
        )


def _problems_from(error: DomainError, plan: _RowPlan, line: int) -> list[RowProblem]:
    if not error.details:
        return [RowProblem(line, "", [error.message])]
    problems = []
    for key, messages in error.details.items():
        if key == "phone":
            column = plan.phone_columns[0] if plan.phone_columns else "phone"
        else:
            column = _DETAIL_COLUMNS.get(key, key)
        if not isinstance(messages, list):
            messages = [messages]
        problems.append(RowProblem(line, column, [str(message) for message in messages]))
    return problems


def _duplicate(actor: Actor, plan: _RowPlan, line: int) -> RowProblem | None:
    """Why the row is already in the organization, if it is."""
    organization = actor.organization
    if plan.document_key is not None:
        kind, number, complement = plan.document_key
        if IdentityDocument.objects.filter(
            organization=organization, kind=kind, number=number, complement=complement
        ).exists():
            shown = format_document(kind, number, complement=complement)
            label = DOCUMENT_TYPES[kind].label
            message = _(
                "A customer with %(label)s %(number)s already exists: the row was skipped."
            ) % {"label": label, "number": shown}
            return RowProblem(line, "document_number", [message], skipped=True)
    ref = " ".join(plan.profile.get("external_ref", "").split())
    if ref and Customer.objects.filter(organization=organization, external_ref=ref).exists():
        message = _(
            "A customer with billing system id %(ref)s already exists: the row was skipped."
        ) % {"ref": ref}
        return RowProblem(line, "external_ref", [message], skipped=True)
    return None


def _create(actor: Actor, plan: _RowPlan) -> None:
    """The row's customer and service, in one transaction (a savepoint in a dry run)."""
    with transaction.atomic():
        customer = services.customer_create(
            actor=actor,
            documents=plan.documents,
            phones=plan.phones,
            emails=plan.emails,
            addresses=plan.addresses,
            **plan.profile,
        )
        if plan.subscription is not None:
            address = customer.addresses.order_by("pk").first()
            services.subscription_create(
                actor=actor,
                customer=customer,
                installation_address_id=address.pk if address else None,
                **plan.subscription,
            )


def _import_rows(*, actor: Actor, text: str) -> ImportReport:
    report = ImportReport()
    lines = io.StringIO(text, newline=None)
    header_line = lines.readline()
    lines.seek(0)
    reader = csv.reader(lines, delimiter=_delimiter(header_line))
    header = _header(next(reader, []))
    _check_actor(actor, header)
    country = actor.organization.country
    while True:
        line = reader.line_num + 1  # where the record starts (a quoted cell may span lines)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            report.failed += 1
            report.problems.append(
                RowProblem(line, "", [_("Unreadable CSV: %(error)s.") % {"error": error}])
            )
            break
        values = [cell.strip() for cell in row]
        if not any(values):
            continue  # blank lines and rows of bare separators
        if any(values[len(header) :]):
            report.failed += 1
            message = _(
                "The row has more cells than the first line has columns: check for a "
                "separator (comma or semicolon) inside a value, and quote that value."
            )
            report.problems.append(RowProblem(line, "", [message]))
            continue
        cells = dict.fromkeys(COLUMNS, "")
        cells.update(zip(header, values, strict=False))
        for name in CODE_COLUMNS:
            cells[name] = cells[name].lower()
        try:
            plan = _read_row(cells, country=country)
        except _Refused as refused:
            report.failed += 1
            report.problems.extend(
                RowProblem(line, column, messages) for column, messages in refused.problems.items()
            )
            continue
        duplicate = _duplicate(actor, plan, line)
        if duplicate is not None:
            report.skipped += 1
            report.problems.append(duplicate)
            continue
        try:
            _create(actor, plan)
        except DomainError as error:
            report.failed += 1
            report.problems.extend(_problems_from(error, plan, line))
            continue
        except IntegrityError:
            # Another writer registered the same document or service meanwhile.
            report.failed += 1
            message = _("The row clashes with data saved meanwhile: import it again.")
            report.problems.append(RowProblem(line, "", [message]))
            continue
        report.created += 1
    return report


def customers_import_csv(*, actor: Actor, stream: TextIO, dry_run: bool = False) -> ImportReport:
    """Create the customers of a CSV file, each row in its own transaction.

    Returns what was created, skipped (the document or the billing system id is
    already registered in the organization) and refused, with the line, column and
    reasons of every refusal. Raises ValidationFailed, before any row is written, for a
    file that is not UTF-8, has no header or has unknown or repeated columns, and
    PermissionDenied when the actor may not create customers (or services, when the
    file has service columns).

    ``dry_run`` runs every row exactly as for real inside one transaction that is then
    rolled back: the report is the one the real import would give.
    """
    text = _read_text(stream)
    if not dry_run:
        return _import_rows(actor=actor, text=text)
    with transaction.atomic():
        report = _import_rows(actor=actor, text=text)
        transaction.set_rollback(True)
    report.dry_run = True
    return report
