from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
import pytest
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from telcodesk.core.errors import ErrorCode
from telcodesk.customers.phones import (
    InvalidPhone,
    country_name,
    format_phone,
    is_mobile,
    normalize_phone,
    phone_query_forms,
    whatsapp_id,
)

REGIONS = ["AR", "BR", "EC", "MX", "BO"]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def refusal(raw: str, region: str) -> str:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(raw, region=region)
    error = caught.value
    assert error.code == ErrorCode.INVALID_PHONE
    assert error.details == {"phone": [error.message]}
    return error.message


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        # The Argentine mobile habit: area code, then 15 -> +54 9 area number.
        ("011 15-2345-6789", "AR", "+5491123456789"),
        ("11 15 2345 6789", "AR", "+5491123456789"),
        ("+54 9 11 2345-6789", "AR", "+5491123456789"),
        ("0221 15 412 3456", "AR", "+5492214123456"),
        ("(11) 2345-6789", "AR", "+541123456789"),
        ("+55 (11) 91234-5678", "BR", "+5511912345678"),
        ("(011) 91234 5678", "BR", "+5511912345678"),
        ("77712345", "BO", "+59177712345"),
        ("4 4123456", "BO", "+59144123456"),
        ("0991234567", "EC", "+593991234567"),
        ("02 212 3456", "EC", "+59322123456"),
        ("55 1234 5678", "MX", "+525512345678"),
        # Numbers of another country are fine with their country code.
        ("+591 777 12345", "AR", "+59177712345"),
        ("0059177712345", "BO", "+59177712345"),
    ],
)
def test_it_normalizes_numbers_typed_the_local_way_to_e164(
    raw: str, region: str, e164: str
) -> None:
    assert normalize_phone(raw, region=region) == e164


@pytest.mark.parametrize(
    "raw",
    ["+52 1 55 1234 5678", "044 55 1234 5678", "045 55 1234 5678", "01 55 1234 5678"],
)
def test_it_drops_the_mexican_prefixes_abolished_in_2019(raw: str) -> None:
    assert normalize_phone(raw, region="MX") == "+525512345678"


def test_it_refuses_an_invalid_number_naming_the_country_and_an_example() -> None:
    assert refusal("123", "BO") == (
        "123 is not a valid phone number in Bolivia. Type it with its area code, for example "
        "71234567, or with the country code, like +591 71234567."
    )
    assert refusal("15-2345-6789", "AR") == (
        "15-2345-6789 is not a valid phone number in Argentina. Type it with its area code, "
        "for example 011 15-2345-6789, or with the country code, like +54 9 11 2345-6789."
    )


def test_it_refuses_text_and_empty_input() -> None:
    assert refusal("call me", "MX").startswith("call me is not a valid phone number in Mexico.")
    assert refusal("   ", "EC") == "Type a phone number."


def test_an_unsupported_region_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unsupported phone region 'XX'"):
        normalize_phone("77712345", region="XX")


def test_country_names_come_translated_or_from_babel() -> None:
    assert country_name("BR") == "Brazil"
    assert country_name("PE") == "Peru"
    with translation.override("es"):
        assert country_name("PE") == "Perú"


def test_format_is_national_at_home_and_international_abroad() -> None:
    assert format_phone("+5491123456789", region="AR") == "011 15-2345-6789"
    assert format_phone("+5491123456789", region="BO") == "+54 9 11 2345-6789"
    assert format_phone("+5491123456789") == "+54 9 11 2345-6789"
    assert format_phone("+5511912345678", region="br") == "(11) 91234-5678"
    assert format_phone("not a phone", region="AR") == "not a phone"


def test_query_forms_cover_the_usual_ways_of_typing_a_number() -> None:
    assert phone_query_forms("777-12345", region="BO") == ["+59177712345"]
    assert phone_query_forms("00591 777 12345", region="BO") == ["+59177712345"]
    assert phone_query_forms("011 15 2345-6789", region="AR") == [
        "+5491123456789",
        "+541123456789",
    ]
    # Typed without 15 an Argentine mobile reads as a landline: search both.
    assert phone_query_forms("(11) 2345-6789", region="AR") == [
        "+541123456789",
        "+5491123456789",
    ]
    assert phone_query_forms("+55 11 91234 5678", region="AR") == ["+5511912345678"]


def test_query_forms_try_digits_as_an_international_number_without_plus() -> None:
    assert "+59177712345" in phone_query_forms("591 777 12345", region="AR")


def test_query_forms_are_empty_for_letters_or_few_digits() -> None:
    assert phone_query_forms("quispe 777", region="BO") == []
    assert phone_query_forms("777-12", region="BO") == []
    assert phone_query_forms("", region="BO") == []


def test_it_tells_mobiles_from_landlines() -> None:
    assert is_mobile("+5491123456789") is True
    assert is_mobile("+541123456789") is False
    assert is_mobile("+59177712345") is True
    assert is_mobile("+59144123456") is False
    # Mexico does not separate mobile and fixed ranges: any number may be a mobile.
    assert is_mobile("+525512345678") is True
    assert is_mobile("garbage") is False


def test_whatsapp_id_is_the_digits_without_plus() -> None:
    assert whatsapp_id("+5491123456789") == "5491123456789"
    with pytest.raises(ValueError, match=r"not an E\.164 number"):
        whatsapp_id("5491123456789")


# --- properties ---------------------------------------------------------------------


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """A valid number of one of our countries: an example number with new last digits."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    national = str(example.national_number)
    tail = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    number = phonenumbers.parse("+" + str(example.country_code) + national[:-4] + tail)
    assume(phonenumbers.is_valid_number(number))
    return region, number


@settings(max_examples=200)
@given(valid_numbers())
def test_any_valid_number_round_trips_through_every_format(
    case: tuple[str, phonenumbers.PhoneNumber],
) -> None:
    region, number = case
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    national = format_phone(e164, region=region)
    assert national == phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    assert normalize_phone(national, region=region) == e164
    international = format_phone(e164)
    assert normalize_phone(international, region="BO") == e164
    assert format_phone(normalize_phone(national, region=region), region=region) == national
    assert e164 in phone_query_forms(national, region=region)
    assert e164 in phone_query_forms(international, region=region)
    assert whatsapp_id(e164) == e164[1:]
