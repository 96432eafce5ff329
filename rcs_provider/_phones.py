"""Phones, agents and labels: the rules stack-config parsing and the provider share.

Phone numbers (normalise, validate, mask), agent numbers and tester labels, and the limits
Google RBM (behind Kaleyra) sets. Phone numbers are personal data: every message built here
shows them masked (``91953XXXXX92``), never in full. No Pulumi and no HTTP here.
"""

from __future__ import annotations

import re

import phonenumbers

__all__ = [
    "DAILY_INVITATION_LIMIT",
    "MAX_TESTERS_PER_AGENT",
    "PHONE_TEXT",
    "PhoneNumberError",
    "mask_phone",
    "mask_text",
    "normalize_agent",
    "normalize_phone",
    "redact_digits",
    "validate_label",
]

#: Google RBM accepts this many new tester invitations per agent per day.
DAILY_INVITATION_LIMIT = 20
#: Google RBM allows this many testers per agent in total.
MAX_TESTERS_PER_AGENT = 200

#: A phone number as people write it: ASCII digits only (``\d`` would also accept
#: Arabic-Indic or fullwidth digits), an optional leading ``+`` or ``(+``, separators.
PHONE_TEXT = re.compile(r"\(?\+?[0-9 .()\-]+")
_NON_DIGITS = re.compile(r"[^0-9]")
_MIN_DIGITS = 7
_MAX_DIGITS = 15  # E.164
# A phone-like run in free text: an optional "+", then digits that may be separated by
# up to three of " .-()/" (so "+91 (953) 000 - 0092" is one run). Any Unicode digit counts.
_PHONE_LIKE_RUN = re.compile(r"\+?\(?\d(?:[ .()/+\-]{0,3}\d)*")
_HOW_TO_WRITE = "write it in international format: '+', the country code, then the number"


class PhoneNumberError(ValueError):
    """A phone number is malformed or invalid; the message shows it masked at most."""


def normalize_phone(value: str | int) -> str:
    """Return ``value`` as E.164 digits without ``+`` (``"+91 95300 00092"`` -> ``"919530000092"``).

    Accepts ASCII digits with an optional leading ``+`` (or ``(+``) and spaces, dashes,
    dots or parentheses, or a non-negative ``int`` (YAML integers). Raises
    :class:`PhoneNumberError` for anything else or for numbers that ``phonenumbers``
    does not consider possible and valid. Idempotent.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PhoneNumberError(
            f"phone number must be a string or an integer, not {type(value).__name__}; "
            f"{_HOW_TO_WRITE}"
        )
    if isinstance(value, int) and value < 0:
        raise PhoneNumberError(f"phone number must not be negative; {_HOW_TO_WRITE}")
    text = str(value).strip()
    if not text:
        raise PhoneNumberError(f"phone number is empty; {_HOW_TO_WRITE}")
    if not PHONE_TEXT.fullmatch(text):
        raise PhoneNumberError(
            "phone number may only contain digits 0-9, spaces, dashes, dots, parentheses "
            f"and a leading '+'; {_HOW_TO_WRITE}"
        )
    digits = _NON_DIGITS.sub("", text)
    masked = mask_phone(digits)
    if len(digits) < _MIN_DIGITS:
        raise PhoneNumberError(f"phone number {masked} is too short; {_HOW_TO_WRITE}")
    if len(digits) > _MAX_DIGITS:
        raise PhoneNumberError(
            f"phone number {masked} is too long (E.164 allows at most {_MAX_DIGITS} digits)"
        )
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        raise PhoneNumberError(
            f"phone number {masked} does not start with a known country code; {_HOW_TO_WRITE}"
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneNumberError(
            f"phone number {masked} has the wrong number of digits for its country code; "
            f"{_HOW_TO_WRITE}"
        )
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneNumberError(
            f"phone number {masked} is not a valid number for its country code; "
            "check the country code and the number"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def mask_phone(digits: str) -> str:
    """Mask a phone number for display: ``"919530000092"`` -> ``"91953XXXXX92"``.

    Separators and ``+`` are dropped, then the digits are masked by :func:`mask_text`."""
    return mask_text("".join(ch for ch in digits if ch.isdecimal()))


def mask_text(text: str) -> str:
    """Mask an identifier (a phone's digits, an account SID) for display: recognisable, not
    usable. Texts of 12 characters or more keep the first 5 and last 2; shorter ones keep at
    most half. At least one character is always masked and at most 7 are ever shown."""
    n = len(text)
    if n >= 12:
        head, tail = 5, 2
    else:
        tail = 2 if n >= 8 else (1 if n >= 4 else 0)
        head = max(0, n // 2 - tail)
    return text[:head] + "X" * (n - head - tail) + text[n - tail :]


def redact_digits(text: str) -> str:
    """Replace every phone-like run of 7 or more digits in ``text`` by its mask.

    Meant for server-provided text (error messages) before it reaches an exception or a
    log line. Over-redaction (dates, long ids) is accepted; a leaked number is not.
    """

    def _mask(match: re.Match[str]) -> str:
        run = match.group(0)
        count = sum(ch.isdecimal() for ch in run)
        return mask_phone(run) if count >= _MIN_DIGITS else run

    return _PHONE_LIKE_RUN.sub(_mask, text)


_AGENT = re.compile(r"[0-9]{1,20}")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LABEL_SEPARATORS = re.compile(r"[-._]")
_DIGIT_RUN = re.compile(r"[0-9]{7,}")


def normalize_agent(value: object) -> str:
    """Agent number as a digit string; YAML integers are accepted, floats and booleans not."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be a string of digits, got {type(value).__name__}")
    text = str(value).strip()
    if not _AGENT.fullmatch(text):
        raise ValueError("must be the agent's service code: digits only, e.g. 48900")
    return text


def validate_label(value: object) -> str:
    """A label names a tester in logical names and logs: 1-64 of ``A-Z a-z 0-9 . _ -``."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    if not _LABEL.fullmatch(value):
        raise ValueError(
            "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (no spaces, newlines or control characters)"
        )
    if _DIGIT_RUN.search(_LABEL_SEPARATORS.sub("", value)):
        raise ValueError(
            "must not contain 7 or more digits in a row, even split by '-', '.' or '_' "
            "(it could be a phone number, and labels appear in names and logs)"
        )
    return value
