"""Phone normalisation, masking and redaction (rcs_provider._phones)."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_provider._phones import (
    PhoneNumberError,
    mask_phone,
    mask_text,
    normalize_phone,
    redact_digits,
)

PHONE = "919530000092"
REGIONS = ["IN", "US", "GB", "DE", "FR", "BR", "AU", "JP", "SG", "AE", "ZA", "NG", "IT", "KE"]


def _example(region: str) -> str:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert number is not None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


valid_numbers = st.one_of(
    st.sampled_from([_example(r) for r in REGIONS]),
    st.integers(0, 99_999_999).map(lambda n: f"9198{n:08d}"),
)


@st.composite
def formatted_variants(draw: st.DrawFn, digits: str) -> str:
    """``digits`` as a person might type it: '+', spaces, dashes, dots, parentheses."""
    out = []
    for i, ch in enumerate(digits):
        if i:
            out.append(draw(st.sampled_from(["", "", " ", "-", ".", " - "])))
        out.append(ch)
    text = "".join(out)
    if draw(st.booleans()):
        cut = draw(st.integers(1, len(digits) - 1))
        text = f"({digits[:cut]}) {digits[cut:]}"
    prefix = draw(st.sampled_from(["", "+", "(+", " +"]))
    if prefix == "(+":
        text = f"(+{digits[:2]}) {digits[2:]}"
        prefix = ""
    return prefix + text + draw(st.sampled_from(["", " "]))


# -- normalize_phone ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "+91 95300 00092",
        "919530000092",
        "+91-95300-00092",
        "+91.95300.00092",
        "+91 (953) 000 0092",
        "(+91) 95300 00092",
        "  +919530000092  ",
        919530000092,
    ],
)
def test_normalize_accepts_common_formats(value: str | int) -> None:
    assert normalize_phone(value) == PHONE


def test_normalize_returns_canonical_e164_digits() -> None:
    # A national trunk prefix typed after the country code is dropped by phonenumbers.
    assert normalize_phone("+44 020 7946 0958") == "442079460958"
    assert normalize_phone("442079460958") == "442079460958"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("+91 9530O00092", "may only contain digits"),  # letter O
        ("1-800-FLOWERS", "may only contain digits"),
        ("".join(chr(0x0660 + int(d)) for d in PHONE), "may only contain digits"),  # Arabic-Indic
        ("".join(chr(0xFF10 + int(d)) for d in PHONE), "may only contain digits"),  # fullwidth
        ("+91 95300 00092 ext 1", "may only contain digits"),
        ("91+9530000092", "may only contain digits"),
        ("12345", "too short"),
        ("1234567890123456", "too long"),
        ("+0919530000092", "country code"),
        ("+999 1234 5678", "country code"),
        ("+91 12345", "wrong number of digits"),
        ("+1 201 055 0123", "not a valid number"),
    ],
)
def test_normalize_rejects_bad_strings(value: str, fragment: str) -> None:
    with pytest.raises(PhoneNumberError, match=fragment):
        normalize_phone(value)


@pytest.mark.parametrize("value", [True, False, None, 9.1953e11, b"919530000092", [PHONE]])
def test_normalize_rejects_other_types_with_clear_text(value: object) -> None:
    with pytest.raises(PhoneNumberError, match="must be a string or an integer"):
        normalize_phone(value)  # type: ignore[arg-type]


def test_normalize_rejects_negative_ints() -> None:
    with pytest.raises(PhoneNumberError, match="negative"):
        normalize_phone(-919530000092)


def test_phone_number_error_is_a_value_error() -> None:
    assert issubclass(PhoneNumberError, ValueError)


@pytest.mark.parametrize(
    "value", ["+91 95300 00092 x", "+91 12345 000", "91953000009299999", "+1 201 055 0123"]
)
def test_errors_never_show_the_full_number(value: str) -> None:
    with pytest.raises(PhoneNumberError) as info:
        normalize_phone(value)
    digits = re.sub(r"[^0-9]", "", value)
    assert digits not in str(info.value)
    assert not re.search(r"\d{8}", str(info.value))


def test_error_shows_the_masked_number() -> None:
    with pytest.raises(PhoneNumberError) as info:
        normalize_phone("+1 201 055 0123")
    assert str(info.value) == (
        "phone number 120XXXXXX23 is not a valid number for its country code; "
        "check the country code and the number"
    )


@given(valid_numbers)
def test_normalize_is_idempotent(digits: str) -> None:
    once = normalize_phone(digits)
    assert normalize_phone(once) == once
    assert normalize_phone("+" + once) == once


@given(valid_numbers.flatmap(lambda d: st.tuples(st.just(d), formatted_variants(d))))
def test_normalize_accepts_formatted_variants(case: tuple[str, str]) -> None:
    digits, text = case
    assert normalize_phone(text) == digits


@given(valid_numbers)
def test_normalize_accepts_ints(digits: str) -> None:
    assert normalize_phone(int(digits)) == digits


# -- mask_phone -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        ("919530000092", "91953XXXXX92"),
        ("+91 95300 00092", "91953XXXXX92"),
        ("12015550123", "120XXXXXX23"),
        ("1234567890", "123XXXXX90"),
        ("12345678", "12XXXX78"),
        ("1234567", "12XXXX7"),
        ("1234", "1XX4"),
        ("12", "1X"),
        ("1", "X"),
        ("", ""),
        ("123456789012345", "12345XXXXXXXX45"),
    ],
)
def test_mask_examples(digits: str, masked: str) -> None:
    assert mask_phone(digits) == masked


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_mask_never_reveals_the_number(digits: str) -> None:
    masked = mask_phone(digits)
    shown = sum(ch.isdigit() for ch in masked)
    assert masked != digits
    assert len(masked) == len(digits)
    assert "X" in masked
    assert shown <= 7
    if len(digits) < 12:
        assert shown <= len(digits) // 2


# -- redact_digits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tester 919530000092 exists", "tester 91953XXXXX92 exists"),
        ("number +91 95300 00092.", "number 91953XXXXX92."),
        ("phone (+91) 953-000-0092!", "phone (91953XXXXX92!"),
        ("agent 48900 not found", "agent 48900 not found"),
        ("key SECRET-KEY-123456789abcdef", "key SECRET-KEY-12XXXXX89abcdef"),
        ("id b8a32010-dfef-4fa2", "id b8a32010-dfef-4fa2"),
        ("no digits", "no digits"),
    ],
)
def test_redact_examples(text: str, expected: str) -> None:
    assert redact_digits(text) == expected


@given(
    valid_numbers.flatmap(lambda d: st.tuples(st.just(d), formatted_variants(d))),
    st.text(max_size=30),
    st.text(max_size=30),
)
def test_redact_never_leaves_the_number(case: tuple[str, str], before: str, after: str) -> None:
    digits, text = case
    out = redact_digits(f"{before}{text}{after}")
    assert digits not in out
    assert digits not in re.sub(r"[^0-9]", "", redact_digits(text))


@given(st.text(alphabet=st.sampled_from("0123456789 -.()+/abcX\u0663"), max_size=60))
def test_redact_leaves_no_run_of_seven_digits(text: str) -> None:
    assert not re.search(r"\d{7}", redact_digits(text))


def test_an_account_sid_is_masked_by_the_phone_rule() -> None:
    """Doctor shows the sid with the package's one masking rule: recognisable, not usable."""
    assert mask_text("SANDBOXSID0001") == "SANDBXXXXXXX01"
    assert mask_text("HXAB12CD34EF5678") == "HXAB1XXXXXXXXX78"
    assert mask_phone("+91 95300 00092") == mask_text("919530000092")
