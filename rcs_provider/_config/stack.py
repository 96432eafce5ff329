"""A stack's testers as ``pulumi preview`` reads them: where its stack file lies, what only
the file's text shows, then the model. One sequence, for the program and for doctor."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from .phonebook import StackTesters, parse_stack_testers
from .stackfile import stack_file_problems

__all__ = ["read_stack_testers", "stack_file_path"]


def read_stack_testers(
    agents_raw: object,
    phonebook_raw: object,
    *,
    stack_file: Path,
    source: str,
    key: str,
    check_clear_phones: bool,
    allow_clear_phones: bool,
    extra_problems: Sequence[str] = (),
) -> StackTesters:
    """The valid testers of ``key`` and its phonebook, with every warning (phones in clear
    that the stack accepts first), or :class:`FleetConfigError` listing every problem:
    ``extra_problems``, then the stack file's text (unquoted numbers, clear phones), then
    the model's. ``check_clear_phones`` is false on the sandbox pod."""
    text_problems, clear_warning = stack_file_problems(
        stack_file,
        key,
        agents_raw,
        phonebook_raw,
        check_clear_phones=check_clear_phones,
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


def stack_file_path(folder: Path, stack: str) -> Path:
    """``<stackConfigDir>/Pulumi.<stack>.yaml`` of the project holding ``folder`` (the nearest
    ``Pulumi.yaml`` at or above it), relative to ``folder``, as messages name it."""
    name = f"Pulumi.{stack}.yaml"
    for project in (folder, *folder.parents):
        project_file = project / "Pulumi.yaml"
        if project_file.is_file():
            break
    else:
        return Path(name)
    try:
        settings = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        settings = None
    config_dir = settings.get("stackConfigDir") if isinstance(settings, dict) else None
    location = project / config_dir if isinstance(config_dir, str) else project
    return Path(os.path.relpath(location / name, folder))
