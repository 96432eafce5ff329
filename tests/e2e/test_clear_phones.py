"""A phone written in clear beside secret ones, outside the sandbox: preview fails naming
exactly the clear phones, the opt-out turns that into a warning naming them, and once each is
set as a secret nothing in the state or the backend holds a full number. An api-key written in
clear fails preview the same way, without quoting it."""

from __future__ import annotations

from typing import Any

import pytest

from rcs_devtools.fleet_data import formatted, phone
from rcs_devtools.pulumi_cli import Stack

#: qa-alice (1) and qa-carol (3) are set as secrets; qa-bob (2) and qa-dan (4) are typed
#: into the stack file in clear, as a person editing it by hand would.
SECRET = {"48900": [("qa-alice", 1)], "20700": [("qa-carol", 3)]}
CLEAR = {"48900": ("qa-bob", 2), "20700": ("qa-dan", 4)}
CLEAR_PATHS = ("agents[0].testers[1].phone", "agents[1].testers[1].phone")


def write_mixed_stack(stack: Stack) -> None:
    stack.set_secret_phones(SECRET)
    data = stack._load()
    for agent in data["config"]["rcs-testers:agents"]:
        label, n = CLEAR[agent["agent"]]
        agent["testers"].append({"label": label, "phone": formatted(n)})
    stack._save(data)


def api_calls(sandbox: Any) -> tuple[int, int]:
    stats = sandbox.stats()
    return stats["register_calls"], stats["list_calls"]


@pytest.mark.parametrize("pod", ["in", "na"])
def test_mixed_stack_outside_the_sandbox_fails_naming_each_clear_phone(
    stack: Stack, sandbox: Any, pod: str
) -> None:
    write_mixed_stack(stack)
    stack.set_kaleyra(pod=pod)  # baseUrl still points at the loopback sandbox

    previewed = stack.preview()

    assert previewed.returncode != 0
    assert "2 problem(s); nothing was registered" in previewed.output
    assert f"{CLEAR_PATHS[0]}: 91980XXXXX02 is written in clear" in previewed.output
    assert f"{CLEAR_PATHS[1]}: 91980XXXXX04 is written in clear" in previewed.output
    assert "testers[0].phone" not in previewed.output, "the secret phones are not flagged"
    for path in CLEAR_PATHS:
        assert f"pulumi config set --secret --path 'rcs-testers:{path}'" in previewed.output
    assert api_calls(sandbox) == (0, 0)
    for n in (1, 2, 3, 4):
        assert phone(n) not in previewed.output and formatted(n) not in previewed.output


def test_the_opt_out_warns_naming_each_clear_phone(stack: Stack, sandbox: Any) -> None:
    write_mixed_stack(stack)
    stack.set_kaleyra(pod="na")
    stack.set_config("rcs-testers:allowClearPhones", True)

    previewed = stack.preview().ok()

    assert "2 phone(s) are written in clear" in previewed.output
    assert f"{CLEAR_PATHS[0]} (91980XXXXX02)" in previewed.output
    assert f"{CLEAR_PATHS[1]} (91980XXXXX04)" in previewed.output
    assert "rcs-testers:allowClearPhones accepts that" in previewed.output


def test_the_sandbox_pod_accepts_clear_phones_silently(stack: Stack, sandbox: Any) -> None:
    write_mixed_stack(stack)
    previewed = stack.preview().ok()
    assert "written in clear" not in previewed.output


def test_once_fixed_no_full_number_is_left_in_state_or_backend(stack: Stack, sandbox: Any) -> None:
    write_mixed_stack(stack)
    stack.set_kaleyra(pod="na")
    assert stack.preview().returncode != 0
    for path, (_, n) in zip(CLEAR_PATHS, CLEAR.values(), strict=True):
        stack.run("config", "set", "--secret", "--path", f"rcs-testers:{path}", formatted(n)).ok()

    applied = stack.up().ok()

    assert "written in clear" not in applied.output
    assert api_calls(sandbox)[0] == 4
    exported = stack.run("stack", "export").ok().stdout
    stack_file = stack.file.read_text()
    backend = "\n".join(
        p.read_text(errors="replace") for p in stack.project.state_dir.rglob("*") if p.is_file()
    )
    for n in (1, 2, 3, 4):
        for text in (phone(n), formatted(n), phone(n)[-10:]):
            assert text not in exported
            assert text not in backend
            assert text not in stack_file


def test_a_clear_api_key_outside_the_sandbox_fails_preview_with_no_kaleyra_call(
    stack: Stack, sandbox: Any
) -> None:
    key = "PLAINTEXTKEY999"
    stack.set_secret_phones(SECRET)
    stack.set_kaleyra(pod="in", apiKey=key)  # typed in clear; baseUrl still the sandbox

    previewed = stack.preview()

    assert previewed.returncode != 0
    assert "1 problem(s); nothing was registered" in previewed.output
    assert "kaleyra:apiKey: is written in clear" in previewed.output
    assert "run `pulumi config set --secret kaleyra:apiKey <key>`" in previewed.output
    assert key not in previewed.output
    assert api_calls(sandbox) == (0, 0)
