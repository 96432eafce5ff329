"""The README's review example is the real golden output, and its pipeline job needs no
secret and keeps its own comment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
GOLDEN = Path(__file__).parent / "golden"


def pipeline() -> dict[str, Any]:
    match = re.search(r"\n   ```yaml\n(   name: rcs-testers\n.*?)\n   ```\n", README, re.S)
    assert match, "the README's GitHub Actions example is missing"
    text = "\n".join(line.removeprefix("   ") for line in match.group(1).splitlines())
    return dict(yaml.safe_load(text))


def test_readme_example_is_the_golden_markdown() -> None:
    golden = (GOLDEN / "scenario.md").read_text(encoding="utf-8")
    assert f"````markdown\n{golden}````\n" in README


def test_review_job_runs_on_pull_requests_without_secrets() -> None:
    workflow = pipeline()
    assert workflow[True]["pull_request"] == {"paths": ["stacks/**"]}  # YAML 1.1 reads `on` as True
    job = workflow["jobs"]["review"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert "secrets." not in yaml.safe_dump(job)
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "rcs-testers review" in runs
    assert '>> "$GITHUB_STEP_SUMMARY"' in runs


def test_review_job_keeps_one_marked_comment_and_not_pulumis() -> None:
    steps = {step.get("name"): step for step in pipeline()["jobs"]["review"]["steps"]}
    comment = steps["Keep one review comment (same-repository pull requests)"]
    assert comment["if"].startswith(
        "github.event.pull_request.head.repo.full_name == github.repository"
    )
    assert "marker='<!-- rcs-testers review -->'" in comment["run"]
    assert "--method PATCH" in comment["run"]
    assert "edit-last" not in comment["run"]
