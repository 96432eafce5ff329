"""Text placed in Markdown by the reports (review, status): one table cell or one list line."""

from __future__ import annotations

__all__ = ["one_line", "table_cell"]


def table_cell(text: str) -> str:
    """``text`` as one table cell: pipes and backslashes escaped, backticks and newlines out."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("\n", " ")


def one_line(text: str) -> str:
    """``text`` on one line, for a list item."""
    return text.replace("\n", " ")
