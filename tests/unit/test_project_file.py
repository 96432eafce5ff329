"""``Pulumi.yaml`` is read in one place: the project's name and ``stackConfigDir``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcs_provider._project import (
    DEFAULT_PROJECT_NAME,
    ProjectSettings,
    parse_project,
    project_name,
    stack_config_dir,
)


@pytest.mark.parametrize(
    ("text", "settings"),
    [
        ("name: qa\nstackConfigDir: deploy/stacks\n", ProjectSettings("qa", "deploy/stacks")),
        ("name: qa\nruntime: python\n", ProjectSettings("qa", None)),
        ("name: ''\nstackConfigDir: ''\n", ProjectSettings()),
        ("name: [a]\nstackConfigDir: 3\n", ProjectSettings()),
        ("- a list\n", ProjectSettings()),
        ("name: [unclosed\n", ProjectSettings()),
        ("", ProjectSettings()),
        (None, ProjectSettings()),
    ],
)
def test_settings_of_a_project_file(text: str | None, settings: ProjectSettings) -> None:
    assert parse_project(text) == settings


def test_stack_config_dir_defaults_to_the_project_folder(tmp_path: Path) -> None:
    project_file = tmp_path / "Pulumi.yaml"
    project_file.write_text("name: qa\nstackConfigDir: deploy/stacks\n", encoding="utf-8")
    assert stack_config_dir(project_file) == tmp_path / "deploy" / "stacks"
    project_file.write_text("name: qa\n", encoding="utf-8")
    assert stack_config_dir(project_file) == tmp_path


def test_project_name_from_the_nearest_project_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: qa\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    assert project_name(tmp_path / "sub") == "qa"
    (tmp_path / "Pulumi.yaml").write_text("runtime: python\n", encoding="utf-8")
    assert project_name(tmp_path / "sub") == DEFAULT_PROJECT_NAME
