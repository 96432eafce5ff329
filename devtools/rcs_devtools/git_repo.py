"""A real git repository in a temporary folder holding a Pulumi project's stack files.

Commits are made with a fixed author, committer and date, so their ids are the same on
every run (golden outputs show the base commit)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

FIXED_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Reviewer",
    "GIT_AUTHOR_EMAIL": "reviewer@example.invalid",
    "GIT_COMMITTER_NAME": "Reviewer",
    "GIT_COMMITTER_EMAIL": "reviewer@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
PROJECT_FILE = "name: rcs-testers\nruntime: python\nstackConfigDir: stacks\n"


def secret(name: str) -> dict[str, str]:
    """A ``{secure: ...}`` value as ``pulumi config set --secret`` writes it (a stand-in
    ciphertext: the review never decrypts without --decrypt)."""
    return {"secure": f"v1:{name}:AAAAAAAAAAAAAAAA"}


def stack_config(agents: list[dict[str, Any]], *, pod: str = "in", **extra: Any) -> dict[str, Any]:
    """A stack file's content: ``kaleyra:pod`` and ``rcs-testers:agents`` (+ extra keys)."""
    return {"config": {"kaleyra:pod": pod, "rcs-testers:agents": agents, **extra}}


class StackRepo:
    """A git repository with Pulumi.yaml and stacks/, committed one change at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet")
        self.git("symbolic-ref", "HEAD", "refs/heads/main")
        if not (root / "Pulumi.yaml").exists():
            (root / "Pulumi.yaml").write_text(PROJECT_FILE, encoding="utf-8")
        (root / "stacks").mkdir(exist_ok=True)

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env={**os.environ, **FIXED_GIT_ENV},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def write_stack(self, stack: str, content: dict[str, Any] | str) -> Path:
        path = self.root / "stacks" / f"Pulumi.{stack}.yaml"
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    def remove_stack(self, stack: str) -> None:
        (self.root / "stacks" / f"Pulumi.{stack}.yaml").unlink()

    def commit(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str) -> None:
        self.git("checkout", "--quiet", "-b", name)
