"""``python -m rcs_provider`` run by a Python without the project's dependencies (the system
Python in the project folder): one sentence naming the environment to use, no traceback."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with nothing installed: the standard library only."""
    root = tmp_path_factory.mktemp("bare-venv")
    venv.create(root, with_pip=False)
    return root / "bin" / "python"


@pytest.mark.parametrize("command", ["review", "doctor"])
def test_a_python_without_the_dependencies_names_the_project_environment(
    bare_python: Path, command: str
) -> None:
    done = subprocess.run(
        [str(bare_python), "-m", "rcs_provider", command],
        cwd=REPO_ROOT,  # where `python -m` finds the package, as a user in the project folder
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: Unable to run `rcs-testers {command}`: the Python at ")
    assert f"run it from the project's virtualenv, `.venv/bin/rcs-testers {command}`" in lines[0]
    assert "source .venv/bin/activate" in lines[0]
    assert done.stdout == ""


def test_the_project_environment_still_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rcs_provider", "review", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: rcs-testers review")
