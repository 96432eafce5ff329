"""``rcs-testers doctor``'s command line: read the stack's decrypted config the way ``pulumi``
does (``pulumi config --show-secrets --json``), run the checks, print the report. Exit status 1
when a run would fail; the verdict says ``agents unchecked`` instead of ``ready`` when no
read-only call can show whether the pod knows an agent."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .checks import diagnose
from .report import Report
from .stack import check_fleet

__all__ = ["main", "read_stack_config", "selected_stack"]


def _pulumi(project_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["pulumi", *args], cwd=project_dir, capture_output=True, text=True, timeout=120
        )
    except FileNotFoundError:
        raise RuntimeError("the pulumi CLI is not on PATH") from None


def read_stack_config(stack: str | None, project_dir: Path) -> dict[str, Any]:
    """The stack's config, decrypted, as ``{key: value}`` (objects decoded)."""
    command = ["config", "--show-secrets", "--json"]
    if stack:
        command += ["--stack", stack]
    done = _pulumi(project_dir, *command)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"`pulumi config` failed: {said[-1] if said else 'no output'}")
    entries = json.loads(done.stdout or "{}")
    config: dict[str, Any] = {}
    for key, entry in entries.items():
        if isinstance(entry, dict):
            value = entry.get("objectValue", entry.get("value"))
            config[key] = value
    return config


def selected_stack(project_dir: Path) -> str | None:
    """The stack ``pulumi`` works on when none is named, or None."""
    done = _pulumi(project_dir, "stack", "--show-name")
    return done.stdout.strip() or None if done.returncode == 0 else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rcs-testers doctor",
        description="Read-only pre-flight of a stack against its Kaleyra pod (registers nothing).",
    )
    parser.add_argument("--stack", help="stack name (default: the selected stack)")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the project folder")
    parser.add_argument(
        "--agent",
        help="the agent whose tester list shows the lookup mode (default: the first one the "
        "pod lists); every declared agent is checked",
    )
    parser.add_argument("--json", action="store_true", help="the same report as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run doctor; 0 when a run would get through, 1 when it would fail."""
    args = _parser().parse_args(argv)
    try:
        config = read_stack_config(args.stack, args.cwd)
        stack = args.stack or selected_stack(args.cwd)
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as err:
        report = Report(args.stack)
        report.add(
            "config",
            "fail",
            f"cannot read the stack's config: {err}",
            "Run it in the project folder (--cwd) with the stack's secrets available "
            "(PULUMI_CONFIG_PASSPHRASE or the stack's secrets provider).",
        )
    else:
        fleet = check_fleet(config, args.cwd, stack) if stack else None
        report = diagnose(config.get, stack=stack, agent=args.agent, fleet=fleet)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(report.as_table())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
