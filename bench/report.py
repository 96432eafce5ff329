"""Write ``bench/RESULTS.md``: a :class:`BenchResult` as the whole file, a :class:`DailyResult`
as its "Daily workload" section.

Blocks between markers are kept from an existing RESULTS.md: the hand-written analysis (a re-run
refreshes the figures without losing the notes, which name the commit they read) and, when only
the suite re-runs, the daily section (``--daily`` replaces that section alone).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from daily import DailyResult, ModeRuns
from facts import Facts
from measure import Run, Spread
from profiling import Profile, PythonProfile
from results import (
    BenchResult,
    SizeResult,
    Target,
    daily_targets,
    median_cpu,
    peak_rss,
    targets,
)
from rss import KINDS

__all__ = ["kept_analysis", "kept_daily", "merge_daily", "render", "render_daily"]

ANALYSIS_START = "<!-- analysis:start -->"
ANALYSIS_END = "<!-- analysis:end -->"
DAILY_START = "<!-- daily:start -->"
DAILY_END = "<!-- daily:end -->"
_NO_ANALYSIS = "_No analysis written yet for these figures._"
_MB = 2**20


def _between(path: Path, start: str, end: str) -> str | None:
    """What an existing file holds between ``start`` and ``end``; None without both."""
    if not path.exists():
        return None
    text = path.read_text()
    if start not in text or end not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0]


def kept_analysis(path: Path) -> str:
    """The analysis block of an existing RESULTS.md, or a placeholder."""
    return (_between(path, ANALYSIS_START, ANALYSIS_END) or "").strip() or _NO_ANALYSIS


def kept_daily(path: Path) -> str | None:
    """The daily section of an existing RESULTS.md (kept when only the main suite re-runs)."""
    section = _between(path, DAILY_START, DAILY_END)
    return None if section is None else DAILY_START + section + DAILY_END


def merge_daily(text: str, section: str) -> str:
    """``text`` with its daily section replaced by ``section`` (or added before the analysis,
    or at the end)."""
    if DAILY_START in text and DAILY_END in text:
        head, rest = text.split(DAILY_START, 1)
        return head + section + rest.split(DAILY_END, 1)[1]
    if "## Analysis" in text:
        head, rest = text.split("## Analysis", 1)
        return head + section + "\n\n## Analysis" + rest
    return text.rstrip("\n") + "\n\n" + section + "\n"


def _spread(values: Spread | Iterable[float], digits: int = 2) -> str:
    """``3.85 (3.70-4.10)``; a single value alone."""
    s = values if isinstance(values, Spread) else Spread.of(list(values))
    if s.count == 1 or s.low == s.high:
        return f"{s.median:.{digits}f}"
    return f"{s.median:.{digits}f} ({s.low:.{digits}f}-{s.high:.{digits}f})"


def _walls(runs: list[Run]) -> str:
    return _spread([r.wall_s for r in runs]) if runs else "-"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _cpu(runs: list[Run]) -> str:
    cpu = median_cpu(runs)
    return " / ".join(f"{cpu.get(k, 0.0):.1f}" for k in ("engine", "program", "provider"))


def _headline(result: BenchResult) -> list[str]:
    fixed = result.fixed
    lines = []
    for size in result.sizes:
        loop = Spread.of(size.sequential).median
        pool4 = Spread.of(size.pools.get(4, [float("nan")])).median
        lines.append(
            f"- **{size.testers} testers**: `pulumi up` {size.up_s.median:.2f} s = "
            f"**{size.up_over_floor(fixed):.2f}x the floor** ({size.floor_s(fixed):.2f} s), "
            f"**{size.up_over_sequential():.2f}x a sequential `requests` loop** ({loop:.2f} s), "
            f"{size.up_s.median / pool4:.2f}x a 4-thread pool ({pool4:.2f} s); no-op `up` "
            f"{Spread.of([r.wall_s for r in size.noop_up]).median:.2f} s = "
            f"{Spread.of([r.wall_s for r in size.noop_up]).median / fixed.up_s:.2f}x "
            "the zero-tester run."
        )
    return lines


def _targets(found: list[Target]) -> list[str]:
    rows = [[t.name, t.measured, "PASS" if t.met else "**MISS**"] for t in found]
    return _table(["target", "measured", "verdict"], rows)


def _create_table(result: BenchResult) -> list[str]:
    fixed = result.fixed
    workers = sorted({w for s in result.sizes for w in s.pools})
    header = ["N", "runs", "`pulumi up` s", "sequential loop s"]
    header += [f"pool x{w} s" for w in workers]
    header += ["in flight: peak / mean / effective", "floor s", "up / floor", "up / loop"]
    rows = []
    for s in result.sizes:
        pools = [_spread(s.pools[w]) if w in s.pools else "-" for w in workers]
        mean = Spread.of([t.mean_in_flight for t in s.timelines]).median
        flight = f"{s.peak_in_flight()} / {mean:.1f} / {s.effective_concurrency(fixed):.1f}"
        rows.append(
            [
                str(s.testers),
                str(len(s.up)),
                _walls(s.up),
                _spread(s.sequential),
                *pools,
                flight,
                f"{s.floor_s(fixed):.2f}",
                f"{s.up_over_floor(fixed):.2f}x",
                f"{s.up_over_sequential():.2f}x",
            ]
        )
    return _table(header, rows)


def _where_table(result: BenchResult) -> list[str]:
    header = ["N", "before 1st register s", "register window s", "after last register s"]
    header += ["CPU s engine / program / provider", "list calls"]
    header += ["up, PULUMI_SKIP_CHECKPOINTS=true s", "its CPU s engine / program / provider"]
    rows = []
    for s in result.sizes:
        rows.append(
            [
                str(s.testers),
                _spread([t.before_first for t in s.timelines]),
                _spread([t.window for t in s.timelines]),
                _spread([t.after_last for t in s.timelines]),
                _cpu(s.up),
                _spread(s.up_list_calls, 0),
                _walls(s.up_skip_checkpoints),
                _cpu(s.up_skip_checkpoints),
            ]
        )
    return _table(header, rows)


def _noop_table(result: BenchResult) -> list[str]:
    fixed = result.fixed
    header = ["N", "no-op preview s", "ms/tester", "no-op up s", "ms/tester"]
    header += ["no-op up / zero-tester", "CPU s engine / program / provider", "refresh s"]
    header += ["refresh list calls", "list calls in no-op runs"]
    zero = ["1 (zero-tester)", _walls(fixed.preview), "-", _walls(fixed.up), "-", "1.00x"]
    rows = [[*zero, _cpu(fixed.up), _walls(fixed.refresh), "1", "-"]]
    for s in result.sizes:
        noop = Spread.of([r.wall_s for r in s.noop_up]).median
        rows.append(
            [
                str(s.testers),
                _walls(s.noop_preview),
                f"{s.per_tester_ms(s.noop_preview, fixed.preview):.1f}",
                _walls(s.noop_up),
                f"{s.per_tester_ms(s.noop_up, fixed.up):.1f}",
                f"{noop / fixed.up_s:.2f}x",
                _cpu(s.noop_up),
                _walls(s.refresh),
                ", ".join(str(c) for c in s.refresh_list_calls),
                ", ".join(str(c) for c in s.noop_list_calls),
            ]
        )
    return _table(header, rows)


def _all_runs(s: SizeResult) -> list[Run]:
    return s.up + s.noop_preview + s.noop_up + s.refresh


def _state_table(result: BenchResult) -> list[str]:
    header = ["N", "`stack export` bytes", "bytes / tester", "checkpoint file bytes"]
    header += ["one RcsTester, compact"] + [f"peak RSS MB: {k}" for k in KINDS]
    rows = []
    for s in result.sizes:
        if s.state is None:
            continue
        peaks = peak_rss(_all_runs(s))
        rows.append(
            [
                str(s.testers),
                f"{s.state.export_bytes:,}",
                f"{s.state.export_bytes / s.testers:,.0f}",
                f"{s.state.checkpoint_bytes:,}",
                f"{s.state.tester_bytes:,}",
            ]
            + [f"{peaks.get(k, 0) / _MB:.0f}" for k in KINDS]
        )
    lines = _table(header, rows)
    largest = result.sizes[-1].state
    if largest is not None:
        parts = ", ".join(f"{name} {size:,} B" for name, size in largest.tester_parts.items())
        lines += ["", f"One RcsTester resource in the state, by part (compact JSON): {parts}."]
    return lines


def _python_profile(kind: str, prof: PythonProfile, limit: int = 12) -> list[str]:
    if prof.samples == 0:
        return [f"{kind}: no samples."]
    total = prof.samples
    groups = ", ".join(
        f"{g} {100 * n / total:.0f}%"
        for g, n in prof.inclusive_by_group.most_common(9)
        if g != "stdlib/other"
    )
    lines = [
        f"**{kind}** ({total} samples at 100 Hz; py-spy drops threads it sees idle, but "
        f"waits inside thread pools still count). Inclusive by source: {groups}.",
        "",
    ]
    rows = [
        [name.replace("|", "\\|"), f"{100 * n / total:.0f}%"]
        for name, n in prof.self_by_function.most_common(limit)
    ]
    lines += _table(["self time: function (file:line)", "share"], rows)
    rows = [
        [name.replace("|", "\\|"), f"{100 * n / total:.0f}%"]
        for name, n in prof.inclusive_by_function.most_common(limit + 8)
        if "<frozen" not in name and "threading.py" not in name
    ][:limit]
    lines += ["", *_table(["inclusive: function (file)", "share"], rows)]
    return lines


def _profile(name: str, prof: Profile) -> list[str]:
    cpu = ", ".join(f"{k} {v:.1f} s" for k, v in median_cpu([prof.run]).items())
    lines = [f"### {name}", "", f"Wall {prof.run.wall_s:.2f} s (profilers on); CPU: {cpu}.", ""]
    for kind in ("program", "provider"):
        if kind in prof.python:
            lines += [*_python_profile(kind, prof.python[kind]), ""]
    if prof.engine_top:
        lines += ["**engine** (`pulumi --profiling`, `go tool pprof -top`, then `-top -cum`):"]
        lines += ["", "```", *prof.engine_top, "", *prof.engine_cumulative, "```", ""]
    lines += [f"_Note: {note}._" for note in prof.notes]
    return lines


def render(result: BenchResult, facts: Facts, load_after: str, analysis: str) -> str:
    """The whole RESULTS.md."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured {facts.date} on commit `{facts.commit}` (plus any uncommitted changes in "
        f"the work tree) with `{facts.command}`.",
        "",
        f"Machine: {facts.cpus} x {facts.cpu_model}, {facts.memory}; Python {facts.python}; "
        f"pulumi CLI {facts.pulumi_cli}, Python SDK {facts.pulumi_sdk}. Load average "
        f"(1/5/15 min) before the run: {facts.load_before}; after: {load_after}.",
        "",
        f"Set-up: the sandbox on 127.0.0.1 (`:memory:`) with **{result.latency_ms} ms injected "
        f"per Kaleyra call**, no jitter; N testers spread over A = {result.agents} agents. Every "
        "creating `pulumi up` runs on a fresh project with an empty `file://` backend against a "
        "reset sandbox, and every figure comes from a run whose register and list calls the "
        "sandbox confirmed. Times are wall seconds from spawning `pulumi` to its exit: median, "
        "(min-max) when there were several runs.",
        "",
        "Definitions: *zero-tester run*: a no-op command on a stack whose single tester is "
        "registered and recorded (a stack needs one tester; nothing is registered, the "
        "provider still starts); the engine's fixed cost. *Floor*: zero-tester `up` + "
        "(N + A) x latency / peak registers in flight (peak read from the sandbox's "
        "registration times). *Effective* concurrency: N x latency / (`up` - zero-tester "
        "`up`). Baselines send the same register calls with `requests` (one Session per "
        "thread), without listing first.",
        "",
        "## Headline",
        "",
        *_headline(result),
        "",
        "## Targets",
        "",
        *_targets(targets(result)),
        "",
        "## Creating testers: `pulumi up` against what a user would script",
        "",
        *_create_table(result),
        "",
        "## Where a creating `pulumi up` spends its time",
        "",
        "From the sandbox's registration times against the command's start and end; CPU "
        "seconds per process kind from /proc (program = the Python program run by "
        "`pulumi-language-python-exec`; provider = `python -m pulumi.dynamic`). The last two "
        "columns repeat one `up` with the engine's PULUMI_SKIP_CHECKPOINTS=true "
        "(intermediate checkpoints not written): a diagnosis, not a recommendation.",
        "",
        *_where_table(result),
        "",
        "## No-op runs and refresh",
        "",
        "ms/tester = (time with N testers - zero-tester time) / (N - 1).",
        "",
        *_noop_table(result),
        "",
        "## State and memory",
        "",
        "Peak RSS is the kernel's high-water mark (VmHWM) per process, sampled every 50 ms "
        "over all commands of that size; the language host is our Go "
        "`pulumi-language-python` (engine/langhost).",
        "",
        *_state_table(result),
        "",
        "## Sandbox throughput (`bench/bench_sandbox.py`)",
        "",
        *(result.sandbox_lines or ["_not run_"]),
        "",
    ]
    if result.profiles:
        lines += ["## Profiles", ""]
        for name, prof in result.profiles.items():
            lines += _profile(name, prof)
    lines += ["## Analysis", "", ANALYSIS_START, analysis, ANALYSIS_END, ""]
    return "\n".join(lines)


