"""rcs-testers used as a library from someone else's Pulumi program (examples/existing-program):
a project of another name declares two testers directly with RcsTester and a small fleet from
its own config namespace, beside a component of its own. Real engine, and the sandbox started
with the flags of the example's README (on a free port of loopback)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.pulumi_cli import REPO, Project, Stack
from rcs_provider.sandbox import SandboxProcess, running_sandbox
from rcs_provider.sandbox.cli import build_parser

EXAMPLE = REPO / "examples" / "existing-program"
#: Where a test's sandbox differs from the README's: any free port, a database of its own.
PLACE = {"host", "port", "db"}


def readme_sandbox_options() -> dict[str, Any]:
    """The flags of the example README's `make sandbox ARGS='...' &` line, as the harness's
    options (those that differ from the sandbox's defaults, its place aside)."""
    lines = (EXAMPLE / "README.md").read_text(encoding="utf-8").splitlines()
    [line] = [line for line in lines if line.startswith("make sandbox")]
    match = re.fullmatch(r"make sandbox(?: ARGS='([^']*)')? &\s*(#.*)?", line)
    assert match, f"the README starts the sandbox in an unexpected way: {line}"
    given = vars(build_parser().parse_args(shlex.split(match.group(1) or "")))
    defaults = vars(build_parser().parse_args([]))
    return {k: v for k, v in given.items() if v != defaults[k] and k not in PLACE}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """The sandbox as the example's README starts it (on a free port)."""
    db = tmp_path_factory.mktemp("example-sandbox") / "kaleyra.db"
    with running_sandbox(db=str(db), **readme_sandbox_options()) as started:
        yield started


@pytest.fixture
def example(tmp_path: Path, engine_env: dict[str, str], sandbox: SandboxProcess) -> Stack:
    sandbox.reset()
    """The example's own `dev` stack file, pointed at this test's sandbox."""
    project = Project.copy_of(EXAMPLE, tmp_path / "platform-infra", engine_env)
    project.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "dev")
    stack.run("config", "set", "kaleyra:baseUrl", sandbox.url).ok()
    stack.run("config", "set", "--secret", "kaleyra:apiKey", sandbox.api_key).ok()
    return stack


def urns(stack: Stack) -> list[str]:
    return sorted(r["urn"] for r in stack.export()["deployment"].get("resources") or [])


def registration_ids(sandbox: SandboxProcess) -> dict[tuple[str, str], str]:
    return {(r["agent_no"], r["phoneno"][-3:]): r["id"] for r in sandbox.registrations()}


def test_preview_up_no_change_and_destroy(example: Stack, sandbox: SandboxProcess) -> None:
    preview = example.preview().ok()
    assert "+ 9 to create" in preview.output, preview.output
    assert sandbox.stats()["register_calls"] == 0, "a preview registers nothing"

    example.up().ok()
    registered = registration_ids(sandbox)
    assert sorted(registered) == [
        ("20700", "092"),
        ("31337", "111"),
        ("31337", "112"),
        ("48900", "092"),
        ("48900", "345"),
    ]
    outputs: dict[str, Any] = example.outputs()
    assert outputs["outboundQueue"] == "dev-rcs-outbound"
    assert outputs["oncall"] == {
        "oncall-primary": registered[("31337", "111")],
        "oncall-secondary": registered[("31337", "112")],
    }
    assert [t["phone"] for t in outputs["qaTesters"]["48900"]] == ["91953XXXXX92", "91984XXXXX45"]
    assert outputs["qaTesters"]["20700"][0]["registration_id"] == registered[("20700", "092")]
    project_urns = urns(example)
    assert all("::platform-infra::" in urn for urn in project_urns)
    assert (
        "urn:pulumi:dev::platform-infra::platform:index:MessagingPlatform"
        "$pulumi-python:dynamic/kaleyra:RcsTester::31337-oncall-primary"
    ) in project_urns
    assert (
        "urn:pulumi:dev::platform-infra::rcs-testers:index:AgentTesters"
        "$pulumi-python:dynamic/kaleyra:RcsTester::48900-qa-bob"
    ) in project_urns

    calls = sandbox.stats()["register_calls"]
    again = example.up().ok()
    assert "9 unchanged" in again.output, again.output
    assert sandbox.stats()["register_calls"] == calls
    assert urns(example) == project_urns

    destroyed = example.destroy().ok()
    assert destroyed.output.count("still registered at Kaleyra") >= 5
    assert urns(example) == []
    assert registration_ids(sandbox) == registered, "Kaleyra has no removal; nothing is lost"


def test_a_namespace_without_testers_fails_naming_the_key(
    example: Stack, sandbox: SandboxProcess
) -> None:
    example.run("config", "rm", "qa:agents").ok()
    preview = example.preview()
    assert preview.returncode != 0
    assert "agents: not set: add `qa:agents:`" in preview.output, preview.output
    assert sandbox.stats()["register_calls"] == 0
