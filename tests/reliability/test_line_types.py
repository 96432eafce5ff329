"""Numbers that can never receive RCS, through the real engine: a deployed stack whose config
gains fixed-line, toll-free and pager numbers (and loses the allowNonMobile of a number it
already holds) fails `pulumi preview` and `pulumi up` with every problem listed by its path,
masked, with zero API calls and the state untouched; putting the override back is no change.
"""

from __future__ import annotations

import re
from typing import Any

from rcs_devtools.fleet_data import formatted, phone
from rcs_devtools.pulumi_cli import Result, Stack
from rcs_provider._phones import mask_phone, normalize_phone

SRC = "stacks/Pulumi.dev.yaml"

BERLIN_DESK = "+49 30 123456"  # fixed line, registered on purpose with allowNonMobile
US_MOBILE = "+1 415 555 0134"  # FIXED_LINE_OR_MOBILE: passes
GB_MOBILE = "+44 7400 123456"
AU_MOBILE = "+61 412 345 678"
DELHI_FIXED = "+91 11 2345 6789"
US_TOLL_FREE = "+1 800 555 0199"
GB_PAGER = "+44 7640 123456"


def deployed_agents(*, desk_allowed: bool = True) -> list[dict[str, Any]]:
    desk: dict[str, Any] = {"label": "qa-desk", "phone": BERLIN_DESK}
    if desk_allowed:
        desk["allowNonMobile"] = True
    return [
        {
            "agent": "48900",
            "testers": [
                {"label": "qa-alice", "phone": formatted(1)},
                {"label": "qa-us", "phone": US_MOBILE},
                desk,
            ],
        },
        {"agent": "20700", "testers": [{"label": "qa-gb", "phone": GB_MOBILE}]},
    ]


def mixed_agents() -> list[dict[str, Any]]:
    """The deployed stack without the desk's override, plus new testers of every kind."""
    agents = deployed_agents(desk_allowed=False)
    agents[1]["testers"] += [
        {"label": "qa-au", "phone": AU_MOBILE},
        {"label": "qa-delhi", "phone": DELHI_FIXED},
        {"label": "qa-freephone", "phone": US_TOLL_FREE},
        {"label": "qa pager", "phone": GB_PAGER},
    ]
    return agents


def refused(path: str, spelling: str, words: str) -> str:
    return (
        f"{SRC}: {path}: phone number {mask_phone(normalize_phone(spelling))} is {words}, "
        "which cannot receive RCS messages"
    )


EXPECTED = [
    refused("agents[0].testers[2].phone", BERLIN_DESK, "a fixed-line number"),
    refused("agents[1].testers[2].phone", DELHI_FIXED, "a fixed-line number"),
    refused("agents[1].testers[3].phone", US_TOLL_FREE, "a toll-free number"),
    f"{SRC}: agents[1].testers[4].label: must be 1-64 characters",
    refused("agents[1].testers[4].phone", GB_PAGER, "a pager number"),
    "Unable to read the testers of stacks/Pulumi.dev.yaml: 5 problem(s); nothing was registered.",
]
EVERY_NUMBER = [
    formatted(1),
    BERLIN_DESK,
    US_MOBILE,
    GB_MOBILE,
    AU_MOBILE,
    DELHI_FIXED,
    US_TOLL_FREE,
    GB_PAGER,
]


def assert_refused_in_full_and_masked(result: Result) -> None:
    text = result.output
    assert result.returncode != 0, f"pulumi {result.args[0]} accepted the mix:\n{text[-3000:]}"
    missing = [line for line in EXPECTED if line not in text]
    assert not missing, f"pulumi {result.args[0]} does not say {missing}:\n{text[-4000:]}"
    assert "Traceback" not in text
    digits_shown = re.sub(r"[^0-9X]", "", text)
    leaked = [n for n in EVERY_NUMBER if normalize_phone(n) in digits_shown]
    assert not leaked, f"pulumi {result.args[0]} printed {leaked}:\n{text[-4000:]}"


def test_numbers_that_can_never_receive_rcs_fail_preview_and_up_with_zero_calls(
    stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(deployed_agents())
    stack.up().ok()
    registered = sorted(r["phoneno"] for r in sandbox.registrations())
    assert registered == sorted(
        normalize_phone(n) for n in (formatted(1), US_MOBILE, BERLIN_DESK, GB_MOBILE)
    )
    state = stack.recorded()
    before = sandbox.stats()

    stack.set_agents(mixed_agents())
    assert_refused_in_full_and_masked(stack.preview())
    assert_refused_in_full_and_masked(stack.up())

    after = sandbox.stats()
    assert after["register_calls"] == before["register_calls"], "a register call was made"
    assert after["list_calls"] == before["list_calls"], "a list call was made"
    assert stack.recorded() == state, "the state changed"
    assert sorted(r["phoneno"] for r in sandbox.registrations()) == registered

    # The override put back: the deployed stack is exactly as it was.
    stack.set_agents(deployed_agents())
    stack.preview("--expect-no-changes").ok()
    assert phone(1) not in stack.preview().output
