"""Run one pulumi command on a stack, timed, with its process tree sampled; summarise repeats."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from rss import TreeSampler, TreeUsage
from workload import Stack

__all__ = ["BenchError", "Run", "Spread", "pulumi_timed"]

#: No single command may take longer than this (a hang is a crash, not a figure).
COMMAND_TIMEOUT_S = 1200.0


class BenchError(RuntimeError):
    """A measured command failed or the sandbox disagrees with what it should have done."""


@dataclass(frozen=True)
class Run:
    """One finished command: wall time, epoch start/end, exit code, output and tree usage."""

    args: tuple[str, ...]
    wall_s: float
    started: float
    ended: float
    returncode: int
    output: str
    usage: TreeUsage

    def ok(self) -> Run:
        if self.returncode != 0:
            tail = self.output[-3000:]
            raise BenchError(f"pulumi {' '.join(self.args)} exited {self.returncode}:\n{tail}")
        return self


Watch = Callable[[int], AbstractContextManager[object]]


def pulumi_timed(stack: Stack, *args: str, watch: Watch | None = None) -> Run:
    """``pulumi ARGS --stack S --non-interactive`` in the stack's project, like
    :meth:`Project.pulumi`, timed from spawn to exit while its process tree is sampled.
    ``watch(pid)`` is entered once the engine started and left once it exited."""
    project = stack.project
    argv = ["pulumi", *args, "--stack", stack.name, "--non-interactive"]
    started, t0 = time.time(), time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=project.root,
        env=project.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watcher = contextlib.nullcontext() if watch is None else watch(proc.pid)
    with TreeSampler(proc.pid) as sampler, watcher:
        try:
            output, _ = proc.communicate(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            raise BenchError(f"pulumi {' '.join(args)} ran over {COMMAND_TIMEOUT_S:g}s") from None
    wall = time.perf_counter() - t0
    return Run(tuple(args), wall, started, started + wall, proc.returncode, output, sampler.usage)


@dataclass(frozen=True)
class Spread:
    """Median and range of a few measurements."""

    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no measurement")
        return cls(statistics.median(values), min(values), max(values), len(values))
