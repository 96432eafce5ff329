"""The daily workload on a big stack: an existing stack of A agents x T testers, and the day's
change that adds D testers per agent (Google's daily invitation budget is 20).

Per engine setting (defaults, and ``PULUMI_SKIP_CHECKPOINTS=true``), each repeat runs: the
no-change preview and the no-change ``up`` of the existing stack, the PR preview of the change
and the ``up`` that applies it. Before every ``up`` of the change, the backend folder is put
back as it was after the set-up and the day's registrations are removed from the sandbox, so
every repeat applies the same change to the same stack. A one-tester stack (the zero-tester
run of the main suite) is measured in the same rounds, so ratios come from the same load.

Every command is checked against the sandbox's counters: previews and no-change runs send no
register call, the change sends exactly A x D.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from facts import load_average
from measure import BenchError, Run, Spread, pulumi_timed
from profiling import Profile, profile_command
from statesize import TesterBytes, tester_bytes
from timeline import Timeline, timeline
from workload import Fleet, Stack, fresh_stack, prepare_sandbox

from rcs_devtools.fleet_data import agents_block
from rcs_provider.sandbox import SandboxProcess

__all__ = ["MODES", "DailyPlan", "DailyResult", "ModeRuns", "run_daily"]

UP = ("up", "--yes", "--skip-preview")
NOOP_UP = (*UP, "--expect-no-changes")
NOOP_PREVIEW = ("preview", "--expect-no-changes")
PREVIEW = ("preview",)
#: The one tester of the zero-tester stack: a number outside every fleet.
ZERO_TESTER = ("qa-zero", 99_990_001)
#: Engine settings measured, by name: extra environment of each.
MODES: dict[str, dict[str, str]] = {
    "engine defaults": {},
    "PULUMI_SKIP_CHECKPOINTS=true": {"PULUMI_SKIP_CHECKPOINTS": "true"},
}


@dataclass(frozen=True)
class DailyPlan:
    """A agents x T existing testers, D added per agent, R repeats, latency per call."""

    agents: int = 5
    existing: int = 180
    added: int = 20
    repeats: int = 3
    latency_ms: int = 50
    profile: bool = False

    @property
    def before(self) -> Fleet:
        return Fleet(self.agents * self.existing, self.agents)

    @property
    def after(self) -> Fleet:
        """Round-robin numbering: the first T testers of each agent are the existing ones."""
        return Fleet(self.agents * (self.existing + self.added), self.agents)

    @property
    def change(self) -> int:
        return self.agents * self.added

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000


@dataclass
class ModeRuns:
    """Every run of one engine setting."""

    noop_preview: list[Run] = field(default_factory=list)
    noop_up: list[Run] = field(default_factory=list)
    pr_preview: list[Run] = field(default_factory=list)
    up: list[Run] = field(default_factory=list)
    timelines: list[Timeline] = field(default_factory=list)

    def median(self, runs: list[Run]) -> float:
        return Spread.of([r.wall_s for r in runs]).median

    def peak_in_flight(self) -> int:
        return round(Spread.of([t.peak_in_flight for t in self.timelines]).median)

    def floor_s(self, plan: DailyPlan) -> float:
        """No-change ``up`` of the existing stack + the change's registers at peak concurrency."""
        network = plan.change * plan.latency_s / max(self.peak_in_flight(), 1)
        return self.median(self.noop_up) + network

    def up_over_floor(self, plan: DailyPlan) -> float:
        return self.median(self.up) / self.floor_s(plan)


@dataclass
class DailyResult:
    """One run of the daily workload."""

    plan: DailyPlan
    zero_preview: list[Run] = field(default_factory=list)
    zero_up: list[Run] = field(default_factory=list)
    modes: dict[str, ModeRuns] = field(default_factory=dict)
    profile: Profile | None = None
    state: TesterBytes | None = None
    checkpoint_bytes: int = 0
    load_before: str = ""
    load_after: str = ""


def _log(message: str) -> None:
    print(f"bench daily: {message}", file=sys.stderr, flush=True)


def _counted(sandbox: SandboxProcess, plan: DailyPlan, stack: Stack, *args: str) -> Run:
    """Run a command that must register nothing, on zeroed counters."""
    sandbox.reset(keep_registrations=True)
    sandbox.set_faults(latency_ms=plan.latency_ms, jitter_ms=0)
    run = pulumi_timed(stack, *args).ok()
    calls = sandbox.stats()["register_calls"]
    if calls:
        raise BenchError(f"pulumi {' '.join(args)} sent {calls} register calls, expected none")
    return run


def _declare(stack: Stack, fleet: Fleet) -> None:
    stack.set_agents(agents_block(fleet.layout()))


