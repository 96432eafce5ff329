"""SIGKILL of a whole `pulumi up` (a CI runner that dies) on each team backend, then the
README runbook: `pulumi cancel`, `pulumi refresh --clear-pending-creates`, `pulumi up`. The
stale lock lives on the server (a row, an object) and is named by the next run; afterwards every
number is registered once and the state equals the sandbox."""

from __future__ import annotations

from typing import Any

from rcs_devtools.exactly_once import assert_registered_once
from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import (
    HOLD_ANSWERS_BYTES_PER_SEC,
    Stack,
    kill_up_after,
    wait_until_every_call_is_answered,
)
from rcs_devtools.state_servers import StateStore

LAYOUT = {
    "48900": [(f"qa-{i}", i) for i in range(1, 7)],
    "20700": [(f"qb-{i}", 100 + i) for i in range(1, 4)],
}


def test_kill_during_up_then_runbook(store: StateStore, team_stack: Stack, sandbox: Any) -> None:
    team_stack.set_agents(agents_block(LAYOUT))
    sandbox.set_faults(slow_body_bytes_per_sec=HOLD_ANSWERS_BYTES_PER_SEC)
    kill_up_after(team_stack, sandbox, created=3)
    wait_until_every_call_is_answered(sandbox)  # requests in flight at the kill still land
    sandbox.set_faults(slow_body_bytes_per_sec=0)
    assert any(".pulumi/locks/" in key for key in store.read()), "the lock outlived the kill"

    locked = team_stack.up()
    assert locked.returncode != 0
    assert "the stack is currently locked" in locked.output and "pulumi cancel" in locked.output

    team_stack.run("cancel", "--yes").ok()
    team_stack.refresh("--clear-pending-creates").ok()
    team_stack.up().ok()
    assert_registered_once(team_stack, sandbox, LAYOUT)
    assert not any(".pulumi/locks/" in key for key in store.read()), "no lock left behind"
    team_stack.up("--expect-no-changes").ok()
