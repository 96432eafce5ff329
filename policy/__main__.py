"""rcs-testers guardrails: a Pulumi policy pack for the testers a stack may register.

Runs in `pulumi preview` / `pulumi up` with ``--policy-pack policy`` (or as a pack published to
an organisation). It sees each tester's inputs as the engine sends them to policy packs,
secrets decrypted: the phone is read only to tell its country calling code and is shown
masked (``91953XXXXX92``), never in full. A policy cannot see the previous state or the stack
config, so "new testers per change" and "phones written as secrets" stay with the program.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import phonenumbers
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

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


def who(props: Mapping[str, Any]) -> str:
    """``tester qa-alice of agent 48900``: how every message names a tester."""
    return f"tester {props['label']} of agent {props['agent_no']}"


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


def testers_per_agent(args: StackValidationArgs, report: ReportViolation) -> None:
    maximum = maximum_of(args.get_config())
    counts: Counter[str] = Counter()
    unknown: UnknownValueError | None = None
    for resource in args.resources:
        if resource.resource_type != TESTER_TYPE:
            continue
        try:
            counts[str(resource.props["agent_no"])] += 1
        except UnknownValueError as err:  # counted below as "skipped"
            unknown = err
    for agent, count in sorted(counts.items()):
        if count > maximum:
            report(
                f"agent {agent} has {count} testers; this pack allows at most {maximum} per agent. "
                "Move some to another agent's stack or remove them."
            )
    if unknown is not None:
        raise unknown  # pulumi-policy reports the policy as skipped during preview, with the field


def allowed_agents(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TESTER_TYPE:
        return
    agents = string_list(args.get_config(), "rcs-allowed-agents", "agents", AGENT_RE, '["48900"]')
    if agents is None:
        return
    agent = str(args.props["agent_no"])
    if agent not in agents:
        report(
            f"{who(args.props)}: agent {agent} is not an approved agent ({', '.join(agents)}). "
            "Declare testers only for approved agents, or have the pack's owners add this one."
        )


def allowed_countries(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TESTER_TYPE:
        return
    codes = string_list(
        args.get_config(), "rcs-allowed-countries", "countryCodes", COUNTRY_CODE_RE, '["91", "1"]'
    )
    if codes is None:
        return
    phone = str(args.props["phoneno"])
    try:
        code = str(phonenumbers.parse("+" + phone, None).country_code)
    except phonenumbers.NumberParseException:
        code = "unknown"
    if code not in codes:
        report(
            f"{who(args.props)} ({mask(phone)}): country calling code {code} is not allowed "
            f"(allowed: {', '.join(codes)}). Use a phone from an allowed country or remove "
            "the tester."
        )


def label_pattern(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TESTER_TYPE:
        return
    pattern = pattern_of(args.get_config())
    label = str(args.props["label"])
    if not pattern.fullmatch(label):
        report(
            f"{who(args.props)}: label does not match the naming pattern {pattern.pattern}. "
            "Rename it."
        )


def digit_strings(description: str, item: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "pattern": item},
        "description": description,
    }


POLICIES: Sequence[ResourceValidationPolicy | StackValidationPolicy] = (
    StackValidationPolicy(
        name="rcs-max-testers-per-agent",
        description=f"At most `maximum` testers per agent (default and ceiling {MAX_TESTERS}).",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=testers_per_agent,
        config_schema=PolicyConfigSchema(
            properties={
                "maximum": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_TESTERS,
                    "default": MAX_TESTERS,
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="rcs-allowed-agents",
        description="Testers only for the agent numbers in `agents` (when configured).",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=allowed_agents,
        config_schema=PolicyConfigSchema(
            properties={
                "agents": digit_strings('approved agent numbers, e.g. ["48900"]', "^[0-9]{1,20}$")
            }
        ),
    ),
    ResourceValidationPolicy(
        name="rcs-allowed-countries",
        description="Phones only from the calling codes in `countryCodes` (when configured).",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=allowed_countries,
        config_schema=PolicyConfigSchema(
            properties={
                "countryCodes": digit_strings(
                    'calling codes, e.g. ["91", "1"]', "^[1-9][0-9]{0,2}$"
                )
            }
        ),
    ),
    ResourceValidationPolicy(
        name="rcs-label-pattern",
        description="Tester labels match the team's naming pattern (`pattern`, a regex).",
        enforcement_level=EnforcementLevel.ADVISORY,
        validate=label_pattern,
        config_schema=PolicyConfigSchema(
            properties={"pattern": {"type": "string", "default": DEFAULT_LABEL_PATTERN}}
        ),
    ),
)

if __name__ == "__main__":
    PolicyPack(name="rcs-testers-guardrails", policies=list(POLICIES))
