"""Faults survived: `pulumi up` of 100 testers on 5 agents against a sandbox that injects 5xx,
429 with Retry-After, latency spikes, dropped connections and lost responses. Either a run
succeeds or it fails with clear per-tester errors, and a rerun (faults still on) completes.
Afterwards every tester is registered exactly once and state equals the sandbox."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from rcs_devtools.fleet_data import agents_block, phone
from rcs_devtools.pulumi_cli import Stack

pytestmark = pytest.mark.reliability

AGENTS = ["48900", "20700", "31337", "40400", "50500"]
LAYOUT = {
    a: [(f"qa-{chr(97 + k)}{i:02d}", k * 100 + i) for i in range(20)] for k, a in enumerate(AGENTS)
}
MAX_RUNS = 8
FAULTS = {
    "error_rate": 0.2,  # 500/502/503/504
    "rate_limit_rate": 0.1,
    "retry_after": 1,
    "latency_ms": 5,
    "jitter_ms": 120,  # spikes
    "drop_rate": 0.05,
    "lost_response_rate": 0.05,
    "seed": 20261129,
}
PER_TESTER_ERROR = re.compile(
    r"Unable to (?:register tester|look up tester) (qa-[a-e]\d\d) (?:for|in the tester list of) agent (\d+)"
)


def test_up_under_faults_registers_every_tester_exactly_once(
    stack: Stack, sandbox: Any, record_property: Any
) -> None:
    sandbox.set_agents(AGENTS)
    stack.set_kaleyra(maxRetries="4")
    stack.set_agents(agents_block(LAYOUT))
    sandbox.set_faults(**FAULTS)

    runs: list[int] = []
    for _ in range(MAX_RUNS):
        result = stack.up("--continue-on-error")
        runs.append(result.returncode)
        if result.returncode == 0:
            break
        failed = PER_TESTER_ERROR.findall(result.output)
        assert failed, f"a failed run must name the failing testers:\n{result.output[-6000:]}"
        assert all(phone(n) not in result.output for ts in LAYOUT.values() for _, n in ts)
    assert runs[-1] == 0, f"no run completed within {MAX_RUNS} tries: {runs}"

    stats = sandbox.stats()
    sandbox.set_faults(
        error_rate=0,
        rate_limit_rate=0,
        drop_rate=0,
        lost_response_rate=0,
        jitter_ms=0,
        latency_ms=0,
    )
    expected = {(a, phone(n)) for a, ts in LAYOUT.items() for _, n in ts}
    regs = sandbox.registrations()
    pairs = [(r["agent_no"], r["phoneno"]) for r in regs]
    assert len(pairs) == len(set(pairs)) == 100, "exactly once"
    assert set(pairs) == expected, "no orphan and no missing registration"
    assert stats["register_conflicts"] == 0, "no second register call reached Kaleyra for a number"
    assert stats["register_created"] == 100

    ids = {(r["agent_no"], r["phoneno"]): r["id"] for r in regs}
    label_phone = {(a, label): phone(n) for a, ts in LAYOUT.items() for label, n in ts}
    in_state = {
        (t["outputs"]["agent_no"], t["outputs"]["label"]): t["outputs"]["registration_id"]
        for t in stack.testers_in_state()
    }
    assert in_state == {key: ids[(key[0], p)] for key, p in label_phone.items()}, (
        "state equals the sandbox"
    )
    stack.up("--expect-no-changes").ok()

    figures = {
        "runs": len(runs),
        "register_calls": stats["register_calls"],
        "list_calls": stats["list_calls"],
        "errors_injected": stats["errors_injected"],
        "duplicates": stats["register_conflicts"],
        "registrations_lost": len(expected - set(pairs)),
    }
    record_property("fault_run", json.dumps(figures))
    print("fault run:", json.dumps(figures))
