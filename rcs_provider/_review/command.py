"""``rcs-testers review``: the command line of the review."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    parser.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="markdown",
        help="markdown (default: pull-request comments, job summaries), text or json",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="the project folder holding Pulumi.yaml (default: the current folder)",
    )
    parser.add_argument(
        "--decrypt",
        action="store_true",
        help=(
            "compare secret phones by number, decrypted by `pulumi config --show-secrets` "
            "(needs pulumi, the backend and the stack's secrets provider)"
        ),
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="write the review to FILE instead of stdout"
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
    text = render(review, args.format)
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as err:
            print(
                f"error: Unable to write the review to {args.output}: {err.strerror}. "
                "Pass an --output path in an existing, writable folder.",
                file=sys.stderr,
            )
            return EXIT_USAGE
    else:
        sys.stdout.write(text)
    return EXIT_PROBLEMS if review.has_problems else EXIT_CLEAN
