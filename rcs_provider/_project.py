"""Where a Pulumi project keeps its stack files: ``stackConfigDir`` of its ``Pulumi.yaml``."""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["PROJECT_FILE", "find_project_file", "stack_config_dir", "stack_file_name"]

PROJECT_FILE = "Pulumi.yaml"


def find_project_file(start: Path) -> Path | None:
    """The ``Pulumi.yaml`` of ``start`` or of its nearest parent folder holding one, as the
    Pulumi CLI finds it."""
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def stack_config_dir(project_file: Path) -> Path:
    """The folder of the project's stack files: its ``stackConfigDir`` when the project file
    names one, else the project folder. An unreadable project file counts as naming none (the
    CLI reports it on its own)."""
    try:
        project = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        project = None
    config_dir = project.get("stackConfigDir") if isinstance(project, dict) else None
    folder = project_file.parent
    return folder / config_dir if isinstance(config_dir, str) else folder


def stack_file_name(stack: str) -> str:
    """``Pulumi.<stack>.yaml``: the stack's config file in :func:`stack_config_dir`."""
    return f"Pulumi.{stack}.yaml"
