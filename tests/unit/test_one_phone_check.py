"""One phone check for both forms of a tester: inline under an agent, and in the phonebook.
The same value gets the same message, its path aside; a placeholder gets the exact command
that sets its own path."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from rcs_devtools.fleet_data import formatted
from rcs_provider._config import FleetConfigError, parse_stack_testers, read_stack_testers

INLINE_PATH = "agents[0].testers[0]"
PHONEBOOK_PATH = "testers.qa-x"
MISSING = object()


def entry(phone: object) -> dict[str, Any]:
    return {} if phone is MISSING else {"phone": phone}


def first_problem(agents: object, phonebook: object) -> str:
    with pytest.raises(FleetConfigError) as caught:
        parse_stack_testers(agents, phonebook, source="stacks/Pulumi.dev.yaml")
    return caught.value.problems[0]


def inline_problem(phone: object) -> str:
    return first_problem([{"agent": "48900", "testers": [{"label": "qa-x", **entry(phone)}]}], None)


def phonebook_problem(phone: object) -> str:
    return first_problem([{"agent": "48900", "testers": ["qa-x"]}], {"qa-x": entry(phone)})


@pytest.mark.parametrize(
    "phone",
    [
        "REPLACE-WITH-SECRET",
        "<number>",
        MISSING,
        None,
        True,
        ["+91"],
        2**70,
        "+91 98OOO",
        "+44 7700 900",
        "+91 11 2345 6789",
    ],
)
def test_both_forms_give_the_same_message(phone: object) -> None:
    inline = inline_problem(phone)
    in_phonebook = phonebook_problem(phone)

    assert inline.startswith(f"{INLINE_PATH}.phone: "), inline
    assert in_phonebook == inline.replace(INLINE_PATH, PHONEBOOK_PATH)


def test_a_placeholder_in_the_phonebook_names_the_command_for_its_path() -> None:
    assert phonebook_problem("REPLACE-WITH-SECRET") == (
        "testers.qa-x.phone: 'REPLACE-WITH-SECRET' is a placeholder, not a number: set the "
        "tester's number with `pulumi config set --secret --path "
        "'rcs-testers:testers.qa-x.phone' '<number>'`"
    )


def test_a_placeholder_in_the_phonebook_is_one_problem_outside_the_sandbox() -> None:
    """Written in the stack file, outside the sandbox: the placeholder's command only, not also
    a phone "written in clear" (the same rule as inline placeholders)."""
    agents = [{"agent": "48900", "testers": ["qa-x", "qa-y"]}]
    phonebook = {"qa-x": {"phone": "REPLACE-WITH-SECRET"}, "qa-y": {"phone": formatted(2)}}
    stack_text = yaml.safe_dump({"config": {"qa:agents": agents, "qa:testers": phonebook}})

    with pytest.raises(FleetConfigError) as caught:
        read_stack_testers(
            agents,
            phonebook,
            stack_text=stack_text,
            source="stacks/Pulumi.prod.yaml",
            key="qa:agents",
            outside_sandbox=True,
            allow_clear_phones=False,
        )

    assert [p.split(": ", 1)[0] for p in caught.value.problems] == [
        "testers.qa-y.phone",  # written in clear
        "testers.qa-x.phone",  # the placeholder, once
        "agents[0].testers[0]",  # the reference to it
    ]
    assert caught.value.problems[1].endswith(
        "`pulumi config set --secret --path 'qa:testers.qa-x.phone' '<number>'`"
    )
