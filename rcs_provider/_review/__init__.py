"""Review the tester changes of a pull request: every stack file, git base against work tree,
with no engine, backend or credentials (``rcs-testers review``)."""

from __future__ import annotations

from .build import build_review
from .command import main
from .diff import AgentReview, Change, ChangeKind, Review, StackReview, Status
from .gitsource import ReviewUsageError
from .render import FORMATS, render, to_json_data

__all__ = [
    "FORMATS",
    "AgentReview",
    "Change",
    "ChangeKind",
    "Review",
    "ReviewUsageError",
    "StackReview",
    "Status",
    "build_review",
    "main",
    "render",
    "to_json_data",
]