# -- the daily workload's section


def _runs_table(result: DailyResult) -> list[str]:
    plan = result.plan
    modes = list(result.modes)
    rows: list[tuple[str, str]] = [
        ("noop_preview", f"no-change preview of {plan.before.testers}"),
        ("noop_up", f"no-change `up` of {plan.before.testers}"),
        ("pr_preview", f"PR preview adding {plan.change}"),
        ("up", f"`up` adding {plan.change}"),
    ]
    lines = ["| run | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    lines.append(
        f"| zero-tester no-change preview | {_walls(result.zero_preview)} |"
        + " |" * (len(modes) - 1)
    )
    lines.append(
        f"| zero-tester no-change `up` | {_walls(result.zero_up)} |" + " |" * (len(modes) - 1)
    )
    for attr, name in rows:
        cells = [_walls(getattr(result.modes[m], attr)) for m in modes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| registers in flight: peak / mean | "
        + " | ".join(
            f"{result.modes[m].peak_in_flight()} / "
            f"{Spread.of([t.mean_in_flight for t in result.modes[m].timelines]).median:.1f}"
            for m in modes
        )
        + " |"
    )
    lines.append(
        "| floor: no-change `up` + "
        f"{plan.change} x {plan.latency_ms} ms / peak in flight | "
        + " | ".join(f"{result.modes[m].floor_s(plan):.2f}" for m in modes)
        + " |"
    )
    lines.append(
        "| **`up` / floor** | "
        + " | ".join(f"**{result.modes[m].up_over_floor(plan):.2f}x**" for m in modes)
        + " |"
    )
    lines.append(
        "| `up`: before 1st register / register window / after last register s | "
        + " | ".join(_phases(result.modes[m]) for m in modes)
        + " |"
    )
    lines.append(
        "| `up` CPU s engine / program / provider | "
        + " | ".join(_cpu(result.modes[m].up) for m in modes)
        + " |"
    )
    lines.append(
        "| PR preview CPU s engine / program / provider | "
        + " | ".join(_cpu(result.modes[m].pr_preview) for m in modes)
        + " |"
    )
    lines.append(
        "| no-change preview CPU s engine / program / provider | "
        + " | ".join(_cpu(result.modes[m].noop_preview) for m in modes)
        + " |"
    )
    return lines


