"""Throughput of the sandbox's register call from a concurrent requests client.

Starts the sandbox as a subprocess (port 0 on 127.0.0.1), once with ``:memory:`` and once with a
file database, fires CALLS registers from THREADS threads (one requests.Session each), three
runs per database, and prints one markdown line per database with the median calls/s and the
spread. Exits 1 if a median is below the floor (500 calls/s by default).

    .venv/bin/python bench/bench_sandbox.py [--calls 3000] [--threads 16] [--runs 3] [--floor 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from rcs_provider.sandbox import SandboxProcess, running_sandbox

AGENT = "48900"
PHONE_BASE = 919_500_000_000


def _run_once(sandbox: SandboxProcess, calls: int, threads: int, offset: int) -> float:
    """Register ``calls`` distinct numbers; calls per second (every answer must be 200)."""
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()
    url, headers = sandbox.register_url(), sandbox.headers()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            with lock:
                sessions.append(local.session)
        s: requests.Session = local.session
        return s

    def register(index: int) -> int:
        body = {"phoneno": str(PHONE_BASE + offset + index), "agent_no": AGENT}
        with session().post(url, json=body, headers=headers, timeout=30) as response:
            return response.status_code

    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(register, range(min(threads * 4, calls))))  # warm up connections
            sandbox.reset()
            started = time.perf_counter()
            statuses = list(pool.map(register, range(calls)))
            elapsed = time.perf_counter() - started
    finally:
        for s in sessions:
            s.close()
    bad = [status for status in statuses if status != 200]
    if bad:
        raise SystemExit(f"bench_sandbox: {len(bad)} of {calls} registers failed: {bad[:5]}")
    created = sandbox.stats()["register_created"]
    if created != calls:
        raise SystemExit(f"bench_sandbox: {created} registrations created, expected {calls}")
    return calls / elapsed


def bench(db: str, label: str, args: argparse.Namespace) -> float:
    """Median calls/s of ``args.runs`` runs against one database; prints the markdown line."""
    rates: list[float] = []
    with running_sandbox(db=db) as sandbox:
        for run in range(args.runs):
            rates.append(_run_once(sandbox, args.calls, args.threads, run * args.calls * 2))
    median = statistics.median(rates)
    verdict = "ok" if median >= args.floor else f"BELOW {args.floor:g}/s"
    print(
        f"| sandbox register | {label} | {args.calls} calls x {args.runs} runs | "
        f"{args.threads} threads | median {median:.0f} calls/s | "
        f"spread {min(rates):.0f}-{max(rates):.0f} | {verdict} |",
        flush=True,
    )
    return median


def main(argv: list[str] | None = None) -> int:
    """Run both databases; 0 if both medians reach the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floor", type=float, default=500.0)
    args = parser.parse_args(argv)
    if not 1 <= args.calls <= 100_000 or not 1 <= args.threads <= 64 or not 1 <= args.runs <= 10:
        parser.error("--calls 1..100000, --threads 1..64, --runs 1..10")
    print("| benchmark | database | load | client | result | spread | verdict |")
    print("|---|---|---|---|---|---|---|")
    medians = [bench(":memory:", ":memory:", args)]
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as folder:
        medians.append(bench(str(Path(folder) / "kaleyra.db"), "file (WAL)", args))
    return 0 if min(medians) >= args.floor else 1


if __name__ == "__main__":
    sys.exit(main())
