"""Each kind of tester change, one commit each, as the review reports it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.fleet_data import formatted, phone
from rcs_devtools.git_repo import StackRepo, secret, stack_config
from rcs_provider._review import build_review, to_json_data

BASE_AGENTS = [
    {
        "agent": "48900",
        "name": "Support bot",
        "testers": [
            {"label": "qa-alice", "phone": formatted(1), "note": "Pixel 8"},
            {"label": "qa-bob", "phone": secret("bob")},
        ],
    },
    {"agent": "20700", "testers": [{"label": "qa-dana", "phone": formatted(4)}]},
]


@pytest.fixture
def repo(tmp_path: Path) -> StackRepo:
    """A repository whose main holds the prod stack; HEAD is a feature branch."""
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack("prod", stack_config(BASE_AGENTS))
    repo.commit("prod testers")
    repo.branch("change")
    return repo


def changed(repo: StackRepo, agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Commit ``agents`` as the prod stack's testers; return every change of the review."""
    repo.write_stack("prod", stack_config(agents))
    repo.commit("change testers")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    assert [s["stack"] for s in data["stacks"]] == ["prod"]
    return [
        {"agent": a["agent"], **c}
        for s in data["stacks"]
        for a in s["agents"]
        for c in a["changes"]
    ]


def with_testers(agent_no: str, testers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**agent, "testers": testers} if agent["agent"] == agent_no else agent
        for agent in BASE_AGENTS
    ]


def test_added_clear_tester_sends_an_invitation(repo: StackRepo) -> None:
    testers = [*BASE_AGENTS[1]["testers"], {"label": "qa-eve", "phone": formatted(5)}]
    assert changed(repo, with_testers("20700", testers)) == [
        {
            "agent": "20700",
            "kind": "added",
            "label": "qa-eve",
            "phone": "91980XXXXX05",
            "invitation": True,
        }
    ]


def test_removed_secret_tester_is_an_action_for_a_person(repo: StackRepo) -> None:
    testers = [BASE_AGENTS[0]["testers"][0]]
    assert changed(repo, with_testers("48900", testers)) == [
        {
            "agent": "48900",
            "kind": "removed",
            "label": "qa-bob",
            "phone": "secret",
            "invitation": False,
            "action": "remove qa-bob (secret) from agent 48900 in the Kaleyra console",
        }
    ]


def test_renamed_secret_tester_is_matched_by_ciphertext(repo: StackRepo) -> None:
    testers = [BASE_AGENTS[0]["testers"][0], {"label": "qa-robert", "phone": secret("bob")}]
    assert changed(repo, with_testers("48900", testers)) == [
        {
            "agent": "48900",
            "kind": "renamed",
            "label": "qa-robert",
            "from_label": "qa-bob",
            "phone": "secret",
            "invitation": False,
        }
    ]


def test_renamed_clear_tester_is_matched_by_normalised_number(repo: StackRepo) -> None:
    spelled_otherwise = phone(1)  # "919800000001" instead of "+91 98000 00001"
    testers = [{"label": "qa-alicia", "phone": spelled_otherwise}, BASE_AGENTS[0]["testers"][1]]
    changes = changed(repo, with_testers("48900", testers))
    assert [(c["kind"], c["from_label"], c["label"]) for c in changes] == [
        ("renamed", "qa-alice", "qa-alicia")
    ]


def test_phone_changed_is_a_new_invitation_and_an_action(repo: StackRepo) -> None:
    testers = [
        {"label": "qa-alice", "phone": formatted(7), "note": "Pixel 8"},
        BASE_AGENTS[0]["testers"][1],
    ]
    assert changed(repo, with_testers("48900", testers)) == [
        {
            "agent": "48900",
            "kind": "phone_changed",
            "label": "qa-alice",
            "phone": "91980XXXXX07",
            "from_phone": "91980XXXXX01",
            "invitation": True,
            "action": "remove the old number of qa-alice (91980XXXXX01) from agent 48900 in the Kaleyra console",
        }
    ]


