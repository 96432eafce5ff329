"""One version: pyproject.toml's, read through the installed metadata, with a fallback for a
source tree that is not installed."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest

import rcs_provider

PYPROJECT = Path(rcs_provider.__file__ or "").parent.parent / "pyproject.toml"


def declared_version() -> str:
    return str(tomllib.loads(PYPROJECT.read_text())["project"]["version"])


def not_installed(name: str) -> str:
    raise importlib.metadata.PackageNotFoundError(name)


def test_the_version_is_the_installed_one_which_is_pyprojects() -> None:
    assert rcs_provider.__version__ == importlib.metadata.version("rcs-testers")
    assert rcs_provider.__version__ == declared_version()


def test_a_source_tree_not_installed_reads_its_pyproject(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert rcs_provider._version() == declared_version()


def test_without_metadata_or_pyproject_the_version_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    monkeypatch.setattr(rcs_provider, "__file__", "/nonexistent/rcs_provider/__init__.py")
    assert rcs_provider._version() == "0+unknown"
