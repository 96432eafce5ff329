"""The pull-request workflow's review jobs, run for real: their shell steps read from
.github/workflows/pull-request.yml and run with bash, the real `.venv/bin/rcs-testers review`,
a real git clone with a base and a pull request's head, and a fake `gh` answering as GitHub's
REST API does (devtools/rcs_devtools/fake_gh.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rcs_devtools import fake_gh
from rcs_devtools.git_repo import FIXED_GIT_ENV, StackRepo, secret, stack_config
from rcs_devtools.workflow_runner import REPO, WORKFLOWS, JobResult, load_workflow, run_job

WORKFLOW = load_workflow(WORKFLOWS / "pull-request.yml")
REPOSITORY = "acme/rcs-stacks"
PR_NUMBER = 7
#: The comment's hidden first line, as the README documents it.
MARKER = "<!-- rcs-testers review -->"
INSTALL_STEP = "Install rcs-testers from the lock"
REVIEW_STEPS = ["Review tester changes", "Fail on validation problems"]
COMMENT_STEPS = ["Keep one review comment"]


def tester(label: str) -> dict[str, Any]:
    return {"label": label, "phone": secret(label)}


def staging(*labels: str) -> dict[str, Any]:
    return stack_config([{"agent": "48900", "testers": [tester(label) for label in labels]}])


class PullRequest:
    """A clone of a repository whose main holds the stack files, on a pull request's branch,
    and the GitHub side of it: the fake gh's state (comments, calls)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        origin = StackRepo(tmp / "origin")
        origin.write_stack("staging", staging("qa-lead"))
        origin.commit("staging: qa-lead")
        subprocess.run(
            ["git", "clone", "--quiet", str(origin.root), str(tmp / "checkout")],
            env={**os.environ, **FIXED_GIT_ENV},
            check=True,
        )
        self.clone = StackRepo(tmp / "checkout")
        self.clone.branch("add-testers")
        (self.clone.root / ".venv").symlink_to(REPO / ".venv")  # as the install step makes it
        self.bin = tmp / "bin"
        self.bin.mkdir()
        gh = self.bin / "gh"
        gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake_gh.__file__}" "$@"\n')
        gh.chmod(0o755)
        self.state_file = tmp / "github.json"
        self.state_file.write_text(json.dumps(fake_gh.new_state(REPOSITORY)))
        self.runs = 0

    def change(self, *labels: str, **extra: Any) -> None:
        config = staging(*labels)
        config["config"].update(extra)
        self.clone.write_stack("staging", config)
        self.clone.commit("staging: " + ", ".join(labels))

    def add_comment(self, login: str, body: str) -> int:
        state = fake_gh.load_state(self.state_file)
        comment = fake_gh.add_comment(state, PR_NUMBER, login, body)
        self.state_file.write_text(json.dumps(state))
        return int(comment["id"])

    @property
    def comments(self) -> list[dict[str, Any]]:
        return list(fake_gh.load_state(self.state_file)["comments"])

    @property
    def calls(self) -> list[dict[str, Any]]:
        return list(fake_gh.load_state(self.state_file)["calls"])

    def bot_comments_with_marker(self) -> list[dict[str, Any]]:
        return [
            c
            for c in self.comments
            if c["user"]["login"] == fake_gh.BOT_LOGIN and c["body"].startswith(MARKER)
        ]

    def run(
        self, *, base_ref: str = "main", head_repository: str = REPOSITORY
    ) -> tuple[JobResult, JobResult]:
        """One workflow run for this pull request: the review job, then the comment job."""
        self.runs += 1
        temp = self.tmp / f"run-{self.runs}"
        runner_temp = temp / "runner-temp"
        runner_temp.mkdir(parents=True)
        environ = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.tmp),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_BASE_REF": base_ref,
            "GITHUB_HEAD_REF": "add-testers",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": f"90000{self.runs}",
            "RUNNER_TEMP": str(runner_temp),
            "GIT_CONFIG_NOSYSTEM": "1",
            fake_gh.STATE_ENV: str(self.state_file),
        }
        github = {
            "token": "ghs_job-token-of-the-test",
            "repository": REPOSITORY,
            "event_name": "pull_request",
            "base_ref": base_ref,
            "event": {
                "pull_request": {
                    "number": PR_NUMBER,
                    "head": {"repo": {"full_name": head_repository}},
                }
            },
        }
        common: dict[str, Any] = {"cwd": self.clone.root, "environ": environ, "temp": temp}
        review = run_job(WORKFLOW, "review", REVIEW_STEPS, contexts={"github": github}, **common)
        needs = {
            "review": {
                "result": "success" if review.succeeded else "failure",
                "outputs": review.outputs,
            }
        }
        comment = run_job(
            WORKFLOW,
            "review-comment",
            COMMENT_STEPS,
            contexts={"github": github, "needs": needs},
            **common,
        )
        return review, comment


@pytest.fixture
def pr(tmp_path: Path) -> PullRequest:
    return PullRequest(tmp_path)


def methods(calls: list[dict[str, Any]]) -> list[str]:
    return [call["method"] for call in calls]


def test_the_tested_steps_are_every_run_step_of_the_two_jobs() -> None:
    """A shell step added to either job is run here too, or this fails."""
    review = [s["name"] for s in WORKFLOW["jobs"]["review"]["steps"] if "run" in s]
    comment = [s["name"] for s in WORKFLOW["jobs"]["review-comment"]["steps"] if "run" in s]
    assert review == [INSTALL_STEP, *REVIEW_STEPS]
    assert comment == COMMENT_STEPS
    assert all("uses" in s for s in WORKFLOW["jobs"]["review-comment"]["steps"] if "run" not in s)


