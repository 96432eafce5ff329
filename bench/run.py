"""Benchmarks: how fast and how lean ``pulumi up`` / ``preview`` / ``refresh`` are against
the sandbox on loopback with a fixed injected latency, beside the ``requests`` loops a user
would write instead, and the daily workload on a big stack (an existing 5 x 180 testers, a
change adding 20 per agent). Prints the report and writes ``bench/RESULTS.md``.

    make bench                                  # .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --quick       # N = 20, 50, a 5 x 8 (+2) day; prints only
    .venv/bin/python bench/run.py --daily       # only the daily workload, into RESULTS.md
    .venv/bin/python bench/run.py --daily --daily-testers 36 --daily-added 4   # scaled down
    .venv/bin/python bench/run.py --latency-ms 100 --out /tmp/RESULTS.md

Needs the engine on PATH (``eval "$(scripts/engine-env)"``; ``make bench`` does it). Exits 1
if a measurement fails or the sandbox disagrees with what a command should have done; a
missed target is reported, not an error.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from daily import DailyPlan, DailyResult, run_daily
from facts import Facts, gather, load_average
from report import kept_analysis, kept_daily, merge_daily, render, render_daily
from results import daily_targets, targets
from suite import Plan, run_suite
from workload import Fleet, engine_environ

from rcs_provider.sandbox import running_sandbox

BENCH = Path(__file__).resolve().parent
SANDBOX_BENCH_TIMEOUT_S = 600


def _plan(args: argparse.Namespace, folder: Path) -> Plan:
    sizes: tuple[int, ...]
    if args.quick:
        sizes = (20, 50)
        creates = dict.fromkeys(sizes, 1)
        rounds = dict.fromkeys(sizes, 1)
        fixed = 1
    else:
        sizes = (50, 200, 1000)
        creates = {50: 3, 200: 3, 1000: 1}
        rounds = {50: 1, 200: 1, 1000: 2}
        fixed = 3
    return Plan(
        sizes=sizes,
        creates=creates,
        rounds=rounds,
        fixed=fixed,
        agents=args.agents,
        latency_ms=args.latency_ms,
        profile=not args.no_profile,
        folder=folder,
    )


def _sandbox_bench(quick: bool) -> tuple[list[str], int]:
    """bench/bench_sandbox.py's markdown lines and exit code (1: below its floor)."""
    argv = [sys.executable, str(BENCH / "bench_sandbox.py")]
    argv += ["--runs", "1", "--calls", "1000"] if quick else []
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=SANDBOX_BENCH_TIMEOUT_S, check=False
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"bench_sandbox.py exited {done.returncode}:\n{done.stderr[-2000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("|")]
    return lines, done.returncode


def _daily_plan(args: argparse.Namespace) -> DailyPlan:
    if args.quick:
        return DailyPlan(agents=args.agents, existing=8, added=2, repeats=1, profile=False)
    return DailyPlan(
        agents=args.agents,
        existing=args.daily_testers,
        added=args.daily_added,
        repeats=args.repeats,
        latency_ms=args.latency_ms,
        profile=not args.no_profile,
    )


def _daily_only(args: argparse.Namespace, env: dict[str, str], facts: Facts) -> int:
    """``--daily``: measure the daily workload and replace its section of the report."""
    plan = _daily_plan(args)
    started = time.monotonic()
    try:
        with running_sandbox(agents=plan.after.agent_numbers()) as sandbox:
            result = run_daily(env, sandbox, plan)
    except Exception:
        traceback.print_exc()
        print("bench: FAILED: no figures written", file=sys.stderr)
        return 1
    section = render_daily(result, facts)
    print(section)
    out: Path | None = args.out or (None if args.quick else BENCH / "RESULTS.md")
    if out is not None:
        out.write_text(
            merge_daily(out.read_text() if out.exists() else "# Benchmark results\n", section)
        )
    _summary(out, started, sum(not t.met for t in daily_targets(result)))
    return 0


def _summary(out: Path | None, started: float, missed: int) -> None:
    minutes = (time.monotonic() - started) / 60
    where = f"wrote {out}" if out else "--quick: nothing written (pass --out FILE)"
    print(f"bench: {where}; {minutes:.1f} min; {missed} target(s) missed", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 when every measurement succeeded, whatever the targets say."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=50, help="injected per call (50)")
    parser.add_argument("--agents", type=int, default=5, help="agents the testers spread over")
    parser.add_argument("--quick", action="store_true", help="N = 20, 50, one run each")
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy / pprof runs")
    parser.add_argument("--skip-sandbox-bench", action="store_true")
    parser.add_argument("--daily", action="store_true", help="only the daily workload")
    parser.add_argument("--skip-daily", action="store_true", help="no daily workload")
    parser.add_argument(
        "--daily-testers", type=int, default=180, help="existing testers per agent (180)"
    )
    parser.add_argument("--daily-added", type=int, default=20, help="added per agent (20)")
    parser.add_argument("--repeats", type=int, default=3, help="daily workload repeats (3)")
    parser.add_argument(
        "--out", type=Path, help="report file (default bench/RESULTS.md; --quick: none)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.latency_ms <= 1000 or not 1 <= args.agents <= 20:
        parser.error("--latency-ms 1..1000, --agents 1..20")
    if not (1 <= args.daily_testers <= 2000 and 1 <= args.daily_added <= 200):
        parser.error("--daily-testers 1..2000, --daily-added 1..200")
    if not 1 <= args.repeats <= 20:
        parser.error("--repeats 1..20")
    if shutil.which("pulumi") is None:
        parser.error('pulumi is not on PATH: eval "$(scripts/engine-env)" or use `make bench`')

    started = time.monotonic()
    env = engine_environ()
    facts = gather(env, sys.argv[1:] if argv is None else argv)
    if args.daily:
        return _daily_only(args, env, facts)
    folder = Path(tempfile.mkdtemp(prefix="rcs-bench-profiles-"))
    plan = _plan(args, folder)
    agents = Fleet(max(plan.sizes), plan.agents).agent_numbers()
    daily: DailyResult | None = None
    try:
        with running_sandbox(agents=agents) as sandbox:
            result = run_suite(env, sandbox, plan)
            if not args.skip_daily:
                daily = run_daily(env, sandbox, _daily_plan(args))
        if not args.skip_sandbox_bench:
            print("bench: sandbox throughput (bench/bench_sandbox.py)", file=sys.stderr)
            result.sandbox_lines, result.sandbox_exit = _sandbox_bench(args.quick)
    except Exception:
        traceback.print_exc()
        print("bench: FAILED: no figures written", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out: Path | None = args.out or (None if args.quick else BENCH / "RESULTS.md")
    report = out or BENCH / "RESULTS.md"
    text = render(result, facts, load_average(), kept_analysis(report))
    section = render_daily(daily, facts) if daily is not None else kept_daily(report)
    text = merge_daily(text, section) if section is not None else text
    print(text)
    if out is not None:
        out.write_text(text)
    missed = sum(not t.met for t in targets(result))
    missed += sum(not t.met for t in daily_targets(daily)) if daily is not None else 0
    _summary(out, started, missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
