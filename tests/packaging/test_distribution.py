"""What we publish: `python -m build` gives an sdist and a wheel that `twine check` accepts; the
wheel holds the package only (no tests, no bench, no dev tooling) and installs into a clean
virtualenv, hash-checked against the lock (a changed hash stops the install), where `import
rcs_provider` works without the sandbox extra; a Pulumi SDK outside the supported range is
refused by pip."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LOCK = REPO / "requirements" / "lock.txt"
#: The version as the package reads it (rcs_provider.__version__): the installed metadata.
VERSION = importlib.metadata.version("rcs-testers")


def run(*argv: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def once_per_run(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(folder)`` once per test run, shared by the xdist workers (a file lock)."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".done").exists():
            folder.mkdir(exist_ok=True)
            make(folder)
            (folder / ".done").touch()
    return folder


def build_distributions(outdir: Path) -> None:
    built = run(sys.executable, "-m", "build", "--installer", "uv", "--outdir", outdir, REPO)
    assert built.returncode == 0, f"python -m build failed:\n{built.stdout}{built.stderr}"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once_per_run(tmp_path_factory, "dist", build_distributions)


def wheel_of(dist: Path) -> Path:
    [wheel] = dist.glob("*.whl")
    return wheel


def test_build_gives_an_sdist_and_a_wheel_that_twine_accepts(dist: Path) -> None:
    assert sorted(p.name for p in dist.iterdir() if p.name != ".done") == [
        f"rcs_testers-{VERSION}-py3-none-any.whl",
        f"rcs_testers-{VERSION}.tar.gz",
    ]
    checked = run(VENV_BIN / "twine", "check", "--strict", *sorted(dist.glob("rcs_testers-*")))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_wheel_holds_the_package_and_its_metadata_only(dist: Path) -> None:
    names = zipfile.ZipFile(wheel_of(dist)).namelist()
    tops = {name.split("/")[0] for name in names}
    assert "rcs_devtools" not in tops, "the dev tooling (devtools/) is for this repository only"
    assert tops == {"rcs_provider", f"rcs_testers-{VERSION}.dist-info"}
    assert "rcs_provider/py.typed" in names
    assert "rcs_provider/provider.py" in names, "states pickle rcs_provider.provider by path"
    assert not [n for n in names if "/tests/" in n or "/bench/" in n or n.endswith("conftest.py")]


def install_wheel_hash_checked(
    dist: Path, tmp_path: Path, lock: Path = LOCK
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The wheel and its requirements into a clean virtualenv, every file checked against a
    hash: the wheel's own, and the lock's for the rest (the lock as constraints: the same
    versions as .venv, so uv installs from its cache)."""
    venv = tmp_path / "venv"
    assert run(VENV_BIN / "uv", "venv", "--quiet", venv).returncode == 0
    wheel = wheel_of(dist)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    requirement = tmp_path / "wheel.txt"
    requirement.write_text(f"rcs-testers @ {wheel.as_uri()} --hash=sha256:{digest}\n")
    installed = run(
        VENV_BIN / "uv", "pip", "install", "--quiet", "--python", venv / "bin" / "python",
        "--require-hashes", "-r", requirement, "--constraint", lock,
    )  # fmt: skip
    return venv, installed


def test_wheel_imports_in_a_clean_virtualenv_without_the_sandbox_extra(
    dist: Path, tmp_path: Path
) -> None:
    venv, installed = install_wheel_hash_checked(dist, tmp_path)
    assert installed.returncode == 0, installed.stderr
    python = venv / "bin" / "python"
    probe = run(
        python,
        "-c",
        "import importlib.util, rcs_provider, rcs_provider.provider as p\n"
        "assert all(getattr(rcs_provider, name) for name in rcs_provider.__all__)\n"
        "print(p.TesterProvider.__module__, p.TesterProvider.__qualname__)\n"
        "print([m for m in ('fastapi', 'uvicorn') if importlib.util.find_spec(m)])\n"
        "print(rcs_provider.__file__)",
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    qualified, sandbox_modules, location = probe.stdout.splitlines()
    assert qualified == "rcs_provider.provider TesterProvider"
    assert sandbox_modules == "[]", "the sandbox extra must not be needed to import the package"
    assert location.startswith(str(venv)), f"imported from {location}, not from the wheel"


def test_a_changed_hash_in_the_lock_stops_the_install(dist: Path, tmp_path: Path) -> None:
    text = LOCK.read_text()
    entry = re.search(r"^requests==.*?(?=^    #)", text, flags=re.MULTILINE | re.DOTALL)
    assert entry, "requests is not pinned in requirements/lock.txt"
    changed = re.sub(r"sha256:[0-9a-f]", "sha256:0", entry[0])
    tampered = tmp_path / "lock.txt"
    tampered.write_text(text.replace(entry[0], changed))

    _, installed = install_wheel_hash_checked(dist, tmp_path, lock=tampered)
    assert installed.returncode != 0
    assert "Hash mismatch for `requests==" in installed.stderr, installed.stderr


def test_pip_refuses_a_pulumi_sdk_outside_the_supported_range(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert run(VENV_BIN / "uv", "venv", "--quiet", venv).returncode == 0
    # This project's pip, resolving for the clean virtualenv (`pip --python`).
    resolved = run(
        sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--dry-run",
        "--disable-pip-version-check", "--only-binary", ":all:", wheel_of(dist), "pulumi==3.199.0",
    )  # fmt: skip
    assert resolved.returncode != 0
    assert "ResolutionImpossible" in resolved.stderr, resolved.stdout + resolved.stderr
    assert f"rcs-testers {VERSION} depends on pulumi<4 and >=3.200" in resolved.stdout
