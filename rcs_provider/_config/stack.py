"""A stack's testers as ``pulumi preview`` reads them: where its stack file lies, what only
the file's text shows, then the model. One sequence, for the program and for doctor."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .._phones import normalize_agent
from .._project import find_project_file, stack_config_dir, stack_file_name
from .phonebook import StackTesters, parse_stack_testers
from .stackfile import stack_file_problems

__all__ = ["declared_agents", "read_stack_file", "read_stack_testers", "stack_file_path"]


def read_stack_testers(
    agents_raw: object,
    phonebook_raw: object,
    *,
    stack_text: str | None,
    source: str,
    key: str,
    outside_sandbox: bool,
    allow_clear_phones: bool,
    extra_problems: Sequence[str] = (),
) -> StackTesters:
    """The valid testers of ``key`` and its phonebook, with every warning (phones in clear
    that the stack accepts first), or :class:`FleetConfigError` listing every problem:
    ``extra_problems``, then the stack file's text ``stack_text`` (unquoted numbers, clear
    phones), then the model's. ``outside_sandbox`` is false on the sandbox pod."""
    text_problems, clear_warning = stack_file_problems(
        stack_text,
        key,
        agents_raw,
        phonebook_raw,
        outside_sandbox=outside_sandbox,
        allow_clear_phones=allow_clear_phones,
    )
    testers = parse_stack_testers(
        agents_raw,
        phonebook_raw,
        source=source,
        key=key,
        extra_problems=[*extra_problems, *text_problems],
    )
    if clear_warning is None:
        return testers
    return replace(testers, warnings=(clear_warning, *testers.warnings))


def read_stack_file(path: Path) -> str | None:
    """The stack file's text, or None when there is none to read (the engine reports a
    missing stack file on its own)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def stack_file_path(folder: Path, stack: str) -> Path:
    """``<stackConfigDir>/Pulumi.<stack>.yaml`` of the project holding ``folder`` (the nearest
    ``Pulumi.yaml`` at or above it), relative to ``folder``, as messages name it."""
    name = stack_file_name(stack)
    project_file = find_project_file(folder)
    if project_file is None:
        return Path(name)
    return Path(os.path.relpath(stack_config_dir(project_file) / name, folder))


def declared_agents(agents_raw: object) -> list[str]:
    """The agent numbers an ``<namespace>:agents`` value declares, read leniently (the stack
    may be invalid: entries that are not an agent are skipped), in order, once each."""
    agents: dict[str, None] = {}
    for entry in agents_raw if isinstance(agents_raw, list) else []:
        try:
            agents[normalize_agent(entry.get("agent") if isinstance(entry, dict) else None)] = None
        except ValueError:
            continue
    return list(agents)
