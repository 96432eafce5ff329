"""The review reads testers through the stack's phonebook (``rcs-testers:testers``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.git_repo import StackRepo, secret, stack_config
from rcs_provider._review import build_review, render, to_json_data
from rcs_provider._review.diff import Review, StackReview

REPO_ROOT = Path(__file__).resolve().parents[2]
#: A London fixed line (Ofcom's drama range): never a mobile for phonenumbers.
FIXED_LINE = "+44 20 7946 0018"

INLINE = [
    {
        "agent": "48900",
        "testers": [
            {"label": "qa-alice", "phone": secret("alice"), "note": "Pixel 8"},
            {"label": "qa-bob", "phone": secret("bob")},
        ],
    },
    {
        "agent": "20700",
        "testers": [{"label": "qa-alice", "phone": secret("alice"), "note": "Pixel 8"}],
    },
]
PHONEBOOK = {
    "qa-alice": {"phone": secret("alice"), "note": "Pixel 8"},
    "qa-bob": {"phone": secret("bob")},
}
REFERENCES = [
    {"agent": "48900", "testers": ["qa-alice", "qa-bob"]},
    {"agent": "20700", "testers": ["qa-alice"]},
]


def with_phonebook(agents: list[Any], phonebook: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return stack_config(agents, **{"rcs-testers:testers": phonebook}, **extra)


@pytest.fixture
def repo(tmp_path: Path) -> StackRepo:
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack("prod", stack_config(INLINE))
    repo.commit("prod testers, inline")
    repo.branch("change")
    return repo


def reviewed(repo: StackRepo, content: dict[str, Any] | str) -> StackReview:
    repo.write_stack("prod", content)
    repo.commit("change the prod stack")
    [stack] = build_review(repo.root, base_ref="main").stacks
    return stack


def changes(stack: StackReview) -> list[dict[str, Any]]:
    return [
        {"agent": agent["agent"], **change}
        for agent in to_json_data_of(stack)["agents"]
        for change in agent["changes"]
    ]


def to_json_data_of(stack: StackReview) -> dict[str, Any]:
    [data] = to_json_data(Review("main", "0" * 40, [stack]))["stacks"]
    return data


def test_inline_to_references_with_the_same_phones_is_no_change(repo: StackRepo) -> None:
    stack = reviewed(repo, with_phonebook(REFERENCES, PHONEBOOK))
    assert stack.agents == []
    assert stack.problems == []


def referencing_repo(tmp_path: Path) -> StackRepo:
    """A repository whose main holds the prod stack with references to its phonebook."""
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack("prod", with_phonebook(REFERENCES, PHONEBOOK))
    repo.commit("prod testers, by reference")
    repo.branch("change")
    return repo


def test_references_back_to_inline_is_no_change(tmp_path: Path) -> None:
    stack = reviewed(referencing_repo(tmp_path), stack_config(INLINE))
    assert (stack.agents, stack.problems) == ([], [])


def test_phonebook_phone_change_is_reported_once_per_agent(tmp_path: Path) -> None:
    repo = referencing_repo(tmp_path)
    changed_book = {**PHONEBOOK, "qa-alice": {"phone": secret("alice-new"), "note": "Pixel 8"}}
    stack = reviewed(repo, with_phonebook(REFERENCES, changed_book))
    assert changes(stack) == [
        {
            "agent": agent,
            "kind": "phone_changed",
            "label": "qa-alice",
            "phone": "secret",
            "from_phone": "secret",
            "from_phonebook": "testers.qa-alice",
            "invitation": True,
            "action": f"remove the old number of qa-alice (secret) from agent {agent} "
            "in the Kaleyra console",
        }
        for agent in ("48900", "20700")
    ]
    assert "phone changed in the phonebook (testers.qa-alice)" in stack.agents[0].changes[0].effect
    assert stack.problems == []


def test_unknown_reference_is_preview_problem_with_did_you_mean(repo: StackRepo) -> None:
    agents = [{"agent": "48900", "testers": ["qa-alice", "qa-bobb"]}, REFERENCES[1]]
    stack = reviewed(repo, with_phonebook(agents, PHONEBOOK))
    assert stack.problems == [
        "stacks/Pulumi.prod.yaml: agents[0].testers[1]: unknown tester 'qa-bobb': not in "
        "rcs-testers:testers; did you mean 'qa-bob'?"
    ]
    assert [(c["agent"], c["kind"], c["label"]) for c in changes(stack)] == [
        ("48900", "removed", "qa-bob")
    ]


def test_secret_phonebook_phones_pass_and_their_duplicates_are_problems(
    repo: StackRepo,
) -> None:
    book = {**PHONEBOOK, "qa-robert": {"phone": secret("bob")}}
    stack = reviewed(repo, with_phonebook(REFERENCES, book))
    assert stack.problems == [
        "stacks/Pulumi.prod.yaml: testers.qa-robert.phone: the same secret phone is also the "
        "phone of testers.qa-bob: one person, one entry; point the agents at one label"
    ]


def test_allow_non_mobile_is_shown_in_every_format(repo: StackRepo) -> None:
    book = {**PHONEBOOK, "qa-desk": {"phone": FIXED_LINE, "allowNonMobile": True}}
    agents = [REFERENCES[0], {"agent": "20700", "testers": ["qa-alice", "qa-desk"]}]
    stack = reviewed(repo, with_phonebook(agents, book, **{"rcs-testers:allowClearPhones": True}))
    assert stack.problems == []
    assert changes(stack) == [
        {
            "agent": "20700",
            "kind": "added",
            "label": "qa-desk",
            "phone": "44207XXXXX18",
            "allow_non_mobile": True,
            "invitation": True,
        }
    ]
    assert [w for w in stack.warnings if "allowNonMobile" in w] == [
        "stacks/Pulumi.prod.yaml: agent 20700: qa-desk has allowNonMobile: true, so its number "
        "is accepted whatever its line type; make sure it is a mobile"
    ]
    review = build_review(repo.root, base_ref="main")
    for output_format in ("markdown", "text"):
        assert "allowNonMobile: line type not checked" in render(review, output_format)


def test_unchanged_allow_non_mobile_tester_is_still_shown(tmp_path: Path) -> None:
    book = {**PHONEBOOK, "qa-desk": {"phone": FIXED_LINE, "allowNonMobile": True}}
    agents = [REFERENCES[0], {"agent": "20700", "testers": ["qa-alice", "qa-desk"]}]
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack("prod", with_phonebook(agents, book, pod="sandbox"))
    repo.commit("prod testers")
    repo.branch("change")
    book = {**book, "qa-bob": {"phone": secret("bob"), "note": "Pixel 9"}}
    stack = reviewed(repo, with_phonebook(agents, book, pod="sandbox"))
    assert [c["kind"] for c in changes(stack)] == ["note_changed"]
    assert stack.warnings == [
        "stacks/Pulumi.prod.yaml: agent 20700: qa-desk has allowNonMobile: true, so its number "
        "is accepted whatever its line type; make sure it is a mobile"
    ]


def test_setting_allow_non_mobile_on_a_tester_is_shown(repo: StackRepo) -> None:
    testers = [{**INLINE[1]["testers"][0], "allowNonMobile": True}]
    stack = reviewed(repo, stack_config([INLINE[0], {"agent": "20700", "testers": testers}]))
    assert [(c["agent"], c["kind"], c.get("allow_non_mobile")) for c in changes(stack)] == [
        ("20700", "allow_non_mobile_changed", True)
    ]


def test_non_mobile_number_is_preview_problem(repo: StackRepo) -> None:
    book = {**PHONEBOOK, "qa-desk": {"phone": FIXED_LINE}}
    agents = [REFERENCES[0], {"agent": "20700", "testers": ["qa-alice", "qa-desk"]}]
    stack = reviewed(repo, with_phonebook(agents, book, pod="sandbox"))
    assert stack.problems == [
        "stacks/Pulumi.prod.yaml: testers.qa-desk.phone: phone number 44207XXXXX18 is a "
        "fixed-line number, which cannot receive RCS messages: declare the tester's mobile "
        "number, or, if it really is a mobile that phonenumbers' metadata classifies wrongly, "
        "set allowNonMobile: true on it",
        "stacks/Pulumi.prod.yaml: agents[1].testers[1]: refers to testers.qa-desk, which is "
        "invalid (see its problem)",
    ]


def test_real_dev_stack_against_its_inline_version_has_no_tester_changes(
    tmp_path: Path,
) -> None:
    repo = StackRepo(tmp_path / "repo")
    shutil.copy(
        REPO_ROOT / "tests/e2e/data/Pulumi.dev.inline.yaml", repo.root / "stacks/Pulumi.dev.yaml"
    )
    repo.commit("dev testers, inline")
    repo.branch("phonebook")
    shutil.copy(REPO_ROOT / "stacks/Pulumi.dev.yaml", repo.root / "stacks/Pulumi.dev.yaml")
    repo.commit("dev testers, by reference")
    review = build_review(repo.root, base_ref="main")
    [stack] = review.stacks
    assert (stack.problems, stack.warnings, review.actions()) == ([], [], [])
    # The one difference is real: the inline version gave qa-alice's note only at 48900.
    assert changes(stack) == [
        {
            "agent": "20700",
            "kind": "note_changed",
            "label": "qa-alice",
            "phone": "91953XXXXX92",
            "invitation": False,
        }
    ]
