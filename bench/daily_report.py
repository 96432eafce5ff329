"""Render a :class:`DailyResult` as the "Daily workload" section of ``bench/RESULTS.md``, and
put that section into an existing file without touching the rest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daily import MODES, DailyResult, ModeRuns
from facts import Facts
from measure import Run, Spread
from report import _profile as profile_lines
from results import median_cpu

__all__ = ["DAILY_END", "DAILY_START", "DailyTarget", "daily_targets", "merge", "render_daily"]

DAILY_START = "<!-- daily:start -->"
DAILY_END = "<!-- daily:end -->"
DEFAULTS, SKIP = list(MODES)
#: The daily targets: up / floor per engine setting, preview ratio, bytes per tester.
UP_TARGETS = {DEFAULTS: 2.5, SKIP: 1.5}
PREVIEW_TARGET = 5.0
BYTES_TARGET = 2048


@dataclass(frozen=True)
class DailyTarget:
    name: str
    measured: str
    met: bool


def _median(runs: list[Run]) -> float:
    return Spread.of([r.wall_s for r in runs]).median


def _walls(runs: list[Run]) -> str:
    s = Spread.of([r.wall_s for r in runs])
    return f"{s.median:.2f}" if s.count == 1 else f"{s.median:.2f} ({s.low:.2f}-{s.high:.2f})"


def _cpu(runs: list[Run]) -> str:
    cpu = median_cpu(runs)
    return " / ".join(f"{cpu.get(k, 0.0):.1f}" for k in ("engine", "program", "provider"))


def daily_targets(result: DailyResult) -> list[DailyTarget]:
    plan, found = result.plan, []
    for mode, limit in UP_TARGETS.items():
        runs = result.modes[mode]
        ratio = runs.up_over_floor(plan)
        found.append(
            DailyTarget(
                f"`up` of the daily change <= {limit}x its floor, {mode}",
                f"{ratio:.2f}x ({runs.median(runs.up):.2f} s vs floor {runs.floor_s(plan):.2f} s)",
                ratio <= limit,
            )
        )
    noop = result.modes[DEFAULTS].median(result.modes[DEFAULTS].noop_preview)
    zero = _median(result.zero_preview)
    found.append(
        DailyTarget(
            f"no-change preview of {plan.before.testers} testers <= {PREVIEW_TARGET:g}x the "
            "zero-tester preview",
            f"{noop / zero:.2f}x ({noop:.2f} s vs {zero:.2f} s)",
            noop / zero <= PREVIEW_TARGET,
        )
    )
    if result.state is not None:
        found.append(
            DailyTarget(
                "<= 2 KB of compact state per tester",
                f"{result.state.total:,.0f} B (median over {result.state.testers} testers)",
                result.state.total <= BYTES_TARGET,
            )
        )
    return found


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
    lines = profile_lines(name, result.profile)
    return ["", *[line.replace("### ", "### Profile of ", 1) for line in lines]]


def render_daily(result: DailyResult, facts: Facts) -> str:
    """The section, between its markers."""
    plan = result.plan
    targets = [
        f"| {t.name} | {t.measured} | {'PASS' if t.met else '**MISS**'} |"
        for t in daily_targets(result)
    ]
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
        "| target | measured | verdict |",
        "|---|---|---|",
        *targets,
        "",
        *_runs_table(result),
        "",
        *_state_lines(result),
        *_profile_section(result),
        DAILY_END,
    ]
    return "\n".join(lines)


def merge(text: str, section: str) -> str:
    """``text`` with its daily section replaced by ``section`` (or added before the analysis,
    or at the end)."""
    if DAILY_START in text and DAILY_END in text:
        head, rest = text.split(DAILY_START, 1)
        return head + section + rest.split(DAILY_END, 1)[1]
    if "## Analysis" in text:
        head, rest = text.split("## Analysis", 1)
        return head + section + "\n\n## Analysis" + rest
    return text.rstrip("\n") + "\n\n" + section + "\n"


def kept_daily(path: Path) -> str | None:
    """The daily section of an existing RESULTS.md (kept when only the main suite re-runs)."""
    if not path.exists():
        return None
    text = path.read_text()
    if DAILY_START not in text or DAILY_END not in text:
        return None
    return DAILY_START + text.split(DAILY_START, 1)[1].split(DAILY_END, 1)[0] + DAILY_END
