"""The review's command line: base selection, exit statuses, usage errors, entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rcs_devtools.fleet_data import formatted
from rcs_devtools.git_repo import PROJECT_FILE, StackRepo, stack_config
from rcs_provider import _cli as cli
from rcs_provider._review.command import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def one_tester(label: str, n: int, agent: str = "48900") -> list[dict[str, object]]:
    return [{"agent": agent, "testers": [{"label": label, "phone": formatted(n)}]}]


@pytest.fixture
def repo(tmp_path: Path) -> StackRepo:
    repo = StackRepo(tmp_path / "repo")
    repo.write_stack("dev", stack_config(one_tester("qa-a", 1), pod="sandbox"))
    repo.commit("base")
    repo.branch("change")
    return repo


def run(repo: StackRepo, *args: str) -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "rcs_provider", "review", "--project", str(repo.root), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    return result.returncode, result.stdout, result.stderr


def test_no_tester_change_is_one_line(repo: StackRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(repo.root), "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"No tester changes between main ({repo.git('rev-parse', 'main')[:12]}, committed "
        "2026-01-01, 3 days ago) and the work tree."
    ]


def test_default_base_prefers_origin_main_over_main(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write_stack("dev", stack_config(one_tester("qa-b", 2), pod="sandbox"))
    remote_tip = repo.commit("qa-b replaces qa-a on the remote's main")
    repo.git("update-ref", "refs/remotes/origin/main", remote_tip)
    repo.write_stack(
        "dev",
        stack_config(
            [
                *one_tester("qa-b", 2)[:0],
                {
                    "agent": "48900",
                    "testers": [
                        {"label": "qa-b", "phone": formatted(2)},
                        {"label": "qa-c", "phone": formatted(3)},
                    ],
                },
            ],
            pod="sandbox",
        ),
    )
    repo.commit("qa-c")
    assert main(["--project", str(repo.root), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["base"], data["base_commit"]) == ("origin/main", remote_tip)
    assert [c["label"] for c in data["stacks"][0]["agents"][0]["changes"]] == ["qa-c"]


def local_main_ahead_of_origin(repo: StackRepo) -> None:
    """origin/main at the first commit; local main one commit further (not pushed), and the
    branch under review made from local main, changing nothing itself."""
    repo.git("update-ref", "refs/remotes/origin/main", repo.git("rev-parse", "main"))
    repo.git("checkout", "--quiet", "main")
    repo.write_stack("dev", stack_config(one_tester("qa-b", 2), pod="sandbox"))
    repo.commit("qa-b replaces qa-a, on local main only")
    repo.branch("feature")


UNPUSHED = (
    "your local branch main has 1 commit(s) that origin/main (the base compared with) has "
    "not: changes made on main and not pushed show here as changes of the work tree. Push "
    "main, or review with --base main."
)


def test_a_local_branch_ahead_of_the_remote_base_is_warned_about(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    local_main_ahead_of_origin(repo)

    assert main(["--project", str(repo.root), "--format", "text"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("RCS tester changes against origin/main (")
    assert text[0].endswith(", committed 2026-01-01, 3 days ago)")
    assert text[2] == f"warning: {UNPUSHED}"
    assert main(["--project", str(repo.root), "--format", "markdown"]) == 0
    assert f"\n\n**Warning:** {UNPUSHED}\n" in capsys.readouterr().out
    assert main(["--project", str(repo.root), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["base_warnings"] == [UNPUSHED]
    assert data["base_committed"] == "2026-01-01T00:00:00+00:00"

    assert main(["--project", str(repo.root), "--base", "main", "--format", "text"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"No tester changes between main ({repo.git('rev-parse', 'main')[:12]}, committed "
        "2026-01-01, 3 days ago) and the work tree."
    ]


def test_a_named_remote_base_with_its_local_branch_level_gives_no_warning(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    local_main_ahead_of_origin(repo)
    repo.git("remote", "add", "origin", str(repo.root))
    repo.git("update-ref", "refs/remotes/origin/main", repo.git("rev-parse", "main"))
    assert main(["--project", str(repo.root), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["base"] == "origin/main"
    assert data["base_warnings"] == []
    assert data["has_changes"] is False


def test_explicit_base_is_compared_from_its_merge_base(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    branch_point = repo.git("rev-parse", "HEAD")
    repo.write_stack("dev", stack_config(one_tester("qa-b", 2), pod="sandbox"))
    repo.commit("on the branch")
    repo.git("checkout", "--quiet", "main")
    repo.write_stack("prod", stack_config(one_tester("qa-z", 9)))
    repo.commit("main moves on")
    repo.git("checkout", "--quiet", "change")
    assert main(["--project", str(repo.root), "--base", "main", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["base_commit"] == branch_point
    assert [s["stack"] for s in data["stacks"]] == ["dev"], (
        "main's own later changes are not this branch's"
    )


def test_unknown_ref_is_a_usage_error(repo: StackRepo) -> None:
    status, out, err = run(repo, "--base", "no-such-branch")
    assert (status, out) == (2, "")
    assert err == (
        "error: Unable to review tester changes: unknown git ref 'no-such-branch'. Pass a branch, "
        "tag or commit that exists here (in CI, check out with fetch-depth: 0, or fetch it "
        "first: git fetch origin <branch>).\n"
    )


def test_ref_that_looks_like_an_option_is_refused(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project", str(repo.root), "--base=--all"]) == 2
    assert "unknown git ref '--all'" in capsys.readouterr().err


def test_no_main_and_no_base_asks_for_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = StackRepo(tmp_path / "repo")
    repo.git("symbolic-ref", "HEAD", "refs/heads/trunk")
    repo.write_stack("dev", stack_config(one_tester("qa-a", 1)))
    repo.commit("base")
    assert main(["--project", str(repo.root)]) == 2
    assert (
        "neither origin/main nor main exists here. Pass the base with --base REF"
        in capsys.readouterr().err
    )


def test_repository_without_stacks_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = StackRepo(tmp_path / "repo")
    (repo.root / "stacks").rmdir()
    repo.commit("no stacks")
    assert main(["--project", str(repo.root)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{repo.root.resolve() / 'stacks'} (the stackConfigDir of "
        f"{repo.root.resolve() / 'Pulumi.yaml'}) is not a folder. Create it with the stack "
        "files, or set stackConfigDir in Pulumi.yaml to the folder that holds them." in err
    )


def test_folder_outside_git(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "stacks").mkdir()
    assert main(["--project", str(tmp_path)]) == 2
    assert "is not in a git work tree" in capsys.readouterr().err


def test_git_missing_from_path(
    repo: StackRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert main(["--project", str(repo.root)]) == 2
    assert "git is not installed or not on PATH" in capsys.readouterr().err


def test_unknown_format_is_a_usage_error(repo: StackRepo) -> None:
    status, _, err = run(repo, "--format", "yaml")
    assert status == 2
    assert "invalid choice: 'yaml'" in err


def test_module_entry_points_agree(repo: StackRepo) -> None:
    repo.write_stack(
        "dev",
        stack_config(
            [
                {
                    "agent": "48900",
                    "testers": [
                        {"label": "qa-a", "phone": formatted(1)},
                        {"label": "qa-b", "phone": formatted(2)},
                    ],
                }
            ],
            pod="sandbox",
        ),
    )
    via_cli = run(repo, "--format", "text")
    direct = subprocess.run(
        [
            sys.executable,
            "-m",
            "rcs_provider._review",
            "--project",
            str(repo.root),
            "--format",
            "text",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert via_cli == (direct.returncode, direct.stdout, direct.stderr)
    assert via_cli[0] == 0
    assert "qa-b" in via_cli[1]


def test_output_file(repo: StackRepo, tmp_path: Path) -> None:
    repo.write_stack("dev", stack_config(one_tester("qa-b", 2), pod="sandbox"))
    target = tmp_path / "review.md"
    assert main(["--project", str(repo.root), "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith("### RCS tester changes\n")


def test_console_script_dispatches_review(
    repo: StackRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["review", "--project", str(repo.root), "--format", "text"]) == 0
    assert capsys.readouterr().out.startswith("No tester changes between main")


def test_console_script_says_when_a_command_is_absent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.COMMANDS, "doctor", ("rcs_provider.no_such_module", "absent"))
    assert cli.main(["doctor", "--json"]) == 2
    assert capsys.readouterr().err == (
        "error: `rcs-testers doctor` is not available in this installation "
        "(rcs_provider.no_such_module is missing). Update rcs-testers to a release that has it.\n"
    )


def test_console_script_requires_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main([])
    assert stopped.value.code == 2
    assert "the following arguments are required: command" in capsys.readouterr().err


def test_project_in_a_subfolder_of_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = StackRepo(tmp_path / "repo")
    project = repo.root / "infra" / "testers"
    (project / "stacks").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(PROJECT_FILE, encoding="utf-8")
    (project / "stacks" / "Pulumi.dev.yaml").write_text("config: {}\n", encoding="utf-8")
    repo.commit("project in a subfolder, no testers yet")
    repo.branch("change")
    content = stack_config(one_tester("qa-a", 1), pod="sandbox")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(json.dumps(content), encoding="utf-8")
    assert main(["--project", str(project), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["stack"], s["file"], s["status"]) for s in data["stacks"]] == [
        ("dev", "stacks/Pulumi.dev.yaml", "changed")
    ]
    assert data["stacks"][0]["agents"][0]["changes"][0]["label"] == "qa-a"


def test_base_without_a_stacks_folder_adds_every_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = StackRepo(tmp_path / "repo")
    (repo.root / "stacks").rmdir()
    repo.commit("empty project")
    repo.branch("change")
    (repo.root / "stacks").mkdir()
    repo.write_stack("dev", stack_config(one_tester("qa-a", 1), pod="sandbox"))
    repo.write_stack("prod", stack_config(one_tester("qa-b", 2, agent="20700"), pod="sandbox"))
    assert main(["--project", str(repo.root), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["stack"], s["status"]) for s in data["stacks"]] == [
        ("dev", "added"),
        ("prod", "added"),
    ]


def test_unwritable_output_is_a_usage_error(
    repo: StackRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "review.md"
    assert main(["--project", str(repo.root), "--output", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"error: Unable to write the review to {target}: No such file or directory. "
        "Pass an --output path in an existing, writable folder.\n"
    )
