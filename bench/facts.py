"""Facts about the machine and the code a benchmark run measured."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

__all__ = ["Facts", "gather", "load_average"]

REPO = Path(__file__).resolve().parents[1]


def _output(*argv: str, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, cwd=REPO, env=env
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine skews figures)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


@dataclass(frozen=True)
class Facts:
    """What a reader needs to compare two RESULTS.md files."""

    date: str
    commit: str
    command: str
    cpus: int
    cpu_model: str
    memory: str
    python: str
    pulumi_cli: str
    pulumi_sdk: str
    load_before: str


def gather(env: dict[str, str], argv: list[str]) -> Facts:
    """Facts now; ``env`` is the one the engine runs with (for ``pulumi version``)."""
    return Facts(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        commit=_output("git", "rev-parse", "--short", "HEAD"),
        command=shlex.join([".venv/bin/python", "bench/run.py", *argv]),
        cpus=os.cpu_count() or 0,
        cpu_model=_cpu_model(),
        memory=_memory(),
        python=sys.version.split()[0],
        pulumi_cli=_output("pulumi", "version", env=env),
        pulumi_sdk=metadata.version("pulumi"),
        load_before=load_average(),
    )
