"""``python -m rcs_provider doctor`` on a real stack: it reads the stack's decrypted config
through the pulumi CLI (secret api-key included), prints a table or JSON, and exits 1 with
the next step when a run would fail."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import Stack


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
    stack.set_agents(agents_block({"20700": [("qa-alice", 1)], "48900": [("qa-bob", 2)]}))

    table = doctor(stack)

    assert table.returncode == 0, table.stdout + table.stderr
    assert table.stdout.endswith("\nready (stack dev)\n")
    assert "stack        ok      stacks/Pulumi.dev.yaml: 2 agent(s), 2 tester(s)" in table.stdout
    assert "agents       ok      20700, 48900: listed by the pod" in table.stdout
    assert sandbox.stats()["register_created"] == 0


def test_doctor_says_agents_unchecked_when_no_read_only_call_can_tell(
    stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(agents_block({"20700": [("qa-alice", 1)]}))
    sandbox.set_personality("no-list")

    table = doctor(stack)
    document = json.loads(doctor(stack, "--json").stdout)

    assert table.returncode == 0, table.stdout + table.stderr
    verdict = table.stdout.splitlines()[-1]
    assert verdict.startswith("agents unchecked (stack dev): no read-only call of this pod ")
    assert "ready (stack dev)" not in table.stdout
    assert "kaleyra:lookup auto will use: register-only" in table.stdout
    assert "agent 20700: the list call answered 404" in table.stdout
    assert document["ok"] is True and document["auto_uses"] == "register-only"
    assert (document["verdict"], document["unchecked_agents"]) == ("agents unchecked", ["20700"])
    assert sandbox.api_key not in table.stdout + json.dumps(document)
    assert sandbox.stats()["register_created"] == 0


def test_doctor_fails_on_an_agent_the_pod_does_not_know_in_register_only(
    stack: Stack, sandbox: Any
) -> None:
    """The first-run checklist's advice for accounts without a list: the list call is still
    used, read-only, to check every declared agent where the pod answers it."""
    stack.set_agents(agents_block({"48900": [("qa-alice", 1)], "55500": [("qa-bob", 2)]}))
    stack.run("config", "set", "kaleyra:lookup", "register-only").ok()

    table = doctor(stack)

    assert table.returncode == 1, table.stdout
    assert "agents       fail    agent 55500: the pod refused it (" in table.stdout
    assert "list         skip    not used: kaleyra:lookup is register-only" in table.stdout
    assert table.stdout.endswith("\na run would fail (stack dev)\n")
    assert sandbox.stats()["register_created"] == 0


def test_doctor_reports_the_problems_preview_reports(stack: Stack, sandbox: Any) -> None:
    agents = agents_block({"48900": [("qa-alice", 1)]})
    agents[0]["testers"].append({"label": "qa-uk", "phone": "+44 7700 900456"})
    stack.set_agents(agents)

    table = doctor(stack)
    preview = stack.preview()

    assert table.returncode == 1 and preview.returncode != 0
    in_preview = set(re.findall(r"(stacks/Pulumi\.dev\.yaml: agents\S+: .*)", preview.output))
    in_doctor = set(re.findall(r"^stack +fail +(.*)$", table.stdout, re.M))
    assert in_doctor == in_preview and len(in_doctor) == 1, (table.stdout, preview.output)
    assert "44770XXXXX56 is not a valid number" in in_doctor.pop()
    assert sandbox.stats()["register_calls"] == 1, "only the empty probe; nothing registered"
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
