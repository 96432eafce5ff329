"""The measurement sequence: fixed cost, then per size the creating ``up`` runs, the no-op
and refresh runs, the state, the ``requests`` baselines and the profiles.

Every ``up`` that creates starts from a fresh project (empty ``file://`` backend) and a reset
sandbox; every command is checked against the sandbox's counters, so a figure never comes
from a run that did the wrong thing.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from baselines import sequential_loop, thread_pool
from measure import BenchError, Run, pulumi_timed
from profiling import Profile, profile_command
from results import BenchResult, FixedCost, SizeResult, StateSize
from timeline import timeline
from workload import Fleet, Stack, fresh_stack, prepare_sandbox

from rcs_provider.sandbox import SandboxProcess

__all__ = ["Plan", "run_suite"]

UP = ("up", "--yes", "--skip-preview")
NOOP_UP = (*UP, "--expect-no-changes")
NOOP_PREVIEW = ("preview", "--expect-no-changes")
REFRESH = ("refresh", "--yes", "--skip-preview")
PROVIDER_WORKERS = 4  # pulumi.dynamic serves with ThreadPoolExecutor(max_workers=4)


@dataclass(frozen=True)
class Plan:
    """Sizes and repeats. ``creates``: fresh-stack ``up`` runs per size; ``rounds``: no-op
    preview/up and refresh rounds on each created stack; ``fixed``: zero-tester rounds."""

    sizes: tuple[int, ...]
    creates: dict[int, int]
    rounds: dict[int, int]
    fixed: int
    agents: int
    latency_ms: int
    profile: bool
    folder: Path

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _expect(what: str, got: object, wanted: object) -> None:
    if got != wanted:
        raise BenchError(f"{what}: got {got}, expected {wanted}")


def _counted(
    sandbox: SandboxProcess, plan: Plan, run: Callable[[], Run]
) -> tuple[Run, dict[str, Any]]:
    """Run a command on zeroed sandbox counters (registrations kept); the run and the stats."""
    sandbox.reset(keep_registrations=True)
    sandbox.set_faults(latency_ms=plan.latency_ms, jitter_ms=0)
    done = run().ok()
    return done, sandbox.stats()


def _rounds(stack: Stack, sandbox: SandboxProcess, plan: Plan, into: SizeResult) -> None:
    """No-op preview, no-op up, refresh; none may register, each counts its list calls."""
    preview, stats = _counted(sandbox, plan, partial(pulumi_timed, stack, *NOOP_PREVIEW))
    _expect("register calls during a no-op preview", stats["register_calls"], 0)
    into.noop_preview.append(preview)
    calls = stats["list_calls"]
    noop, stats = _counted(sandbox, plan, partial(pulumi_timed, stack, *NOOP_UP))
    _expect("register calls during a no-op up", stats["register_calls"], 0)
    into.noop_up.append(noop)
    into.noop_list_calls.append(calls + stats["list_calls"])
    refresh, stats = _counted(sandbox, plan, partial(pulumi_timed, stack, *REFRESH))
    _expect("register calls during refresh", stats["register_calls"], 0)
    into.refresh.append(refresh)
    into.refresh_list_calls.append(stats["list_calls"])


def _state(stack: Stack) -> StateSize:
    """Sizes of ``pulumi stack export`` (as printed) and of the file backend's checkpoint."""
    printed = stack.run("stack", "export").ok().stdout
    deployment = json.loads(printed)["deployment"]
    testers = [r for r in deployment["resources"] if r["type"].endswith("kaleyra:RcsTester")]
    one = testers[len(testers) // 2]

    def size(value: object) -> int:
        return len(json.dumps(value, separators=(",", ":")))

    trace = size(one.get("stackTrace", [])) + size(one.get("sourcePosition", ""))
    parts = {
        "inputs": size(one.get("inputs", {})),
        "outputs": size(one.get("outputs", {})),
        "stackTrace + sourcePosition": trace,
    }
    parts["urn, ids, flags, dates"] = size(one) - sum(parts.values())
    files = stack.project.state_dir.glob(f".pulumi/stacks/*/{stack.name}.json")
    checkpoint = sum(f.stat().st_size for f in files)
    return StateSize(len(printed.encode()), checkpoint, size(one), parts)


def _create(
    env: dict[str, str],
    sandbox: SandboxProcess,
    plan: Plan,
    fleet: Fleet,
    into: SizeResult,
    profiles: dict[str, Profile],
) -> None:
    """One fresh-stack ``up`` of the fleet, checked and timed; then the rounds on it (and,
    once for the largest size, a profiled no-op ``up``)."""
    prepare_sandbox(sandbox, plan.latency_ms)
    with fresh_stack(env, sandbox, fleet) as stack:
        up = pulumi_timed(stack, *UP).ok()
        stats = sandbox.stats()
        _expect("register calls", stats["register_calls"], fleet.testers)
        _expect("registrations created", stats["register_created"], fleet.testers)
        into.up.append(up)
        into.up_list_calls.append(stats["list_calls"])
        regs = sandbox.registrations()
        into.timelines.append(timeline(regs, plan.latency_s, up.started, up.ended))
        for _ in range(plan.rounds[fleet.testers]):
            _rounds(stack, sandbox, plan, into)
        if into.state is None:
            into.state = _state(stack)
        name = f"no-op up, {fleet.testers} testers"
        if plan.profile and fleet.testers == max(plan.sizes) and name not in profiles:
            _log(f"profiling a {name}")
            folder = plan.folder / f"noop-{fleet.testers}"
            sandbox.reset(keep_registrations=True)
            sandbox.set_faults(latency_ms=plan.latency_ms, jitter_ms=0)
            profiles[name] = profile_command(stack, folder, *NOOP_UP)


def _skip_checkpoints(
    env: dict[str, str], sandbox: SandboxProcess, plan: Plan, fleet: Fleet, into: SizeResult
) -> None:
    """Diagnosis: the same ``up`` with the engine's PULUMI_SKIP_CHECKPOINTS=true."""
    prepare_sandbox(sandbox, plan.latency_ms)
    with fresh_stack(env, sandbox, fleet) as stack:
        stack.project.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        into.up_skip_checkpoints.append(pulumi_timed(stack, *UP).ok())
        _expect("register calls", sandbox.stats()["register_calls"], fleet.testers)


def _baselines(sandbox: SandboxProcess, plan: Plan, fleet: Fleet, into: SizeResult) -> None:
    """Sequential loop and thread pools: 4 workers (the provider's) and the mean number of
    registers the engine kept in flight; as many runs as creating ``up`` runs."""
    pairs = fleet.pairs()
    achieved = statistics.median(t.mean_in_flight for t in into.timelines)
    workers = sorted({PROVIDER_WORKERS, max(1, min(64, round(achieved)))})
    for _ in range(plan.creates[fleet.testers]):
        prepare_sandbox(sandbox, plan.latency_ms)
        into.sequential.append(sequential_loop(sandbox, pairs))
        for count in workers:
            prepare_sandbox(sandbox, plan.latency_ms)
            into.pools.setdefault(count, []).append(thread_pool(sandbox, pairs, count))


def _fixed(env: dict[str, str], sandbox: SandboxProcess, plan: Plan) -> FixedCost:
    """One tester, registered and recorded; then no-op preview, no-op up and refresh."""
    fixed = FixedCost()
    prepare_sandbox(sandbox, plan.latency_ms)
    with fresh_stack(env, sandbox, Fleet(1, 1)) as stack:
        pulumi_timed(stack, *UP).ok()
        for _ in range(plan.fixed):
            commands: list[tuple[list[Run], tuple[str, ...]]] = [
                (fixed.preview, NOOP_PREVIEW),
                (fixed.up, NOOP_UP),
                (fixed.refresh, REFRESH),
            ]
            for runs, args in commands:
                run, stats = _counted(sandbox, plan, partial(pulumi_timed, stack, *args))
                _expect(f"register calls during {args[0]}", stats["register_calls"], 0)
                runs.append(run)
    return fixed


def run_suite(env: dict[str, str], sandbox: SandboxProcess, plan: Plan) -> BenchResult:
    """Measure everything in ``plan`` against one running sandbox."""
    _log(f"fixed cost: one registered tester, {plan.fixed} rounds")
    fixed = _fixed(env, sandbox, plan)
    result = BenchResult(plan.latency_ms, plan.agents, fixed, [])
    for testers in plan.sizes:
        fleet = Fleet(testers, plan.agents)
        size = SizeResult(testers, plan.agents, plan.latency_s)
        for i in range(plan.creates[testers]):
            _log(f"{testers} testers: pulumi up {i + 1}/{plan.creates[testers]}")
            _create(env, sandbox, plan, fleet, size, result.profiles)
        _log(f"{testers} testers: up with PULUMI_SKIP_CHECKPOINTS=true")
        _skip_checkpoints(env, sandbox, plan, fleet, size)
        _log(f"{testers} testers: requests baselines")
        _baselines(sandbox, plan, fleet, size)
        result.sizes.append(size)
    if plan.profile:
        profiled = result.size(200).testers
        _log(f"profiling a creating up of {profiled} testers")
        prepare_sandbox(sandbox, plan.latency_ms)
        with fresh_stack(env, sandbox, Fleet(profiled, plan.agents)) as stack:
            result.profiles[f"creating up, {profiled} testers"] = profile_command(
                stack, plan.folder / f"create-{profiled}", *UP
            )
    return result
