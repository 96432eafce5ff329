"""Fixtures for the real-engine tests (tests/e2e, tests/reliability): the engine on PATH, a
sandbox on 127.0.0.1 port 0, and a fresh project copy with its own file:// backend per test.
Loaded by tests/conftest.py as a plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rcs_devtools.pulumi_cli import Project, Stack, engine_environ
from rcs_provider.sandbox import SandboxProcess, running_sandbox


@pytest.fixture(scope="session")
def engine_env() -> dict[str, str]:
    return engine_environ()


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    db = tmp_path_factory.mktemp("sandbox") / "kaleyra.db"
    with running_sandbox(db=str(db), agents=["48900", "20700", "31337"]) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(sandbox_server: SandboxProcess) -> SandboxProcess:
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def project(tmp_path: Path, engine_env: dict[str, str]) -> Project:
    return Project.create(tmp_path / "project", engine_env)


@pytest.fixture
def stack(project: Project, sandbox: SandboxProcess) -> Stack:
    return project.stack("dev", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