def _phases(runs: ModeRuns) -> str:
    def med(values: list[float]) -> float:
        return Spread.of(values).median

    return (
        f"{med([t.before_first for t in runs.timelines]):.2f} / "
        f"{med([t.window for t in runs.timelines]):.2f} / "
        f"{med([t.after_last for t in runs.timelines]):.2f}"
    )


def _state_lines(result: DailyResult) -> list[str]:
    state = result.state
    if state is None:
        return []
    parts = ", ".join(f"{name} {size:,.0f} B" for name, size in state.parts.items())
    outputs = ", ".join(f"`{key}` {size:,.0f} B" for key, size in state.outputs.items())
    frames = ", ".join(
        f"{origin} {count:.0f} ({state.frame_bytes[origin]:,.0f} B)"
        for origin, count in sorted(state.frames.items())
    )
    return [
        f"State of the existing {result.plan.before.testers}-tester stack: "
        f"**{state.total:,.0f} B per tester** (compact JSON of one RcsTester in "
        f"`pulumi stack export`, median over the testers); checkpoint file "
        f"{result.checkpoint_bytes:,} B ({result.checkpoint_bytes / state.testers:,.0f} B per "
        "tester, indented as the backend writes it).",
        "",
        f"- by part: {parts};",
        f'- outputs by key (`"key":value`): {outputs};',
        f"- stack trace frames by origin, count (bytes): {frames}. Paths are recorded relative "
        "to the project folder: here the package is imported from the repository, outside the "
        "bench's temporary project, so each of our frames carries a `../../..` prefix a user's "
        "project (package beside `__main__.py` or in `.venv`) would not.",
    ]


