"""The two sides of a review, read from git: the stack files at the base commit and in the
work tree (uncommitted edits included), each side in the ``stackConfigDir`` its own
``Pulumi.yaml`` names. Only ``git`` is run, never anything over a network."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .._project import PROJECT_FILE, find_project_file, parse_project, read_project

__all__ = ["DEFAULT_BASES", "BaseCommit", "ReviewUsageError", "StackSources", "read_sources"]

#: Tried in order when no ``--base`` is given: the merge-base of HEAD with each.
DEFAULT_BASES = ("origin/main", "main")
_STACK_FILE = re.compile(r"Pulumi\.([^/]+)\.yaml")


class ReviewUsageError(Exception):
    """The review cannot start: no git, not a repository, an unknown ref, no Pulumi.yaml or
    no folder at its stackConfigDir."""


@dataclass(frozen=True)
class BaseCommit:
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
    """Stack file texts by stack name, at the base and in the work tree, and the folder of
    each side's stack files relative to the project folder (``""`` for the folder itself)."""

    base: BaseCommit
    before_folder: str
    after_folder: str
    before: dict[str, str]
    after: dict[str, str]

    def source(self, stack: str) -> str:
        """The stack file as messages name it: in the work tree, or at the base when the
        change removes it."""
        folder = self.after_folder if stack in self.after else self.before_folder
        return posixpath.join(folder, f"Pulumi.{stack}.yaml")


def read_sources(project_dir: Path, base_ref: str | None) -> StackSources:
    """Resolve the base and read every ``Pulumi.<stack>.yaml`` of the ``stackConfigDir`` of
    both sides: the work tree's ``Pulumi.yaml`` and the base's own (a change may move the
    stacks), so that a stack is compared by its name wherever it lies."""
    _require_git(project_dir)
    project_dir = project_dir.resolve()
    project_file = find_project_file(project_dir)
    if project_file is None:
        raise ReviewUsageError(
            f"Unable to review tester changes: no {PROJECT_FILE} in {project_dir} or above. "
            "Run the review in the Pulumi project's folder, or pass it with --project."
        )
    config_dir = read_project(project_file).stack_config_dir or ""
    folder = _posix_relpath(project_file.parent / config_dir, project_dir)
    if not (project_dir / folder).is_dir():
        raise ReviewUsageError(
            f"Unable to review tester changes: {project_dir / folder} (the stackConfigDir of "
            f"{project_file}) is not a folder. Create it with the stack files, or set "
            f"stackConfigDir in {PROJECT_FILE} to the folder that holds them."
        )
    base = _resolve_base(project_dir, base_ref)
    before_folder = _stack_folder_at(project_dir, base.commit, project_file, default=folder)
    return StackSources(
        base=base,
        before_folder=before_folder,
        after_folder=folder,
        before=_stack_files_at(project_dir, base.commit, before_folder),
        after={
            match.group(1): path.read_text(encoding="utf-8")
            for path in sorted((project_dir / folder).iterdir())
            if (match := _STACK_FILE.fullmatch(path.name)) and path.is_file()
        },
    )


def _posix_relpath(path: Path, start: Path) -> str:
    """``path`` relative to ``start``, POSIX-style, ``""`` for ``start`` itself: git takes
    such paths from the folder it runs in."""
    relative = Path(os.path.relpath(path, start)).as_posix()
    return "" if relative == "." else relative


def _stack_folder_at(project_dir: Path, commit: str, project_file: Path, *, default: str) -> str:
    """The stack folder at ``commit`` as that commit's own ``Pulumi.yaml`` (at the work tree's
    place) names it; ``default`` (the work tree's) when the commit has no such file."""
    project_path = _posix_relpath(project_file, project_dir)
    shown = _git(project_dir, "show", f"{commit}:./{project_path}")
    if shown.returncode != 0:
        return default
    config_dir = parse_project(shown.stdout).stack_config_dir or ""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(project_path), config_dir))
    return "" if joined == "." else joined


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


def _resolve_base(project_dir: Path, base_ref: str | None) -> BaseCommit:
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
        return BaseCommit(ref, base, _committed(project_dir, base), _local_ahead(project_dir, ref))
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


def _stack_files_at(project_dir: Path, commit: str, folder: str) -> dict[str, str]:
    listed = f"{folder}/" if folder else "./"
    listing = _git(project_dir, "ls-tree", "-z", "--name-only", commit, listed)
    if listing.returncode != 0:
        raise ReviewUsageError(
            f"Unable to list {listed} at commit {commit[:12]}: {listing.stderr.strip()[:200]}"
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
