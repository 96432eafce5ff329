"""The review reads the stack files where Pulumi does: the ``stackConfigDir`` of each side's
own ``Pulumi.yaml`` (the project folder when it names none), in real git repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rcs_devtools.fleet_data import formatted
from rcs_devtools.git_repo import StackRepo, secret, stack_config
from rcs_provider._review import ReviewUsageError, build_review, to_json_data

BASE_AGENTS = [
    {
        "agent": "48900",
        "testers": [
            {"label": "qa-alice", "phone": formatted(1)},
            {"label": "qa-bob", "phone": secret("bob")},
        ],
    }
]
#: qa-bob removed, qa-eve added, and a problem (a label given twice).
HEAD_AGENTS = [
    {
        "agent": "48900",
        "testers": [
            {"label": "qa-alice", "phone": formatted(1)},
            {"label": "qa-eve", "phone": formatted(5)},
            {"label": "qa-eve", "phone": formatted(6)},
        ],
    }
]


def project_file(stack_config_dir: str | None) -> str:
    project = {"name": "rcs-testers", "runtime": "python"}
    if stack_config_dir is not None:
        project["stackConfigDir"] = stack_config_dir
    return yaml.safe_dump(project, sort_keys=False)


def write_stack(root: Path, folder: str, stack: str, agents: list[dict[str, Any]]) -> None:
    path = root / folder / f"Pulumi.{stack}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(stack_config(agents), sort_keys=False), encoding="utf-8")


def new_repo(root: Path, stack_config_dir: str | None) -> StackRepo:
    """A repository whose ``Pulumi.yaml`` names ``stack_config_dir`` (or nothing)."""
    root.mkdir(parents=True)
    (root / "Pulumi.yaml").write_text(project_file(stack_config_dir), encoding="utf-8")
    return StackRepo(root)


def reviewed_change(root: Path, stack_config_dir: str | None) -> dict[str, Any]:
    """The JSON review of one change (prod changed, qa unchanged) in a project whose stack
    files lie in ``stack_config_dir``, with that folder written as ``<stacks>``."""
    folder = stack_config_dir or "."
    repo = new_repo(root, stack_config_dir)
    write_stack(root, folder, "prod", BASE_AGENTS)
    write_stack(root, folder, "qa", BASE_AGENTS)
    repo.commit("base")
    repo.branch("change")
    write_stack(root, folder, "prod", HEAD_AGENTS)
    repo.commit("change")
    data = to_json_data(build_review(root, base_ref="main"))
    data.pop("base_commit")
    prefix = "" if stack_config_dir is None else f"{stack_config_dir}/"
    return json.loads(json.dumps(data).replace(f"{prefix}Pulumi.prod.yaml", "<stacks>/prod"))


def test_stacks_in_deploy_stacks_get_the_review_of_stacks(tmp_path: Path) -> None:
    in_stacks = reviewed_change(tmp_path / "stacks", "stacks")
    assert [s["file"] for s in in_stacks["stacks"]] == ["<stacks>/prod"]
    assert [c["kind"] for c in in_stacks["stacks"][0]["agents"][0]["changes"]] == [
        "added",
        "removed",
    ]
    assert in_stacks["stacks"][0]["problems"], "the duplicate label is a problem"
    assert reviewed_change(tmp_path / "deploy", "deploy/stacks") == in_stacks


def test_project_without_stack_config_dir_reads_the_project_folder(tmp_path: Path) -> None:
    in_root = reviewed_change(tmp_path / "root", None)
    assert in_root == reviewed_change(tmp_path / "stacks", "stacks")
    assert not (tmp_path / "root" / "stacks" / "Pulumi.prod.yaml").exists()


def test_stack_files_outside_stack_config_dir_are_not_reviewed(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", "deploy/stacks")
    write_stack(repo.root, "deploy/stacks", "prod", BASE_AGENTS)
    repo.commit("base")
    repo.branch("change")
    write_stack(repo.root, "stacks", "prod", HEAD_AGENTS)
    write_stack(repo.root, ".", "prod", HEAD_AGENTS)
    review = build_review(repo.root, base_ref="main")
    assert review.stacks == [], "Pulumi reads neither stacks/ nor the project folder here"


def test_base_whose_pulumi_yaml_differs_compares_stacks_by_name(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", "stacks")
    write_stack(repo.root, "stacks", "prod", BASE_AGENTS)
    write_stack(repo.root, "stacks", "qa", BASE_AGENTS)
    write_stack(repo.root, "stacks", "old", BASE_AGENTS)
    repo.commit("base: stacks/")
    repo.branch("change")
    repo.git("mv", "stacks", "deploy")
    (repo.root / "deploy" / "Pulumi.old.yaml").unlink()
    (repo.root / "Pulumi.yaml").write_text(project_file("deploy"), encoding="utf-8")
    write_stack(repo.root, "deploy", "prod", HEAD_AGENTS)
    repo.commit("stacks moved to deploy/, prod changed, old removed")
    data = to_json_data(build_review(repo.root, base_ref="main"))
    assert [(s["stack"], s["file"], s["status"]) for s in data["stacks"]] == [
        ("old", "stacks/Pulumi.old.yaml", "removed"),
        ("prod", "deploy/Pulumi.prod.yaml", "changed"),
    ], "qa only moved: its text is the same, so it is no change"
    assert [(c["kind"], c["label"]) for c in data["stacks"][1]["agents"][0]["changes"]] == [
        ("added", "qa-eve"),
        ("removed", "qa-bob"),
    ]


def test_base_without_pulumi_yaml_reads_the_work_tree_layout(tmp_path: Path) -> None:
    repo = StackRepo(tmp_path / "repo")
    (repo.root / "Pulumi.yaml").unlink()
    write_stack(repo.root, "stacks", "prod", BASE_AGENTS)
    repo.commit("base: stack files only")
    repo.branch("change")
    (repo.root / "Pulumi.yaml").write_text(project_file("stacks"), encoding="utf-8")
    write_stack(repo.root, "stacks", "prod", HEAD_AGENTS)
    data = to_json_data(build_review(repo.root, base_ref="main"))
    assert [(s["stack"], s["status"]) for s in data["stacks"]] == [("prod", "changed")]


def test_project_without_pulumi_yaml_is_a_usage_error(tmp_path: Path) -> None:
    repo = StackRepo(tmp_path / "repo")
    (repo.root / "Pulumi.yaml").unlink()
    write_stack(repo.root, "stacks", "prod", BASE_AGENTS)
    repo.commit("stack files only")
    with pytest.raises(ReviewUsageError, match=r"no Pulumi\.yaml in .* or above\. Run the review"):
        build_review(repo.root, base_ref="main")
