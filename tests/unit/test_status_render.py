"""The status report's three formats say the same thing: each is parsed back here and compared
with the others, on exported states built in the test. Plus what each format must say."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from rcs_devtools.exported_state import UP_TIME, T, export_document
from rcs_devtools.fleet_data import spellings
from rcs_devtools.status_formats import (
    counts_from_json,
    counts_from_markdown,
    counts_from_text,
    rows_from_json,
    rows_from_markdown,
    rows_from_text,
)
from rcs_provider._status.export import parse_export
from rcs_provider._status.model import StackInput, StatusReport, build_report
from rcs_provider._status.render import JSON_SHAPE_VERSION, render

AS_OF = UP_TIME + timedelta(days=8, hours=3)
FLEET = [
    T("48900", "qa-approved", 1, "Approved"),
    T("48900", "qa-pending", 2, "Pending"),
    T("48900", "qa-unverified", 3, "Unverified"),
    T("48900", "qa-declined", 4, "Declined"),
    T("48900", "qa-recent", 5, "Pending", created=AS_OF - timedelta(hours=5)),
    T("20700", "qa-adopted", 6, "Registered"),
    T("20700", "qa-odd", 7, "Odd|Status"),
    T("20700", "qa-old-state", 8, "Unverified", created=None),
]


def full_report() -> StatusReport:
    """Four stacks: every verdict and a dropped tester (dev), register-only (ro), a stack
    with no testers (empty) and one the backend does not have (prod)."""
    unshown = {"qa-recent": None}  # neither export shows its phone
    dev_before = export_document(
        [*FLEET, T("48900", "qa-gone", 9, "Approved")], stack="dev", phones=unshown
    )
    stacks = [
        StackInput(
            "dev",
            parse_export(export_document(FLEET, stack="dev", phones=unshown)),
            before=parse_export(dev_before),
        ),
        StackInput(
            "ro",
            parse_export(
                export_document([T("48900", "qa-ro", 10, "Unverified")], lookup="register-only")
            ),
        ),
        StackInput("empty", parse_export(export_document([], stack="empty"))),
        StackInput("prod", None),
    ]
    return build_report(stacks, as_of=AS_OF, pending_after=timedelta(days=7))


def test_markdown_text_and_json_agree() -> None:
    report = full_report()
    data = json.loads(render(report, "json"))
    markdown, text = render(report, "markdown"), render(report, "text")
    rows = rows_from_json(data)
    assert len(rows) == 7  # every tester not Approved of dev; none of ro
    assert rows_from_markdown(markdown) == rows
    assert rows_from_text(text) == rows
    counts = counts_from_json(data)
    assert set(counts) == {("dev", "48900"), ("dev", "20700")}
    assert counts_from_markdown(markdown) == counts
    assert counts_from_text(text) == counts
    actions = [a["action"] for a in data["actions"]]
    assert len(actions) == 4  # two overdue, one declined, one dropped
    assert re.findall(r"^- \[ \] \*\*dev\*\*: (.*)$", markdown, re.M) == actions
    assert re.findall(r"^  - dev: (.*)$", text, re.M) == actions


def test_json_shape() -> None:
    data = json.loads(render(full_report(), "json"))
    assert data["version"] == JSON_SHAPE_VERSION == 1
    assert data["as_of"] == "2026-03-09T12:30:00Z"
    assert (data["pending_after"], data["pending_after_seconds"]) == ("7d", 7 * 86400)
    assert data["needs_person"] is True
    dev, ro, empty, prod = data["stacks"]
    assert dev["last_update"] == "2026-03-01T09:30:00Z"
    assert dev["dropped"] == [{"agent": "48900", "label": "qa-gone", "phone": "91980XXXXX09"}]
    assert dev["agents"][0]["other"] == {"Odd|Status": 1}
    old = [t for a in dev["agents"] for t in a["not_approved"] if t["label"] == "qa-old-state"]
    assert old == [
        {"label": "qa-old-state", "phone": "91980XXXXX08", "status": "Unverified",
         "created": None, "age_seconds": None, "verdict": "waiting"}
    ]  # fmt: skip
    assert (ro["status_visible"], ro["lookup"]) == (False, "register-only")
    assert ro["agents"] == [
        {"agent": "48900", "testers": 1, "counts": None, "not_visible": None, "other": None,
         "not_approved": []}
    ]  # fmt: skip
    assert (empty["deployed"], empty["agents"], empty["dropped"]) == (True, [], None)
    assert (prod["deployed"], prod["last_update"]) == (False, None)
    assert {a["reason"] for a in data["actions"]} == {"overdue", "declined", "dropped"}


def _section(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_register_only_reads_status_not_visible_never_unverified() -> None:
    report = full_report()
    for fmt, start, end in (("markdown", "#### ro", "#### empty"), ("text", "\nro:", "\nempty:")):
        section = _section(render(report, fmt), start, end)
        assert "Status not visible: kaleyra:lookup is register-only" in section
        assert "Unverified" not in section
        assert "qa-ro" not in section


def test_the_stacks_without_testers_say_why() -> None:
    markdown = render(full_report(), "markdown")
    assert "No testers." in _section(markdown, "#### empty", "#### prod")
    assert "Not deployed: the backend has no stack prod." in markdown.split("#### prod")[1]


def test_freshness_and_limit_are_stated() -> None:
    report = full_report()
    for fmt in ("markdown", "text"):
        shown = render(report, fmt)
        assert "Pending or Unverified for over 7d is overdue." in shown
        assert "Last update 2026-03-01 09:30 UTC (8d 3h before the report)." in shown
        assert "2026-03-09 12:30 UTC" in shown


def test_a_tester_without_a_shown_phone_is_named_by_its_label() -> None:
    report = full_report()
    assert ("dev", "48900", "qa-recent", None, "Pending", "5h 0m", "waiting") in rows_from_json(
        json.loads(render(report, "json"))
    )
    assert "| 48900 | qa-recent | — | Pending | 5h 0m | waiting |" in render(report, "markdown")


def test_no_format_shows_a_full_number() -> None:
    """The states hold every number in clear in `phoneno` and one in full in the output."""
    doc = export_document(FLEET, clear_phoneno=True, phones={"qa-pending": "+91 98000 00002"})
    report = build_report(
        [StackInput("dev", parse_export(doc), before=parse_export(doc))],
        as_of=AS_OF,
        pending_after=timedelta(days=7),
    )
    for fmt in ("markdown", "text", "json"):
        shown = render(report, fmt)
        for n in range(1, 9):
            for spelling in spellings(n):
                assert spelling not in shown, (fmt, spelling)
