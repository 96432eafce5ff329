"""``rcs-testers review``: the command line of the review."""

from __future__ import annotations

import argparse
import sys

from .._command_line import add_report_arguments, write_report
from .build import build_review
from .gitsource import ReviewUsageError
from .render import FORMATS, render

__all__ = ["EXIT_CLEAN", "EXIT_PROBLEMS", "EXIT_USAGE", "main"]

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rcs-testers review",
        description=(
            "Summarise the tester changes of every Pulumi.<env>.yaml of the project's "
            "stackConfigDir between a git base "
            "and the work tree. Needs no engine, backend, passphrase or network "
            "(unless --decrypt). Exit status: 0 clean, 1 validation problems, 2 usage error."
        ),
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="compare with the merge-base of HEAD and REF (default: origin/main, then main)",
    )
    add_report_arguments(
        parser,
        formats=FORMATS,
        markdown_for="pull-request comments, job summaries",
        noun="review",
    )
    parser.add_argument(
        "--decrypt",
        action="store_true",
        help=(
            "compare secret phones by number, decrypted by `pulumi config --show-secrets` "
            "(needs pulumi, the backend and the stack's secrets provider)"
        ),
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the review; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        review = build_review(args.project, base_ref=args.base, decrypt=args.decrypt)
    except ReviewUsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not write_report(render(review, args.format), args.output, noun="review"):
        return EXIT_USAGE
    return EXIT_PROBLEMS if review.has_problems else EXIT_CLEAN
