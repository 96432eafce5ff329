"""Unverified -> Pending -> Approved, computed from creation times."""

from __future__ import annotations

import time

import pytest

from rcs_provider.sandbox.status import StatusClock, TesterStatus

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


def test_statuses_move_in_real_time(kaleyra, sandbox):
    sandbox.set_clock(0.5, 0.5)  # Pending at 0.5 s, Approved at 1.0 s
    started = time.monotonic()
    kaleyra.register(PHONE, AGENT)
    registered = time.monotonic()  # the server's creation time lies in [started, registered]

    def status_at(age_at_least: float) -> str:
        time.sleep(max(0.0, registered + age_at_least - time.monotonic()))
        return kaleyra.list(AGENT).json()["data"]["testers"][0]["status"]

    first = status_at(0.0)
    if time.monotonic() - started > 0.4:
        pytest.skip("machine too slow to observe the Unverified window")
    assert first == "Unverified"
    assert status_at(0.6) == "Pending"  # age in [0.6, 0.6 + registration latency]
    assert status_at(1.1) == "Approved"


def test_manual_status_sticks_whatever_the_clock_says(kaleyra, sandbox):
    sandbox.add_registration(AGENT, PHONE, "Declined", age_seconds=10_000)
    sandbox.set_clock(0, 0)

    assert kaleyra.list(AGENT).json()["data"]["testers"][0]["status"] == "Declined"
