"""The engine works for real: pulumi up / destroy of one dynamic resource whose provider class
is imported from rcs_provider (pickled by reference), against the sandbox on loopback."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

from rcs_devtools.pulumi_cli import PASSPHRASE, REPO, Project

PROGRAM = """
import pulumi
from rcs_provider._resource import RcsTester, RcsTesterArgs

tester = RcsTester("smoke", RcsTesterArgs(agent_no="48900", phoneno="+91 98000 00042", label="qa-smoke"))
pulumi.export("registration_id", tester.registration_id)
pulumi.export("status", tester.status)
"""


def test_engine_version_is_the_pinned_one(engine_env: dict[str, str]) -> None:
    pinned = next(
        line.split('"')[1]
        for line in (REPO / "scripts" / "engine-common").read_text().splitlines()
        if line.startswith("PULUMI_VERSION=")
    )
    out = subprocess.run(["pulumi", "version"], env=engine_env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"v{pinned}"


def test_up_and_destroy_one_dynamic_resource(
    tmp_path: Path, engine_env: dict[str, str], sandbox: Any
) -> None:
    project = Project.create(tmp_path / "smoke", engine_env)
    (project.root / "__main__.py").write_text(PROGRAM)
    (project.root / "Pulumi.yaml").write_text(
        "name: smoke\nruntime:\n  name: python\n  options:\n    virtualenv: .venv\n"
    )
    project.env["PULUMI_CONFIG_PASSPHRASE"] = PASSPHRASE
    project.pulumi("stack", "init", "smoke", "--secrets-provider", "passphrase").ok()
    for key, value in (
        ("kaleyra:pod", "sandbox"),
        ("kaleyra:baseUrl", sandbox.url),
        ("kaleyra:sid", sandbox.sid),
    ):
        project.pulumi("config", "set", key, value, stack="smoke").ok()
    project.pulumi(
        "config", "set", "--secret", "kaleyra:apiKey", sandbox.api_key, stack="smoke"
    ).ok()

    project.pulumi("up", "--yes", stack="smoke").ok()

    outputs = json.loads(project.pulumi("stack", "output", "--json", stack="smoke").ok().stdout)
    [registration] = sandbox.registrations()
    assert outputs == {"registration_id": registration["id"], "status": "Unverified"}
    state = json.loads(project.pulumi("stack", "export", stack="smoke").ok().stdout)
    [resource] = [r for r in state["deployment"]["resources"] if r["type"].endswith("RcsTester")]
    assert resource["type"] == "pulumi-python:dynamic/kaleyra:RcsTester"
    # Every output is stored per tester in every checkpoint: only what diff/read/delete need.
    assert set(resource["outputs"]) == {
        "__provider",
        "agent_no",
        "phoneno",
        "label",
        "registration_id",
        "status",
    }
    pickled = base64.b64decode(resource["inputs"]["__provider"])
    assert b"rcs_provider.provider" in pickled and b"TesterProvider" in pickled
    assert len(pickled) < 1024, "the provider class is pickled by reference, not by value"

    project.pulumi("destroy", "--yes", stack="smoke").ok()
    project.pulumi("stack", "rm", "smoke", "--yes").ok()
    assert "smoke" not in project.pulumi("stack", "ls").ok().stdout
