"""A ``kaleyra:apiKey`` written in clear in a stack file is a problem outside the sandbox pod,
read from the file's text as preview and the review both read it, and never quoted."""

from __future__ import annotations

import pytest
import yaml

from rcs_provider._config import clear_api_key_problems, compose_stack_text, stack_file_problems

KEY = "rcs-testers:agents"
API_KEY = "PLAINTEXTKEY999"
SECURE = {"secure": "v1:c2VjcmV0IGFwaS1rZXkgY2lwaGVydGV4dA=="}
AGENTS = [{"agent": "48900", "testers": [{"label": "qa-alice", "phone": SECURE}]}]
PROBLEM = (
    "kaleyra:apiKey: is written in clear; outside the sandbox the api-key must be a secret (the "
    "stack file sits in git, and the engine stores the stack config in the state): run "
    "`pulumi config set --secret kaleyra:apiKey <key>`, and rotate the key if the file was "
    "ever committed"
)


def stack_text(api_key: object, **extra: object) -> str:
    config = {"kaleyra:pod": "in", "kaleyra:apiKey": api_key, KEY: AGENTS, **extra}
    return yaml.safe_dump({"config": config}, sort_keys=False)


def problems(text: str, *, outside_sandbox: bool = True, allow: bool = False) -> list[str]:
    found, _ = stack_file_problems(
        text,
        KEY,
        AGENTS,
        None,
        outside_sandbox=outside_sandbox,
        allow_clear_phones=allow,
    )
    return found


def test_a_clear_api_key_is_a_problem_with_the_exact_fix() -> None:
    text = stack_text(API_KEY)

    assert clear_api_key_problems(compose_stack_text(text)) == [PROBLEM]
    assert problems(text) == [PROBLEM]
    assert API_KEY not in PROBLEM


@pytest.mark.parametrize("value", [12345, "k", "with-dash_and.dot"])
def test_any_clear_scalar_is_a_clear_api_key(value: object) -> None:
    assert problems(stack_text(value)) == [PROBLEM]


def test_a_secret_api_key_is_no_problem() -> None:
    assert problems(stack_text(SECURE)) == []


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_unset_api_key_is_not_reported_here(value: object) -> None:
    # The provider reports a missing key as "kaleyra:apiKey is not set".
    assert problems(stack_text(value)) == []


def test_no_api_key_in_the_file_is_no_problem() -> None:
    assert problems(yaml.safe_dump({"config": {"kaleyra:pod": "in", KEY: AGENTS}})) == []


def test_the_sandbox_pod_accepts_a_clear_api_key() -> None:
    assert problems(stack_text("sandbox-api-key"), outside_sandbox=False) == []


def test_allow_clear_phones_does_not_cover_the_api_key() -> None:
    assert problems(stack_text(API_KEY), allow=True) == [PROBLEM]


def test_the_api_key_problem_comes_first_beside_clear_phones() -> None:
    agents = [{"agent": "48900", "testers": [{"label": "qa-bob", "phone": "+91 98002 00002"}]}]
    config = {"kaleyra:pod": "in", "kaleyra:apiKey": API_KEY, KEY: agents}
    text = yaml.safe_dump({"config": config}, sort_keys=False)

    found, _ = stack_file_problems(
        text, KEY, agents, None, outside_sandbox=True, allow_clear_phones=False
    )

    assert found[0] == PROBLEM
    assert found[1].startswith("agents[0].testers[0].phone: 91980XXXXX02 is written in clear")
