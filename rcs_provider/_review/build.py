"""Put a review together: read both sides, diff each stack that changed, check it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .._project import project_name
from .checks import check_stack
from .connection import connection_changes
from .decrypt import decrypted_testers
from .diff import Review, diff_stack
from .gitsource import read_sources
from .stack_version import StackVersion, read_stack_version

__all__ = ["build_review"]


def build_review(project_dir: Path, *, base_ref: str | None, decrypt: bool = False) -> Review:
    """Review every stack file whose text differs between the base and the work tree.

    Unchanged stack files are left out: the review is about what this change does."""
    project_dir = project_dir.resolve()
    sources = read_sources(project_dir, base_ref)
    project = project_name(project_dir)
    stacks = []
    for stack in sorted({*sources.before, *sources.after}):
        before_text, after_text = sources.before.get(stack), sources.after.get(stack)
        if before_text == after_text:
            continue
        source = sources.source(stack)
        reader = _VersionReader(project_dir, project, stack, source, decrypt=decrypt)
        base = reader.read(before_text, at_base=True)
        head = reader.read(after_text, at_base=False)
        review = diff_stack(base, head)
        review.connection = connection_changes(base, head)
        check_stack(review, head)
        stacks.append(review)
    return Review(
        base=sources.base.ref,
        base_commit=sources.base.commit,
        stacks=stacks,
        decrypted=decrypt,
        base_committed=sources.base.committed,
        base_local_ahead=sources.base.local_ahead,
        reviewed_at=_now(),
    )


def _now() -> datetime:
    """When the review runs, for the base's age (a function, so tests can fix it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class _VersionReader:
    """Reads one stack's versions, decrypted by the engine when asked to."""

    project_dir: Path
    project: str
    stack: str
    source: str
    decrypt: bool

    def read(self, text: str | None, *, at_base: bool) -> StackVersion | None:
        if text is None:
            return None
        decrypted = (
            decrypted_testers(
                self.project_dir, self.stack, text, project=self.project, at_base=at_base
            )
            if self.decrypt
            else None
        )
        return read_stack_version(
            self.stack, self.source, text, project=self.project, decrypted=decrypted
        )
