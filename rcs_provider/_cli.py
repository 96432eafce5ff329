"""The ``rcs-testers`` console script: one subcommand per tool beside the engine."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import cast

__all__ = ["COMMANDS", "main"]

#: Subcommand -> (module with ``main(argv) -> int``, one-line help). Imported on use only.
COMMANDS = {
    "review": ("rcs_provider._review.command", "summarise tester changes of a pull request"),
    "doctor": ("rcs_provider._doctor.command", "read-only pre-flight checks against a Kaleyra pod"),
    "status": ("rcs_provider._status.command", "who has not accepted the invitation yet"),
}
EXIT_USAGE = 2
#: The project's own environment, made by `make venv`, where the console script lives.
PROJECT_SCRIPT = ".venv/bin/rcs-testers"


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``rcs-testers <command> [args]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="rcs-testers",
        description="RCS testers as code: tools beside `pulumi preview` / `pulumi up`.",
        epilog="Run `rcs-testers <command> --help` for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    for name, (_, summary) in COMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False)
    args, rest = parser.parse_known_args(argv)
    module_name = COMMANDS[args.command][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        print(f"error: {_not_importable(args.command, module_name, err)}", file=sys.stderr)
        return EXIT_USAGE
    command = cast(Callable[[list[str]], int], module.main)
    return command(rest)


def _not_importable(command: str, module_name: str, err: ModuleNotFoundError) -> str:
    """Why ``rcs-testers <command>`` cannot start: the command is absent from this
    installation, or this Python lacks a dependency (``python -m rcs_provider`` run by a
    Python other than the project's virtualenv, e.g. the system's)."""
    if err.name == module_name:
        return (
            f"`rcs-testers {command}` is not available in this installation "
            f"({module_name} is missing). Update rcs-testers to a release that has it."
        )
    return (
        f"Unable to run `rcs-testers {command}`: the Python at {sys.executable} does not have "
        f"rcs-testers' dependencies (no module named {err.name!r}); run it from the project's "
        f"virtualenv, `{PROJECT_SCRIPT} {command}` (`make venv` creates it), or activate that "
        "first with `source .venv/bin/activate`."
    )
