"""A stack's whole life on each team backend (file, PostgreSQL, S3), against the real servers:
login, stack init, up, a second up with no change, refresh, a label rename (the program reads
the last deployment back from the server: an update, no call), destroy, stack rm. Between them,
what the server stores (every row / object, read straight from the server) is searched: it holds
no full phone number and no api-key. The backend's own secret (PostgreSQL password in
PGPASSWORD, S3 secret key) is in no command's output and no file under PULUMI_HOME."""

from __future__ import annotations

from typing import Any

from rcs_devtools.exactly_once import assert_registered_once
from rcs_devtools.fleet_data import spellings
from rcs_devtools.pulumi_cli import Project, Result
from rcs_devtools.state_servers import StateStore

LAYOUT = {"48900": [("qa-alice", 1), ("qa-bob", 2)], "20700": [("qa-chen", 3)]}


def test_stack_lifecycle(store: StateStore, runner: Project, sandbox: Any) -> None:
    printed: list[Result] = []

    def ok(result: Result) -> Result:
        printed.append(result.ok())
        return result

    who = ok(runner.pulumi("whoami", "--verbose"))
    assert f"Backend URL: {store.url.split('?')[0]}" in who.output

    stack = runner.stack("ci", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    stack.set_secret_phones(LAYOUT)
    assert "ci" in ok(runner.pulumi("stack", "ls")).output

    ok(stack.up())
    assert_registered_once(stack, sandbox, LAYOUT)
    calls = sandbox.stats()["register_calls"]

    ok(stack.up("--expect-no-changes"))
    assert sandbox.stats()["register_calls"] == calls, "a no-op up registers nothing"

    ok(stack.refresh("--expect-no-changes"))
    assert_registered_once(stack, sandbox, LAYOUT)

    ids = {t["outputs"]["label"]: t["outputs"]["registration_id"] for t in stack.testers_in_state()}
    stack.set_secret_phones({**LAYOUT, "20700": [("qa-charlie", 3)]})
    renamed = ok(stack.up())
    assert "1 updated" in renamed.output and "created" not in renamed.output
    assert sandbox.stats()["register_calls"] == calls, "a rename registers nothing"
    after = {
        t["outputs"]["label"]: t["outputs"]["registration_id"] for t in stack.testers_in_state()
    }
    assert after.pop("qa-charlie") == ids.pop("qa-chen"), "the same tester, renamed"
    assert after == ids

    stored = store.stored_text()
    assert "registration_id" in stored, f"the {store.backend} server holds the checkpoint"
    assert "91980XXXXX01" in stored, "the search sees the masked numbers the state does hold"
    needles = [sandbox.api_key] + [s for n in range(1, 4) for s in spellings(n)]
    leaked = [needle for needle in needles if needle in stored]
    assert leaked == [], f"{len(leaked)} secret value(s) stored in clear on {store.backend}"

    ok(stack.destroy())
    assert stack.testers_in_state() == []
    ok(runner.pulumi("stack", "rm", "--yes", stack=stack.name))
    assert "ci" not in ok(runner.pulumi("stack", "ls")).stdout.split()
    assert not [key for key in store.read() if key.endswith("/ci.json")], "stack file removed"

    if store.secret is not None:
        home = runner.root / ".pulumi-home"
        files = [p.read_text(errors="replace") for p in home.rglob("*") if p.is_file()]
        outputs = [r.output for r in printed]
        assert not [text for text in outputs + files if store.secret in text], (
            f"the {store.backend} credential was printed or stored under PULUMI_HOME"
        )
