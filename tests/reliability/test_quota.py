"""The per-agent daily quota: testers within it are registered, the rest fail naming the quota
and when to retry, nothing is lost, and a rerun after the quota resets completes. A change
larger than the configured budget is flagged at preview."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rcs_devtools.fleet_data import agents_block, phone
from rcs_devtools.pulumi_cli import Stack

pytestmark = pytest.mark.reliability

LAYOUT = {
    "48900": [(f"qa-{i}", i) for i in range(1, 8)],
    "20700": [("qa-x", 20), ("qa-y", 21)],
}


def test_quota_exceeded_by_one_change(stack: Stack, sandbox: Any) -> None:
    sandbox.set_faults(daily_quota=5)
    stack.set_agents(agents_block(LAYOUT))

    # --continue-on-error: every create is attempted whatever the engine's scheduling, so
    # which testers run before the first failure cannot change the outcome.
    first = stack.up("--continue-on-error")

    assert first.returncode != 0
    refused = {
        label
        for label, line in re.findall(r"register tester (qa-\w+) for agent 48900(.*)", first.output)
        if "Daily tester registration quota exceeded (5 per agent per day)" in line
    }
    assert len(refused) == 2, f"exactly the two testers beyond the quota fail: {refused}"
    assert "Retry in" in first.output and "retry tomorrow" in first.output
    regs = {(r["agent_no"], r["phoneno"]) for r in sandbox.registrations()}
    assert len([p for p in regs if p[0] == "48900"]) == 5
    assert {("20700", phone(20)), ("20700", phone(21))} <= regs
    in_state = {(t["outputs"]["agent_no"], t["outputs"]["label"]) for t in stack.testers_in_state()}
    assert len(in_state) == 7, "every registration made is recorded: nothing lost"

    sandbox.reset_quota()
    stack.up().ok()

    regs_after = [(r["agent_no"], r["phoneno"]) for r in sandbox.registrations()]
    assert sorted(regs_after) == sorted({(a, phone(n)) for a, ts in LAYOUT.items() for _, n in ts})
    assert sandbox.stats()["register_conflicts"] == 0
    assert len(stack.testers_in_state()) == 9
    stack.up("--expect-no-changes").ok()


def test_preview_warns_when_a_change_exceeds_the_budget(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(LAYOUT))
    stack.set_config("rcs-testers:newTesterBudget", 5)

    previewed = stack.preview().ok()

    assert "this change adds more than 5 new testers to agent 48900" in previewed.output
    assert "agent 20700" not in previewed.output.split("this change adds")[-1][:60]
    assert sandbox.stats()["register_calls"] == 0


def test_no_budget_warning_within_the_default(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(LAYOUT))
    previewed = stack.preview().ok()
    assert "this change adds more than" not in previewed.output
