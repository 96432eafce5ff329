"""A label rename on the real engine: the program aliases the tester's previous resource, so the
engine updates the label in place with no API call, under every lookup mode and against the
Kaleyra that serves only the documented register call. Cases that are not a plain rename (a
swap of labels, a rename that also changes the number) stay a create and a delete."""

from __future__ import annotations

from typing import Any

import pytest

from rcs_devtools.fleet_data import agents_block, phone, spellings
from rcs_devtools.pulumi_cli import Project, Stack

REMOVE_WARNING = "Remove it in the Kaleyra console"
BASE = {
    "48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)],
    "20700": [("qa-alice", 1), ("qa-dana", 4)],
}


def calls(sandbox: Any) -> tuple[int, int]:
    stats = sandbox.stats()
    return stats["register_calls"], stats["list_calls"]


def ids_by_label(stack: Stack) -> dict[tuple[str, str], str]:
    return {
        (t["outputs"]["agent_no"], t["outputs"]["label"]): t["outputs"]["registration_id"]
        for t in stack.testers_in_state()
    }


@pytest.mark.parametrize(
    ("personality", "lookup"),
    # auto under every personality: the rename step of test_personalities.py
    [("no-list", "register-only"), ("documented", "list")],
)
def test_a_rename_is_an_update_with_no_call(
    stack: Stack, sandbox: Any, personality: str, lookup: str
) -> None:
    sandbox.set_personality(personality)
    stack.set_kaleyra(lookup=lookup)
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    before = ids_by_label(stack)
    at_rest = calls(sandbox)

    renamed = {**BASE, "48900": [("qa-alice", 1), ("qa-robert", 2), ("qa-chen", 3)]}
    stack.set_agents(agents_block(renamed))
    preview = stack.preview("--diff").ok()
    up = stack.up().ok()

    assert calls(sandbox) == at_rest, "neither preview nor up calls Kaleyra for a rename"
    assert "1 to update" in preview.output and "to create" not in preview.output
    assert "to delete" not in preview.output
    assert "1 updated" in up.output and "created" not in up.output
    assert REMOVE_WARNING not in up.output
    after = ids_by_label(stack)
    assert ("48900", "qa-bob") not in after
    assert after[("48900", "qa-robert")] == before[("48900", "qa-bob")], "the same tester"
    assert len(after) == len(before)
    assert len(sandbox.registrations()) == 5
    for text in spellings(2):
        assert text not in preview.output + up.output
    stack.up("--expect-no-changes").ok()
    assert calls(sandbox) == at_rest


def test_a_swap_of_labels_stays_two_replacements(stack: Stack, sandbox: Any) -> None:
    """alice and bob trade numbers: both labels stay declared, so no alias is proposed (the
    engine would refuse one) and each tester is replaced; with a list nothing is registered."""
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    registered = sandbox.stats()["register_created"]

    swapped = {**BASE, "48900": [("qa-alice", 2), ("qa-bob", 1), ("qa-chen", 3)]}
    stack.set_agents(agents_block(swapped))
    up = stack.up().ok()

    assert "2 replaced" in up.output
    assert sandbox.stats()["register_created"] == registered, "both numbers were testers"
    stack.up("--expect-no-changes").ok()


def test_a_rename_that_moves_the_number_is_a_new_tester(stack: Stack, sandbox: Any) -> None:
    """qa-bob becomes qa-erin with another number: not a rename, so erin is registered and
    bob's removal is warned, as before."""
    sandbox.set_personality("no-list")
    stack.set_agents(agents_block(BASE))
    stack.up().ok()

    changed = {**BASE, "48900": [("qa-alice", 1), ("qa-erin", 5), ("qa-chen", 3)]}
    stack.set_agents(agents_block(changed))
    up = stack.up().ok()

    assert "1 created" in up.output and "1 deleted" in up.output
    assert "tester qa-bob of agent 48900 (91980XXXXX02) was removed" in up.output
    assert ("48900", phone(5)) in {(r["agent_no"], r["phoneno"]) for r in sandbox.registrations()}


def test_a_rename_on_a_legacy_layout_backend(project: Project, sandbox: Any) -> None:
    """A self-managed backend in its legacy layout (no project folders; deprecated, still
    usable with an opt-out) refuses the qualified stack name: the program reads the stack by
    its bare name instead."""
    project.env["PULUMI_DIY_BACKEND_LEGACY_LAYOUT"] = "true"
    project.env["PULUMI_DIY_BACKEND_IGNORE_DEPRECATION_ERROR"] = "true"
    stack = project.stack("legacy", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    assert (project.state_dir / ".pulumi" / "stacks" / "legacy.json").is_file(), "legacy layout"
    at_rest = calls(sandbox)

    renamed = {**BASE, "20700": [("qa-alice", 1), ("qa-dee", 4)]}
    stack.set_agents(agents_block(renamed))
    up = stack.up().ok()

    assert "1 updated" in up.output and "created" not in up.output
    assert calls(sandbox) == at_rest
