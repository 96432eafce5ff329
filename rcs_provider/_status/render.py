"""A status report as Markdown (job summaries), text (terminals) or JSON, in the review's
conventions (``rcs_provider._review.render``): a checklist of what needs a person at the end,
a versioned JSON shape.

Every renderer lays out the model of :mod:`.model` and nothing else; its phone text comes from
the stack's ``agents`` output, which holds only masks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .._markdown import one_line as _line
from .._markdown import table_cell as _cell
from .durations import format_age, format_time
from .model import (
    COUNTED_STATUSES,
    NOT_VISIBLE_STATUSES,
    AgentStatus,
    StackStatus,
    StatusReport,
    TesterLine,
    Verdict,
)

__all__ = ["FORMATS", "JSON_SHAPE_VERSION", "render", "to_json_data"]

#: The version of the JSON shape documented in the README ("Following up invitations").
JSON_SHAPE_VERSION = 1
NO_PHONE = "—"
_MARKS = {
    Verdict.OVERDUE: "overdue",
    Verdict.DECLINED: "declined: needs a person",
    Verdict.WAITING: "waiting",
    Verdict.NOT_VISIBLE: "status not visible",
    Verdict.OTHER: "status shown as Kaleyra gave it",
}
_COLUMNS = (*COUNTED_STATUSES, *NOT_VISIBLE_STATUSES)


def render(report: StatusReport, output_format: str) -> str:
    """The report in ``output_format`` (one of :data:`FORMATS`), ending with a newline."""
    return FORMATS[output_format](report)


def _summary(report: StatusReport) -> str:
    testers = sum(a.testers for s in report.stacks for a in s.agents)
    dropped = sum(len(s.dropped or ()) for s in report.stacks)
    return (
        f"{testers} tester(s) in {len(report.stacks)} stack(s): "
        f"{report.count(Verdict.OVERDUE)} overdue, {report.count(Verdict.DECLINED)} declined, "
        f"{report.count(Verdict.WAITING)} waiting, {dropped} dropped; "
        f"{len(report.actions())} action(s) for a person."
    )


def _limit(report: StatusReport) -> str:
    return f"Pending or Unverified for over {report.pending_after_text} is overdue."


def _freshness(stack: StackStatus, as_of: datetime) -> str:
    if stack.last_update is None:
        return "Last update: not recorded."
    age = format_age(as_of - stack.last_update)
    return f"Last update {format_time(stack.last_update)} ({age} before the report)."


def _not_visible(stack: StackStatus) -> str:
    testers = sum(a.testers for a in stack.agents)
    return (
        f"Status not visible: kaleyra:lookup is {stack.lookup}, so a refresh cannot read "
        f"statuses from Kaleyra and the recorded ones are not current. {testers} tester(s); "
        "check them in the Kaleyra console."
    )


def _not_deployed(stack: StackStatus) -> str:
    return f"Not deployed: the backend has no stack {stack.stack}."


def _other(agent: AgentStatus) -> str:
    return ", ".join(f"{status}: {n}" for status, n in (agent.other or {}).items())


# --- Markdown -------------------------------------------------------------------------------


def to_markdown(report: StatusReport) -> str:
    lines = [
        "### RCS tester invitations",
        "",
        f"As of {format_time(report.as_of)}. {_limit(report)} {_summary(report)}",
    ]
    for stack in report.stacks:
        lines += ["", f"#### {stack.stack}", ""]
        if not stack.deployed:
            lines.append(_not_deployed(stack))
            continue
        lines.append(_freshness(stack, report.as_of))
        if not stack.status_visible:
            lines += ["", _cell(_not_visible(stack))]
        elif stack.agents:
            lines += ["", *_markdown_counts(stack)]
        else:
            lines += ["", "No testers."]
        if stack.lines:
            lines += [
                "",
                "| agent | label | phone | status | age | |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            lines += [_markdown_line(line) for line in stack.lines]
        if stack.dropped:
            lines += ["", "**Dropped by the refresh** (the next `pulumi up` invites them again)"]
            lines += [""] + [f"- {_line(d.who)}, agent {d.agent}" for d in stack.dropped]
    actions = report.actions()
    if actions:
        lines += ["", "#### Needs a person", ""]
        lines += [f"- [ ] **{a.stack}**: {_line(a.text)}" for a in actions]
    return "\n".join(lines) + "\n"


def _markdown_counts(stack: StackStatus) -> list[str]:
    head = ["agent", "testers", *_COLUMNS, "other"]
    rows = [
        "| " + " | ".join(head) + " |",
        "| --- |" + " ---: |" * (len(head) - 2) + " --- |",
    ]
    for agent in stack.agents:
        counts = {**(agent.counts or {}), **(agent.not_visible or {})}
        cells = [agent.agent, str(agent.testers), *(str(counts[c]) for c in _COLUMNS)]
        rows.append("| " + " | ".join([*cells, _cell(_other(agent)) or NO_PHONE]) + " |")
    return rows


def _markdown_line(line: TesterLine) -> str:
    mark = _MARKS[line.verdict]
    if line.verdict in (Verdict.OVERDUE, Verdict.DECLINED):
        mark = f"**{mark}**"
    cells = [
        line.agent,
        _cell(line.label),
        _cell(line.phone or NO_PHONE),
        _cell(line.status),
        line.age_text,
        mark,
    ]
    return "| " + " | ".join(cells) + " |"


# --- Text -----------------------------------------------------------------------------------


def to_text(report: StatusReport) -> str:
    lines = [
        f"RCS tester invitations as of {format_time(report.as_of)}",
        _limit(report),
        _summary(report),
    ]
    for stack in report.stacks:
        lines += ["", f"{stack.stack}:"]
        if not stack.deployed:
            lines.append(f"  {_not_deployed(stack)}")
            continue
        lines.append(f"  {_freshness(stack, report.as_of)}")
        if not stack.status_visible:
            lines.append(f"  {_not_visible(stack)}")
        for agent in stack.agents:
            lines.append(f"  agent {agent.agent}: {_text_counts(agent)}")
            for line in agent.lines:
                phone = line.phone or NO_PHONE
                lines.append(
                    f"    {line.label:<20} {phone:<14} {line.status:<12} "
                    f"{line.age_text:<8} {_MARKS[line.verdict]}"
                )
        if stack.status_visible and not stack.agents:
            lines.append("  No testers.")
        for gone in stack.dropped or ():
            lines.append(f"  dropped by the refresh: {gone.who}, agent {gone.agent}")
    actions = report.actions()
    if actions:
        lines += ["", "Needs a person:"] + [f"  - {a.stack}: {a.text}" for a in actions]
    return "\n".join(lines) + "\n"


def _text_counts(agent: AgentStatus) -> str:
    if agent.counts is None:
        return f"{agent.testers} tester(s), status not visible"
    counts = {**agent.counts, **(agent.not_visible or {})}
    shown = ", ".join(f"{status} {counts[status]}" for status in _COLUMNS)
    other = _other(agent)
    return f"{agent.testers} tester(s): {shown}" + (f"; other: {other}" if other else "")


# --- JSON -----------------------------------------------------------------------------------


def to_json_data(report: StatusReport) -> dict[str, Any]:
    """The documented JSON shape (see the README, "Following up invitations")."""
    return {
        "version": JSON_SHAPE_VERSION,
        "as_of": _iso(report.as_of),
        "pending_after": report.pending_after_text,
        "pending_after_seconds": int(report.pending_after.total_seconds()),
        "needs_person": report.needs_person,
        "stacks": [_stack_data(stack) for stack in report.stacks],
        "actions": [
            {
                "stack": a.stack,
                "agent": a.agent,
                "label": a.label,
                "phone": a.phone,
                "reason": a.reason,
                "action": a.text,
            }
            for a in report.actions()
        ],
    }


def _stack_data(stack: StackStatus) -> dict[str, Any]:
    return {
        "stack": stack.stack,
        "deployed": stack.deployed,
        "last_update": _iso(stack.last_update),
        "lookup": stack.lookup,
        "status_visible": stack.status_visible,
        "agents": [
            {
                "agent": agent.agent,
                "testers": agent.testers,
                "counts": agent.counts,
                "not_visible": agent.not_visible,
                "other": agent.other,
                "not_approved": [_line_data(line) for line in agent.lines],
            }
            for agent in stack.agents
        ],
        "dropped": None
        if stack.dropped is None
        else [{"agent": d.agent, "label": d.label, "phone": d.phone} for d in stack.dropped],
    }


def _line_data(line: TesterLine) -> dict[str, Any]:
    return {
        "label": line.label,
        "phone": line.phone,
        "status": line.status,
        "created": _iso(line.created),
        "age_seconds": None if line.age is None else int(line.age.total_seconds()),
        "verdict": line.verdict.value,
    }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_json(report: StatusReport) -> str:
    return json.dumps(to_json_data(report), indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[StatusReport], str]] = {
    "markdown": to_markdown,
    "text": to_text,
    "json": to_json,
}
