"""The measured figures of one benchmark run and what follows from them: floor, ratios,
per-tester overheads and the performance targets (of the suite and of the daily workload)."""

from __future__ import annotations

from dataclasses import dataclass, field

from daily import MODES, DailyResult
from measure import Run, Spread
from profiling import Profile
from rss import KINDS
from timeline import Timeline

__all__ = [
    "BenchResult",
    "FixedCost",
    "SizeResult",
    "StateSize",
    "Target",
    "daily_targets",
    "targets",
]

DEFAULTS, SKIP = list(MODES)
#: The daily targets: up / floor per engine setting, preview ratio, bytes per tester.
UP_TARGETS = {DEFAULTS: 2.5, SKIP: 1.5}
PREVIEW_TARGET = 5.0
BYTES_TARGET = 2048


def _walls(runs: list[Run]) -> Spread:
    return Spread.of([r.wall_s for r in runs])


def peak_rss(runs: list[Run]) -> dict[str, int]:
    """Largest peak RSS per process kind over ``runs``."""
    peaks: dict[str, int] = {}
    for run in runs:
        for kind, value in run.usage.peak_rss.items():
            peaks[kind] = max(peaks.get(kind, 0), value)
    return peaks


def median_cpu(runs: list[Run]) -> dict[str, float]:
    """Median CPU seconds per process kind over ``runs``."""
    return {
        kind: Spread.of([r.usage.cpu_s.get(kind, 0.0) for r in runs]).median
        for kind in KINDS
        if any(kind in r.usage.cpu_s for r in runs)
    }


@dataclass(frozen=True)
class StateSize:
    """Bytes of the exported stack and of one RcsTester resource in it, by part."""

    export_bytes: int
    checkpoint_bytes: int
    tester_bytes: int
    tester_parts: dict[str, int]


@dataclass
class FixedCost:
    """A stack with one tester, registered and recorded: what every command costs anyway."""

    preview: list[Run] = field(default_factory=list)
    up: list[Run] = field(default_factory=list)
    refresh: list[Run] = field(default_factory=list)

    @property
    def up_s(self) -> float:
        return _walls(self.up).median


@dataclass
class SizeResult:
    """Everything measured for N testers on A agents."""

    testers: int
    agents: int
    latency_s: float
    up: list[Run] = field(default_factory=list)
    timelines: list[Timeline] = field(default_factory=list)
    up_list_calls: list[int] = field(default_factory=list)
    up_skip_checkpoints: list[Run] = field(default_factory=list)
    noop_preview: list[Run] = field(default_factory=list)
    noop_up: list[Run] = field(default_factory=list)
    noop_list_calls: list[int] = field(default_factory=list)
    refresh: list[Run] = field(default_factory=list)
    refresh_list_calls: list[int] = field(default_factory=list)
    state: StateSize | None = None
    sequential: list[float] = field(default_factory=list)
    pools: dict[int, list[float]] = field(default_factory=dict)

    @property
    def up_s(self) -> Spread:
        return _walls(self.up)

    def network_s(self) -> float:
        """Register and list calls, one after the other: (N + A) x latency."""
        return (self.testers + self.agents) * self.latency_s

    def effective_concurrency(self, fixed: FixedCost) -> float:
        """N x latency / (up - zero-tester up): the parallelism the run behaved as if it had."""
        extra = self.up_s.median - fixed.up_s
        return self.testers * self.latency_s / extra if extra > 0 else float("inf")

    def peak_in_flight(self) -> int:
        """Registers in flight at once at the sandbox, the most seen (median over runs)."""
        return round(Spread.of([t.peak_in_flight for t in self.timelines]).median)

    def floor_s(self, fixed: FixedCost) -> float:
        """Zero-tester up + network time at the concurrency the engine achieves."""
        return fixed.up_s + self.network_s() / max(self.peak_in_flight(), 1)

    def up_over_floor(self, fixed: FixedCost) -> float:
        return self.up_s.median / self.floor_s(fixed)

    def up_over_sequential(self) -> float:
        return self.up_s.median / Spread.of(self.sequential).median

    def per_tester_ms(self, runs: list[Run], zero: list[Run]) -> float:
        """(command with N testers - same command with one) / (N - 1), in ms."""
        extra = _walls(runs).median - _walls(zero).median
        return 1000 * extra / max(self.testers - 1, 1)


