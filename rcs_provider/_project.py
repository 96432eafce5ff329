"""The one reader of a Pulumi project's ``Pulumi.yaml``: its name (the namespace of
``<project>:agents``) and ``stackConfigDir`` (where its stack files lie)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = [
    "DEFAULT_PROJECT_NAME",
    "PROJECT_FILE",
    "ProjectSettings",
    "find_project_file",
    "parse_project",
    "project_name",
    "read_project",
    "stack_config_dir",
    "stack_file_name",
]

PROJECT_FILE = "Pulumi.yaml"
#: The namespace of the stack config when no ``Pulumi.yaml`` names the project.
DEFAULT_PROJECT_NAME = "rcs-testers"


@dataclass(frozen=True)
class ProjectSettings:
    """What this package reads from a ``Pulumi.yaml``: ``name`` and ``stackConfigDir`` (relative
    to the project folder), each None when the file does not set it."""

    name: str | None = None
    stack_config_dir: str | None = None


def parse_project(text: str | None) -> ProjectSettings:
    """The settings of a ``Pulumi.yaml``'s text. Missing or unreadable text counts as setting
    nothing (the CLI reports it on its own)."""
    try:
        project = yaml.safe_load(text) if text is not None else None
    except yaml.YAMLError:
        project = None
    if not isinstance(project, dict):
        return ProjectSettings()
    name, config_dir = project.get("name"), project.get("stackConfigDir")
    return ProjectSettings(
        name=name if isinstance(name, str) and name else None,
        stack_config_dir=config_dir if isinstance(config_dir, str) and config_dir else None,
    )


def read_project(project_file: Path) -> ProjectSettings:
    """The settings of the ``Pulumi.yaml`` at ``project_file`` (none when it cannot be read)."""
    try:
        text = project_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ProjectSettings()
    return parse_project(text)


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
    names one, else the project folder (as Pulumi reads it)."""
    return project_file.parent / (read_project(project_file).stack_config_dir or "")


def project_name(project_dir: Path) -> str:
    """The name of the project holding ``project_dir`` (the namespace of
    ``<project>:agents``), or :data:`DEFAULT_PROJECT_NAME` when no ``Pulumi.yaml`` names it."""
    project_file = find_project_file(project_dir)
    name = read_project(project_file).name if project_file is not None else None
    return name or DEFAULT_PROJECT_NAME


def stack_file_name(stack: str) -> str:
    """``Pulumi.<stack>.yaml``: the stack's config file in :func:`stack_config_dir`."""
    return f"Pulumi.{stack}.yaml"
