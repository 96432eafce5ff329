"""What the report commands (``review``, ``status``) share on the command line: the
``--project``, ``--format`` and ``--output`` arguments, and writing the report where asked."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["add_report_arguments", "write_report"]


def add_report_arguments(
    parser: argparse.ArgumentParser, *, formats: Iterable[str], markdown_for: str, noun: str
) -> None:
    """``--format`` (markdown by default, for ``markdown_for``), ``--project`` and
    ``--output``, worded alike in every report command."""
    parser.add_argument(
        "--format",
        choices=sorted(formats),
        default="markdown",
        help=f"markdown (default: {markdown_for}), text or json",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="the project folder holding Pulumi.yaml (default: the current folder)",
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help=f"write the {noun} to FILE instead of stdout"
    )


def write_report(text: str, output: Path | None, *, noun: str) -> bool:
    """Write ``text`` to ``output``, or to stdout when there is none. False, once stderr says
    why and what to do, when the file cannot be written (a usage error)."""
    if output is None:
        sys.stdout.write(text)
        return True
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        print(
            f"error: Unable to write the {noun} to {output}: {err.strerror}. "
            "Pass an --output path in an existing, writable folder.",
            file=sys.stderr,
        )
        return False
    return True
