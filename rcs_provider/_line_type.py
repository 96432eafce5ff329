"""Which kind of line a phone number is, and whether it can ever receive RCS messages.

An RCS tester is a phone that accepts the agent's invitation and receives its messages, so it
must be a mobile. ``phonenumbers`` knows each country's number plan: a fixed line, a toll-free
or premium-rate number, a pager or a voicemail box can never be a tester, and registering one
spends an invitation from the agent's daily quota for nothing. The metadata can be wrong, so a
tester may be declared with ``allowNonMobile: true`` to accept its number whatever its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import phonenumbers
from phonenumbers import PhoneNumberType

from ._phones import mask_phone

__all__ = [
    "ALLOW_NON_MOBILE_KEY",
    "LineType",
    "RcsReach",
    "line_type",
    "line_type_problem",
    "line_type_warning",
]

#: The per-tester stack config key that accepts a number whatever its type.
ALLOW_NON_MOBILE_KEY = "allowNonMobile"


class RcsReach(Enum):
    """Whether a kind of line can receive RCS messages."""

    CAN = "can"  # a mobile, or a line the plan cannot tell from one
    NEVER = "never"  # a fixed line, toll-free, premium-rate... number
    UNKNOWN = "unknown"  # the metadata does not say (a range newer than the metadata)


@dataclass(frozen=True)
class LineType:
    """A number's type as ``phonenumbers`` names it, in words, and what it means for RCS."""

    name: str  # PhoneNumberType's name, e.g. "FIXED_LINE"
    words: str  # e.g. "a fixed-line number"
    reach: RcsReach


_TYPES: dict[int, LineType] = {
    PhoneNumberType.MOBILE: LineType("MOBILE", "a mobile number", RcsReach.CAN),
    # The US, Canada and India share ranges between fixed lines and mobiles.
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType(
        "FIXED_LINE_OR_MOBILE", "a fixed-line or mobile number", RcsReach.CAN
    ),
    # Follow-me numbers (UK 070, US 500) forward to a mobile as often as not.
    PhoneNumberType.PERSONAL_NUMBER: LineType(
        "PERSONAL_NUMBER", "a personal (follow-me) number", RcsReach.CAN
    ),
    # Some VoIP ranges are served to phones that do RCS (e.g. Australian 014).
    PhoneNumberType.VOIP: LineType("VOIP", "a VoIP number", RcsReach.CAN),
    PhoneNumberType.FIXED_LINE: LineType("FIXED_LINE", "a fixed-line number", RcsReach.NEVER),
    PhoneNumberType.TOLL_FREE: LineType("TOLL_FREE", "a toll-free number", RcsReach.NEVER),
    PhoneNumberType.PREMIUM_RATE: LineType("PREMIUM_RATE", "a premium-rate number", RcsReach.NEVER),
    PhoneNumberType.SHARED_COST: LineType("SHARED_COST", "a shared-cost number", RcsReach.NEVER),
    PhoneNumberType.PAGER: LineType("PAGER", "a pager number", RcsReach.NEVER),
    PhoneNumberType.UAN: LineType("UAN", "a universal access (UAN) number", RcsReach.NEVER),
    PhoneNumberType.VOICEMAIL: LineType("VOICEMAIL", "a voicemail access number", RcsReach.NEVER),
}
_UNKNOWN = LineType("UNKNOWN", "a number of unknown type", RcsReach.UNKNOWN)


def line_type(digits: str) -> LineType:
    """The line type of ``digits`` (E.164 digits without ``+``, as ``normalize_phone`` returns).

    Anything ``phonenumbers`` cannot parse or classify is :data:`RcsReach.UNKNOWN`."""
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return _UNKNOWN
    return _TYPES.get(phonenumbers.number_type(parsed), _UNKNOWN)


def line_type_problem(digits: str, *, allow_non_mobile: bool = False) -> str | None:
    """Why ``digits`` cannot be a tester, or None. The number is shown masked."""
    kind = line_type(digits)
    if allow_non_mobile or kind.reach is not RcsReach.NEVER:
        return None
    return (
        f"phone number {mask_phone(digits)} is {kind.words}, which cannot receive RCS "
        "messages: declare the tester's mobile number, or, if it really is a mobile that "
        f"phonenumbers' metadata classifies wrongly, set {ALLOW_NON_MOBILE_KEY}: true on it"
    )


def line_type_warning(digits: str, *, allow_non_mobile: bool = False) -> str | None:
    """A warning when the metadata cannot say whether ``digits`` is a mobile, or None."""
    kind = line_type(digits)
    if allow_non_mobile or kind.reach is not RcsReach.UNKNOWN:
        return None
    return (
        f"phone number {mask_phone(digits)} is {kind.words}: phonenumbers' metadata cannot say "
        "whether it can receive RCS messages (a new range?). It is registered as declared; "
        f"check that it is a mobile, then set {ALLOW_NON_MOBILE_KEY}: true on it to silence this"
    )
