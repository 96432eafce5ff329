"""The stack lifecycle on the real engine under every API personality of the sandbox, with
the default ``kaleyra:lookup`` (auto): out-of-band adoption, up, a second up that does
nothing, a label rename, a removal and a refresh. The sandbox's registrations and counters
are the witness: every number registered once, 409s counted as adoptions."""

from __future__ import annotations

from typing import Any

import pytest

from rcs_devtools.fleet_data import agents_block, phone
from rcs_devtools.pulumi_cli import (
    HOLD_ANSWERS_BYTES_PER_SEC,
    Stack,
    kill_up_after,
    wait_until_every_call_is_answered,
)

REMOVE_WARNING = "Remove it in the Kaleyra console"
FALLBACK_WARNING = "kaleyra:lookup is auto and the agent's tester list cannot be used"
BASE = {
    "48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)],
    "20700": [("qa-alice", 1), ("qa-dana", 4)],
}
#: Personalities whose tester list the provider can use, and those where ``auto`` gives it
#: up for the run (and what it says it saw).
WITH_LIST = ["documented", "bare-conflict", "paged-list", "root-list"]
WITHOUT_LIST = {"no-list": "the list call answered 404", "masked-list": "numbers masked"}


def warned(output: str, text: str) -> int:
    """How many warnings starting with ``text`` the engine's diagnostics list."""
    return sum(line.strip().startswith(f"warning: {text}") for line in output.splitlines())


def registered(sandbox: Any) -> dict[tuple[str, str], str]:
    return {(r["agent_no"], r["phoneno"]): r["id"] for r in sandbox.registrations()}


def state_by_label(stack: Stack) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (t["outputs"]["agent_no"], t["outputs"]["label"]): t["outputs"]
        for t in stack.testers_in_state()
    }


def expected_pairs(layout: dict[str, list[tuple[str, int]]]) -> set[tuple[str, str]]:
    return {(agent, phone(n)) for agent, testers in layout.items() for _, n in testers}


@pytest.mark.parametrize("personality", [*WITH_LIST, *WITHOUT_LIST])
def test_lifecycle_holds_under_every_personality(
    stack: Stack, sandbox: Any, personality: str
) -> None:
    sandbox.set_personality(personality)
    lists = personality in WITH_LIST
    conflict_shows_id = personality != "no-list"
    out_of_band = sandbox.add_registration("48900", phone(2))
    stack.set_agents(agents_block(BASE))

    # up: four new numbers registered once, the out-of-band one adopted
    first = stack.up().ok()
    stats = sandbox.stats()
    assert set(registered(sandbox)) == expected_pairs(BASE)
    assert stats["register_created"] == 4
    assert stats["register_conflicts"] == (0 if lists else 1), "a 409 is an adoption"
    assert stats["register_calls"] == (4 if lists else 5)
    bob = state_by_label(stack)[("48900", "qa-bob")]  # adopted: the out-of-band id, below
    if lists:
        assert bob["registration_id"] == out_of_band["id"]
        assert FALLBACK_WARNING not in first.output
    else:
        bob_id = out_of_band["id"] if conflict_shows_id else "adopted:48900:qa-bob"
        assert bob["registration_id"] == bob_id
        assert bob["status"] == "Registered"
        assert warned(first.output, FALLBACK_WARNING) == 1
        assert WITHOUT_LIST[personality] in first.output
    assert phone(2) not in first.output

    # a second up with no change: no call that registers
    calls = sandbox.stats()["register_calls"]
    stack.up("--expect-no-changes").ok()
    assert sandbox.stats()["register_calls"] == calls

    # a label rename: the program aliases the previous resource, so the engine updates the
    # label in place: no call of any kind, no invitation, no removal warning
    renamed = {**BASE, "48900": [("qa-alice", 1), ("qa-robert", 2), ("qa-chen", 3)]}
    stack.set_agents(agents_block(renamed))
    listed = sandbox.stats()["list_calls"]
    rename = stack.up().ok()
    assert REMOVE_WARNING not in rename.output
    assert "1 updated" in rename.output
    assert sandbox.stats()["register_calls"] == calls
    assert sandbox.stats()["list_calls"] == listed
    robert = state_by_label(stack)[("48900", "qa-robert")]
    assert robert["registration_id"] == bob["registration_id"], "the same tester"

    # a removal: warned, nothing called, still registered at Kaleyra
    shrunk = {**renamed, "48900": [("qa-alice", 1), ("qa-robert", 2)]}
    stack.set_agents(agents_block(shrunk))
    removal = stack.up().ok()
    assert "tester qa-chen of agent 48900 (91980XXXXX03) was removed" in removal.output
    assert REMOVE_WARNING in removal.output
    assert sandbox.stats()["register_calls"] == calls
    assert ("48900", phone(3)) in registered(sandbox)

    # refresh after a removal in the console: seen only where the list can show it
    sandbox.remove("20700", phone(4))
    refreshed = stack.refresh().ok()
    dana_kept = ("20700", "qa-dana") in state_by_label(stack)
    again = stack.up().ok()
    if lists:
        assert "qa-dana of agent 20700 (91980XXXXX04) is no longer listed" in refreshed.output
        assert not dana_kept
        assert sandbox.stats()["register_calls"] == calls + 1, "registered again, once"
    else:
        assert dana_kept, "nothing is dropped from a list that cannot be read"
        assert FALLBACK_WARNING in refreshed.output
        assert sandbox.stats()["register_calls"] == calls
    assert "unchanged" in again.output
    assert len(sandbox.registrations()) == len(expected_pairs(BASE)) - (0 if lists else 1)


