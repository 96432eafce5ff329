"""Where the CPU goes inside one pulumi command: py-spy on its Python processes (the program
and the dynamic provider), Go's pprof on the engine (``pulumi --profiling``).

Both tools are optional: py-spy comes with the ``dev`` extra, ``go`` with the engine build;
a missing tool leaves a note instead of a profile.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from measure import Run, pulumi_timed
from rss import PROC, kind_of
from workload import Stack

__all__ = ["Profile", "PythonProfile", "profile_command"]

PY_SPY_RATE = 100
_POLL_S = 0.02
_WATCH_LIMIT_S = 1200.0
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
#: Source groups, first match wins: ours, the Pulumi SDK's, or a library's.
GROUPS = (
    ("ours: rcs_provider", "/rcs_provider/"),
    ("pulumi SDK", "/site-packages/pulumi/"),
    ("ours: __main__.py", "/project/__main__.py"),
    ("pulumi-language-python-exec", "pulumi-language-python-exec"),
    ("grpc", "/site-packages/grpc/"),
    ("protobuf", "/site-packages/google/protobuf/"),
    ("dill", "/site-packages/dill/"),
    ("requests/urllib3", "/site-packages/requests/"),
    ("requests/urllib3", "/site-packages/urllib3/"),
    ("phonenumbers", "/site-packages/phonenumbers/"),
)


@dataclass
class PythonProfile:
    """py-spy samples of one process kind: self and inclusive counts."""

    samples: int = 0
    self_by_function: Counter[str] = field(default_factory=Counter)
    inclusive_by_function: Counter[str] = field(default_factory=Counter)
    inclusive_by_group: Counter[str] = field(default_factory=Counter)


@dataclass
class Profile:
    """The profiled command and what each tool found (``notes`` say what was skipped)."""

    run: Run
    python: dict[str, PythonProfile] = field(default_factory=dict)
    engine_top: list[str] = field(default_factory=list)
    engine_cumulative: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _group(filename: str) -> str:
    for name, marker in GROUPS:
        if marker in filename:
            return name
    return "stdlib/other"


def _short(func: str, filename: str, line: str | None) -> str:
    """``func (package/module.py:line)`` without the machine's folders."""
    for marker in ("/site-packages/", "/work/main/", "/project/", "/lib/python3.11/", "/bin/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{func} ({filename}:{line})" if line else f"{func} ({filename})"


def fold_raw(path: Path, into: PythonProfile) -> None:
    """Add py-spy's ``raw`` output (``frame;frame;... count``, root first) to ``into``."""
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [m for m in (_FRAME.match(f) for f in stack.split(";")) if m is not None]
        if not frames:
            continue
        into.samples += count
        leaf = frames[-1]
        into.self_by_function[_short(leaf["func"], leaf["file"], leaf["line"])] += count
        for name in {_short(m["func"], m["file"], None) for m in frames}:
            into.inclusive_by_function[name] += count
        for group in {_group(m["file"]) for m in frames}:
            into.inclusive_by_group[group] += count


def _parent(pid: int) -> int:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _kind(pid: int) -> str:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return "gone"
    return kind_of(stat[stat.index("(") + 1 : stat.rindex(")")], cmdline.split("\0"))


class PySpyAttacher:
    """Attaches ``py-spy record`` to every program and provider process under ``root``."""

    def __init__(self, py_spy: str, folder: Path, root: int) -> None:
        self.py_spy, self.folder, self.root = py_spy, folder, root
        self.outputs: dict[str, list[Path]] = {}
        self._spies: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="py-spy-attach", daemon=True)

    def _below_root(self, pid: int) -> bool:
        for _ in range(16):  # bounded walk up the parent chain
            if pid == self.root:
                return True
            if pid <= 1:
                return False
            pid = _parent(pid)
        return False

    def _watch(self) -> None:
        seen: set[int] = set()
        deadline = time.monotonic() + _WATCH_LIMIT_S
        while not self._stop.wait(_POLL_S) and time.monotonic() < deadline:
            for entry in PROC.iterdir():
                if not entry.name.isdigit() or int(entry.name) in seen:
                    continue
                pid = int(entry.name)
                if not self._below_root(pid):
                    continue
                kind = _kind(pid)
                if kind == "other":
                    continue  # maybe a launcher not yet exec'd: look again next time
                seen.add(pid)
                if kind in ("program", "provider"):
                    self._attach(pid, kind)

    def _attach(self, pid: int, kind: str) -> None:
        out = self.folder / f"py-spy-{kind}-{pid}.txt"
        self.outputs.setdefault(kind, []).append(out)
        argv = [self.py_spy, "record", "--pid", str(pid), "--rate", str(PY_SPY_RATE)]
        argv += ["--format", "raw", "--output", str(out), "--nonblocking", "--full-filenames"]
        self._spies.append(
            subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def __enter__(self) -> PySpyAttacher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for spy in self._spies:
            try:
                spy.wait(timeout=30)  # py-spy stops and writes once its target exited
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()


def _pprof_top(prefix: Path, limit: int, *, cumulative: bool) -> list[str]:
    """``go tool pprof -top`` of the engine's CPU profile: by own time, or by cumulative time
    keeping only the engine's own functions (which code paths the time is spent under)."""
    profiles = sorted(prefix.parent.glob(prefix.name + ".*.cpu"))
    pulumi, go = shutil.which("pulumi"), shutil.which("go")
    if not profiles or pulumi is None or go is None:
        return []
    argv = [go, "tool", "pprof", "-top", "-nodecount", str(limit * 8 if cumulative else limit)]
    argv += ["-cum"] if cumulative else []
    done = subprocess.run(
        [*argv, pulumi, str(profiles[0])], capture_output=True, text=True, timeout=300, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    header = [line for line in lines if not line.startswith(" ")]
    rows = [line for line in lines if line.startswith(" ")]
    if cumulative:
        rows = [r for r in rows[1:] if "pulumi/pulumi/pkg/v3/" in r and "/cmd/" not in r]
        rows = [*[line for line in lines if "flat%" in line], *rows]
    return [*header[-2:], *rows[: limit + 1]]


def profile_command(stack: Stack, folder: Path, *args: str, limit: int = 15) -> Profile:
    """Run ``pulumi ARGS`` with py-spy on its Python processes and the engine's CPU
    profiler on; the command must succeed."""
    folder.mkdir(parents=True, exist_ok=True)
    prefix = folder / "engine"
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    notes: list[str] = []
    attachers: list[PySpyAttacher] = []

    def watch(pid: int) -> PySpyAttacher:
        attachers.append(PySpyAttacher(py_spy, folder, pid))
        return attachers[-1]

    if Path(py_spy).exists():
        run = pulumi_timed(stack, *args, "--profiling", str(prefix), watch=watch).ok()
    else:
        run = pulumi_timed(stack, *args, "--profiling", str(prefix)).ok()
        notes.append("py-spy is not installed (the dev extra pins it): no Python profile")
    profile = Profile(run, notes=notes)
    for attacher in attachers:
        for kind, paths in attacher.outputs.items():
            folded = profile.python.setdefault(kind, PythonProfile())
            for path in paths:
                if path.exists():
                    fold_raw(path, folded)
    profile.engine_top = _pprof_top(prefix, limit, cumulative=False)
    profile.engine_cumulative = _pprof_top(prefix, limit, cumulative=True)
    if not profile.engine_top:
        notes.append("no engine CPU profile (`go tool pprof` needs `go` on PATH)")
    return profile
