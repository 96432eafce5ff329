"""Fixtures for tests/backends: one real PostgreSQL and one moto S3 server per test session, and
per test a fresh, empty state store on the backend under test (a folder for ``file``, a database
for ``postgres``, a bucket for ``s3``), so tests stay independent while sharing the servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rcs_devtools.pulumi_cli import Project, Stack
from rcs_devtools.state_servers import (
    PostgresServer,
    S3Server,
    StateStore,
    running_postgres,
    running_s3,
)
from rcs_provider.sandbox import SandboxProcess

BACKENDS = ["file", "postgres", "s3"]
STATE_TABLE = "rcs_testers_state"  # not Pulumi's default, so `table=` is exercised


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres(fsync=False) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


def files_under(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_bytes().decode("utf-8", errors="replace")
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    name = "rcs" + uuid.uuid4().hex[:12]
    if request.param == "postgres":
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        database = pg.create_database(name)

        def rows_and_payloads() -> dict[str, str]:
            payloads = pg.blobs(database, STATE_TABLE)
            return {k: f"{raw}\n{payloads[k]}" for k, raw in pg.rows(database, STATE_TABLE).items()}

        url = pg.url(database, table=STATE_TABLE)
        return StateStore("postgres", url, pg.client_env, rows_and_payloads, pg.password)
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        bucket = s3.create_bucket(name)
        return StateStore(
            "s3",
            s3.url(bucket),
            s3.client_env,
            lambda: s3.objects(bucket),
            s3.client_env["AWS_SECRET_ACCESS_KEY"],
        )
    folder = tmp_path / "shared-state"
    folder.mkdir()
    return StateStore("file", f"file://{folder}?metadata=skip", {}, lambda: files_under(folder))


@pytest.fixture
def runner(tmp_path: Path, engine_env: dict[str, str], store: StateStore) -> Project:
    """A working copy logged in to the store (the first CI runner)."""
    return Project.create(tmp_path / "runner-a", engine_env, store.url, store.env)


@pytest.fixture
def team_stack(runner: Project, sandbox: SandboxProcess) -> Stack:
    return runner.stack("ci", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
