"""A review as Markdown (pull-request comments, job summaries), text (terminals) or JSON.

Every renderer takes its phone text from the model, which holds only masks, ``secret`` or
``invalid``: no full number and no ciphertext can reach an output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .._markdown import one_line as _line
from .._markdown import table_cell as _cell
from .diff import AgentReview, Change, Review, StackReview, Status

__all__ = ["FORMATS", "JSON_SHAPE_VERSION", "render", "to_json_data"]

JSON_SHAPE_VERSION = 1
SECRET_NOTE = (
    "Secret phones are compared by their ciphertext: a number encrypted again without change "
    '(e.g. set again with `pulumi config set --secret`) shows as "phone changed". '
    "Review with --decrypt to compare the numbers."
)
_AGENT_STATUS = {
    Status.ADDED: "agent added",
    Status.REMOVED: "agent removed: its testers stay registered",
}
_STACK_STATUS = {Status.ADDED: "new stack", Status.REMOVED: "stack removed", Status.CHANGED: ""}


def render(review: Review, output_format: str) -> str:
    """The review in ``output_format`` (one of :data:`FORMATS`), ending with a newline."""
    return FORMATS[output_format](review)


def _age(review: Review) -> str:
    return f", {review.base_age}" if review.base_age else ""


def _compared(review: Review) -> str:
    return f"{review.base} ({review.base_commit[:12]}{_age(review)})"


def _nothing(review: Review) -> str:
    warnings = "".join(f"warning: {w}\n" for w in review.base_warnings)
    return f"No tester changes between {_compared(review)} and the work tree.\n{warnings}"


def _notes(review: Review) -> list[str]:
    return [SECRET_NOTE] if review.compared_secrets_by_ciphertext else []


def _shown_stacks(review: Review) -> list[StackReview]:
    return [s for s in review.stacks if s.is_shown]


def _summary(review: Review) -> str:
    changes = [c for s in review.stacks for c in s.changes]
    invitations = sum(1 for c in changes if c.invites)
    stacks = _shown_stacks(review)
    return (
        f"{len(changes)} tester change(s) in {len(stacks)} stack(s): {invitations} "
        f"invitation(s) on deploy, {len(review.actions())} action(s) for a person."
    )


# --- Markdown -------------------------------------------------------------------------------


def _agent_cell(agent: AgentReview) -> str:
    return f"{agent.agent} ({_cell(agent.name)})" if agent.name else agent.agent


def to_markdown(review: Review) -> str:
    if review.is_quiet:
        return _nothing(review)
    lines = [
        "### RCS tester changes",
        "",
        f"Compared with `{_cell(review.base)}` (`{review.base_commit[:12]}`{_age(review)}). "
        + _summary(review),
    ]
    for warning in review.base_warnings:
        lines += ["", f"**Warning:** {_line(warning)}"]
    for stack in _shown_stacks(review):
        status = _STACK_STATUS[stack.status]
        pod = f", pod `{_cell(stack.pod)}`" if stack.pod else ""
        lines += ["", f"#### {stack.stack}{f' ({status})' if status else ''}"]
        lines += ["", f"`{stack.source}`{pod}"]
        rows = [row for agent in stack.agents for row in _markdown_rows(agent)]
        if rows:
            lines += [
                "",
                "| agent | change | label | phone | action |",
                "| --- | --- | --- | --- | --- |",
            ]
            lines += rows
        else:
            lines += ["", "No tester changes."]
        if stack.warnings:
            lines += ["", "**Warnings**", ""] + [f"- {_line(w)}" for w in stack.warnings]
        if stack.problems:
            lines += ["", "**Problems** (`pulumi preview` fails with these)", "", "```"]
            lines += [*stack.problems, "```"]
    actions = review.actions()
    if actions:
        lines += ["", "#### Needs a person", ""]
        lines += [f"- [ ] **{stack}**: {_line(action)}" for stack, action in actions]
    lines += [f"\n{note}" for note in _notes(review)]
    return "\n".join(lines) + "\n"


def _markdown_rows(agent: AgentReview) -> list[str]:
    """An agent's rows: its own status (added, removed) first, then its testers' changes."""
    rows = []
    if agent.status in _AGENT_STATUS:
        rows.append(f"| {_agent_cell(agent)} | {_AGENT_STATUS[agent.status]} | | | |")
    return rows + [_markdown_row(agent, change) for change in agent.changes]


def _markdown_row(agent: AgentReview, change: Change) -> str:
    cells = [
        _agent_cell(agent),
        _cell(change.effect),
        _cell(change.label),
        _cell(change.phone),
        _cell(change.action or "—"),
    ]
    return "| " + " | ".join(cells) + " |"


# --- Text -----------------------------------------------------------------------------------


def to_text(review: Review) -> str:
    if review.is_quiet:
        return _nothing(review)
    lines = [f"RCS tester changes against {_compared(review)}", _summary(review)]
    lines += [f"warning: {w}" for w in review.base_warnings]
    for stack in _shown_stacks(review):
        status = _STACK_STATUS[stack.status]
        pod = f", pod {stack.pod}" if stack.pod else ""
        lines += ["", f"{stack.stack}{f' ({status})' if status else ''}: {stack.source}{pod}"]
        for agent in stack.agents:
            name = f" ({agent.name})" if agent.name else ""
            status_text = (
                f": {_AGENT_STATUS[agent.status]}" if agent.status in _AGENT_STATUS else ""
            )
            lines.append(f"  agent {agent.agent}{name}{status_text}")
            for change in agent.changes:
                lines.append(f"    {change.label:<20} {change.phone:<14} {change.effect}")
                if change.action:
                    lines.append(f"      action: {change.action}")
        lines += [f"  warning: {w}" for w in stack.warnings]
        lines += [f"  problem: {p}" for p in stack.problems]
    actions = review.actions()
    if actions:
        lines += ["", "Needs a person:"] + [f"  - {stack}: {action}" for stack, action in actions]
    lines += [f"\n{note}" for note in _notes(review)]
    return "\n".join(lines) + "\n"


# --- JSON -----------------------------------------------------------------------------------


def to_json_data(review: Review) -> dict[str, Any]:
    """The documented JSON shape (see the README, "Reviewing changes")."""
    return {
        "version": JSON_SHAPE_VERSION,
        "base": review.base,
        "base_commit": review.base_commit,
        "base_committed": None
        if review.base_committed is None
        else review.base_committed.isoformat(),
        "base_warnings": review.base_warnings,
        "decrypted": review.decrypted,
        "has_changes": review.has_tester_changes,
        "stacks": [_stack_data(stack) for stack in review.stacks],
        "actions": [{"stack": stack, "action": action} for stack, action in review.actions()],
        "notes": _notes(review),
    }


def _stack_data(stack: StackReview) -> dict[str, Any]:
    return {
        "stack": stack.stack,
        "file": stack.source,
        "status": stack.status.value,
        "pod": stack.pod,
        "agents": [
            {
                "agent": agent.agent,
                "name": agent.name,
                "status": agent.status.value,
                "testers_after": agent.testers_after,
                "changes": [_change_data(change) for change in agent.changes],
            }
            for agent in stack.agents
        ],
        "connection": [
            {"setting": setting.key, "from": setting.before, "to": setting.after}
            for item in stack.connection
            for setting in item.settings
        ],
        "warnings": list(stack.warnings),
        "problems": list(stack.problems),
    }


def _change_data(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": change.kind.value, "label": change.label}
    if change.from_label is not None:
        data["from_label"] = change.from_label
    data["phone"] = change.phone
    if change.from_phone is not None:
        data["from_phone"] = change.from_phone
    if change.from_agent is not None:
        data["from_agent"] = change.from_agent
    if change.from_phonebook is not None:
        data["from_phonebook"] = change.from_phonebook
    if change.allow_non_mobile:
        data["allow_non_mobile"] = True
    data["invitation"] = change.invites
    if change.fails:
        data["will_fail"] = True
    if change.action is not None:
        data["action"] = change.action
    return data


def to_json(review: Review) -> str:
    return json.dumps(to_json_data(review), indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[Review], str]] = {
    "markdown": to_markdown,
    "text": to_text,
    "json": to_json,
}
