"""``rcs-testers status``: who has not accepted the invitation yet, and for how long.

It reads each stack's last deployment (``pulumi stack export``, nothing decrypted) and calls
no Kaleyra API: statuses are as fresh as the stack's last ``up`` or ``refresh``, which the
report shows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from .._command_line import add_report_arguments, write_report
from .durations import DurationError, parse_duration, parse_time
from .model import StackInput, build_report
from .render import FORMATS, render
from .stacks import (
    StatusUsageError,
    discover_stacks,
    export_stack,
    read_export_file,
    stack_file_lookup,
)

__all__ = ["EXIT_CLEAN", "EXIT_NEEDS_PERSON", "EXIT_USAGE", "main"]

EXIT_CLEAN = 0
EXIT_NEEDS_PERSON = 1
EXIT_USAGE = 2
DEFAULT_PENDING_AFTER = "7d"
_Value = TypeVar("_Value")


def _argument(parse: Callable[[str], _Value]) -> Callable[[str], _Value]:
    """``parse`` as an argparse type: its error becomes a usage error (exit status 2)."""

    def parsed(text: str) -> _Value:
        try:
            return parse(text)
        except DurationError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return parsed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rcs-testers status",
        description=(
            "Report who has not accepted the tester invitation yet, per stack and agent, from "
            "each stack's last deployment (`pulumi stack export`: no passphrase, no Kaleyra "
            "call). Run `pulumi refresh --run-program` first for current statuses. Exit "
            "status: 0 nothing to do, 1 invitations overdue, declined or dropped, 2 usage error."
        ),
    )
    parser.add_argument(
        "--stack",
        action="append",
        metavar="NAME",
        help="a stack to report (repeatable; default: every Pulumi.<stack>.yaml of the "
        "project's stackConfigDir)",
    )
    parser.add_argument(
        "--pending-after",
        type=_argument(parse_duration),
        default=parse_duration(DEFAULT_PENDING_AFTER),
        metavar="DURATION",
        help="mark Pending and Unverified invitations older than this as overdue, e.g. 36h, "
        f"7d, 2w (default: {DEFAULT_PENDING_AFTER})",
    )
    parser.add_argument(
        "--as-of",
        type=_argument(parse_time),
        metavar="TIME",
        help="the report's time, ISO 8601 (e.g. 2026-12-11T18:00:00Z; default: now)",
    )
    parser.add_argument(
        "--dropped-since",
        type=Path,
        metavar="FILE",
        help="a `pulumi stack export --file FILE` of the one stack reported, taken before a "
        "refresh: testers it holds that the stack no longer does are reported as dropped",
    )
    add_report_arguments(parser, formats=FORMATS, markdown_for="job summaries", noun="report")
    return parser


def _read(args: argparse.Namespace) -> list[StackInput]:
    """Every reported stack's last deployment, and the earlier export to compare with."""
    names: list[str] = args.stack or discover_stacks(args.project)
    before = None
    if args.dropped_since is not None:
        if len(names) != 1:
            raise StatusUsageError(
                f"Unable to compare with {args.dropped_since}: it is the export of one stack, "
                f"and {len(names)} stacks are reported. Name the stack with --stack."
            )
        before = read_export_file(args.dropped_since)
    inputs = []
    for name in names:
        export = export_stack(name, args.project)
        if before is not None and export is not None:
            _check_same_stack(args.dropped_since, before.stack, export.stack)
        inputs.append(StackInput(name, export, stack_file_lookup(args.project, name), before))
    return inputs


def _check_same_stack(path: Path, before: str | None, now: str | None) -> None:
    if before and now and before != now:
        raise StatusUsageError(
            f"Unable to compare with {path}: it is an export of stack {before}, not {now}. "
            f"Export the stack reported: `pulumi stack export --stack {now} --file {path}`."
        )


def main(argv: list[str] | None = None) -> int:
    """Make the report; returns the exit status."""
    args = _parser().parse_args(argv)
    as_of: datetime = args.as_of or datetime.now(UTC)
    pending_after: timedelta = args.pending_after
    try:
        report = build_report(_read(args), as_of=as_of, pending_after=pending_after)
    except StatusUsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not write_report(render(report, args.format), args.output, noun="report"):
        return EXIT_USAGE
    return EXIT_NEEDS_PERSON if report.needs_person else EXIT_CLEAN