@dataclass
class BenchResult:
    """One run of the whole benchmark."""

    latency_ms: int
    agents: int
    fixed: FixedCost
    sizes: list[SizeResult]
    profiles: dict[str, Profile] = field(default_factory=dict)
    sandbox_lines: list[str] = field(default_factory=list)
    sandbox_exit: int = 0

    def size(self, testers: int) -> SizeResult:
        """The result for ``testers``, or the largest measured below it (quick runs)."""
        fitting = [s for s in self.sizes if s.testers <= testers] or self.sizes[:1]
        return max(fitting, key=lambda s: s.testers)


@dataclass(frozen=True)
class Target:
    """One performance target, its measured value and verdict."""

    name: str
    measured: str
    met: bool


def targets(result: BenchResult) -> list[Target]:
    """The four targets, each judged on the size it names (or the closest one measured)."""
    fixed = result.fixed
    up200, noop1000 = result.size(200), result.size(1000)
    ratio = up200.up_over_floor(fixed)
    noop = _walls(noop1000.noop_up).median / fixed.up_s
    lists = max(s_calls for s in result.sizes for s_calls in s.refresh_list_calls)
    list_ok = all(c == s.agents for s in result.sizes for c in s.refresh_list_calls)
    largest = result.sizes[-1]
    per_tester = largest.state.export_bytes / largest.testers if largest.state else float("inf")
    return [
        Target(
            f"`pulumi up` of {up200.testers} testers within 1.5x the floor",
            f"{ratio:.2f}x ({up200.up_s.median:.2f} s vs floor {up200.floor_s(fixed):.2f} s)",
            ratio <= 1.5,
        ),
        Target(
            f"no-op `pulumi up` of {noop1000.testers} testers under 3x the zero-tester run",
            f"{noop:.2f}x ({_walls(noop1000.noop_up).median:.2f} s vs {fixed.up_s:.2f} s)",
            noop < 3.0,
        ),
        Target(
            "`pulumi refresh` list calls equal the number of agents",
            f"max {lists} list calls for {result.agents} agents",
            list_ok,
        ),
        Target(
            "under 2 KB of state per tester",
            f"{per_tester:,.0f} B per tester (export of {largest.testers} testers)",
            per_tester < 2048,
        ),
    ]


def daily_targets(result: DailyResult) -> list[Target]:
    """The daily workload's targets: up / floor per engine setting, preview ratio, state."""
    plan, found = result.plan, []
    for mode, limit in UP_TARGETS.items():
        runs = result.modes[mode]
        ratio = runs.up_over_floor(plan)
        found.append(
            Target(
                f"`up` of the daily change <= {limit}x its floor, {mode}",
                f"{ratio:.2f}x ({runs.median(runs.up):.2f} s vs floor {runs.floor_s(plan):.2f} s)",
                ratio <= limit,
            )
        )
    noop = result.modes[DEFAULTS].median(result.modes[DEFAULTS].noop_preview)
    zero = _walls(result.zero_preview).median
    found.append(
        Target(
            f"no-change preview of {plan.before.testers} testers <= {PREVIEW_TARGET:g}x the "
            "zero-tester preview",
            f"{noop / zero:.2f}x ({noop:.2f} s vs {zero:.2f} s)",
            noop / zero <= PREVIEW_TARGET,
        )
    )
    if result.state is not None:
        found.append(
            Target(
                "<= 2 KB of compact state per tester",
                f"{result.state.total:,.0f} B (median over {result.state.testers} testers)",
                result.state.total <= BYTES_TARGET,
            )
        )
    return found
