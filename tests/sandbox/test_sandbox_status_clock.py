"""Unverified -> Pending -> Approved, computed from creation times."""

from __future__ import annotations

import pytest

from rcs_provider.sandbox.store import StatusClock, TesterStatus

AGENT = "48900"
PHONE = "919530000092"


@pytest.mark.parametrize(
    ("age", "approve_after", "expected"),
    [
        (0, None, "Unverified"),
        (119, None, "Unverified"),
        (120, None, "Pending"),
        (10_000, None, "Pending"),
        (150, 60, "Pending"),
        (180, 60, "Approved"),
    ],
)
def test_clock_derives_status_from_age(age, approve_after, expected):
    clock = StatusClock(120, approve_after)

    assert clock.status_at(created_at=1000.0, now=1000.0 + age) == TesterStatus(expected)


def test_zero_clocks_approve_at_once():
    assert StatusClock(0, 0).status_at(5.0, 5.0) is TesterStatus.APPROVED


def test_negative_clocks_are_refused():
    with pytest.raises(ValueError, match="status clock"):
        StatusClock(-1)
    with pytest.raises(ValueError, match="auto-approve"):
        StatusClock(1, -1)


def test_default_clock_is_pending_after_120_s_and_never_approved(sandbox):
    young = sandbox.add_registration(AGENT, "919530000091", age_seconds=60)
    old = sandbox.add_registration(AGENT, "919530000092", age_seconds=121)
    ancient = sandbox.add_registration(AGENT, "919530000093", age_seconds=10 * 86400)

    statuses = {r["id"]: r["status"] for r in sandbox.registrations()}

    assert statuses[young["id"]] == "Unverified"
    assert statuses[old["id"]] == "Pending"
    assert statuses[ancient["id"]] == "Pending"


def test_changing_the_clock_applies_to_existing_registrations(kaleyra, sandbox):
    sandbox.add_registration(AGENT, PHONE, age_seconds=30)

    sandbox.set_clock(10, 25)  # Approved at 35 s
    pending = kaleyra.list(AGENT).json()["data"]["testers"][0]["status"]
    sandbox.set_clock(10, 20)  # Approved at 30 s
    approved = kaleyra.list(AGENT).json()["data"]["testers"][0]["status"]

    assert (pending, approved) == ("Pending", "Approved")


def test_statuses_move_with_the_sandbox_time(kaleyra, sandbox):
    """Pending at 1 s, Approved at 2 s after the register call, on the sandbox's pinned time:
    each look is at a known age, and the boundaries fall where the clock says."""
    registered_at = 1_767_225_540.0
    sandbox.set_clock(1.0, 1.0)
    sandbox.set_time(registered_at)
    kaleyra.register(PHONE, AGENT)

    def status_at(age: float) -> str:
        sandbox.set_time(registered_at + age)
        return kaleyra.list(AGENT).json()["data"]["testers"][0]["status"]

    seen = [status_at(age) for age in (0.0, 0.999, 1.0, 1.999, 2.0, 86400.0)]

    assert seen == ["Unverified", "Unverified", "Pending", "Pending", "Approved", "Approved"]


def test_manual_status_sticks_whatever_the_clock_says(kaleyra, sandbox):
    sandbox.add_registration(AGENT, PHONE, "Declined", age_seconds=10_000)
    sandbox.set_clock(0, 0)

    assert kaleyra.list(AGENT).json()["data"]["testers"][0]["status"] == "Declined"