@pytest.mark.parametrize("personality", [*WITH_LIST, *WITHOUT_LIST])
def test_register_only_holds_under_every_personality(
    stack: Stack, sandbox: Any, personality: str
) -> None:
    sandbox.set_personality(personality)
    stack.set_kaleyra(lookup="register-only")
    out_of_band = sandbox.add_registration("20700", phone(4))
    stack.set_agents(agents_block(BASE))

    first = stack.up().ok()
    stack.up("--expect-no-changes").ok()
    refreshed = stack.refresh().ok()

    stats = sandbox.stats()
    assert set(registered(sandbox)) == expected_pairs(BASE)
    assert (stats["register_created"], stats["register_conflicts"]) == (4, 1)
    assert stats["list_calls"] == 0
    assert stats["register_calls"] == 5
    dana_id = state_by_label(stack)[("20700", "qa-dana")]["registration_id"]
    id_in_conflict = personality not in ("no-list", "bare-conflict")
    assert dana_id == (out_of_band["id"] if id_in_conflict else "adopted:20700:qa-dana"), (
        "adopted through the 409, with the id it shows"
    )
    assert "kaleyra:lookup is register-only: refresh cannot see" in refreshed.output
    assert FALLBACK_WARNING not in first.output + refreshed.output


def test_an_unknown_lookup_mode_fails_preview_with_no_api_call(stack: Stack, sandbox: Any) -> None:
    stack.set_kaleyra(lookup="list-only")
    stack.set_agents(agents_block(BASE))

    previewed = stack.preview()

    assert previewed.returncode != 0
    assert "kaleyra:lookup: must be one of auto, list, register-only, got 'list-only'" in (
        previewed.output
    )
    stats = sandbox.stats()
    assert stats["register_calls"] == 0 and stats["list_calls"] == 0
    assert stack.testers_in_state() == []


def test_crash_runbook_holds_without_a_list(stack: Stack, sandbox: Any) -> None:
    """The crash runbook against the Kaleyra that serves only the documented register call:
    numbers registered before the kill but missing from state are adopted through 409."""
    layout = {"48900": [(f"qa-{i}", i) for i in range(1, 13)]}
    sandbox.set_personality("no-list")
    stack.set_agents(agents_block(layout))
    sandbox.set_faults(slow_body_bytes_per_sec=HOLD_ANSWERS_BYTES_PER_SEC)

    kill_up_after(stack, sandbox, created=4)
    wait_until_every_call_is_answered(sandbox)
    sandbox.set_faults(slow_body_bytes_per_sec=0)
    at_kill = sandbox.stats()["register_created"]
    recorded = len(stack.testers_in_state())
    assert recorded < at_kill, "some registrations reached Kaleyra but not the state"

    stack.run("cancel", "--yes").ok()
    stack.refresh("--clear-pending-creates").ok()
    stack.up().ok()

    stats = sandbox.stats()
    assert set(registered(sandbox)) == expected_pairs(layout)
    assert stats["register_created"] == 12, "each number registered once"
    assert stats["register_conflicts"] == at_kill - recorded, "the lost ones adopted via 409"
    assert len(stack.testers_in_state()) == 12
    assert stack.export()["deployment"].get("pending_operations") in (None, [])
    stack.up("--expect-no-changes").ok()
