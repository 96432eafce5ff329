"""A refresh never empties an agent on a list answer that is not a clean, understood list: on
the real engine, the sandbox's list answers ``200 {"code": "RCS500", "message": "Internal
server error", "data": [], "error": {}}``, an error inside a success whose empty ``data`` once
read as "this agent has no testers"."""

from __future__ import annotations

from typing import Any

import pytest

from rcs_devtools.fleet_data import agents_block, phone
from rcs_devtools.pulumi_cli import Stack

FLEET = {"48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3), ("qa-dana", 4)]}


def testers_recorded(stack: Stack) -> dict[str, Any]:
    return {urn: r for urn, r in stack.recorded().items() if r["type"].endswith(":RcsTester")}


@pytest.mark.parametrize("mode", ["list", "auto"])
def test_a_refresh_answered_rcs500_inside_a_200_keeps_all_four_testers(
    stack: Stack, sandbox: Any, mode: str
) -> None:
    stack.set_kaleyra(lookup=mode)
    stack.set_agents(agents_block(FLEET))
    stack.up().ok()
    before = testers_recorded(stack)
    assert len(before) == 4
    sandbox.set_faults(error_in_body=500)
    listed = sandbox.stats()["list_calls"]

    refreshed = stack.refresh()

    text = refreshed.output
    assert sandbox.stats()["list_calls"] > listed, "the refresh asked the list"
    assert testers_recorded(stack) == before, "all four stay, unchanged"
    assert "no longer listed" not in text
    assert "RCS500 inside a 200 answer" in text and "tester list of agent 48900" in text, text
    if mode == "list":
        assert refreshed.returncode != 0, "list mode fails on a list it cannot use"
    else:
        assert refreshed.returncode == 0, text
        assert "warning: Unable to look up tester" in text
        assert "Kept the testers of agent 48900 as recorded in state" in text
        assert "register-only" not in text, "a transient RCS500 does not give the list up"
    assert sandbox.stats()["register_calls"] == 4, "nothing registered again"
    for n in range(1, 5):
        assert phone(n) not in text
