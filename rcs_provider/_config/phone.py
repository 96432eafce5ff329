"""The one check of a tester's phone, written inline under an agent or in the phonebook: the
same messages either way, placeholders included (each gets the exact ``pulumi config set
--secret --path`` command for its own path). Also the YAML scalars the checks rest on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._phones import PhoneNumberError, normalize_phone, redact_digits

__all__ = ["checked_phone", "is_placeholder_phone", "scalar_text", "type_name"]

#: A word standing in for a number still to be set (``REPLACE-WITH-SECRET``, ``TODO``,
#: ``<number>``): letters and no digit at all, or a ``<``. A number with a letter typed for a
#: digit (``98OOO``) is a mistyped number, not a placeholder.
_LETTERS = re.compile(r"[^\W\d_]{2}")
_DIGIT = re.compile(r"\d")


def type_name(value: object) -> str:
    """How problems name a YAML value's type (``null`` for None)."""
    return "null" if value is None else type(value).__name__


def scalar_text(value: object, path: str, what: str, problems: list[str]) -> str | None:
    """A YAML string; integers are coerced (``48900`` -> ``"48900"``), nothing else is."""
    if isinstance(value, bool) or value is None or not isinstance(value, str | int):
        problems.append(f"{path}: {what} must be a string, got {type_name(value)}")
        return None
    if isinstance(value, int) and value.bit_length() > 64:
        problems.append(f"{path}: {what} is a number of more than 19 digits: too long")
        return None
    return str(value)


def is_placeholder_phone(text: str) -> bool:
    """Whether a phone value is a placeholder, e.g. the shipped stack files' REPLACE-WITH-SECRET."""
    return "<" in text or (bool(_LETTERS.search(text)) and not _DIGIT.search(text))


def checked_phone(
    node: Mapping[str, Any], path: str, problems: list[str], *, config_path: str
) -> str | None:
    """The phone of the tester at ``path`` (``agents[0].testers[1]``, ``testers.qa-alice``) as
    E.164 digits, or None with its problem added. ``config_path`` is the phone's full config
    path (``rcs-testers:testers.qa-alice.phone``), which a placeholder's fix names."""
    if "phone" not in node:
        problems.append(f"{path}.phone: missing: the tester's number in E.164, e.g. +919530000092")
        return None
    text = scalar_text(node["phone"], f"{path}.phone", "phone", problems)
    if text is None:
        return None
    if is_placeholder_phone(text):
        shown = redact_digits(text)[:40]
        problems.append(
            f"{path}.phone: '{shown}' is a placeholder, not a number: set the tester's number "
            f"with `pulumi config set --secret --path '{config_path}' '<number>'`"
        )
        return None
    try:
        return normalize_phone(text)
    except PhoneNumberError as err:
        problems.append(f"{path}.phone: {err}")
        return None
