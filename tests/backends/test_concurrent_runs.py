"""Two CI runners, two working copies, start `pulumi up` on the same stack at the same moment,
on each team backend. Pulumi's DIY lock is write-then-check (list the lock folder, write our
lock object, list again), so both runs may be refused; what is guaranteed, and all that is
asserted, is: at most one run completes, and a refused run names the lock and `pulumi cancel`.
A rerun then brings the state level with Kaleyra, every number registered once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rcs_devtools.exactly_once import assert_registered_once
from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import Stack, finished
from rcs_devtools.state_servers import StateStore

LAYOUT = {
    "48900": [(f"qa-{i}", i) for i in range(1, 5)],
    "20700": [(f"qb-{i}", 100 + i) for i in range(1, 3)],
}
# Each Kaleyra call takes this long, so the run holding the lock holds it for several seconds:
# both runs reach the lock while the other is still starting or running.
LATENCY_MS = 1500


def test_concurrent_ups_on_one_stack(
    store: StateStore, team_stack: Stack, sandbox: Any, tmp_path: Path
) -> None:
    team_stack.set_agents(agents_block(LAYOUT))
    runner_b = Stack(team_stack.project.working_copy(tmp_path / "runner-b"), team_stack.name)
    sandbox.set_faults(latency_ms=LATENCY_MS)

    procs = [team_stack.start_up(), runner_b.start_up()]
    results = [finished(proc, ["up"]) for proc in procs]
    sandbox.set_faults(latency_ms=0)

    completed = [r for r in results if r.returncode == 0]
    refused = [r for r in results if r.returncode != 0]
    assert len(completed) <= 1, f"both runs completed on {store.backend}"
    assert refused, "the two runs did not overlap: raise LATENCY_MS"
    for run in refused:
        assert "the stack is currently locked" in run.output, run.output
        assert "pulumi cancel" in run.output
        assert "/.pulumi/locks/" in run.output, "the refusal names the lock object"
    print(f"{store.backend}: {len(completed)} completed, {len(refused)} refused")

    team_stack.up().ok()
    assert_registered_once(team_stack, sandbox, LAYOUT)
    runner_b.up("--expect-no-changes").ok()
