"""The exactly-once check shared by the crash and backend tests: sandbox and state agree."""

from __future__ import annotations

from typing import Any

from rcs_devtools.fleet_data import phone
from rcs_devtools.pulumi_cli import Stack


def assert_registered_once(
    stack: Stack, sandbox: Any, layout: dict[str, list[tuple[str, int]]]
) -> None:
    """Every declared number is registered exactly once at the sandbox (no 409 was ever
    answered) and the state records exactly those registrations, with nothing pending."""
    regs = sandbox.registrations()
    pairs = sorted((r["agent_no"], r["phoneno"]) for r in regs)
    assert pairs == sorted((a, phone(n)) for a, ts in layout.items() for _, n in ts)
    stats = sandbox.stats()
    expected = sum(len(ts) for ts in layout.values())
    assert stats["register_created"] == expected, "one registration per number"
    assert stats["register_conflicts"] == 0, "no duplicate register call"
    ids = {(r["agent_no"], r["phoneno"]): r["id"] for r in regs}
    by_label = {(a, label): ids[(a, phone(n))] for a, ts in layout.items() for label, n in ts}
    in_state = {
        (t["outputs"]["agent_no"], t["outputs"]["label"]): t["outputs"]["registration_id"]
        for t in stack.testers_in_state()
    }
    assert in_state == by_label, "state equals the sandbox"
    assert stack.export()["deployment"].get("pending_operations") in (None, [])
