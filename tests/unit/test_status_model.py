"""Who needs a person, decided from exported states built here: statuses, ages, the masked
phones of the `agents` output (both of its shapes), register-only stacks and dropped testers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rcs_devtools.exported_state import UNKNOWN, UP_TIME, T, export_document
from rcs_provider._status.export import parse_export
from rcs_provider._status.model import (
    StackInput,
    StatusReport,
    Verdict,
    build_report,
    classify,
)

WEEK = timedelta(days=7)
AS_OF = UP_TIME + timedelta(days=8)
FLEET = [
    T("48900", "qa-approved", 1, "Approved"),
    T("48900", "qa-pending", 2, "Pending"),
    T("48900", "qa-unverified", 3, "Unverified"),
    T("48900", "qa-declined", 4, "Declined"),
    T("48900", "qa-recent", 5, "Pending", created=AS_OF - timedelta(days=2)),
    T("20700", "qa-adopted", 6, "Registered"),
    T("20700", "qa-unknown", 7, None),
    T("20700", "qa-rbm", 8, "DECLINED"),
]


def report_of(*docs: dict, as_of=AS_OF, pending_after=WEEK, before=None) -> StatusReport:
    stacks = [
        StackInput(
            f"s{i}",
            parse_export(doc),
            before=None if before is None else parse_export(before),
        )
        for i, doc in enumerate(docs)
    ]
    return build_report(stacks, as_of=as_of, pending_after=pending_after)


@pytest.mark.parametrize(
    ("status", "age", "verdict"),
    [
        ("Approved", timedelta(days=30), Verdict.APPROVED),
        ("Pending", timedelta(days=8), Verdict.OVERDUE),
        ("Unverified", timedelta(days=8), Verdict.OVERDUE),
        ("Pending", WEEK, Verdict.WAITING),  # "older than" the limit, not "as old as"
        ("Unverified", timedelta(hours=1), Verdict.WAITING),
        ("Pending", None, Verdict.WAITING),  # no creation time: never marked
        ("Declined", timedelta(minutes=1), Verdict.DECLINED),
        ("Registered", timedelta(days=30), Verdict.NOT_VISIBLE),
        ("Unknown", timedelta(days=30), Verdict.NOT_VISIBLE),
        ("DECLINED", timedelta(days=30), Verdict.OTHER),
        ("pending", timedelta(days=30), Verdict.OTHER),
    ],
)
def test_classification(status: str, age: timedelta | None, verdict: Verdict) -> None:
    assert classify(status, age, WEEK) is verdict


def test_counts_per_agent_with_our_own_and_foreign_statuses_apart() -> None:
    stack = report_of(export_document(FLEET)).stacks[0]
    by_agent = {a.agent: a for a in stack.agents}
    assert by_agent["48900"].counts == {"Approved": 1, "Pending": 2, "Unverified": 1, "Declined": 1}
    assert by_agent["48900"].not_visible == {"Registered": 0, "Unknown": 0}
    assert by_agent["48900"].other == {}
    assert by_agent["20700"].counts == {"Approved": 0, "Pending": 0, "Unverified": 0, "Declined": 0}
    assert by_agent["20700"].not_visible == {"Registered": 1, "Unknown": 1}
    assert by_agent["20700"].other == {"DECLINED": 1}
    assert [a.testers for a in stack.agents] == [3, 5]


def test_every_tester_not_approved_is_listed_with_its_verdict_and_age() -> None:
    stack = report_of(export_document(FLEET)).stacks[0]
    listed = {(line.label, line.phone, line.status, line.verdict) for line in stack.lines}
    assert listed == {
        ("qa-pending", "91980XXXXX02", "Pending", Verdict.OVERDUE),
        ("qa-unverified", "91980XXXXX03", "Unverified", Verdict.OVERDUE),
        ("qa-declined", "91980XXXXX04", "Declined", Verdict.DECLINED),
        ("qa-recent", "91980XXXXX05", "Pending", Verdict.WAITING),
        ("qa-adopted", "91980XXXXX06", "Registered", Verdict.NOT_VISIBLE),
        ("qa-unknown", "91980XXXXX07", "Unknown", Verdict.NOT_VISIBLE),
        ("qa-rbm", "91980XXXXX08", "DECLINED", Verdict.OTHER),
    }
    ages = {line.label: line.age_text for line in stack.lines}
    assert ages["qa-pending"] == "8d 0h"
    assert ages["qa-recent"] == "2d 0h"


def test_actions_are_exactly_the_overdue_and_the_declined() -> None:
    report = report_of(export_document(FLEET))
    assert [(a.label, a.phone, a.reason) for a in report.actions()] == [
        ("qa-declined", "91980XXXXX04", "declined"),
        ("qa-pending", "91980XXXXX02", "overdue"),
        ("qa-unverified", "91980XXXXX03", "overdue"),
    ]
    assert report.needs_person
    calm = report_of(export_document([t for t in FLEET if t.status != "Declined"]), as_of=UP_TIME)
    assert calm.actions() == []
    assert not calm.needs_person


def test_the_limit_moves_the_mark() -> None:
    two_days = report_of(export_document(FLEET), pending_after=timedelta(days=1))
    overdue = {a.label for a in two_days.actions() if a.reason == "overdue"}
    assert overdue == {"qa-pending", "qa-unverified", "qa-recent"}


@pytest.mark.parametrize("shape", ["by_label", "list"])
def test_both_shapes_of_the_agents_output_give_the_masked_phone(shape: str) -> None:
    stack = report_of(export_document(FLEET, shape=shape)).stacks[0]
    assert {line.label: line.phone for line in stack.lines}["qa-pending"] == "91980XXXXX02"


@pytest.mark.parametrize("shown", [UNKNOWN, None, "", {"secure": "x"}])
def test_a_phone_the_output_does_not_show_leaves_the_label_alone(shown: object) -> None:
    doc = export_document(FLEET, phones={"qa-pending": shown})
    report = report_of(doc)
    line = next(line for line in report.stacks[0].lines if line.label == "qa-pending")
    assert line.phone is None
    assert line.who == "qa-pending"
    action = next(a for a in report.actions() if a.label == "qa-pending")
    assert action.text.startswith("qa-pending of agent 48900 is Pending for 8d 0h, over 7d")


def test_no_agents_output_at_all_still_lists_every_tester_by_label() -> None:
    doc = export_document(FLEET)
    del doc["deployment"]["resources"][0]["outputs"]
    stack = report_of(doc).stacks[0]
    assert len(stack.lines) == 7
    assert {line.phone for line in stack.lines} == {None}


def test_a_full_number_never_reaches_the_model() -> None:
    """The secret phone is never read, even when a state holds it in clear, and a number
    exported in full by another program is masked again."""
    doc = export_document(FLEET, clear_phoneno=True, phones={"qa-pending": "+91 98000 00002"})
    stack = report_of(doc).stacks[0]
    assert {line.label: line.phone for line in stack.lines}["qa-pending"] == "91980XXXXX02"
    assert "9198000000" not in repr(stack)


def test_register_only_statuses_are_not_visible_whatever_they_recorded() -> None:
    report = report_of(export_document(FLEET, lookup="register-only"))
    stack = report.stacks[0]
    assert not stack.status_visible
    assert stack.lines == []
    assert [(a.agent, a.testers, a.counts) for a in stack.agents] == [
        ("20700", 3, None),
        ("48900", 5, None),
    ]
    assert report.actions() == []


def test_the_lookup_the_last_run_used_wins_over_the_stack_file() -> None:
    doc = parse_export(export_document(FLEET, lookup="register-only"))
    stack = StackInput("dev", doc, file_lookup="list")
    assert not build_report([stack], as_of=AS_OF, pending_after=WEEK).stacks[0].status_visible
    doc = parse_export(export_document(FLEET, lookup="list"))
    stack = StackInput("dev", doc, file_lookup="register-only")
    assert build_report([stack], as_of=AS_OF, pending_after=WEEK).stacks[0].status_visible


def test_the_stack_file_says_the_lookup_when_the_export_holds_no_provider_run() -> None:
    doc = parse_export(export_document(FLEET, lookup=None))
    assert doc.lookup is None
    stack = StackInput("dev", doc, file_lookup="register-only")
    assert not build_report([stack], as_of=AS_OF, pending_after=WEEK).stacks[0].status_visible


def test_the_last_update_and_creation_times_come_from_the_export() -> None:
    when = UP_TIME + timedelta(days=3, minutes=7)
    doc = parse_export(export_document(FLEET, last_update=when))
    assert doc.last_update == when
    assert {t.created for t in doc.testers} == {UP_TIME, AS_OF - timedelta(days=2)}
    assert doc.stack == "dev"


def test_a_resource_being_deleted_is_not_a_tester() -> None:
    doc = export_document(FLEET)
    doc["deployment"]["resources"][-1]["delete"] = True
    labels = {t.label for t in parse_export(doc).testers}
    assert "qa-rbm" not in labels
    assert len(labels) == len(FLEET) - 1


def test_testers_gone_since_an_earlier_export_are_dropped_by_name_and_mask() -> None:
    before = export_document(FLEET)
    after = export_document([t for t in FLEET if t.label not in ("qa-approved", "qa-adopted")])
    report = report_of(after, before=before)
    dropped = report.stacks[0].dropped
    assert dropped is not None
    assert [(d.agent, d.label, d.phone) for d in dropped] == [
        ("20700", "qa-adopted", "91980XXXXX06"),
        ("48900", "qa-approved", "91980XXXXX01"),
    ]
    reasons = [(a.label, a.reason) for a in report.actions() if a.reason == "dropped"]
    assert reasons == [("qa-adopted", "dropped"), ("qa-approved", "dropped")]
    assert report_of(after).stacks[0].dropped is None
    assert report_of(after, before=after).stacks[0].dropped == ()


def test_a_stack_the_backend_does_not_have_is_not_deployed() -> None:
    report = build_report([StackInput("prod", None)], as_of=AS_OF, pending_after=WEEK)
    assert not report.stacks[0].deployed
    assert report.actions() == []


def test_phones_the_output_lost_at_the_refresh_come_from_the_export_before_it() -> None:
    """A refresh that drops a tester leaves its agent's whole `agents` output unknown."""
    before = export_document(FLEET)
    after = export_document(FLEET[1:], phones={t.label: UNKNOWN for t in FLEET})
    report = report_of(after, before=before)
    phones = {line.label: line.phone for line in report.stacks[0].lines}
    assert phones["qa-pending"] == "91980XXXXX02"
    assert phones["qa-rbm"] == "91980XXXXX08"
    assert {line.phone for line in report_of(after).stacks[0].lines} == {None}
