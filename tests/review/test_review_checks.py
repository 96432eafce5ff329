"""Warnings and validation problems of the reviewed stacks."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.fleet_data import formatted
from rcs_devtools.git_repo import StackRepo, secret, stack_config
from rcs_provider._review import build_review
from rcs_provider._review.diff import StackReview


@pytest.fixture
def repo(tmp_path: Path) -> StackRepo:
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack(
        "prod",
        stack_config([{"agent": "48900", "testers": [{"label": "qa-0", "phone": secret("0")}]}]),
    )
    repo.commit("base")
    repo.branch("change")
    return repo


def reviewed(repo: StackRepo, content: dict[str, Any] | str) -> StackReview:
    repo.write_stack("prod", content)
    repo.commit("change")
    (stack,) = build_review(repo.root, base_ref="main").stacks
    return stack


def secret_testers(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"label": f"qa-{i}", "phone": secret(str(i))} for i in range(start, start + count)]


def test_more_new_testers_than_the_budget_warns(repo: StackRepo) -> None:
    stack = reviewed(repo, stack_config([{"agent": "48900", "testers": secret_testers(22)}]))
    assert stack.warnings == [
        "agent 48900: this change sends 21 new tester invitations, more than "
        "rcs-testers:newTesterBudget (20); Google RBM (behind Kaleyra) accepts 20 per agent per "
        "day. Split the change over several days, or raise rcs-testers:newTesterBudget if your "
        "quota is higher."
    ]
    assert stack.problems == []


def test_new_testers_within_the_budget_do_not_warn(repo: StackRepo) -> None:
    assert (
        reviewed(repo, stack_config([{"agent": "48900", "testers": secret_testers(21)}])).warnings
        == []
    )


def test_budget_is_read_from_the_stack(repo: StackRepo) -> None:
    content = stack_config(
        [{"agent": "48900", "testers": secret_testers(4)}], **{"rcs-testers:newTesterBudget": 2}
    )
    assert [w.split(",")[0] for w in reviewed(repo, content).warnings] == [
        "agent 48900: this change sends 3 new tester invitations"
    ]


def test_invalid_budget_is_the_provider_problem(repo: StackRepo) -> None:
    content = stack_config(
        [{"agent": "48900", "testers": secret_testers(1)}],
        **{"rcs-testers:newTesterBudget": "lots"},
    )
    assert reviewed(repo, content).problems == [
        "stacks/Pulumi.prod.yaml: Unable to configure the Kaleyra provider: "
        "rcs-testers:newTesterBudget must be a whole number of at least 1, got 'lots': "
        "`pulumi config set rcs-testers:newTesterBudget 20`"
    ]


def test_agent_close_to_the_ceiling_warns(repo: StackRepo) -> None:
    content = stack_config(
        [{"agent": "48900", "testers": secret_testers(181)}], **{"rcs-testers:newTesterBudget": 500}
    )
    assert reviewed(repo, content).warnings == [
        "agent 48900: 181 testers declared, close to Google RBM's ceiling of 200 per agent; "
        "testers removed from the stack still count until they are removed in the Kaleyra console."
    ]


def test_agent_well_below_the_ceiling_does_not_warn(repo: StackRepo) -> None:
    content = stack_config(
        [{"agent": "48900", "testers": secret_testers(179)}], **{"rcs-testers:newTesterBudget": 500}
    )
    assert reviewed(repo, content).warnings == []


def test_over_the_ceiling_is_a_problem(repo: StackRepo) -> None:
    content = stack_config(
        [{"agent": "48900", "testers": secret_testers(201)}], **{"rcs-testers:newTesterBudget": 500}
    )
    stack = reviewed(repo, content)
    assert stack.problems == [
        "stacks/Pulumi.prod.yaml: agents[0].testers: 201 testers; an agent can have at most 200 "
        "(Google RBM's limit behind Kaleyra): split them across agents or remove some"
    ]


def test_clear_phones_outside_the_sandbox_are_problems(repo: StackRepo) -> None:
    testers = [*secret_testers(1), {"label": "qa-clear", "phone": formatted(3)}]
    stack = reviewed(repo, stack_config([{"agent": "48900", "testers": testers}], pod="na"))
    assert stack.problems == [
        "stacks/Pulumi.prod.yaml: agents[0].testers[1].phone: 91980XXXXX03 is written in clear; "
        "outside the sandbox a phone must be a secret (the engine stores the stack config in the "
        "state): run `pulumi config set --secret --path 'rcs-testers:agents[0].testers[1].phone' "
        "'<number>'`, or set rcs-testers:allowClearPhones: true to accept clear phones"
    ]
    assert stack.warnings == []


def test_clear_phones_accepted_by_the_stack_warn(repo: StackRepo) -> None:
    testers = [*secret_testers(1), {"label": "qa-clear", "phone": formatted(3)}]
    content = stack_config(
        [{"agent": "48900", "testers": testers}],
        pod="na",
        **{"rcs-testers:allowClearPhones": "true"},
    )
    stack = reviewed(repo, content)
    assert stack.problems == []
    assert stack.warnings == [
        "stacks/Pulumi.prod.yaml: 1 phone(s) are written in clear (agents[0].testers[1].phone "
        "(91980XXXXX03)), so they are stored in clear in git and in the state; "
        "rcs-testers:allowClearPhones accepts that. Set each with `pulumi config set --secret "
        "--path 'rcs-testers:agents[0].testers[1].phone' '<number>'` to keep it secret."
    ]


def test_clear_phones_in_the_sandbox_do_not_warn(repo: StackRepo) -> None:
    testers = [{"label": "qa-clear", "phone": formatted(3)}]
    assert (
        reviewed(
            repo, stack_config([{"agent": "48900", "testers": testers}], pod="sandbox")
        ).warnings
        == []
    )


def test_secret_phones_pass_validation(repo: StackRepo) -> None:
    testers = [*secret_testers(3), {"label": "qa-clear", "phone": formatted(3)}]
    assert (
        reviewed(
            repo, stack_config([{"agent": "48900", "testers": testers}], pod="sandbox")
        ).problems
        == []
    )


def test_unquoted_numbers_yaml_would_change_are_problems(repo: StackRepo) -> None:
    text = (
        "config:\n  kaleyra:pod: in\n  rcs-testers:agents:\n    - agent: 04890\n      testers:\n"
        "        - label: qa-0\n          phone:\n            secure: v1:0:AAAA\n"
    )
    assert reviewed(repo, text).problems == [
        "stacks/Pulumi.prod.yaml: agents[0].agent: written without quotes as 04890, which YAML "
        'may read as a different number: quote it ("04890")'
    ]


def test_broken_yaml_is_a_problem_without_its_content(repo: StackRepo) -> None:
    stack = reviewed(repo, "config:\n  rcs-testers:agents: [\n    {phone: +919800000001\n")
    assert len(stack.problems) == 1
    assert stack.problems[0].startswith("stacks/Pulumi.prod.yaml: is not valid YAML (line ")
    assert "919800000001" not in stack.problems[0]


def test_agents_encrypted_as_a_whole_warn_instead_of_failing(repo: StackRepo) -> None:
    stack = reviewed(repo, stack_config(secret("whole-list")))  # type: ignore[arg-type]
    assert stack.problems == []
    assert stack.warnings == [
        "stacks/Pulumi.prod.yaml: rcs-testers:agents is encrypted as a whole, so its testers "
        "cannot be compared or checked here. Review with --decrypt, or keep only the phones "
        "secret (`pulumi config set --secret --path 'rcs-testers:agents[0].testers[0].phone' ...`)."
    ]


def test_secret_notes_pass_validation(repo: StackRepo) -> None:
    testers = [{"label": "qa-0", "phone": secret("0"), "note": secret("note")}]
    assert reviewed(repo, stack_config([{"agent": "48900", "testers": testers}])).problems == []


def test_the_stack_text_is_checked_without_a_temporary_file(
    repo: StackRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program's stack-file rules take the text: the base version, which lives only in
    git, is never written out."""

    def no_temporary_files(*args: object, **kwargs: object) -> str:
        raise AssertionError("the review wrote a temporary file")

    monkeypatch.setattr(tempfile, "mkdtemp", no_temporary_files)
    monkeypatch.setattr(tempfile, "mkstemp", no_temporary_files)
    content = stack_config(
        [{"agent": "48900", "testers": [{"label": "qa-0", "phone": formatted(1)}]}],
        **{"kaleyra:apiKey": "PLAINTEXTKEY999"},
    )
    problems = reviewed(repo, content).problems
    assert [p.split(": ", 2)[1] for p in problems] == [
        "kaleyra:apiKey",
        "agents[0].testers[0].phone",
    ]
