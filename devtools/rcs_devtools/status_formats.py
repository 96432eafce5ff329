"""Read the three formats of `rcs-testers status` back into comparable rows, to check that
Markdown, text and JSON say the same thing (the rows of testers not Approved, the counts)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from rcs_provider._status.durations import format_age

#: (stack, agent, label, phone or None, status, age as shown, verdict)
Row = tuple[str, str, str, str | None, str, str, str]

MARKS = {
    "overdue": "overdue",
    "declined: needs a person": "declined",
    "waiting": "waiting",
    "status not visible": "not_visible",
    "status shown as Kaleyra gave it": "other",
}


def rows_from_json(data: dict[str, Any]) -> set[Row]:
    return {
        (
            s["stack"],
            a["agent"],
            t["label"],
            t["phone"],
            t["status"],
            "unknown"
            if t["age_seconds"] is None
            else format_age(timedelta(seconds=t["age_seconds"])),
            t["verdict"],
        )
        for s in data["stacks"]
        for a in s["agents"]
        for t in a["not_approved"]
    }


def _unescape(cell: str) -> str:
    return re.sub(r"\\(.)", r"\1", cell.strip())


def rows_from_markdown(text: str) -> set[Row]:
    rows: set[Row] = set()
    stack = ""
    for line in text.splitlines():
        if line.startswith("#### "):
            stack = line.removeprefix("#### ")
        cells = [_unescape(c) for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 6 and cells[0] not in ("agent", "---"):
            agent, label, phone, status, age, mark = cells
            shown = None if phone == "—" else phone
            rows.add((stack, agent, label, shown, status, age, MARKS[mark.strip("*")]))
    return rows


def rows_from_text(text: str) -> set[Row]:
    rows: set[Row] = set()
    stack = agent = ""
    line_re = re.compile(r"^    (\S+) +(\S+) +(\S+) +(\d+[dhm] \d+[hm]|\d+m|unknown) +(.+)$")
    for line in text.splitlines():
        if re.fullmatch(r"\S+:", line):
            stack = line[:-1]
        elif found := re.match(r"  agent (\d+):", line):
            agent = found.group(1)
        elif found := line_re.match(line):
            label, phone, status, age, mark = found.groups()
            shown = None if phone == "—" else phone
            rows.add((stack, agent, label, shown, status, age, MARKS[mark]))
    return rows


def counts_from_json(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (s["stack"], a["agent"]): {**a["counts"], **a["not_visible"], "testers": a["testers"]}
        for s in data["stacks"]
        for a in s["agents"]
        if a["counts"] is not None
    }


def counts_from_markdown(text: str) -> dict[tuple[str, str], dict[str, int]]:
    found: dict[tuple[str, str], dict[str, int]] = {}
    stack, head = "", []
    for line in text.splitlines():
        if line.startswith("#### "):
            stack = line.removeprefix("#### ")
        cells = [_unescape(c) for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if cells[:2] == ["agent", "testers"]:
            head = cells
        elif head and len(cells) == len(head) and cells[0].isdigit():
            values = dict(zip(head[1:-1], map(int, cells[1:-1]), strict=True))
            found[(stack, cells[0])] = values
    return found


def counts_from_text(text: str) -> dict[tuple[str, str], dict[str, int]]:
    found: dict[tuple[str, str], dict[str, int]] = {}
    stack = ""
    for line in text.splitlines():
        if re.fullmatch(r"\S+:", line):
            stack = line[:-1]
        elif m := re.match(r"  agent (\d+): (\d+) tester\(s\): (.*?)(;|$)", line):
            values = {k: int(v) for k, v in (p.rsplit(" ", 1) for p in m.group(3).split(", "))}
            found[(stack, m.group(1))] = {**values, "testers": int(m.group(2))}
    return found
