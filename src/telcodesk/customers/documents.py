"""Identity documents: which ones exist per country, and how to check and show them.

Numbers are validated with python-stdnum wherever it knows the document and stored in
their compact form (what stdnum's ``validate`` returns: no separators, upper-case).
Bolivian documents are not in stdnum; their rules live here:

* CI (cédula de identidad): 7 or 8 digits, no check digit, an optional issuing
  department (LP, CB, SC, OR, PT, CH, TJ, BE, PD) and an optional 2-character
  complement that SEGIP adds when two people would share a number (``1234567-1A LP``).
  The department is optional because newer cards no longer carry it.
* NIT: 7 to 12 digits, no check digit.

Every refusal is an ``InvalidDocument`` whose message names the document and says what
to do, so the same text works in the API and in the agent's form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.ar import cuit as ar_cuit
from stdnum.ar import dni as ar_dni
from stdnum.br import cnpj as br_cnpj
from stdnum.br import cpf as br_cpf
from stdnum.ec import ci as ec_ci
from stdnum.ec import ruc as ec_ruc
from stdnum.mx import curp as mx_curp
from stdnum.mx import rfc as mx_rfc

from telcodesk.core.errors import ErrorCode, ValidationFailed


@dataclass(frozen=True)
class DocumentType:
    """One kind of identity document.

    ``label`` is the short name people use ("CUIT", "CPF"); ``is_company`` is True for
    the registrations that identify legal entities (tax ids), even where people may
    hold one too.
    """

    code: str
    country: str  # ISO 3166-1 alpha-2; "" for documents valid everywhere (passport)
    label: str | Promise
    name: str | Promise
    is_company: bool


DOCUMENT_TYPES: dict[str, DocumentType] = {
    doc.code: doc
    for doc in (
        DocumentType("ar_dni", "AR", "DNI", _("National identity document"), False),
        DocumentType("ar_cuit", "AR", "CUIT", _("Tax identification code"), True),
        DocumentType("ar_cuil", "AR", "CUIL", _("Labour identification code"), False),
        DocumentType("br_cpf", "BR", "CPF", _("Individual taxpayer registry"), False),
        DocumentType("br_cnpj", "BR", "CNPJ", _("National registry of legal entities"), True),
        DocumentType("ec_ci", "EC", "CI", _("Identity card"), False),
        DocumentType("ec_ruc", "EC", "RUC", _("Single taxpayer registry"), True),
        DocumentType("mx_curp", "MX", "CURP", _("Unique population registry code"), False),
        DocumentType("mx_rfc", "MX", "RFC", _("Federal taxpayer registry"), True),
        DocumentType("bo_ci", "BO", "CI", _("Identity card"), False),
        DocumentType("bo_nit", "BO", "NIT", _("Tax identification number"), True),
        DocumentType("passport", "", _("Passport"), _("Passport"), False),
    )
}

BOLIVIAN_DEPARTMENTS: dict[str, str] = {  # proper names, not translated
    "LP": "La Paz",
    "CB": "Cochabamba",
    "SC": "Santa Cruz",
    "OR": "Oruro",
    "PT": "Potosí",
    "CH": "Chuquisaca",
    "TJ": "Tarija",
    "BE": "Beni",
    "PD": "Pando",
}

CUIT_PREFIXES = ("20", "23", "24", "27", "30", "33", "34")
CUIL_PREFIXES = ("20", "23", "24", "27")  # people only; 30/33/34 are companies


class InvalidDocument(ValidationFailed):
    code = ErrorCode.INVALID_DOCUMENT

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"number": [message]})


@dataclass(frozen=True)
class NormalizedDocument:
    kind: str
    number: str
    issued_in: str = ""
    complement: str = ""


def document_types_for(country: str) -> list[DocumentType]:
    """The documents an operator in ``country`` can record: its own and the passport."""
    country = country.upper()
    return [doc for doc in DOCUMENT_TYPES.values() if doc.country in (country, "")]


# --- rules per kind ---------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    validate: Callable[[str], str]  # raises stdnum ValidationError, returns compact
    display: Callable[[str], str]
    lengths: tuple[int, ...]  # accepted lengths of the compact form
    digits_only: bool


def _compact_alnum(raw: str) -> str:
    """Without spaces, dots, slashes and dashes (typographic ones too), upper-case.

    Applied before every stdnum check: stdnum's own ``compact`` differs per document
    (its CUIT keeps dots, its DNI keeps dashes) while people type any of them.
    """
    return re.sub(r"[\s./\-\u2010-\u2015]", "", raw).upper()


def _digits_of_length(minimum: int, maximum: int) -> Callable[[str], str]:
    def validate(raw: str) -> str:
        number = _compact_alnum(raw)
        if not number.isascii() or not number.isdigit():
            raise stdnum_errors.InvalidFormat()
        if not minimum <= len(number) <= maximum:
            raise stdnum_errors.InvalidLength()
        return number

    return validate


def _passport(raw: str) -> str:
    number = _compact_alnum(raw)
    if not re.fullmatch(r"[0-9A-Z]*", number):
        raise stdnum_errors.InvalidFormat()
    if not 5 <= len(number) <= 20:
        raise stdnum_errors.InvalidLength()
    return number


def _cuit_with_prefixes(prefixes: tuple[str, ...]) -> Callable[[str], str]:
    def validate(raw: str) -> str:
        number: str = ar_cuit.validate(raw)
        # stdnum also accepts the 50/51/55 prefixes for foreign entities; an operator's
        # customers are local people or companies, so those are refused as typos.
        if number[:2] not in prefixes:
            raise stdnum_errors.InvalidComponent()
        return number

    return validate


def _identity(number: str) -> str:
    return number


def _rfc_display(number: str) -> str:
    return str(mx_rfc.format(number))


_RULES: dict[str, _Rule] = {
    "ar_dni": _Rule(ar_dni.validate, ar_dni.format, (7, 8), True),
    "ar_cuit": _Rule(_cuit_with_prefixes(CUIT_PREFIXES), ar_cuit.format, (11,), True),
    "ar_cuil": _Rule(_cuit_with_prefixes(CUIL_PREFIXES), ar_cuit.format, (11,), True),
    "br_cpf": _Rule(br_cpf.validate, br_cpf.format, (11,), True),
    # CNPJ became alphanumeric in 2026 (12.ABC.345/01DE-35); stdnum handles both.
    "br_cnpj": _Rule(br_cnpj.validate, br_cnpj.format, (14,), False),
    "ec_ci": _Rule(ec_ci.validate, _identity, (10,), True),
    "ec_ruc": _Rule(ec_ruc.validate, _identity, (13,), True),
    "mx_curp": _Rule(mx_curp.validate, _identity, (18,), False),
    # RFC check digits are not verified (stdnum's default): about 1.5% of the RFCs in
    # use have check digits that do not satisfy the published algorithm.
    "mx_rfc": _Rule(mx_rfc.validate, _rfc_display, (10, 12, 13), False),
    "bo_ci": _Rule(_digits_of_length(7, 8), _identity, (7, 8), True),
    "bo_nit": _Rule(_digits_of_length(7, 12), _identity, tuple(range(7, 13)), True),
    "passport": _Rule(_passport, _identity, tuple(range(5, 21)), False),
}


# --- messages ---------------------------------------------------------------------


def _length_message(kind: str, label: str, typed: int) -> str:
    rule = _RULES[kind]
    params: dict[str, Any] = {"label": label, "count": typed}
    if kind == "mx_rfc":
        return (
            gettext(
                "The RFC must have 12 characters for a company, or 10 or 13 for a person; "
                "you typed %(count)d."
            )
            % params
        )
    shortest, longest = min(rule.lengths), max(rule.lengths)
    params.update(length=shortest, min=shortest, max=longest)
    if shortest == longest and rule.digits_only:
        return gettext("The %(label)s must have %(length)d digits; you typed %(count)d.") % params
    if shortest == longest:
        return (
            gettext("The %(label)s must have %(length)d characters; you typed %(count)d.") % params
        )
    if rule.digits_only:
        return (
            gettext(
                "The %(label)s must have between %(min)d and %(max)d digits; you typed %(count)d."
            )
            % params
        )
    return (
        gettext(
            "The %(label)s must have between %(min)d and %(max)d characters; you typed %(count)d."
        )
        % params
    )


def _component_message(kind: str, label: str, number: str) -> str:
    if kind in ("ar_cuit", "ar_cuil"):
        prefixes = CUIT_PREFIXES if kind == "ar_cuit" else CUIL_PREFIXES
        if kind == "ar_cuil" and number[:2] in CUIT_PREFIXES:
            return gettext(
                "A CUIL belongs to a person and starts with %(prefixes)s; %(prefix)s is a "
                "company prefix. Record it as a CUIT instead."
            ) % {"prefixes": ", ".join(prefixes), "prefix": number[:2]}
        return gettext(
            "The %(label)s must start with one of %(prefixes)s; it starts with %(prefix)s. "
            "Check the number on the document and type it again."
        ) % {"label": label, "prefixes": ", ".join(prefixes), "prefix": number[:2]}
    if kind in ("ec_ci", "ec_ruc"):
        return gettext(
            "The %(label)s does not start with a valid province code and type digit. "
            "Check the number on the document and type it again."
        ) % {"label": label}
    if kind == "mx_curp":
        return gettext(
            "Part of the CURP is not valid (birth date, sex letter or state code). "
            "Check it against the document and type it again."
        )
    if kind == "mx_rfc":
        return gettext(
            "The date inside the RFC is not valid. Check it against the document and type it again."
        )
    return gettext(
        "Part of the %(label)s is not valid. Check the number on the document and type it again."
    ) % {"label": label}


def _format_message(kind: str, label: str) -> str:
    if _RULES[kind].digits_only:
        return gettext(
            "The %(label)s can only contain digits. Check the number on the document and "
            "type it again."
        ) % {"label": label}
    return gettext(
        "The %(label)s has characters that do not belong in it. Check the number on the "
        "document and type it again."
    ) % {"label": label}


def _message_for(kind: str, error: stdnum_errors.ValidationError, raw: str) -> str:
    label = str(DOCUMENT_TYPES[kind].label)
    typed = _compact_alnum(raw)
    if isinstance(error, stdnum_errors.InvalidChecksum):
        return gettext(
            "The %(label)s has a wrong check digit. Check the number on the document and "
            "type it again."
        ) % {"label": label}
    if isinstance(error, stdnum_errors.InvalidLength):
        return _length_message(kind, label, len(typed))
    if isinstance(error, stdnum_errors.InvalidComponent):
        return _component_message(kind, label, typed)
    return _format_message(kind, label)


# --- Bolivian CI ------------------------------------------------------------------

# "1234567", "1234567-1A", "1234567 LP", "1234567-1A LP", "1.234.567 lp", "1234567-LP".
_BO_CI = re.compile(
    r"(?P<number>[0-9.]+)\s*(?:-\s*(?P<complement>[0-9A-Z]{2}))?\s*(?P<department>[A-Z]{2})?"
)


def _split_bolivian_ci(raw: str) -> tuple[str, str, str]:
    """(number, complement, department) typed in one box; raises InvalidDocument."""
    text = " ".join(raw.upper().split())
    match = _BO_CI.fullmatch(text)
    if match is None:
        raise InvalidDocument(
            gettext(
                "Write the Bolivian CI as its 7 or 8 digits, then the complement if the card "
                "has one and the issuing department, for example 1234567-1A LP."
            )
        )
    number, complement, department = match.group("number", "complement", "department")
    complement, department = complement or "", department or ""
    # "1234567-LP": after the dash people sometimes write the department, not a
    # complement; department codes are never complements (those start with a digit).
    if complement in BOLIVIAN_DEPARTMENTS and not department:
        complement, department = "", complement
    return number.replace(".", ""), complement, department


def _pick(typed: str, chosen: str, message: str) -> str:
    if typed and chosen and typed != chosen:
        raise InvalidDocument(message)
    return chosen or typed


def _normalize_bolivian_ci(raw: str, issued_in: str, complement: str) -> NormalizedDocument:
    number, typed_complement, typed_department = _split_bolivian_ci(raw)
    chosen_department = issued_in.strip().upper()
    chosen_complement = re.sub(r"[\s\-]", "", complement).upper()
    department = _pick(
        typed_department,
        chosen_department,
        gettext(
            "The CI was typed with department %(typed)s but %(chosen)s was chosen as the "
            "issuing department. Keep only one of them."
        )
        % {"typed": typed_department, "chosen": chosen_department},
    )
    complement = _pick(
        typed_complement,
        chosen_complement,
        gettext(
            "The CI was typed with complement %(typed)s but %(chosen)s was given as the "
            "complement. Keep only one of them."
        )
        % {"typed": typed_complement, "chosen": chosen_complement},
    )
    try:
        number = _RULES["bo_ci"].validate(number)
    except stdnum_errors.ValidationError as error:
        raise InvalidDocument(_message_for("bo_ci", error, number)) from error
    if department and department not in BOLIVIAN_DEPARTMENTS:
        raise InvalidDocument(
            gettext(
                "Unknown issuing department '%(department)s' for a Bolivian CI: use one of "
                "%(departments)s."
            )
            % {"department": department, "departments": ", ".join(BOLIVIAN_DEPARTMENTS)}
        )
    if complement and not re.fullmatch(r"[0-9A-Z]{2}", complement):
        raise InvalidDocument(
            gettext(
                "The complement of a Bolivian CI is 2 letters or digits, like 1A; you typed "
                "'%(complement)s'. Copy it from the card or leave it empty."
            )
            % {"complement": complement}
        )
    return NormalizedDocument("bo_ci", number, issued_in=department, complement=complement)


# --- public API -------------------------------------------------------------------


def normalize_document(
    kind: str, raw: str, *, issued_in: str = "", complement: str = ""
) -> NormalizedDocument:
    """Check a typed document number and return its compact form.

    Accepts what people type: dots, dashes, slashes, spaces, lower case. For a
    Bolivian CI the department and complement may come inside ``raw``
    (``"1234567-1A LP"``) or as the keyword arguments; if both say something
    different the number is refused. Other documents have neither, so a non-empty
    ``issued_in``/``complement`` for them is refused instead of silently dropped.

    Raises InvalidDocument with a message that names the document and says what to fix.
    """
    if kind not in DOCUMENT_TYPES:
        raise InvalidDocument(
            gettext(
                "Unknown document type '%(kind)s'. Choose one of the document types offered "
                "for the customer's country."
            )
            % {"kind": kind}
        )
    label = str(DOCUMENT_TYPES[kind].label)
    if not raw.strip():
        raise InvalidDocument(
            gettext("Type the %(label)s number as it appears on the document.") % {"label": label}
        )
    if kind == "bo_ci":
        return _normalize_bolivian_ci(raw, issued_in, complement)
    if issued_in.strip() or complement.strip():
        raise InvalidDocument(
            gettext("A %(label)s has no issuing department or complement; leave those empty.")
            % {"label": label}
        )
    try:
        number = _RULES[kind].validate(_compact_alnum(raw))
    except stdnum_errors.ValidationError as error:
        raise InvalidDocument(_message_for(kind, error, raw)) from error
    return NormalizedDocument(kind, number)


def format_document(kind: str, number: str, *, issued_in: str = "", complement: str = "") -> str:
    """The form people read and type: ``20-12345678-6``, ``123.456.789-09``, ``1234567-1A LP``.

    ``number`` should be a stored (normalized) number; the function does not validate
    it, so a legacy value is still shown, and an unknown kind shows the number as is.
    """
    if kind not in _RULES:
        return number
    display = _RULES[kind].display(_compact_alnum(number))
    if kind == "bo_ci":
        if complement:
            display = f"{display}-{complement}"
        if issued_in:
            display = f"{display} {issued_in}"
    return display


def document_query_forms(raw: str) -> list[str]:
    """Compact forms under which a search query could be stored as a document number.

    Besides the query itself (without separators, upper-case) it yields:

    * the query without a trailing Bolivian department or complement
      (``1234567-1A LP`` -> ``1234567``), since those are stored apart;
    * the DNI inside an Argentine CUIT/CUIL (``20-12345678-6`` -> ``12345678``);
    * for a 7-8 digit number, the CUIL/CUIT a person with that DNI would have (prefixes
      20, 23, 24 and 27 with their check digit), since agents type the DNI they are told.

    Returns [] when the query cannot be a document (under 5 letters/digits, or no digit).
    """
    text = " ".join(raw.upper().split())
    compact = _compact_alnum(text)
    if len(compact) < 5 or not any(char.isdigit() for char in compact):
        return []
    forms = [compact]
    ci = _BO_CI.fullmatch(text)
    if ci is not None:
        forms.append(ci.group("number").replace(".", ""))
    if len(compact) == 11 and compact.isdigit() and compact[:2] in CUIT_PREFIXES:
        forms.append(compact[2:10].lstrip("0"))
    if compact.isdigit() and len(compact) in (7, 8):
        dni = compact.zfill(8)
        for prefix in CUIL_PREFIXES:
            candidate = prefix + dni
            forms.append(candidate + ar_cuit.calc_check_digit(candidate))
    return list(dict.fromkeys(form for form in forms if form))
