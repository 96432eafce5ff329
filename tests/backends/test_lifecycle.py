"""A stack's whole life on each team backend (file, PostgreSQL, S3), against the real servers:
login, stack init, up, a second up with no change, refresh, destroy, stack rm. Between them,
what the server stores (every row / object, read straight from the server) is searched: it holds
no full phone number and no api-key."""

from __future__ import annotations

from typing import Any

from support.exactly_once import assert_registered_once
from support.fleet_data import spellings
from support.pulumi_cli import Project
from support.state_servers import StateStore

LAYOUT = {"48900": [("qa-alice", 1), ("qa-bob", 2)], "20700": [("qa-chen", 3)]}


def test_stack_lifecycle(store: StateStore, runner: Project, sandbox: Any) -> None:
    who = runner.pulumi("whoami", "--verbose").ok()
    assert f"Backend URL: {store.url.split('?')[0]}" in who.output

    stack = runner.stack("ci", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    stack.set_secret_phones(LAYOUT)
    assert "ci" in runner.pulumi("stack", "ls").ok().output

    stack.up().ok()
    assert_registered_once(stack, sandbox, LAYOUT)
    calls = sandbox.stats()["register_calls"]

    stack.up("--expect-no-changes").ok()
    assert sandbox.stats()["register_calls"] == calls, "a no-op up registers nothing"

    stack.refresh("--expect-no-changes").ok()
    assert_registered_once(stack, sandbox, LAYOUT)

    stored = store.stored_text()
    assert "registration_id" in stored, f"the {store.backend} server holds the checkpoint"
    needles = [sandbox.api_key] + [s for n in range(1, 4) for s in spellings(n)]
    leaked = [needle for needle in needles if needle in stored]
    assert leaked == [], f"{len(leaked)} secret value(s) stored in clear on {store.backend}"

    stack.destroy().ok()
    assert stack.testers_in_state() == []
    runner.pulumi("stack", "rm", "--yes", stack=stack.name).ok()
    assert "ci" not in runner.pulumi("stack", "ls").ok().stdout.split()
    assert not [key for key in store.read() if key.endswith("/ci.json")], "stack file removed"
