"""Phone numbers: typed in any local habit, stored as E.164, shown the local way.

``region`` is always the organization's country (AR, BR, EC, MX, BO): it decides how
a number typed without country code is read. Numbers of other countries are accepted
when typed with their country code.

libphonenumber already understands the Argentine mobile habits: ``011 15-2345-6789``,
``11 15 2345 6789`` and ``+54 9 11 2345-6789`` all become ``+5491123456789`` (the 15
after the area code is replaced by the 9 after the country code). What it no longer
understands are Mexico's prefixes abolished in 2019 (``044``/``045``/``01`` and the
``1`` after ``+52``), which still fill old contact lists and WhatsApp ids; those are
dropped here before parsing.
"""

from __future__ import annotations

import re

import phonenumbers
from babel import Locale, UnknownLocaleError
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

from telcodesk.core.errors import ErrorCode, ValidationFailed

COUNTRY_NAMES: dict[str, str | Promise] = {
    "AR": _("Argentina"),
    "BO": _("Bolivia"),
    "BR": _("Brazil"),
    "EC": _("Ecuador"),
    "MX": _("Mexico"),
}

MIN_QUERY_DIGITS = 6

_MX_INTERNATIONAL_LEGACY = re.compile(r"(?:\+|00)521(\d{10})")
_MX_NATIONAL_LEGACY = re.compile(r"(?:044|045|01|521)(\d{10})")


class InvalidPhone(ValidationFailed):
    code = ErrorCode.INVALID_PHONE

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"phone": [message]})


def country_name(region: str) -> str:
    """The country's name in the active language, falling back to its code."""
    if region in COUNTRY_NAMES:
        return str(COUNTRY_NAMES[region])
    try:
        locale = Locale.parse((get_language() or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return region
    return str(locale.territories.get(region, region))


def _check_region(region: str) -> str:
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        # A programming error (the organization's country is validated elsewhere),
        # not something the user can fix.
        raise ValueError(f"unsupported phone region {region!r}")
    return region


def _without_mexican_legacy_prefix(raw: str, region: str) -> str:
    packed = re.sub(r"[^\d+]", "", raw)
    match = _MX_INTERNATIONAL_LEGACY.fullmatch(packed)
    if match is not None:
        return "+52" + match.group(1)
    if region == "MX":
        match = _MX_NATIONAL_LEGACY.fullmatch(packed)
        if match is not None:
            return match.group(1)
    return raw


def _parse(raw: str, region: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(_without_mexican_legacy_prefix(raw, region), region)
    except NumberParseException:
        return None


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _invalid_phone_message(raw: str, region: str) -> str:
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if example is None:
        example = phonenumbers.example_number(region)
    params = {"phone": raw.strip(), "country": country_name(region)}
    if example is None:
        return (
            gettext(
                "%(phone)s is not a valid phone number in %(country)s. Check it and type it "
                "again with its area code."
            )
            % params
        )
    params.update(
        national=phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL),
        international=phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL),
    )
    return (
        gettext(
            "%(phone)s is not a valid phone number in %(country)s. Type it with its area code, "
            "for example %(national)s, or with the country code, like %(international)s."
        )
        % params
    )


def normalize_phone(raw: str, *, region: str) -> str:
    """The E.164 form (``+5491123456789``) of a phone typed in any common format.

    Raises InvalidPhone when libphonenumber does not consider the result a valid
    number; the message names the country and shows a valid example.
    """
    region = _check_region(region)
    if not raw.strip():
        raise InvalidPhone(gettext("Type a phone number."))
    number = _parse(raw, region)
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_invalid_phone_message(raw, region))
    return _e164(number)


def format_phone(e164: str, *, region: str | None = None) -> str:
    """National format for a number of ``region`` (``011 15-2345-6789``), else international.

    A stored value that does not parse is shown unchanged rather than hidden.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if region is not None and phonenumbers.region_code_for_number(number) == region.upper():
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def _argentine_mobile_twin(number: PhoneNumber) -> str | None:
    """The same Argentine number with the mobile 9 added or removed.

    Agents often type a mobile without 15 or 9 (it then reads as a landline), or the
    stored number lacks it; searching both forms finds it either way.
    """
    if number.country_code != 54:
        return None
    national = str(number.national_number)
    if len(national) == 11 and national.startswith("9"):
        return "+54" + national[1:]
    if len(national) == 10:
        return "+549" + national
    return None


def phone_query_forms(raw: str, *, region: str) -> list[str]:
    """E.164 candidates for a search query typed with spaces, dashes, 0/00/+ and so on.

    Validity is not required (a search should still find a stored number that is no
    longer valid), only that libphonenumber finds the result possible. Besides the
    reading in ``region`` it tries the digits as an international number without the
    +, and for Argentina the twin with or without the mobile 9.

    Returns [] for a query with letters or fewer than 6 digits.
    """
    region = _check_region(region)
    if re.search(r"[^\W\d_]", raw):
        return []
    digits = re.sub(r"\D", "", raw)
    if len(digits) < MIN_QUERY_DIGITS:
        return []
    readings = [_parse(raw, region)]
    regional = readings[0]
    # "59177712345" typed in Argentina: the digits may be an international number
    # without its +. Only tried when the local reading is no real number, to keep noise
    # out of the results.
    if not raw.lstrip().startswith(("+", "00")) and (
        regional is None or not phonenumbers.is_valid_number(regional)
    ):
        readings.append(_parse("+" + digits, region))
    forms: list[str] = []
    for number in readings:
        if number is None or not phonenumbers.is_possible_number(number):
            continue
        forms.append(_e164(number))
        twin = _argentine_mobile_twin(number)
        if twin is not None:
            forms.append(twin)
    return list(dict.fromkeys(forms))


def is_mobile(e164: str) -> bool:
    """Whether the number can be a mobile.

    Mexico (like the US) does not distinguish mobile from landline ranges, so its
    numbers count as mobile: FIXED_LINE_OR_MOBILE is treated as mobile.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def whatsapp_id(e164: str) -> str:
    """The id WhatsApp uses for the number: its E.164 digits without the +.

    Note that WhatsApp may report some accounts under historical ids (``521`` +
    10 digits for Mexico, Brazilian mobiles without the ninth digit); match incoming
    ids through ``normalize_phone`` rather than by comparing strings.
    """
    if not re.fullmatch(r"\+\d{6,15}", e164):
        raise ValueError(f"not an E.164 number: {e164!r}")
    return e164[1:]