def _set_mode(stack: Stack, mode: str) -> None:
    for name in ("PULUMI_SKIP_CHECKPOINTS",):
        stack.project.env.pop(name, None)
    stack.project.env.update(MODES[mode])


def _restore(stack: Stack, backup: Path, sandbox: SandboxProcess, plan: DailyPlan) -> None:
    """The backend as after the set-up, the day's registrations gone, the old stack file."""
    shutil.rmtree(stack.project.state_dir)
    shutil.copytree(backup, stack.project.state_dir)
    existing = set(plan.before.pairs())
    for agent, phone in plan.after.pairs():
        if (agent, phone) not in existing:
            sandbox.remove(agent, phone)
    _declare(stack, plan.before)


def _apply_change(stack: Stack, sandbox: SandboxProcess, plan: DailyPlan, into: ModeRuns) -> None:
    _declare(stack, plan.after)
    preview = _counted(sandbox, plan, stack, *PREVIEW)
    if f"+ {plan.change} to create" not in preview.output:
        raise BenchError(f"the PR preview does not show {plan.change} to create:\n{preview.output}")
    into.pr_preview.append(preview)
    sandbox.reset(keep_registrations=True)
    sandbox.set_faults(latency_ms=plan.latency_ms, jitter_ms=0)
    up = pulumi_timed(stack, *UP).ok()
    stats = sandbox.stats()
    if stats["register_calls"] != plan.change or stats["register_created"] != plan.change:
        raise BenchError(f"the change's up: {stats}, expected {plan.change} registered")
    into.up.append(up)
    added = set(plan.after.pairs()) - set(plan.before.pairs())
    new = [r for r in sandbox.registrations() if (r["agent_no"], r["phoneno"]) in added]
    into.timelines.append(timeline(new, plan.latency_s, up.started, up.ended))


def _round(
    stacks: tuple[Stack, Stack], backup: Path, sandbox: SandboxProcess, result: DailyResult
) -> None:
    """One repeat: the zero-tester runs, then each engine setting on the big stack."""
    zero, big = stacks
    plan = result.plan
    result.zero_preview.append(_counted(sandbox, plan, zero, *NOOP_PREVIEW))
    result.zero_up.append(_counted(sandbox, plan, zero, *NOOP_UP))
    for mode in MODES:
        runs = result.modes.setdefault(mode, ModeRuns())
        _set_mode(big, mode)
        runs.noop_preview.append(_counted(sandbox, plan, big, *NOOP_PREVIEW))
        runs.noop_up.append(_counted(sandbox, plan, big, *NOOP_UP))
        _apply_change(big, sandbox, plan, runs)
        _restore(big, backup, sandbox, plan)


def run_daily(env: dict[str, str], sandbox: SandboxProcess, plan: DailyPlan) -> DailyResult:
    """Set up the existing stack once, then ``plan.repeats`` rounds of every command."""
    result = DailyResult(plan, load_before=load_average())
    with ExitStack() as scope:
        prepare_sandbox(sandbox, plan.latency_ms)
        zero = scope.enter_context(fresh_stack(env, sandbox, Fleet(1, 1), name="zero"))
        zero.set_agents(agents_block({plan.before.agent_numbers()[0]: [ZERO_TESTER]}))
        big = scope.enter_context(fresh_stack(env, sandbox, plan.before, name="daily"))
        _log(f"set-up: {plan.before.testers} testers on {plan.agents} agents (not timed)")
        sandbox.set_faults(latency_ms=0, jitter_ms=0)
        pulumi_timed(zero, *UP).ok()
        big.project.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        pulumi_timed(big, *UP).ok()
        if len(sandbox.registrations()) != plan.before.testers + 1:
            raise BenchError("the set-up did not register every tester")
        export = big.export()
        result.state = tester_bytes(export["deployment"])
        files = big.project.state_dir.glob(f".pulumi/stacks/*/{big.name}.json")
        result.checkpoint_bytes = sum(f.stat().st_size for f in files)
        backup = Path(scope.enter_context(tempfile.TemporaryDirectory())) / "backend"
        shutil.copytree(big.project.state_dir, backup)
        for i in range(plan.repeats):
            _log(f"round {i + 1}/{plan.repeats}")
            _round((zero, big), backup, sandbox, result)
        if plan.profile:
            _log("profiling the change's up (engine defaults)")
            _set_mode(big, next(iter(MODES)))
            _declare(big, plan.after)
            sandbox.reset(keep_registrations=True)
            sandbox.set_faults(latency_ms=plan.latency_ms, jitter_ms=0)
            folder = Path(scope.enter_context(tempfile.TemporaryDirectory()))
            result.profile = profile_command(big, folder, *UP)
    result.load_after = load_average()
    return result