def test_re_encrypted_secret_shows_as_phone_changed_with_a_note(repo: StackRepo) -> None:
    testers = [BASE_AGENTS[0]["testers"][0], {"label": "qa-bob", "phone": secret("bob-again")}]
    repo.write_stack("prod", stack_config(with_testers("48900", testers)))
    repo.commit("re-encrypt")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    change = data["stacks"][0]["agents"][0]["changes"][0]
    assert (change["kind"], change["phone"], change["from_phone"]) == (
        "phone_changed",
        "secret",
        "secret",
    )
    assert len(data["notes"]) == 1
    assert '"phone changed"' in data["notes"][0]


def test_clear_phone_changes_carry_no_ciphertext_note(repo: StackRepo) -> None:
    testers = [{"label": "qa-alice", "phone": formatted(7)}, BASE_AGENTS[0]["testers"][1]]
    repo.write_stack("prod", stack_config(with_testers("48900", testers)))
    repo.commit("new phone")
    assert to_json_data(build_review(repo.root, base_ref="main"))["notes"] == []


def test_moved_between_agents_is_two_actions_in_one(repo: StackRepo) -> None:
    agents = [
        {**BASE_AGENTS[0], "testers": [BASE_AGENTS[0]["testers"][0]]},
        {
            "agent": "20700",
            "testers": [*BASE_AGENTS[1]["testers"], {"label": "qa-bob", "phone": secret("bob")}],
        },
    ]
    assert changed(repo, agents) == [
        {
            "agent": "20700",
            "kind": "moved",
            "label": "qa-bob",
            "phone": "secret",
            "from_agent": "48900",
            "invitation": True,
            "action": "remove qa-bob (secret) from agent 48900 in the Kaleyra console",
        }
    ]


def test_note_only_change_has_no_effect(repo: StackRepo) -> None:
    testers = [{**BASE_AGENTS[0]["testers"][0], "note": "Pixel 9"}, BASE_AGENTS[0]["testers"][1]]
    assert changed(repo, with_testers("48900", testers)) == [
        {
            "agent": "48900",
            "kind": "note_changed",
            "label": "qa-alice",
            "phone": "91980XXXXX01",
            "invitation": False,
        }
    ]


def test_reordering_testers_and_agents_is_no_change(repo: StackRepo) -> None:
    agents = [BASE_AGENTS[1], {**BASE_AGENTS[0], "testers": BASE_AGENTS[0]["testers"][::-1]}]
    repo.write_stack("prod", stack_config(agents))
    repo.commit("reorder")
    review = build_review(repo.root, base_ref="main")
    assert not review.has_tester_changes


def test_agent_added_and_removed(repo: StackRepo) -> None:
    agents = [
        BASE_AGENTS[0],
        {"agent": "30100", "testers": [{"label": "qa-fay", "phone": formatted(6)}]},
    ]
    repo.write_stack("prod", stack_config(agents))
    repo.commit("replace agent 20700 by 30100")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    agents_out = {a["agent"]: a for a in data["stacks"][0]["agents"]}
    assert agents_out["30100"]["status"] == "added"
    assert [c["kind"] for c in agents_out["30100"]["changes"]] == ["added"]
    assert agents_out["20700"]["status"] == "removed"
    assert agents_out["20700"]["testers_after"] == 0
    assert [(c["kind"], c["label"]) for c in agents_out["20700"]["changes"]] == [
        ("removed", "qa-dana")
    ]
    assert "48900" not in agents_out


def test_stack_added_where_the_base_lacks_the_file(repo: StackRepo) -> None:
    repo.write_stack(
        "staging",
        stack_config(
            [{"agent": "48900", "testers": [{"label": "qa-gus", "phone": secret("gus")}]}]
        ),
    )
    repo.commit("staging stack")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    assert [(s["stack"], s["status"]) for s in data["stacks"]] == [("staging", "added")]
    stack = data["stacks"][0]
    assert stack["agents"][0]["status"] == "added"
    assert stack["agents"][0]["changes"] == [
        {"kind": "added", "label": "qa-gus", "phone": "secret", "invitation": True}
    ]


