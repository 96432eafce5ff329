"""Where a status report reads from: the project's stacks (its ``stackConfigDir``), each
stack's last deployment through ``pulumi stack export`` (no ``--show-secrets``: no passphrase or
key is needed, and nothing is decrypted), and an export saved earlier to a file."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

import yaml

from .._phones import redact_digits
from .._project import find_project_file, stack_config_dir, stack_file_name
from .export import LOOKUP_KEY, ExportedStack, ExportError, parse_export

__all__ = [
    "StatusUsageError",
    "discover_stacks",
    "export_stack",
    "read_export_file",
    "stack_file_lookup",
]

_STACK_FILE = re.compile(r"Pulumi\.(.+)\.yaml")
#: What ``pulumi stack export`` says of a stack the backend does not have.
_NO_SUCH_STACK = re.compile(r"no stack named '[^']*' found")
EXPORT_TIMEOUT_SECONDS = 300


class StatusUsageError(Exception):
    """The report cannot be made: no project, no pulumi, a backend that does not answer."""


def discover_stacks(project_dir: Path) -> list[str]:
    """The stacks with a ``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir``, sorted."""
    project_file = find_project_file(project_dir)
    if project_file is None:
        raise StatusUsageError(
            f"Unable to find the project's stacks: no Pulumi.yaml in {project_dir} or above. "
            "Run `rcs-testers status` in the project folder, or name stacks with --stack."
        )
    folder = stack_config_dir(project_file)
    names = sorted(
        match.group(1)
        for path in (folder.iterdir() if folder.is_dir() else [])
        if (match := _STACK_FILE.fullmatch(path.name)) and path.is_file()
    )
    if not names:
        raise StatusUsageError(
            f"Unable to find the project's stacks: {folder} holds no Pulumi.<stack>.yaml. "
            "Name the stacks with --stack."
        )
    return names


def export_stack(stack: str, project_dir: Path) -> ExportedStack | None:
    """The stack's last deployment, or ``None`` when the backend has no such stack (a stack
    file that was never deployed)."""
    command = ["pulumi", "stack", "export", "--stack", stack, "--non-interactive"]
    action = f"Unable to read the last deployment of stack {stack}"
    try:
        done = subprocess.run(
            command,
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise StatusUsageError(
            f"{action}: the pulumi CLI is not on PATH. Install Pulumi, or put it on PATH."
        ) from None
    except subprocess.TimeoutExpired:
        raise StatusUsageError(
            f"{action}: `pulumi stack export` did not finish in {EXPORT_TIMEOUT_SECONDS} s. "
            "Check that the backend answers (`pulumi whoami -v`)."
        ) from None
    if done.returncode != 0:
        said = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        last = redact_digits(said[-1].strip()) if said else f"exit status {done.returncode}"
        if _NO_SUCH_STACK.search(last):
            return None
        raise StatusUsageError(
            f"{action}: `pulumi stack export` failed: {last}. Run it in the project folder, "
            "logged in to the stack's backend (`pulumi login`, or PULUMI_BACKEND_URL)."
        )
    try:
        return parse_export(json.loads(done.stdout))
    except (json.JSONDecodeError, ExportError) as err:
        raise StatusUsageError(
            f"{action}: the output of `pulumi stack export` is not a stack export ({err}). "
            "Check that `pulumi` is the Pulumi CLI."
        ) from None


def read_export_file(path: Path) -> ExportedStack:
    """A stack export saved earlier with ``pulumi stack export --file PATH``."""
    action = f"Unable to read the stack export {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise StatusUsageError(
            f"{action}: {err.strerror}. Save it with `pulumi stack export --file {path}`."
        ) from None
    try:
        return parse_export(json.loads(text))
    except json.JSONDecodeError as err:
        raise StatusUsageError(
            f"{action}: it is not JSON ({err.msg}, line {err.lineno}). "
            f"Save it with `pulumi stack export --file {path}`."
        ) from None
    except ExportError as err:
        raise StatusUsageError(
            f"{action}: {err}. Save it with `pulumi stack export --file {path}`."
        ) from None


def stack_file_lookup(project_dir: Path, stack: str) -> str | None:
    """``kaleyra:lookup`` as the stack's file sets it (``auto`` when the file leaves it out),
    or ``None`` when there is no readable stack file."""
    project_file = find_project_file(project_dir)
    if project_file is None:
        return None
    path = stack_config_dir(project_file) / stack_file_name(stack.rsplit("/", 1)[-1])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    config = data.get("config") if isinstance(data, Mapping) else None
    value = config.get(LOOKUP_KEY, "auto") if isinstance(config, Mapping) else "auto"
    return value if isinstance(value, str) else None
