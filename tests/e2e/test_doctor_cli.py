"""``python -m rcs_provider doctor`` on a real stack: it reads the stack's decrypted config
through the pulumi CLI (secret api-key included), prints a table or JSON, and exits 1 with
the next step when a run would fail."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from support.fleet_data import agents_block
from support.pulumi_cli import Stack


def doctor(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rcs_provider", "doctor", "--stack", stack.name, *args],
        cwd=stack.project.root,
        env=stack.project.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_doctor_reads_the_stack_and_reports_ready(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block({"20700": [("qa-alice", 1)]}))
    sandbox.set_personality("no-list")

    table = doctor(stack)
    document = json.loads(doctor(stack, "--json").stdout)

    assert table.returncode == 0, table.stdout + table.stderr
    assert "ready (stack dev)" in table.stdout
    assert "kaleyra:lookup auto will use: register-only" in table.stdout
    assert "agent 20700: the list call answered 404" in table.stdout
    assert document["ok"] is True and document["auto_uses"] == "register-only"
    assert sandbox.api_key not in table.stdout + json.dumps(document)
    assert sandbox.stats()["register_created"] == 0


def test_doctor_exits_1_with_the_next_step_on_a_wrong_key(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block({"48900": [("qa-alice", 1)]}))
    stack.run("config", "set", "--secret", "kaleyra:apiKey", "not-the-key-0123").ok()

    result = doctor(stack)

    assert result.returncode == 1
    assert "credentials  fail" in result.stdout
    assert "next steps:" in result.stdout and "kaleyra:apiKey <key>" in result.stdout
    assert "not-the-key-0123" not in result.stdout + result.stderr


def test_doctor_exits_1_when_the_stack_cannot_be_read(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rcs_provider", "doctor", "--stack", "nope"],
        cwd=stack.project.root,
        env=stack.project.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 1
    assert "cannot read the stack's config" in result.stdout
