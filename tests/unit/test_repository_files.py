"""Rules over the repository's tracked files: no Python file changes the import path at run time
(the dev tooling is an installed package, rcs_devtools), and every repository path a Markdown
file names (`rcs_provider/...`, `bench/...`, ...) exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs a git checkout"
)

#: An edit of the import path: a call of one of its list methods, an assignment to it or to a
#: slice of it, an augmented assignment, or site.addsitedir.
PATH_EDIT = re.compile(
    r"\bsys\s*\.\s*path\s*(?:\.\s*(?:insert|append|extend|remove|pop|clear)\s*\("
    r"|\[[^\]\n]*\]\s*=(?!=)|[+*-]?=(?!=))"
    r"|\bsite\s*\.\s*addsitedir\s*\("
)
#: A path into the code folders, as Markdown files write them (repository-relative).
CODE_PATH = re.compile(r"(?<![\w./-])(?:rcs_provider|bench|scripts|devtools|tests)/[\w./-]*[\w/]")


def tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *patterns],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [REPO / name for name in listed.split("\0") if name]


def path_edits(text: str) -> list[str]:
    return [
        f"{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if PATH_EDIT.search(line)
    ]


#: Spelled in parts, so that this file holds no edit of the import path itself (it is
#: checked like every other).
SYS_PATH = "sys" + ".path"


@pytest.mark.parametrize(
    "line",
    [
        f"{SYS_PATH}.insert(0, str(REPO))",
        f"{SYS_PATH}.append('tests')",
        f"{SYS_PATH}[:0] = [here]",
        f"{SYS_PATH} += ['bench']",
        f"{SYS_PATH} = ['x', *{SYS_PATH}]",
        "site" + ".addsitedir(folder)",
    ],
)
def test_the_rule_sees_each_way_of_editing_the_import_path(line: str) -> None:
    assert path_edits(line)


@pytest.mark.parametrize(
    "line", ["print(sys.path)", "if sys.path[0] == here:", "paths = list(sys.path)"]
)
def test_the_rule_lets_reading_the_import_path_through(line: str) -> None:
    assert not path_edits(line)


def test_no_tracked_python_file_edits_the_import_path() -> None:
    files = tracked("*.py")
    assert len(files) > 100, "git ls-files listed too few files to be this repository"
    found = {
        str(file.relative_to(REPO)): edits
        for file in files
        if file.exists() and (edits := path_edits(file.read_text(encoding="utf-8")))
    }
    assert not found, (
        f"These files edit the import path: {found}. Import the dev tooling as the installed "
        "package rcs_devtools (make venv installs devtools/ editable) instead."
    )


def test_every_code_path_a_markdown_file_names_exists() -> None:
    files = tracked("*.md")
    assert files, "git ls-files listed no Markdown file"
    missing = sorted(
        f"{file.relative_to(REPO)}: {path}"
        for file in files
        for path in set(CODE_PATH.findall(file.read_text(encoding="utf-8")))
        if not (REPO / path).exists()
    )
    assert not missing, f"Markdown files name paths that do not exist: {missing}"
