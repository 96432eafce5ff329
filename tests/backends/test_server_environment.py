"""The PostgreSQL the tests start (as ``nobody`` when we are root) sees a minimal environment,
not ours: no api-key or credential of the caller reaches another account's processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rcs_devtools.state_servers import running_postgres

CANARIES = {
    "KALEYRA_API_KEY": "canary-kaleyra-key-5d1e",
    "PULUMI_ACCESS_TOKEN": "canary-pulumi-token-77b0",
}
#: What the server may see: what we pass, and what pg_ctl and its /bin/sh add on their own.
PASSED = {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR"}
ADDED_BY_PG_CTL = {"PGDATA", "PGSYSCONFDIR", "PG_GRANDPARENT_PID", "PWD", "OLDPWD", "SHLVL", "_"}


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.decode(errors="replace").partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs}


def test_postgres_runs_with_a_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)

    with running_postgres(fsync=False) as server:
        pid = int((server.root / "data" / "postmaster.pid").read_text().splitlines()[0])
        seen = environ_of(pid)
        server_uid = os.stat(f"/proc/{pid}").st_uid

    assert set(seen) <= PASSED | ADDED_BY_PG_CTL, (
        f"unexpected: {set(seen) - PASSED - ADDED_BY_PG_CTL}"
    )
    for name, value in CANARIES.items():
        assert name not in seen
        assert value not in "\n".join(seen.values())
    assert seen["HOME"] == str(server.root)
    if os.geteuid() == 0:
        assert server_uid != 0, "PostgreSQL runs as another account"
