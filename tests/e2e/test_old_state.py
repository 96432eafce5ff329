"""State written by an earlier release keeps working: a stack is created with the code of an
old commit (a git worktree of it, first on PYTHONPATH for the program and the provider), then
driven with this code. Every tester's state names its provider by reference
(``rcs_provider.provider.TesterProvider``), so what must hold is: preview and refresh see no
resource change and send nothing (the stack output ``agents`` changes shape once, from a list
per agent to a map by label), a label rename sends nothing and warns of nothing, and removing a
tester warns about exactly that tester. Testers nothing happens to keep their old outputs
(outputs this code no longer writes included): no churn, only the renamed one is rewritten."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.fleet_data import agents_block, phone
from rcs_devtools.pulumi_cli import REPO, Project, Stack

#: Earlier releases whose state must keep working, by what changed after them.
OLD_COMMITS = {
    # The last commit before the package was laid out by concern (rcs_provider/_kaleyra, config).
    "layout": "f936663",
    # The last commit whose testers stored phone_masked, adopted and override_dcs_check and
    # were constructed three calls deeper (a longer stack trace per tester).
    "outputs": "d3eb5cc",
}
#: What this code stores per tester.
OUTPUTS = {"__provider", "agent_no", "phoneno", "label", "registration_id", "status"}
REMOVE_WARNING = "Remove it in the Kaleyra console"
LAYOUT = {
    "48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)],
    "20700": [("qa-dana", 4)],
}


@pytest.fixture(params=sorted(OLD_COMMITS))
def old_tree(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    tree = tmp_path / "old-code"
    git = ["git", "-C", str(REPO)]
    commit = OLD_COMMITS[request.param]
    subprocess.run([*git, "worktree", "add", "--detach", str(tree), commit], check=True)
    try:
        yield tree
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)


def which_provider_module(project: Project) -> str:
    """The file ``rcs_provider.provider`` is loaded from, with the project's environment."""
    return subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "python"),
            "-c",
            "import rcs_provider.provider as m; print(m.__file__)",
        ],
        env=project.env,
        cwd=project.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def plain_outputs(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each tester's outputs by label, secrets left out (re-encrypted on every save)."""
    return {
        t["outputs"]["label"]: {k: v for k, v in t["outputs"].items() if k != "phoneno"}
        for t in stack.testers_in_state()
    }


def warnings(output: str) -> list[str]:
    """The lines showing a warning (not the summary's count of them)."""
    return [line for line in output.splitlines() if "warning:" in line.lower()]


def test_state_written_by_the_old_code_works_with_the_new(
    project: Project, sandbox: Any, old_tree: Path
) -> None:
    # Written by the old code: its program and, through PYTHONPATH, its provider.
    shutil.copy(old_tree / "__main__.py", project.root / "__main__.py")
    project.env["PYTHONPATH"] = str(old_tree)
    assert which_provider_module(project).startswith(str(old_tree))
    stack: Stack = project.stack("dev", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    stack.set_agents(agents_block(LAYOUT))
    stack.up().ok()
    ids = {(r["agent_no"], r["phoneno"]): r["id"] for r in sandbox.registrations()}
    assert len(ids) == 4
    written = plain_outputs(stack)

    # From here on, the new code.
    shutil.copy(REPO / "__main__.py", project.root / "__main__.py")
    del project.env["PYTHONPATH"]
    assert which_provider_module(project).startswith(str(REPO / "rcs_provider"))
    before = sandbox.stats()

    # The first preview shows the stack output's new shape (a map by label instead of a
    # list) and no resource change; --expect-no-changes counts resource changes only.
    preview = stack.preview("--expect-no-changes").ok()
    assert warnings(preview.output) == []
    assert not re.search(r"to (create|update|delete|replace)", preview.output), preview.output
    assert re.search(r"^\s+- 48900: \[$", preview.output, re.M), preview.output
    assert re.search(r"^\s+\+ 48900: \{$", preview.output, re.M), preview.output
    assert re.search(r"^\s+\+ qa-alice: \{$", preview.output, re.M), preview.output
    assert sandbox.stats()["register_calls"] == before["register_calls"]
    assert sandbox.stats()["list_calls"] == before["list_calls"], "a preview lists nothing"

    refresh = stack.refresh().ok()
    assert warnings(refresh.output) == []
    assert sandbox.stats()["register_calls"] == before["register_calls"]
    assert sandbox.stats()["list_calls"] - before["list_calls"] == 2, "one list per agent"
    assert sorted(stack.outputs()["agents"]["48900"]) == ["qa-alice", "qa-bob", "qa-chen"]
    again = stack.preview("--expect-no-changes").ok()
    assert "Outputs:" not in again.output, "the output's new shape is recorded"

    renamed = {**LAYOUT, "48900": [("qa-alice", 1), ("qa-robert", 2), ("qa-chen", 3)]}
    stack.set_agents(agents_block(renamed))
    rename = stack.up().ok()
    assert warnings(rename.output) == []
    assert sandbox.stats()["register_calls"] == before["register_calls"]
    by_label = {t["outputs"]["label"]: t["outputs"] for t in stack.testers_in_state()}
    assert "qa-bob" not in by_label
    assert by_label["qa-robert"]["registration_id"] == ids[("48900", phone(2))]
    assert set(by_label["qa-robert"]) == OUTPUTS, "an update writes this code's outputs"

    shrunk = {**renamed, "48900": [("qa-alice", 1), ("qa-robert", 2)]}
    stack.set_agents(agents_block(shrunk))
    removal = stack.up().ok()
    assert sandbox.stats()["register_calls"] == before["register_calls"]
    # The engine shows a warning twice: as progress and under Diagnostics.
    said = warnings(removal.output)
    assert said and all(REMOVE_WARNING in line for line in said), said
    assert {re.search(r"warning: tester (\S+) ", line).group(1) for line in said} == {"qa-chen"}  # type: ignore[union-attr]
    assert "tester qa-chen of agent 48900 (91980XXXXX03)" in said[0]
    assert {t["outputs"]["label"] for t in stack.testers_in_state()} == {
        "qa-alice",
        "qa-robert",
        "qa-dana",
    }
    assert len(sandbox.registrations()) == 4, "Kaleyra keeps what it had"
    kept = plain_outputs(stack)
    for label in ("qa-alice", "qa-dana"):
        assert kept[label] == written[label], f"{label} was not touched, its state neither"
