"""The two sides of a review, read from git: the stack files at the base commit and in the
work tree (uncommitted edits included). Only ``git`` is run, never anything over a network."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["DEFAULT_BASES", "Base", "ReviewUsageError", "StackSources", "read_sources"]

#: Tried in order when no ``--base`` is given: the merge-base of HEAD with each.
DEFAULT_BASES = ("origin/main", "main")
STACKS_FOLDER = "stacks"
_STACK_FILE = re.compile(r"Pulumi\.([^/]+)\.yaml")


class ReviewUsageError(Exception):
    """The review cannot start: no git, not a repository, an unknown ref, no stacks folder."""


@dataclass(frozen=True)
class Base:
    """The commit compared against: ``ref`` as the user knows it, ``commit`` its merge-base,
    ``committed`` that commit's date; ``local_ahead`` is a local branch of the same name as
    a remote-tracking ``ref`` (``main`` for ``origin/main``) and how many commits it has that
    ``ref`` has not, when it has any (those would show as changes of the work tree)."""

    ref: str
    commit: str
    committed: datetime | None = None
    local_ahead: tuple[str, int] | None = None


@dataclass(frozen=True)
class StackSources:
    """Stack file texts by stack name, at the base and in the work tree."""

    base: Base
    folder: str
    before: dict[str, str]
    after: dict[str, str]

    def source(self, stack: str) -> str:
        return f"{self.folder}/Pulumi.{stack}.yaml"


def read_sources(project_dir: Path, base_ref: str | None) -> StackSources:
    """Resolve the base and read every ``stacks/Pulumi.<stack>.yaml`` on both sides."""
    _require_git(project_dir)
    folder = project_dir / STACKS_FOLDER
    if not folder.is_dir():
        raise ReviewUsageError(
            f"Unable to review tester changes: {folder} is not a folder. Run the review in the "
            f"project folder (the one holding Pulumi.yaml and {STACKS_FOLDER}/)."
        )
    base = _resolve_base(project_dir, base_ref)
    return StackSources(
        base=base,
        folder=STACKS_FOLDER,
        before=_stack_files_at(project_dir, base.commit),
        after={
            match.group(1): path.read_text(encoding="utf-8")
            for path in sorted(folder.iterdir())
            if (match := _STACK_FILE.fullmatch(path.name)) and path.is_file()
        },
    )


def _require_git(project_dir: Path) -> None:
    if shutil.which("git") is None:
        raise ReviewUsageError(
            "Unable to review tester changes: git is not installed or not on PATH. "
            "Install git, or run the review where it is available."
        )
    if not project_dir.is_dir():
        raise ReviewUsageError(
            f"Unable to review tester changes: {project_dir} is not a folder. "
            "Pass the project folder with --project."
        )
    inside = _git(project_dir, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise ReviewUsageError(
            f"Unable to review tester changes: {project_dir} is not in a git work tree. "
            "Run the review in a clone of the repository."
        )


def _resolve_base(project_dir: Path, base_ref: str | None) -> Base:
    head = _commit(project_dir, "HEAD")
    if head is None:
        raise ReviewUsageError(
            "Unable to review tester changes: the repository has no commit yet. "
            "Commit the base version of the stacks first, or pass --base REF."
        )
    candidates = [base_ref] if base_ref is not None else list(DEFAULT_BASES)
    for ref in candidates:
        commit = _commit(project_dir, ref)
        if commit is None:
            continue
        merge_base = _git(project_dir, "merge-base", head, commit)
        if merge_base.returncode != 0:
            raise ReviewUsageError(
                f"Unable to review tester changes: {ref!r} and HEAD share no history. "
                "Pass a --base REF that HEAD was branched from."
            )
        base = merge_base.stdout.strip()
        return Base(ref, base, _committed(project_dir, base), _local_ahead(project_dir, ref))
    if base_ref is not None:
        raise ReviewUsageError(
            f"Unable to review tester changes: unknown git ref {base_ref!r}. Pass a branch, "
            "tag or commit that exists here (in CI, check out with fetch-depth: 0, or fetch "
            "it first: git fetch origin <branch>)."
        )
    raise ReviewUsageError(
        "Unable to review tester changes: neither origin/main nor main exists here. "
        "Pass the base with --base REF (e.g. --base origin/develop)."
    )


def _committed(project_dir: Path, commit: str) -> datetime | None:
    shown = _git(project_dir, "show", "-s", "--format=%cI", commit)
    try:
        return datetime.fromisoformat(shown.stdout.strip())
    except ValueError:
        return None


def _local_ahead(project_dir: Path, ref: str) -> tuple[str, int] | None:
    """The local branch named like the remote-tracking ``ref`` and its commits not in ``ref``,
    or None (``ref`` is not a remote-tracking branch, no such local branch, or not ahead)."""
    # ``ref`` resolved to a commit already, so it is no option (see _commit).
    full = _git(project_dir, "rev-parse", "--symbolic-full-name", ref)
    name = full.stdout.strip()
    if full.returncode != 0 or not name.startswith("refs/remotes/"):
        return None
    tracked = name.removeprefix("refs/remotes/")
    remotes = sorted(_git(project_dir, "remote").stdout.split(), key=len, reverse=True)
    remote = next((r for r in remotes if tracked.startswith(f"{r}/")), tracked.split("/")[0])
    branch = tracked.removeprefix(f"{remote}/")
    if not branch or _commit(project_dir, f"refs/heads/{branch}") is None:
        return None
    counted = _git(project_dir, "rev-list", "--count", f"{name}..refs/heads/{branch}")
    ahead = int(counted.stdout.strip()) if counted.returncode == 0 else 0
    return (branch, ahead) if ahead > 0 else None


def _stack_files_at(project_dir: Path, commit: str) -> dict[str, str]:
    listing = _git(project_dir, "ls-tree", "-z", "--name-only", commit, f"{STACKS_FOLDER}/")
    if listing.returncode != 0:
        raise ReviewUsageError(
            f"Unable to list {STACKS_FOLDER}/ at commit {commit[:12]}: "
            f"{listing.stderr.strip()[:200]}"
        )
    files = {}
    for path in sorted(filter(None, listing.stdout.split("\0"))):
        match = _STACK_FILE.fullmatch(Path(path).name)
        if match is None:
            continue
        shown = _git(project_dir, "show", f"{commit}:./{path}")
        if shown.returncode != 0:
            raise ReviewUsageError(
                f"Unable to read {path} at commit {commit[:12]}: {shown.stderr.strip()[:200]}"
            )
        files[match.group(1)] = shown.stdout
    return files


def _commit(project_dir: Path, ref: str) -> str | None:
    if ref.startswith("-"):
        return None
    found = _git(
        project_dir, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
    )
    return found.stdout.strip() if found.returncode == 0 else None


def _git(project_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=project_dir,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
