"""Golden outputs of the review in every format, and no full number in any of them.

Regenerate after an intended change of wording: RCS_UPDATE_GOLDEN=1 pytest tests/review."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rcs_devtools.git_repo import StackRepo, secret, stack_config
from rcs_devtools.review_scenario import NUMBERS, build_scenario
from rcs_provider._review.command import main

GOLDEN = Path(__file__).parent / "golden"
SUFFIX = {"markdown": "md", "text": "txt", "json": "json"}


def review_output(
    repo: StackRepo, output_format: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    status = main(["--project", str(repo.root), "--base", "main", "--format", output_format])
    captured = capsys.readouterr()
    assert captured.err == ""
    return status, captured.out


def assert_golden(name: str, output: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RCS_UPDATE_GOLDEN") == "1":
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8"), f"output differs from {path}"


def assert_no_full_number(output: str, numbers: list[str]) -> None:
    runs = [re.sub(r"[^0-9]", "", run) for run in re.findall(r"[0-9][0-9 ().+-]*", output)]
    for number in numbers:
        assert number not in output
        assert not any(number[2:] in run for run in runs), "a number's national part leaked"


@pytest.mark.parametrize("output_format", sorted(SUFFIX))
def test_every_change_kind_across_environments(
    tmp_path: Path, output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build_scenario(tmp_path / "repo")
    status, output = review_output(repo, output_format, capsys)
    assert status == 0
    assert_golden(f"scenario.{SUFFIX[output_format]}", output)
    assert_no_full_number(output, NUMBERS)
    assert "v1:" not in output, "a ciphertext reached the output"


def problem_repo(root: Path) -> StackRepo:
    repo = StackRepo(root)
    repo.write_stack(
        "prod",
        stack_config([{"agent": "48900", "testers": [{"label": "qa-a", "phone": secret("a")}]}]),
    )
    repo.commit("base")
    repo.branch("broken")
    repo.write_stack(
        "prod",
        stack_config(
            [
                {
                    "agent": "48900",
                    "testers": [
                        {"label": "qa-a", "phone": secret("a")},
                        {"label": "qa-b", "phone": secret("a")},  # the same ciphertext, copied
                        {"label": "qa-a", "phone": "+91 98000 00003"},
                        {"label": "qa-c", "phoneNo": "+91 98000 00004"},
                        {"label": "qa-d", "phone": "+91 98000 0000"},
                    ],
                },
                {"agent": "20700", "testers": []},
            ],
            pod="in",
        ),
    )
    repo.commit("broken testers")
    return repo


@pytest.mark.parametrize("output_format", sorted(SUFFIX))
def test_validation_problems_read_as_in_preview(
    tmp_path: Path, output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = problem_repo(tmp_path / "repo")
    status, output = review_output(repo, output_format, capsys)
    assert status == 1
    assert_golden(f"problems.{SUFFIX[output_format]}", output)
    assert_no_full_number(output, ["919800000003", "919800000004", "91980000000"])
    assert "v1:" not in output
