"""Peak memory and CPU time of a command's process tree, sampled from ``/proc`` (Linux).

Each sample walks the descendants of one root pid and reads, per process, ``VmHWM`` (the
kernel's own peak resident set size, so a short spike between samples is not missed) and
``utime + stime``. Processes are grouped by kind (:func:`kind_of`); a kind's peak is the
largest ``VmHWM`` of any of its processes, its CPU the sum over its processes of the last
value seen (a process that lives less than one interval may be missed or under-counted).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KINDS", "TreeSampler", "TreeUsage", "kind_of"]

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")
#: Process kinds in report order.
KINDS = ("engine", "language host", "program", "provider")


def kind_of(comm: str, cmdline: list[str]) -> str:
    """``engine`` (pulumi), ``language host`` (pulumi-language-python), ``program`` (the
    Python program run by pulumi-language-python-exec), ``provider`` (python -m
    pulumi.dynamic, launched by pulumi-resource-pulumi-python) or ``other``."""
    joined = " ".join(cmdline)
    # Our launcher runs ``python -u -c '...runpy.run_module("pulumi.dynamic"...)'``: the module
    # name is inside the -c script, not an argument of its own.
    if "pulumi.dynamic" in joined or "pulumi-resource-pulumi-python" in joined:
        return "provider"
    if "pulumi-language-python-exec" in joined:
        return "program"
    if comm == "pulumi-language-" or comm.startswith("pulumi-language"):
        return "language host"
    if comm == "pulumi":
        return "engine"
    return "other"


@dataclass
class TreeUsage:
    """Per kind: peak RSS in bytes, CPU seconds and how many processes were seen."""

    peak_rss: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    samples: int = 0


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process (``/proc/<pid>/stat``, field 4)."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, queue = [root], [root]
    while queue:  # bounded: each pid is queued at most once
        for child in children.get(queue.pop(), []):
            if child not in found:
                found.append(child)
                queue.append(child)
    return found


def _read(pid: int) -> tuple[str, int, float] | None:
    """(kind, VmHWM bytes, CPU seconds) of one process, or None if it is gone."""
    base = PROC / str(pid)
    try:
        stat = (base / "stat").read_text()
        status = (base / "status").read_text()
        cmdline = (base / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, ValueError):
        return None
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    hwm = 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
            break
    return kind_of(comm, cmdline), hwm, cpu


class TreeSampler:
    """Samples the tree under ``root`` every ``interval`` seconds on a daemon thread::

    with TreeSampler(proc.pid) as sampler:
        proc.wait()
    sampler.usage.peak_rss["engine"]
    """

    def __init__(self, root: int, interval: float = 0.05) -> None:
        self.root = root
        self.interval = interval
        self.usage = TreeUsage()
        self._stop = threading.Event()
        self._seen: dict[int, tuple[str, int, float]] = {}
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        """Take one sample of every live descendant (the root included)."""
        for pid in _descendants(self.root):
            read = self._read_once(pid)
            if read is not None:
                self._seen[pid] = read
        self.usage.samples += 1

    def _read_once(self, pid: int) -> tuple[str, int, float] | None:
        """This sample merged with the earlier ones of ``pid``: the kind it was exec'd into
        (a launcher keeps its pid), the largest peak and CPU seen (a zombie reports none)."""
        read = _read(pid)
        if read is None:
            return None
        old = self._seen.get(pid)
        if old is None:
            return read
        kind = old[0] if read[0] == "other" else read[0]
        return kind, max(old[1], read[1]), max(old[2], read[2])

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _summarise(self) -> None:
        usage = self.usage
        for kind, hwm, cpu in self._seen.values():
            usage.peak_rss[kind] = max(usage.peak_rss.get(kind, 0), hwm)
            usage.cpu_s[kind] = usage.cpu_s.get(kind, 0.0) + cpu
            usage.processes[kind] = usage.processes.get(kind, 0) + 1

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._summarise()
