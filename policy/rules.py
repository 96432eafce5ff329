"""The guardrails' pure part: the pack's copies of the program's rules and the readers of its
config, importable without ``pulumi_policy`` (``__main__.py`` holds the policies).

The pack runs in its own virtualenv and cannot import ``rcs_provider``, so the tester type, the
ceiling of testers per agent and the phone mask are copies here; a test of the project runs
them against the package's own on a corpus of numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import phonenumbers

#: The resource type of a tester, as the engine names ``rcs_provider``'s ``RcsTester``.
TESTER_TYPE = "pulumi-python:dynamic/kaleyra:RcsTester"
#: Google RBM (behind Kaleyra) allows 200 testers per agent; the pack may only ask for fewer.
MAX_TESTERS = 200
DEFAULT_LABEL_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
AGENT_RE = re.compile(r"[0-9]{1,20}")
COUNTRY_CODE_RE = re.compile(r"[1-9][0-9]{0,2}")


class PackConfigError(ValueError):
    """The pack config of one policy has a wrong value (the engine's schema check aside)."""


def mask(digits: str) -> str:
    """``919530000092`` -> ``91953XXXXX92``: 5 + 2 digits kept from 12 or more, at most half
    of a shorter number, at least one digit always hidden (the program's own rule)."""
    only = "".join(ch for ch in digits if ch.isdecimal())
    n = len(only)
    if n >= 12:
        head, tail = 5, 2
    else:
        tail = 2 if n >= 8 else (1 if n >= 4 else 0)
        head = max(0, n // 2 - tail)
    return only[:head] + "X" * (n - head - tail) + only[n - tail :]


def tester_name(props: Mapping[str, Any]) -> str:
    """``tester qa-alice of agent 48900``: how every message names a tester."""
    return f"tester {props['label']} of agent {props['agent_no']}"


def calling_code(phone: str) -> str:
    """The country calling code of E.164 digits (``91`` for ``919530000092``), or
    ``unknown``."""
    try:
        return str(phonenumbers.parse("+" + phone, None).country_code)
    except phonenumbers.NumberParseException:
        return "unknown"


def string_list(
    config: Mapping[str, Any], policy: str, key: str, item: re.Pattern[str], example: str
) -> list[str] | None:
    """The list of digit strings under ``key`` of a policy's config; None when not configured."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, str) and item.fullmatch(v) for v in value
    ):
        raise PackConfigError(
            f"Unable to read the pack config of {policy}: {key} must be a list of digit strings "
            f"such as {example}, got {value!r}. Fix {key} in the --policy-pack-config file."
        )
    return value


def maximum_of(config: Mapping[str, Any]) -> int:
    """``maximum`` of ``rcs-max-testers-per-agent``: 1 to :data:`MAX_TESTERS`, default the
    ceiling."""
    value = config.get("maximum", MAX_TESTERS)
    # Pack config arrives as a protobuf Struct, where every number is a float.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != int(value)
        or not 1 <= value <= MAX_TESTERS
    ):
        raise PackConfigError(
            "Unable to read the pack config of rcs-max-testers-per-agent: maximum must be a "
            f"whole number from 1 to {MAX_TESTERS}, got {value!r}. Fix maximum in the "
            "--policy-pack-config file."
        )
    return int(value)


def pattern_of(config: Mapping[str, Any]) -> re.Pattern[str]:
    """``pattern`` of ``rcs-label-pattern``, compiled."""
    value = config.get("pattern", DEFAULT_LABEL_PATTERN)
    try:
        if not isinstance(value, str):
            raise TypeError(f"got {type(value).__name__}")
        return re.compile(value)
    except (re.error, TypeError) as err:
        raise PackConfigError(
            "Unable to read the pack config of rcs-label-pattern: pattern must be a Python regular "
            f"expression: {err}. Fix pattern in the --policy-pack-config file."
        ) from None