def test_first_run_writes_the_summary_and_creates_the_comment(pr: PullRequest) -> None:
    pr.change("qa-lead", "qa-bob")

    review, comment = pr.run()

    assert review.succeeded and comment.succeeded
    assert review.summary.startswith("### RCS tester changes")
    assert "| 48900 | added: invitation sent | qa-bob | secret | — |" in review.summary
    assert methods(pr.calls) == ["GET", "POST"]
    assert pr.calls[0]["paginate"] is True
    assert pr.calls[1]["endpoint"] == f"repos/{REPOSITORY}/issues/{PR_NUMBER}/comments"
    [ours] = pr.comments
    assert ours["user"]["login"] == fake_gh.BOT_LOGIN
    assert ours["body"] == f"{MARKER}\n{review.summary.rstrip()}\n"


def test_second_run_updates_the_same_comment(pr: PullRequest) -> None:
    pr.change("qa-lead", "qa-bob")
    pr.run()
    [first] = pr.comments
    pr.change("qa-lead", "qa-bob", "qa-chen")

    review, comment = pr.run()

    assert review.succeeded and comment.succeeded
    [ours] = pr.comments
    assert ours["id"] == first["id"]
    assert "| 48900 | added: invitation sent | qa-chen | secret | — |" in ours["body"]
    assert ours["body"] == f"{MARKER}\n{review.summary.rstrip()}\n"
    assert methods(pr.calls) == ["GET", "POST", "GET", "PATCH"]
    assert pr.calls[-1]["endpoint"] == f"repos/{REPOSITORY}/issues/comments/{first['id']}"


def test_comments_of_others_with_similar_text_are_left_alone(pr: PullRequest) -> None:
    quoted = f"{MARKER}\nI copied the review: is qa-bob right?"
    someone = pr.add_comment("alice", quoted)
    pulumi = pr.add_comment(
        fake_gh.BOT_LOGIN, f"#### :tropical_drink: `preview` on staging\n{MARKER}"
    )
    before = {c["id"]: c["body"] for c in pr.comments}
    pr.change("qa-lead", "qa-bob")

    review, comment = pr.run()

    assert review.succeeded and comment.succeeded
    after = {c["id"]: c["body"] for c in pr.comments}
    assert after[someone] == before[someone] and after[pulumi] == before[pulumi]
    [ours] = pr.bot_comments_with_marker()
    assert ours["id"] not in before
    assert methods(pr.calls) == ["GET", "POST"]


def test_our_comment_beyond_the_first_page_is_found(pr: PullRequest) -> None:
    for n in range(130):
        pr.add_comment("alice", f"comment {n}")
    ours = pr.add_comment(fake_gh.BOT_LOGIN, f"{MARKER}\nan earlier review")
    pr.change("qa-lead", "qa-bob")

    pr.run()

    assert methods(pr.calls) == ["GET", "PATCH"]
    [found] = pr.bot_comments_with_marker()
    assert found["id"] == ours and "qa-bob" in found["body"]


def test_validation_problems_fail_the_job_after_the_summary(pr: PullRequest) -> None:
    pr.clone.write_stack(
        "staging",
        stack_config(
            [
                {
                    "agent": "48900",
                    "testers": [tester("qa-lead"), {"label": "qa-bob", "phone": "+91 98450 12345"}],
                }
            ]
        ),
    )
    pr.clone.commit("staging: qa-bob in clear")

    review, comment = pr.run()

    assert not review.succeeded
    written, failed = review.steps
    assert written.returncode == 0 and failed.returncode == 1
    assert "agents[0].testers[1].phone: 91984XXXXX45 is written in clear" in review.summary
    assert "98450" not in review.summary.replace("91984XXXXX45", "")
    assert comment.succeeded and methods(pr.calls) == ["GET", "POST"]
    assert "is written in clear" in pr.comments[0]["body"]


def test_a_review_that_cannot_run_says_so_and_fails(pr: PullRequest) -> None:
    pr.change("qa-lead", "qa-bob")

    review, comment = pr.run(base_ref="no-such-branch")

    assert not review.succeeded
    assert review.step("Fail on validation problems").returncode == 2
    assert "`rcs-testers review` could not run (exit status 2)" in review.summary
    assert "origin/no-such-branch" in review.summary
    assert comment.succeeded
    assert "could not run" in pr.comments[0]["body"]


def test_a_fork_gets_the_summary_and_no_comment(pr: PullRequest) -> None:
    pr.change("qa-lead", "qa-bob")

    review, comment = pr.run(head_repository="mallory/rcs-stacks")

    assert review.succeeded and "qa-bob" in review.summary
    assert not comment.ran
    assert pr.calls == []


def test_a_review_too_long_for_a_comment_points_to_the_summary(pr: PullRequest) -> None:
    labels = [f"qa-t{n:04d}" for n in range(1100)]
    agents = [
        {"agent": str(10000 + a), "testers": [tester(label) for label in labels[a::10]]}
        for a in range(10)
    ]
    pr.clone.write_stack("staging", stack_config(agents))
    pr.clone.commit("staging: many testers")

    review, comment = pr.run()

    assert comment.succeeded
    assert len(review.summary) > 65536
    [ours] = pr.comments
    assert len(ours["body"]) < 1000
    assert "too long for a comment" in ours["body"]
    assert f"https://github.com/{REPOSITORY}/actions/runs/900001" in ours["body"]
