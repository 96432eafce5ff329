"""What we publish: `python -m build` gives an sdist and a wheel that `twine check` accepts; the
wheel holds the package only and installs into a clean virtualenv, where `import rcs_provider`
works without the sandbox extra; a Pulumi SDK outside the supported range is refused by pip."""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
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
    assert tops == {"rcs_provider", f"rcs_testers-{VERSION}.dist-info"}
    assert "rcs_provider/py.typed" in names
    assert "rcs_provider/provider.py" in names, "states pickle rcs_provider.provider by path"
    assert not [n for n in names if "/tests/" in n or "/bench/" in n or n.endswith("conftest.py")]


def test_wheel_imports_in_a_clean_virtualenv_without_the_sandbox_extra(
    dist: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    assert run(VENV_BIN / "uv", "venv", "--quiet", venv).returncode == 0
    python = venv / "bin" / "python"
    # The lock as constraints: the same versions as .venv, so uv installs from its cache.
    installed = run(
        VENV_BIN / "uv", "pip", "install", "--quiet", "--python", python, wheel_of(dist),
        "--constraint", LOCK,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
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
