"""Benchmarks: how fast and how lean ``pulumi up`` / ``preview`` / ``refresh`` are
against the sandbox on loopback with a fixed injected latency, beside the ``requests`` loops a
user would write instead. Prints the report and writes ``bench/RESULTS.md``.

    make bench                                  # .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --quick       # N = 20, 50, one run each; prints only
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

from facts import gather, load_average
from report import kept_analysis, render
from results import targets
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 when every measurement succeeded, whatever the targets say."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=50, help="injected per call (50)")
    parser.add_argument("--agents", type=int, default=5, help="agents the testers spread over")
    parser.add_argument("--quick", action="store_true", help="N = 20, 50, one run each")
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy / pprof runs")
    parser.add_argument("--skip-sandbox-bench", action="store_true")
    parser.add_argument(
        "--out", type=Path, help="report file (default bench/RESULTS.md; --quick: none)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.latency_ms <= 1000 or not 1 <= args.agents <= 20:
        parser.error("--latency-ms 1..1000, --agents 1..20")
    if shutil.which("pulumi") is None:
        parser.error('pulumi is not on PATH: eval "$(scripts/engine-env)" or use `make bench`')

    started = time.monotonic()
    env = engine_environ()
    facts = gather(env, sys.argv[1:] if argv is None else argv)
    folder = Path(tempfile.mkdtemp(prefix="rcs-bench-profiles-"))
    plan = _plan(args, folder)
    agents = Fleet(max(plan.sizes), plan.agents).agent_numbers()
    try:
        with running_sandbox(agents=agents) as sandbox:
            result = run_suite(env, sandbox, plan)
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
    text = render(result, facts, load_average(), kept_analysis(out or BENCH / "RESULTS.md"))
    print(text)
    if out is not None:
        out.write_text(text)
    missed = sum(not t.met for t in targets(result))
    minutes = (time.monotonic() - started) / 60
    where = f"wrote {out}" if out else "--quick: nothing written (pass --out FILE)"
    print(f"bench: {where}; {minutes:.1f} min; {missed} target(s) missed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
