"""The engine build is pinned and verified: engine/go.mod requires the release that
scripts/engine-common names, the build's Go settings check every module against the committed
engine/go.sum whatever the caller's environment says, and a changed checksum stops it.

The last two run the real `go` command (offline: GOPROXY=off, from the module cache that
`make engine` filled) and are skipped where Go or those modules are missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_COMMON = REPO / "scripts" / "engine-common"
MODULE = REPO / "engine"
PKG = "github.com/pulumi/pulumi/pkg/v3"
SDK = "github.com/pulumi/pulumi/sdk/v3"
PINNED = re.search(r'^PULUMI_VERSION="([0-9.]+)"$', ENGINE_COMMON.read_text(), re.MULTILINE)

needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")


def pinned_version() -> str:
    assert PINNED, 'scripts/engine-common has no PULUMI_VERSION="x.y.z" line'
    return PINNED[1]


def test_go_mod_requires_the_release_engine_common_pins() -> None:
    go_mod = (MODULE / "go.mod").read_text()
    version = f"v{pinned_version()}"
    for module in (PKG, SDK):
        required = re.search(
            rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", go_mod, re.MULTILINE
        )
        assert required and required[1] == version, (
            f"engine/go.mod requires {module} {required and required[1]}, scripts/engine-common "
            f"pins {version}: run `make engine-upgrade VERSION={pinned_version()}`"
        )
    assert f"\ntool {PKG}/cmd/pulumi\n" in go_mod


def test_go_sum_holds_the_checksums_of_the_pinned_release() -> None:
    go_sum = (MODULE / "go.sum").read_text()
    for module in (PKG, SDK):
        for suffix in ("", "/go.mod"):
            assert f"{module} v{pinned_version()}{suffix} h1:" in go_sum, (
                f"engine/go.sum has no checksum for {module}@v{pinned_version()}{suffix}"
            )


def test_bootstrap_sets_the_verified_go_environment_before_building() -> None:
    script = (REPO / "scripts" / "bootstrap-engine").read_text()
    assert "\nverified_go_env\n" in script
    assert script.index("\nverified_go_env\n") < script.index("go build")


def verified(
    env: dict[str, str], *commands: str, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """``commands`` in bash after ``verified_go_env`` (scripts/engine-common), under ``env``."""
    script = f"set -euo pipefail; source {ENGINE_COMMON}; verified_go_env; " + "; ".join(commands)
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def base_env(tmp_path: Path) -> dict[str, str]:
    go = shutil.which("go")
    assert go
    home = Path.home()
    gopath = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
    return {
        "PATH": f"{Path(go).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "GOPATH": gopath or str(home / "go"),
        "GOCACHE": str(tmp_path / "gocache"),
    }


@needs_go
def test_settings_that_would_skip_checksums_are_ignored_and_named(tmp_path: Path) -> None:
    goenv = tmp_path / "go-env"
    goenv.write_text("GONOSUMDB=example.com/*\nGOFLAGS=-mod=mod\nGOSUMDB=off\n")
    hostile = {
        "GOENV": str(goenv),  # a `go env -w` file: GOSUMDB=off there too
        "GOFLAGS": "-mod=mod -modfile=/tmp/other.mod",
        "GONOSUMDB": "github.com/*",
        "GOPRIVATE": "*",
        "GONOPROXY": "*",
        "GOINSECURE": "*",
        "GONOSUMCHECK": "1",
        "GOWORK": str(tmp_path / "go.work"),
        "GOTOOLCHAIN": "path",
    }
    names = ["GOFLAGS", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOSUMDB", "GOWORK"]
    names += ["GOTOOLCHAIN"]
    out = verified(
        base_env(tmp_path) | hostile,
        f"go env -json {' '.join(names)}",
        'echo "GONOSUMCHECK=${GONOSUMCHECK-unset} GOENV=$GOENV"',
    )
    assert out.returncode == 0, out.stderr
    settings, _, rest = out.stdout.rpartition("}")
    assert json.loads(settings + "}") == {
        "GOFLAGS": "-mod=readonly -buildvcs=false",
        "GONOSUMDB": "",
        "GOPRIVATE": "",
        "GONOPROXY": "",
        "GOINSECURE": "",
        "GOSUMDB": "sum.golang.org",
        "GOWORK": "off",
        "GOTOOLCHAIN": "local",
    }
    assert rest.strip() == "GONOSUMCHECK=unset GOENV=off"  # no `go env -w` file either
    for setting in (
        "GOFLAGS=-mod=mod -modfile=/tmp/other.mod",
        "GONOSUMDB=github.com/*",
        "GOPRIVATE=*",
        "GONOPROXY=*",
        "GOINSECURE=*",
        "GONOSUMCHECK=1",
        "GOSUMDB=off",
        f"GOWORK={tmp_path / 'go.work'}",
        "GOTOOLCHAIN=path",
    ):
        assert f"engine build: ignoring {setting} (" in out.stderr, out.stderr


@needs_go
def test_settings_that_keep_checksums_pass_silently(tmp_path: Path) -> None:
    kept = {"GOPROXY": "off", "GOFLAGS": "-buildvcs=false", "GOSUMDB": "sum.golang.org"}
    out = verified(base_env(tmp_path) | kept, "go env GOPROXY GOSUMDB GOFLAGS")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:3] == ["off", "sum.golang.org", "-mod=readonly -buildvcs=false"]
    assert out.stderr == ""


def copy_of_the_module(folder: Path) -> Path:
    shutil.copytree(MODULE, folder, ignore=shutil.ignore_patterns("bin"))
    return folder


@needs_go
def test_a_changed_checksum_in_go_sum_stops_the_build(tmp_path: Path) -> None:
    env = base_env(tmp_path) | {"GOPROXY": "off"}  # offline: the module cache only
    load = "go list -deps ./langhost >/dev/null"
    intact = verified(env, load, cwd=copy_of_the_module(tmp_path / "intact"))
    if intact.returncode != 0 and "GOPROXY=off" in intact.stderr:
        pytest.skip("the Go module cache lacks the engine's modules: `make engine` builds them")
    assert intact.returncode == 0, intact.stderr

    tampered = copy_of_the_module(tmp_path / "tampered")
    go_sum = tampered / "go.sum"
    line = f"{SDK} v{pinned_version()} h1:"
    text = go_sum.read_text()
    start = text.index(line) + len(line)
    changed = "A" if text[start] != "A" else "B"
    go_sum.write_text(text[:start] + changed + text[start + 1 :])

    out = verified(env, load, cwd=tampered)
    assert out.returncode != 0
    assert "SECURITY ERROR" in out.stderr and "checksum mismatch" in out.stderr, out.stderr
