"""The pipeline's split, on the real engine: a pull request's `pulumi preview --diff` runs with
no Kaleyra api-key and calls no Kaleyra API; `pulumi up` without the key stops before its first
call and names the key; with KALEYRA_API_KEY set (the deploy job's environment) it registers."""

from __future__ import annotations

from typing import Any

from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import Stack

BEFORE = {"48900": [("qa-alice", 1)]}
AFTER = {"48900": [("qa-alice", 1), ("qa-bob", 2)]}
MISSING_KEY = (
    "kaleyra:apiKey: is not set; set it with `pulumi config set --secret kaleyra:apiKey <key>` "
    "(or export KALEYRA_API_KEY)"
)


def api_calls(sandbox: Any) -> tuple[int, int]:
    stats = sandbox.stats()
    return stats["register_calls"], stats["list_calls"]


def test_preview_needs_no_api_key_and_up_names_it(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(BEFORE))
    stack.up().ok()
    stack.run("config", "rm", "kaleyra:apiKey").ok()
    stack.set_agents(agents_block(AFTER))
    calls = api_calls(sandbox)

    previewed = stack.preview("--diff").ok()

    assert "48900-qa-bob" in previewed.output and "+ 1 to create" in previewed.output
    # Said once, as a warning that does not fail the preview.
    assert f"{MISSING_KEY}: `pulumi up` needs it (a preview does not)" in previewed.output
    assert api_calls(sandbox) == calls

    refused = stack.up()

    assert refused.returncode != 0
    assert MISSING_KEY in refused.output
    assert api_calls(sandbox) == calls

    stack.project.env["KALEYRA_API_KEY"] = sandbox.api_key
    stack.up().ok()

    assert api_calls(sandbox)[0] == calls[0] + 1
    assert sandbox.api_key not in refused.output + previewed.output
