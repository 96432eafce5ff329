"""What a user would script instead of ``pulumi up``: register every tester with ``requests``.

Both baselines send exactly the register calls the provider sends (same URL, headers, body),
with one :class:`requests.Session` per thread; neither looks anything up first.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from measure import BenchError

from rcs_provider.sandbox import SandboxProcess

__all__ = ["sequential_loop", "thread_pool"]

_TIMEOUT_S = 30.0


def _post(session: requests.Session, sandbox: SandboxProcess, agent: str, phone: str) -> int:
    body = {"phoneno": phone, "agent_no": agent}
    url = sandbox.register_url()
    with session.post(url, json=body, headers=sandbox.headers(), timeout=_TIMEOUT_S) as response:
        return response.status_code


def _check(sandbox: SandboxProcess, statuses: list[int], pairs: list[tuple[str, str]]) -> None:
    bad = [s for s in statuses if s != 200]
    created = sandbox.stats()["register_created"]
    if bad or created != len(pairs):
        raise BenchError(f"baseline: {len(bad)} failed registers {bad[:5]}, {created} created")


def sequential_loop(sandbox: SandboxProcess, pairs: list[tuple[str, str]]) -> float:
    """``for agent, phone in testers: session.post(...)``; wall seconds."""
    with requests.Session() as session:
        started = time.perf_counter()
        statuses = [_post(session, sandbox, agent, phone) for agent, phone in pairs]
        wall = time.perf_counter() - started
    _check(sandbox, statuses, pairs)
    return wall


def thread_pool(sandbox: SandboxProcess, pairs: list[tuple[str, str]], workers: int) -> float:
    """The same calls from a ``ThreadPoolExecutor(workers)``; wall seconds (pool start-up
    included, as a script would pay it)."""
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()

    def register(pair: tuple[str, str]) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            with lock:
                sessions.append(local.session)
        return _post(local.session, sandbox, *pair)

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(workers) as pool:
            statuses = list(pool.map(register, pairs))
        wall = time.perf_counter() - started
    finally:
        for session in sessions:
            session.close()
    _check(sandbox, statuses, pairs)
    return wall
