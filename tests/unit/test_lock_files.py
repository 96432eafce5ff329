"""The lock files agree with pyproject.toml: every declared requirement is pinned in
requirements/lock.txt within its range, and requirements/lowest.txt pins each install
requirement at its lower bound (so the lowest-versions run proves the bound)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
FIX = "run `make lock` and commit requirements/"


def pins(lock: Path) -> dict[str, Version]:
    """``name -> version`` of every ``name==version`` line of a uv-compiled lock file."""
    found: dict[str, Version] = {}
    for line in lock.read_text().splitlines():
        if not line or line.startswith((" ", "#", "-")):
            continue
        requirement = Requirement(line)
        [spec] = requirement.specifier
        assert spec.operator == "==", f"{lock.name}: {line!r} is not an exact pin"
        found[canonicalize_name(requirement.name)] = Version(spec.version)
    return found


def declared(*groups: str) -> list[Requirement]:
    """The requirements of pyproject.toml's install requirements and the named extras."""
    lines = list(PROJECT["dependencies"]) if "install" in groups else []
    for extra in groups:
        lines += PROJECT["optional-dependencies"].get(extra, [])
    requirements = [Requirement(line) for line in lines]
    return [r for r in requirements if canonicalize_name(r.name) != PROJECT["name"]]


def check_pinned(lock: Path, requirements: list[Requirement]) -> list[str]:
    pinned = pins(lock)
    problems = []
    for requirement in requirements:
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement} is not in {lock.name}")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} but {lock.name} pins {version}")
    return problems


def test_lock_pins_every_declared_requirement_within_its_range() -> None:
    extras = list(PROJECT["optional-dependencies"])
    problems = check_pinned(REPO / "requirements" / "lock.txt", declared("install", *extras))
    assert not problems, f"{'; '.join(problems)}: {FIX}"


def test_lowest_lock_pins_the_test_environment_within_range() -> None:
    problems = check_pinned(REPO / "requirements" / "lowest.txt", declared("install", "dev"))
    assert not problems, f"{'; '.join(problems)}: {FIX}"


@pytest.mark.parametrize("requirement", declared("install"), ids=str)
def test_lowest_lock_pins_each_install_requirement_at_its_lower_bound(
    requirement: Requirement,
) -> None:
    [lower] = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    pinned = pins(REPO / "requirements" / "lowest.txt")[canonicalize_name(requirement.name)]
    # `urllib3>=2` resolves to 2.0.2 when 2.0.0 was never published: same release prefix.
    assert pinned.release[: len(lower.release)] == lower.release, (
        f"{requirement}: requirements/lowest.txt pins {pinned}, not the lower bound: {FIX}"
    )


def test_install_requirements_are_ranges_with_an_upper_bound() -> None:
    for requirement in declared("install"):
        operators = {s.operator for s in requirement.specifier}
        assert operators == {">=", "<"}, f"{requirement}: declare a range `>=low,<next-major`"
