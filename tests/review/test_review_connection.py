"""The review guards the api-key: a branch that changes where or how the key is sent needs a
person, and a key committed in clear outside the sandbox is a problem, never quoted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.git_repo import StackRepo, secret, stack_config
from rcs_provider._review import build_review
from rcs_provider._review.command import main

ATTACKER = "https://kaleyra-proxy.attacker.example"
PLAIN_KEY = "PLAINTEXTKEY999"
AGENTS = [{"agent": "48900", "testers": [{"label": "qa-a", "phone": secret("a")}]}]
FIX = "run `pulumi config set --secret kaleyra:apiKey <key>`"


@pytest.fixture
def repo(tmp_path: Path) -> StackRepo:
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack("prod", stack_config(AGENTS, **{"kaleyra:apiKey": secret("key")}))
    repo.commit("prod on pod in, its key a secret")
    repo.branch("change")
    return repo


def commit_prod(repo: StackRepo, **config: Any) -> None:
    repo.write_stack("prod", stack_config(AGENTS, **config))
    repo.commit("change prod")


def review(
    repo: StackRepo, output_format: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    status = main(["--project", str(repo.root), "--base", "main", "--format", output_format])
    return status, capsys.readouterr().out


def test_the_issue_check_a_new_host_and_a_clear_key_are_both_reported(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    commit_prod(repo, **{"kaleyra:baseUrl": ATTACKER})
    commit_prod(repo, **{"kaleyra:baseUrl": ATTACKER, "kaleyra:apiKey": PLAIN_KEY})

    status, markdown = review(repo, "markdown", capsys)
    _, text = review(repo, "text", capsys)
    _, raw = review(repo, "json", capsys)

    assert status == 1, "the clear key is a problem"
    needs_a_person = markdown.split("#### Needs a person", 1)[1]
    assert (
        f"- [ ] **prod**: check where the api-key goes: `pulumi up` will send it to `{ATTACKER}` "
        "instead of `https://rcs-api.in.kaleyra.io`"
    ) in needs_a_person
    assert "stacks/Pulumi.prod.yaml: kaleyra:apiKey: is written in clear" in markdown
    assert FIX in markdown
    assert "Needs a person:\n  - prod: check where the api-key goes" in text
    data = json.loads(raw)
    assert data["stacks"][0]["connection"] == [
        {"setting": "kaleyra:baseUrl", "from": None, "to": ATTACKER}
    ]
    assert data["actions"][0]["action"].startswith("check where the api-key goes")
    for output in (markdown, text, raw):
        assert PLAIN_KEY not in output


def test_a_host_change_alone_is_not_no_change(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    commit_prod(repo, **{"kaleyra:apiKey": secret("key"), "kaleyra:baseUrl": ATTACKER})

    status, markdown = review(repo, "markdown", capsys)

    assert status == 0
    assert not markdown.startswith("No tester changes")
    assert "0 tester change(s) in 1 stack(s): 0 invitation(s) on deploy, 1 action(s)" in markdown
    assert f"will send it to `{ATTACKER}`" in markdown


def test_a_pod_change_shows_both_hosts(repo: StackRepo) -> None:
    repo.write_stack("prod", stack_config(AGENTS, pod="na", **{"kaleyra:apiKey": secret("key")}))
    repo.commit("prod moves to pod na")

    (stack,) = build_review(repo.root, base_ref="main").stacks

    (item,) = stack.connection
    hosts = "`https://rcs-api.na.kaleyra.io` instead of `https://rcs-api.in.kaleyra.io`"
    assert f"send it to {hosts}" in item.action
    assert stack.problems == []


def test_call_settings_are_each_an_item(repo: StackRepo) -> None:
    commit_prod(
        repo,
        **{
            "kaleyra:apiKey": secret("key"),
            "kaleyra:registerPath": "/collect/{sid}",
            "kaleyra:listMethod": "POST",
        },
    )

    review_ = build_review(repo.root, base_ref="main")

    assert [action for _, action in review_.actions()] == [
        "check kaleyra:registerPath `/v1/{sid}/rcs/agenttester/register` (default) -> "
        "`/collect/{sid}`: it changes the calls that carry the api-key to "
        "`https://rcs-api.in.kaleyra.io`",
        "check kaleyra:listMethod `GET` (default) -> `POST`: it changes the calls that carry "
        "the api-key to `https://rcs-api.in.kaleyra.io`",
    ]


def test_a_clear_key_on_the_sandbox_pod_is_accepted(tmp_path: Path) -> None:
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack("dev", stack_config(AGENTS, pod="sandbox"))
    repo.commit("dev")
    repo.branch("change")
    repo.write_stack(
        "dev", stack_config(AGENTS, pod="sandbox", **{"kaleyra:apiKey": "sandbox-api-key"})
    )
    repo.commit("the demo key in clear")

    (stack,) = build_review(repo.root, base_ref="main").stacks

    assert stack.problems == []


def test_a_clear_key_is_a_problem_even_when_the_testers_cannot_be_read(repo: StackRepo) -> None:
    repo.write_stack(
        "prod",
        {
            "config": {
                "kaleyra:pod": "in",
                "kaleyra:apiKey": PLAIN_KEY,
                "rcs-testers:agents": secret("all-agents"),
            }
        },
    )
    repo.commit("agents encrypted as a whole, key in clear")

    (stack,) = build_review(repo.root, base_ref="main").stacks

    assert [p.split(";")[0] for p in stack.problems] == [
        "stacks/Pulumi.prod.yaml: kaleyra:apiKey: is written in clear"
    ]
    assert "encrypted as a whole" in stack.warnings[0]
