"""Bad backend settings fail fast with the engine's own message, and never print a password:
a wrong PostgreSQL password (through PGPASSWORD or inside the URL) and an S3 endpoint where
nothing listens. A hang would hit the command's timeout and fail the test."""

from __future__ import annotations

from pathlib import Path

from rcs_devtools.pulumi_cli import Project
from rcs_devtools.state_servers import PostgresServer, S3Server, free_port

FAST = 60  # seconds: far above the few seconds these take, far below a hung connection


def test_wrong_postgres_password_in_pgpassword(
    postgres_server: PostgresServer, tmp_path: Path, engine_env: dict[str, str]
) -> None:
    wrong = "not-the-" + postgres_server.password
    url = postgres_server.url(postgres_server.create_database("rcswrongpw"))
    project = Project.create(
        tmp_path / "runner", engine_env, url, {"PGPASSWORD": wrong}, login=False
    )
    result = project.login(timeout=FAST)
    assert result.returncode != 0
    assert f'password authentication failed for user "{postgres_server.user}"' in result.output
    assert wrong not in result.output and postgres_server.password not in result.output


def test_wrong_postgres_password_in_url(
    postgres_server: PostgresServer, tmp_path: Path, engine_env: dict[str, str]
) -> None:
    wrong = "not-the-" + postgres_server.password
    url = postgres_server.url(postgres_server.create_database("rcswrongurl")).replace(
        f"{postgres_server.user}@", f"{postgres_server.user}:{wrong}@"
    )
    project = Project.create(tmp_path / "runner", engine_env, url, {}, login=False)
    result = project.login(timeout=FAST)
    assert result.returncode != 0
    assert "password authentication failed" in result.output
    assert wrong not in result.output


def test_unreachable_s3_endpoint(
    s3_server: S3Server, tmp_path: Path, engine_env: dict[str, str]
) -> None:
    url = s3_server.url("rcs-nowhere").replace(s3_server.endpoint, f"127.0.0.1:{free_port()}")
    project = Project.create(
        tmp_path / "runner", engine_env, url, s3_server.client_env, login=False
    )
    result = project.login(timeout=FAST)
    assert result.returncode != 0
    assert "connection refused" in result.output
    assert s3_server.client_env["AWS_SECRET_ACCESS_KEY"] not in result.output
