"""The lock files agree with pyproject.toml and with each other, and every install from them
can check hashes:

- requirements/lock.txt pins every declared requirement within its range, and
  requirements/lowest.txt pins each install requirement at its lower bound (so the
  lowest-versions run proves the bound);
- every pin of every lock file carries sha256 hashes (pip and uv refuse a file in hash-checking
  mode when one entry has none);
- requirements/bootstrap.txt (the first install, uv alone) is the lock's uv entry;
- policy/requirements.txt pins the policy pack's whole tree, with the same pulumi SDK and
  phonenumbers as the lock.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
FIX = "run `make lock` and commit requirements/ and policy/requirements.txt"
LOCK = REPO / "requirements" / "lock.txt"
LOWEST = REPO / "requirements" / "lowest.txt"
BOOTSTRAP = REPO / "requirements" / "bootstrap.txt"
POLICY_IN = REPO / "policy" / "requirements.in"
POLICY_LOCK = REPO / "policy" / "requirements.txt"
HASHED_FILES = [LOCK, LOWEST, BOOTSTRAP, POLICY_LOCK]
# What the policy pack shares with the program (Makefile: POLICY_SHARED).
SHARED_WITH_POLICY = ["pulumi", "phonenumbers"]


@dataclass(frozen=True)
class Pin:
    version: Version
    hashes: frozenset[str]


def pin_entries(lock: Path) -> dict[str, Pin]:
    """``name -> Pin`` of every entry of a uv-compiled lock file (``name==version [; marker]``
    followed by ``--hash=sha256:...`` options, continued over lines with backslashes)."""
    found: dict[str, Pin] = {}
    text = lock.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement_text, *options = line.split(" --")
        requirement = Requirement(requirement_text.strip())
        [spec] = requirement.specifier
        assert spec.operator == "==", f"{lock.name}: {requirement_text!r} is not an exact pin"
        hashes = {o.strip().removeprefix("hash=") for o in options if o.startswith("hash=")}
        unknown = [o for o in options if not o.startswith("hash=")]
        assert not unknown, (
            f"{lock.name}: {requirement.name} has options other than hashes: {unknown}"
        )
        found[canonicalize_name(requirement.name)] = Pin(Version(spec.version), frozenset(hashes))
    return found


def pins(lock: Path) -> dict[str, Version]:
    return {name: pin.version for name, pin in pin_entries(lock).items()}


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
    problems = check_pinned(LOCK, declared("install", *extras))
    assert not problems, f"{'; '.join(problems)}: {FIX}"


def test_lowest_lock_pins_the_test_environment_within_range() -> None:
    problems = check_pinned(LOWEST, declared("install", "dev"))
    assert not problems, f"{'; '.join(problems)}: {FIX}"


@pytest.mark.parametrize("requirement", declared("install"), ids=str)
def test_lowest_lock_pins_each_install_requirement_at_its_lower_bound(
    requirement: Requirement,
) -> None:
    [lower] = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    pinned = pins(LOWEST)[canonicalize_name(requirement.name)]
    # `urllib3>=2` resolves to 2.0.2 when 2.0.0 was never published: same release prefix.
    assert pinned.release[: len(lower.release)] == lower.release, (
        f"{requirement}: requirements/lowest.txt pins {pinned}, not the lower bound: {FIX}"
    )


def test_install_requirements_are_ranges_with_an_upper_bound() -> None:
    for requirement in declared("install"):
        operators = {s.operator for s in requirement.specifier}
        assert operators == {">=", "<"}, f"{requirement}: declare a range `>=low,<next-major`"


@pytest.mark.parametrize("lock", HASHED_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_pin_carries_sha256_hashes(lock: Path) -> None:
    entries = pin_entries(lock)
    assert entries, f"{lock.name} pins nothing"
    unhashed = [name for name, pin in entries.items() if not pin.hashes]
    assert not unhashed, f"{lock.relative_to(REPO)}: no hashes for {unhashed}: {FIX}"
    other = {h for pin in entries.values() for h in pin.hashes if not h.startswith("sha256:")}
    assert not other, f"{lock.relative_to(REPO)}: hashes other than sha256: {sorted(other)}"


def test_bootstrap_file_is_the_locks_uv_entry() -> None:
    bootstrap = pin_entries(BOOTSTRAP)
    assert list(bootstrap) == ["uv"], f"{BOOTSTRAP.name} must pin uv alone, not {list(bootstrap)}"
    assert bootstrap["uv"] == pin_entries(LOCK)["uv"], (
        f"requirements/bootstrap.txt pins uv {bootstrap['uv'].version}, the lock "
        f"{pin_entries(LOCK)['uv'].version} (or their hashes differ): {FIX}"
    )


def test_policy_lock_pins_every_requirement_of_the_pack() -> None:
    lines = [line.split("#")[0].strip() for line in POLICY_IN.read_text().splitlines()]
    wanted = [Requirement(line) for line in lines if line]
    problems = check_pinned(POLICY_LOCK, wanted)
    assert not problems, f"{'; '.join(problems)}: {FIX}"


@pytest.mark.parametrize("name", SHARED_WITH_POLICY)
def test_policy_pack_runs_the_same_versions_as_the_program(name: str) -> None:
    program, pack = pins(LOCK).get(name), pins(POLICY_LOCK).get(name)
    assert program is not None and program == pack, (
        f"{name}: requirements/lock.txt pins {program}, policy/requirements.txt {pack}: {FIX}"
    )
