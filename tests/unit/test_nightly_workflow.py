"""The nightly workflow runs the status command with options it has, under the rules every
workflow of this repository keeps (least permissions, pinned actions, secrets only through a
protected environment, no expression inside a script). actionlint and zizmor check the rest."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from rcs_provider._status.command import _parser

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "nightly.yml"
TEXT = WORKFLOW.read_text(encoding="utf-8")
DATA: dict[Any, Any] = yaml.safe_load(TEXT)
JOB = DATA["jobs"]["invitations"]
STEPS: list[dict[str, Any]] = JOB["steps"]


def command_in(script: str, start: str) -> list[str]:
    """The words of the command starting with ``start`` in a run script (continuations
    joined), shell variables left as written."""
    joined = script.replace("\\\n", " ")
    line = next(line for line in joined.splitlines() if line.strip().startswith(start))
    return shlex.split(line.strip())


def test_runs_nightly_and_by_hand_with_no_permission_but_reading_the_code() -> None:
    triggers = DATA[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert DATA["permissions"] == {}
    assert JOB["permissions"] == {"contents": "read"}


def test_one_stack_at_a_time_in_the_deploy_workflows_group() -> None:
    assert JOB["strategy"]["max-parallel"] == 1
    assert JOB["concurrency"] == {
        "group": "pulumi-${{ matrix.stack }}",
        "cancel-in-progress": False,
    }
    assert JOB["environment"] == "${{ matrix.stack }}"


def test_every_action_is_pinned_by_commit_and_checkout_keeps_no_credentials() -> None:
    uses = re.findall(r"uses: (\S+)(.*)", TEXT)
    assert len(uses) == 3
    for action, comment in uses:
        assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), comment
    checkout = next(s for s in STEPS if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False


def test_no_expression_inside_a_script() -> None:
    for step in STEPS:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_refresh_then_report_with_options_the_command_has() -> None:
    refresh = next(s for s in STEPS if s.get("id") == "refresh")
    words = command_in(refresh["run"], "pulumi refresh")
    assert {"--run-program", "--yes", "--skip-preview"} <= set(words)
    report = next(s for s in STEPS if "rcs-testers status" in s.get("run", ""))
    assert "PULUMI_CONFIG_PASSPHRASE" not in report.get("env", {})
    assert "KALEYRA_API_KEY" not in report.get("env", {})
    words = command_in(report["run"], ".venv/bin/rcs-testers status")
    assert words[-2:] == [">>", "$GITHUB_STEP_SUMMARY"]
    options = [w for w in words[2:-2] if w != "${compare[@]}"]
    args = _parser().parse_args([*options, "--dropped-since", "before.json"])
    assert (args.stack, args.format, args.pending_after.days) == (["$STACK"], "markdown", 7)
