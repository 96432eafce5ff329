"""The phonebook form of a stack is the inline form in other words: on the real engine, a state
written by inline testers sees no change once the same people are declared in
`rcs-testers:testers` (phones set with `config set --secret --path`) and referenced by label,
nor when they move back; with zero API calls. The same holds for the demo's own dev stack file.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from rcs_devtools.fleet_data import formatted, phone
from rcs_devtools.pulumi_cli import REPO, SECRET_SIG, Project, Stack

LAYOUT = {
    "48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)],
    "20700": [("qa-alice", 1), ("qa-dana", 4)],
}
PEOPLE = {"qa-alice": 1, "qa-bob": 2, "qa-chen": 3, "qa-dana": 4}
DEMO_PASSPHRASE = "rcs-testers-demo"  # the dev stack file's apiKey is encrypted with it
OLD_DEV_FILE = Path(__file__).parent / "data" / "Pulumi.dev.inline.yaml"


def api_calls(sandbox: Any) -> tuple[int, int]:
    stats = sandbox.stats()
    return stats["register_calls"], stats["list_calls"]


def set_phonebook_form(stack: Stack) -> None:
    """The people in the phonebook, each phone set as a secret by path; agents by reference."""
    stack.set_agents(
        [{"agent": a, "testers": [label for label, _ in ts]} for a, ts in LAYOUT.items()]
    )
    for label, n in PEOPLE.items():
        path = f"rcs-testers:testers.{label}.phone"
        stack.run("config", "set", "--secret", "--path", path, formatted(n)).ok()
    stack.run("config", "set", "--path", "rcs-testers:testers.qa-alice.note", "Pixel 8").ok()


def drop_phonebook(stack: Stack) -> None:
    data = stack._load()
    data["config"].pop("rcs-testers:testers", None)
    stack._save(data)


def test_moving_between_inline_testers_and_the_phonebook_is_no_change(
    stack: Stack, sandbox: Any
) -> None:
    stack.set_secret_phones(LAYOUT)
    stack.up().ok()
    assert api_calls(sandbox)[0] == 5
    state_before = {r["urn"]: r["id"] for r in stack.testers_in_state()}
    calls = api_calls(sandbox)

    set_phonebook_form(stack)
    written = stack.file.read_text()
    people = yaml.safe_load(written)["config"]["rcs-testers:testers"]
    assert all(set(p["phone"]) == {"secure"} for p in people.values()), written
    assert all(formatted(n) not in written and phone(n) not in written for n in PEOPLE.values())

    previewed = stack.preview("--expect-no-changes").ok()
    assert "referenced by no agent" not in previewed.output
    stack.up("--expect-no-changes").ok()
    assert api_calls(sandbox) == calls, "moving to the phonebook made an API call"
    assert {r["urn"]: r["id"] for r in stack.testers_in_state()} == state_before
    for tester in stack.testers_in_state():
        assert SECRET_SIG in tester["inputs"]["phoneno"], "a phonebook phone is not a secret"
        assert SECRET_SIG in tester["outputs"]["phoneno"]

    drop_phonebook(stack)
    stack.set_secret_phones(LAYOUT)
    stack.preview("--expect-no-changes").ok()
    assert api_calls(sandbox) == calls, "moving back inline made an API call"


def test_a_clear_phonebook_phone_outside_the_sandbox_is_named_by_its_path(
    stack: Stack, sandbox: Any
) -> None:
    set_phonebook_form(stack)
    data = stack._load()
    data["config"]["rcs-testers:testers"]["qa-bob"]["phone"] = formatted(2)  # typed by hand
    stack._save(data)
    stack.set_kaleyra(pod="in")  # baseUrl still points at the loopback sandbox

    previewed = stack.preview()

    assert previewed.returncode != 0
    assert "1 problem(s); nothing was registered" in previewed.output
    assert (
        "testers.qa-bob.phone: 91980XXXXX02 is written in clear; outside the sandbox"
        in previewed.output
    )
    assert "--secret --path 'rcs-testers:testers.qa-bob.phone'" in previewed.output
    assert api_calls(sandbox) == (0, 0)
    assert phone(2) not in previewed.output and formatted(2) not in previewed.output


def dev_file_on(sandbox_url: str, source: Path) -> str:
    """A dev stack file pointed at the test's sandbox instead of the demo port."""
    text = source.read_text()
    assert "kaleyra:baseUrl: http://127.0.0.1:8766" in text
    return text.replace("http://127.0.0.1:8766", sandbox_url)


def test_a_demo_state_written_by_the_inline_dev_file_sees_no_change(
    project: Project, sandbox: Any
) -> None:
    project.env["PULUMI_CONFIG_PASSPHRASE"] = DEMO_PASSPHRASE
    stack_file = project.root / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(dev_file_on(sandbox.url, OLD_DEV_FILE))
    project.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "dev")
    stack.up().ok()
    assert len(sandbox.registrations()) == 5
    calls = api_calls(sandbox)

    stack_file.write_text(dev_file_on(sandbox.url, REPO / "stacks" / "Pulumi.dev.yaml"))
    assert "rcs-testers:testers" in stack_file.read_text(), "the dev stack uses the phonebook"
    stack.preview("--expect-no-changes").ok()
    second = stack.run("up", "--yes", "--expect-no-changes").ok()
    assert "8 unchanged" in second.output
    assert api_calls(sandbox) == calls


def test_a_person_no_agent_lists_is_warned_once_per_run_with_the_command_that_removes_them(
    stack: Stack, sandbox: Any
) -> None:
    """A log shows each warning twice per run, once where it happens and once under
    Diagnostics, and the summary counts it as a warning (the provider's removal warning too).
    The phonebook's warning names the exact command; once run, nothing is warned."""
    set_phonebook_form(stack)
    stack.up().ok()
    stack.run("config", "rm", "--path", "rcs-testers:agents[1].testers[1]").ok()  # qa-dana

    removal = stack.up().ok()

    lines = removal.output.splitlines()
    unreferenced = [line for line in lines if "testers.qa-dana: referenced by no agent" in line]
    removed = [line for line in lines if "tester qa-dana of agent 20700 (91980XXXXX04)" in line]
    assert len(unreferenced) == 2, removal.output
    assert len(removed) == 2, removal.output
    assert re.search(r"pulumi:pulumi:Stack \S+\s+2 warnings$", removal.output, re.M), removal.output
    assert "message" not in removal.output
    found = {m.group(1) for line in unreferenced if (m := REMOVE_ENTRY.search(line))}
    assert found == {"config rm --path 'rcs-testers:testers.qa-dana'"}

    stack.run(*shlex.split(found.pop())).ok()
    after = stack.preview("--expect-no-changes").ok()
    assert "warning" not in after.output, after.output
    assert api_calls(sandbox)[0] == 5, "no register call after the first up"


#: The command a phonebook warning names for removing a person.
REMOVE_ENTRY = re.compile(r"remove the entry with `pulumi (config rm --path '[^']+')`")