def test_stack_removed_leaves_every_tester_to_remove_by_hand(repo: StackRepo) -> None:
    repo.remove_stack("prod")
    repo.commit("drop prod")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    assert [(s["stack"], s["status"], s["problems"]) for s in data["stacks"]] == [
        ("prod", "removed", [])
    ]
    assert [a["action"] for a in data["actions"]] == [
        "remove qa-alice (91980XXXXX01) from agent 48900 in the Kaleyra console",
        "remove qa-bob (secret) from agent 48900 in the Kaleyra console",
        "remove qa-dana (91980XXXXX04) from agent 20700 in the Kaleyra console",
    ]


def test_uncommitted_edits_in_the_work_tree_are_reviewed(repo: StackRepo) -> None:
    testers = [*BASE_AGENTS[1]["testers"], {"label": "qa-eve", "phone": formatted(5)}]
    repo.write_stack("prod", stack_config(with_testers("20700", testers)))
    data = to_json_data(build_review(repo.root, base_ref="main"))
    assert data["has_changes"] is True
    assert data["stacks"][0]["agents"][0]["changes"][0]["label"] == "qa-eve"


def test_unchanged_stack_files_are_left_out(repo: StackRepo) -> None:
    repo.write_stack("dev", stack_config(BASE_AGENTS, pod="sandbox"))
    repo.git("add", "--all")
    repo.commit("dev on the branch")
    repo.git("checkout", "--quiet", "main")
    repo.git("merge", "--quiet", "--no-ff", "-m", "merge", "change")
    repo.branch("later")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    assert data["stacks"] == []
    assert data["has_changes"] is False


def test_an_invalid_old_number_leaves_nothing_to_remove(tmp_path: Path) -> None:
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack(
        "prod",
        stack_config(
            [
                {
                    "agent": "48900",
                    "testers": [
                        {"label": "qa-a", "phone": "+91 98000"},
                        {"label": "qa-b", "phone": "12"},
                    ],
                }
            ]
        ),
    )
    repo.commit("invalid numbers, never registered")
    repo.branch("fix")
    repo.write_stack(
        "prod",
        stack_config([{"agent": "48900", "testers": [{"label": "qa-a", "phone": formatted(1)}]}]),
    )
    repo.commit("fixed")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    changes = data["stacks"][0]["agents"][0]["changes"]
    assert [(c["kind"], c["label"], c.get("from_phone")) for c in changes] == [
        ("removed", "qa-b", None),
        ("phone_changed", "qa-a", "invalid"),
    ]
    assert data["actions"] == []


def test_a_tester_whose_phone_is_invalid_is_said_to_fail_not_invited(repo: StackRepo) -> None:
    """Preview refuses the stack, so nothing is sent: the row says so, and counts no
    invitation; a phone changed to an invalid one leaves the old number in place."""
    testers = [
        {"label": "qa-alice", "phone": "+44 7700 900456"},  # was formatted(1)
        BASE_AGENTS[0]["testers"][1],
        {"label": "qa-eve", "phone": "+44 7700 900456"},
    ]
    changes = changed(repo, with_testers("48900", testers))
    assert [(c["kind"], c["label"], c["invitation"], c.get("will_fail")) for c in changes] == [
        ("added", "qa-eve", False, True),
        ("phone_changed", "qa-alice", False, True),
    ]
    assert all("action" not in c for c in changes)
    review = build_review(repo.root, base_ref="main")
    effects = [c.effect for c in review.stacks[0].changes]
    assert effects == [
        "added: will fail, its phone is invalid (see the problems)",
        "phone changed from 91980XXXXX01: will fail, its phone is invalid (see the problems)",
    ]
    assert review.has_problems
