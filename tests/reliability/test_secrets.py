"""Secrets and personal data: up, refresh, failing ups (401 and 500 whose bodies echo the
request, api-key header included) and destroy, all with verbose engine logging. Everything
printed and every file written (state export, backend, PULUMI_HOME, TMPDIR) is searched: the
api-key and the full phone numbers appear nowhere except inside encrypted secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.fleet_data import spellings
from rcs_devtools.pulumi_cli import Result, Stack

pytestmark = pytest.mark.reliability

VERBOSE = ("--logtostderr", "-v=9", "--debug")
LAYOUT = {"48900": [("qa-alice", 1), ("qa-bob", 2)], "20700": [("qa-chen", 3)]}
GROWN = {**LAYOUT, "20700": [("qa-chen", 3), ("qa-dana", 4)]}


def files_under(*roots: Path) -> str:
    text = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                text.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(text)


def test_no_secret_or_phone_anywhere(stack: Stack, sandbox: Any, tmp_path: Path) -> None:
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    stack.project.env["TMPDIR"] = str(tmp)
    stack.set_secret_phones(LAYOUT)
    results: list[Result] = []

    results.append(stack.up(*VERBOSE).ok())
    results.append(stack.refresh(*VERBOSE).ok())

    stack.set_secret_phones(GROWN)
    sandbox.set_faults(force_status=401, echo_request_in_errors=True)
    denied = stack.up(*VERBOSE)
    assert denied.returncode != 0
    assert "Kaleyra rejected the api-key (401)" in denied.output
    results.append(denied)
    sandbox.set_faults(force_status=500, echo_request_in_errors=True)
    failed = stack.up(*VERBOSE)
    assert failed.returncode != 0 and "(500" in failed.output
    results.append(failed)
    sandbox.set_faults(force_status=None, echo_request_in_errors=False)

    results.append(stack.destroy(*VERBOSE).ok())
    exported = stack.run("stack", "export").ok().stdout

    project = stack.project
    haystack = (
        "\n".join(r.output for r in results)
        + exported
        + files_under(project.state_dir, project.root / ".pulumi-home", tmp)
    )
    needles = [sandbox.api_key] + [f for n in range(1, 5) for f in spellings(n)]
    leaked = [n for n in needles if n in haystack]
    assert leaked == [], f"leaked into logs, state or files: {len(leaked)} value(s)"
    assert "91980XXXXX0" in haystack, "masked phones are what people see"
    assert len(haystack) > 100_000, "verbose logging really was on"
    print(f"secrets run: searched {len(haystack)} characters for {len(needles)} values: 0 found")
