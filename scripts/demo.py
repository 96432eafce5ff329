"""`make demo`: the main job on the embedded default.

Starts the local Kaleyra sandbox on 127.0.0.1:8766 (or reuses one already serving there),
uses a file:// backend inside the repo (.pulumi-state, gitignored) with the demo passphrase,
selects or creates the `dev` stack, runs `pulumi up --yes`, prints the stack outputs and what
the sandbox saw, and stops the sandbox it started. Run it twice: the second run changes nothing
and makes no register call.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from rcs_provider.kaleyra.settings import SANDBOX_BASE_URL
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


def main() -> None:
    STATE.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    env["PULUMI_CONFIG_PASSPHRASE"] = DEMO_PASSPHRASE  # the dev stack file is salted for it
    env.update(
        PULUMI_BACKEND_URL=f"file://{STATE}?metadata=skip",
        VIRTUAL_ENV=str(REPO / ".venv"),
        PULUMI_SKIP_UPDATE_CHECK="true",
    )
    with demo_sandbox():
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


if __name__ == "__main__":
    main()
