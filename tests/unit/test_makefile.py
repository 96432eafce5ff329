"""The Makefile and the README agree: every target `make help` lists is in the README, and the
command the README shows beside `make sandbox` is the one it runs, flags passed through ARGS."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")

HAS_MAKE = shutil.which("make") is not None
pytestmark = pytest.mark.skipif(not HAS_MAKE, reason="needs make")


def make(*args: str) -> str:
    """Run make in the repository and return its stdout (``-n``: print, do not run)."""
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def help_targets() -> list[str]:
    return re.findall(r"^\s+make (\S+)", make("help"), flags=re.MULTILINE)


def test_help_lists_the_targets() -> None:
    assert {"demo", "test", "sandbox", "help"} <= set(help_targets())


# Collected before any skip applies: without make there is nothing to list (and nothing run).
@pytest.mark.parametrize("target", help_targets() if HAS_MAKE else [])
def test_readme_names_every_target_of_make_help(target: str) -> None:
    assert f"make {target}`" in README or f"make {target} " in README, (
        f"`make help` lists `make {target}` but the README never mentions it"
    )


def sandbox_command(*args: str) -> str:
    return make("-n", "sandbox", *args).strip().splitlines()[-1].strip()


def test_make_sandbox_passes_args_to_the_sandbox() -> None:
    command = sandbox_command("ARGS=--latency-ms 300 --db :memory:")
    assert command.endswith("-m rcs_provider.sandbox --latency-ms 300 --db :memory:")


def test_readme_shows_the_command_make_sandbox_runs() -> None:
    assert sandbox_command() in README


def install_commands() -> list[str]:
    """The commands that install packages into the three virtualenvs (printed, not run)."""
    printed = make("-n", "-B", "venv", "test-lowest", "policy-venv").replace("\\\n", " ")
    return [line for line in printed.splitlines() if re.search(r"pip (install|sync)", line)]


def test_every_install_from_a_requirements_file_checks_hashes() -> None:
    commands = install_commands()
    from_files = [c for c in commands if re.search(r"(-r |pip sync ).*requirements", c)]
    assert len(from_files) == 4, commands  # uv, .venv, .venv-lowest, policy/venv
    for command in from_files:
        assert "--require-hashes" in command, f"installs without checking hashes: {command}"


def test_the_project_itself_is_built_without_fetching_a_build_backend() -> None:
    project = [c for c in install_commands() if " -e ." in c]
    assert len(project) == 2, project  # .venv and .venv-lowest
    for command in project:
        assert "--no-deps" in command and "--no-build-isolation" in command, command
