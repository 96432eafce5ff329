"""Crash helpers for the real engine: SIGKILL a `pulumi up` (its whole process group, as a
CI runner that dies) once the sandbox has stored some registrations."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

from support.pulumi_cli import Stack


def kill_up_after(stack: Stack, sandbox: Any, created: int) -> None:
    proc = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack.name],
        cwd=stack.project.root,
        env=stack.project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while sandbox.stats()["register_created"] < created:
        assert proc.poll() is None, "pulumi up ended before the kill"
        assert time.monotonic() < deadline, "too slow to reach the kill point"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def wait_until_every_call_is_answered(sandbox: Any) -> None:
    """The sandbox answers (and stores) a request even when its client was killed; its own
    counters say when every call it received has been answered."""
    deadline = time.monotonic() + 60
    while True:
        stats = sandbox.stats()
        answered = sum(stats["responses_by_status"].values()) + stats["errors_injected"]["dropped"]
        if answered >= stats["register_calls"] + stats["list_calls"]:
            return
        assert time.monotonic() < deadline, f"calls still unanswered after 60 s: {stats}"
        time.sleep(0.02)
