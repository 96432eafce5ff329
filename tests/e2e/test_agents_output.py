"""The stack output ``agents`` on the real engine: keyed by label, so a preview shows a removed
tester as one removal and a new one as one addition; and never Pulumi's unknown marker, even
after a ``pulumi refresh --run-program`` that leaves declared testers uncreated."""

from __future__ import annotations

import json
import re
from typing import Any

from rcs_devtools.fleet_data import agents_block, phone
from rcs_devtools.pulumi_cli import Stack

#: What the engine stores for an output it could not know (``plugin.UnknownStringValue``).
UNKNOWN_MARKER = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
THREE = {"48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)]}


def outputs_section(output: str) -> list[str]:
    """The lines of a preview's ``Outputs:`` part (``--diff``: after ``--outputs:--``)."""
    _, _, tail = output.partition("--outputs:--")
    if not tail:
        _, _, tail = output.partition("\nOutputs:\n")
    return tail.partition("\nResources:")[0].splitlines()


def marked(lines: list[str], mark: str) -> list[str]:
    """The keys of the lines starting with ``mark`` (``-``, ``+``, ``~``) under the output."""
    found = []
    for line in lines:
        match = re.match(rf"\s*{re.escape(mark)} (\S+)\s*:", line)
        if match:
            found.append(match.group(1))
    return found


def test_a_removal_previews_as_one_removal_and_an_addition_as_one_addition(
    stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(agents_block(THREE))
    stack.up().ok()
    ids = {r["phoneno"]: r["id"] for r in sandbox.registrations()}
    assert stack.outputs()["agents"] == {
        "48900": {
            label: {"phone": f"91980XXXXX0{n}", "registration_id": ids[phone(n)], "status": s}
            for label, n in THREE["48900"]
            for s in ["Unverified"]
        }
    }

    stack.set_agents(agents_block({"48900": [("qa-bob", 2), ("qa-chen", 3)]}))
    removal = outputs_section(stack.preview("--diff").ok().output)
    assert marked(removal, "-") == ["qa-alice", "phone", "registration_id", "status"], removal
    assert marked(removal, "~") == ["agents", "48900"], removal
    assert marked(removal, "+") == []
    assert not any(re.match(r"\s*~ \[\d+\]", line) for line in removal), "no list rows"

    stack.set_agents(agents_block({**THREE, "48900": [*THREE["48900"], ("qa-dana", 4)]}))
    addition = outputs_section(stack.preview().ok().output)
    assert marked(addition, "+") == ["qa-dana", "phone", "registration_id", "status"], addition
    assert marked(addition, "-") == []
    assert sandbox.stats()["register_calls"] == 3, "previews register nothing"


def test_a_refresh_that_creates_nothing_leaves_no_unknown_marker_in_the_output(
    stack: Stack, sandbox: Any
) -> None:
    """Testers declared but not in the state (not created yet: a refresh creates nothing)
    show ``null``, not the engine's unknown marker, until the next ``up``."""
    stack.set_agents(agents_block({"48900": [("qa-alice", 1)]}))
    stack.up().ok()
    stack.set_agents(agents_block(THREE))

    refreshed = stack.refresh().ok()

    assert UNKNOWN_MARKER not in json.dumps(stack.outputs())
    agents = stack.outputs()["agents"]["48900"]
    assert agents["qa-bob"] == {"phone": "91980XXXXX02", "registration_id": None, "status": None}
    assert agents["qa-alice"]["registration_id"] == sandbox.registrations()[0]["id"]
    assert sandbox.stats()["register_calls"] == 1, "a refresh registers nothing"
    assert "[unknown]" not in refreshed.output

    stack.up().ok()
    assert all(row["status"] == "Unverified" for row in stack.outputs()["agents"]["48900"].values())
