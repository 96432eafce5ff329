"""rcs-testers guardrails: a Pulumi policy pack for the testers a stack may register.

Runs in `pulumi preview` / `pulumi up` with ``--policy-pack policy`` (or as a pack published to
an organisation). It sees each tester's inputs as the engine sends them to policy packs,
secrets decrypted: the phone is read only to tell its country calling code and is shown
masked (``91953XXXXX92``), never in full. A policy cannot see the previous state or the stack
config, so "new testers per change" and "phones written as secrets" stay with the program.

The policies are here; what they check with (the tester type, the ceiling, the mask, the
config readers) is in ``rules.py``, importable without ``pulumi_policy``. The pack runs with
its folder first on the import path, so ``rules`` is that file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

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
from rules import (
    AGENT_RE,
    COUNTRY_CODE_RE,
    DEFAULT_LABEL_PATTERN,
    MAX_TESTERS,
    TESTER_TYPE,
    calling_code,
    mask,
    maximum_of,
    pattern_of,
    string_list,
    tester_name,
)


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
            f"{tester_name(args.props)}: agent {agent} is not an approved agent "
            f"({', '.join(agents)}). Declare testers only for approved agents, or have the "
            "pack's owners add this one."
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
    code = calling_code(phone)
    if code not in codes:
        report(
            f"{tester_name(args.props)} ({mask(phone)}): country calling code {code} is not "
            f"allowed (allowed: {', '.join(codes)}). Use a phone from an allowed country or "
            "remove the tester."
        )


def label_pattern(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TESTER_TYPE:
        return
    pattern = pattern_of(args.get_config())
    label = str(args.props["label"])
    if not pattern.fullmatch(label):
        report(
            f"{tester_name(args.props)}: label does not match the naming pattern "
            f"{pattern.pattern}. Rename it."
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