def _profile_section(result: DailyResult) -> list[str]:
    if result.profile is None:
        return []
    name = f"the change's `up` ({result.plan.change} new on {result.plan.before.testers})"
    lines = _profile(name, result.profile)
    return ["", *[line.replace("### ", "### Profile of ", 1) for line in lines]]


def render_daily(result: DailyResult, facts: Facts) -> str:
    """The section, between its markers."""
    plan = result.plan
    lines = [
        DAILY_START,
        "## Daily workload: a change on a big stack",
        "",
        f"Measured {facts.date} on commit `{facts.commit}` with `{facts.command}`. Load "
        f"average (1/5/15 min) before: {result.load_before}; after: {result.load_after} "
        f"({facts.cpus} cores).",
        "",
        f"An existing stack of **{plan.agents} agents x {plan.existing} testers** "
        f"({plan.before.testers}), registered and recorded; the day's change adds "
        f"**{plan.added} per agent** ({plan.change}). {plan.latency_ms} ms injected per "
        f"Kaleyra call. {plan.repeats} repeat(s), median (min-max); in each repeat, the "
        "zero-tester runs and then every engine setting in turn, so all ratios compare runs "
        "made under the same load. Before each `up` of the change, the backend folder is "
        "restored and the day's registrations are removed from the sandbox. Floor: the "
        "no-change `up` of the existing stack (same setting) + "
        f"{plan.change} x latency / peak registers in flight.",
        "",
        *_targets(daily_targets(result)),
        "",
        *_runs_table(result),
        "",
        *_state_lines(result),
        *_profile_section(result),
        DAILY_END,
    ]
    return "\n".join(lines)
