"""Roster: one list call per agent per process, even with concurrent callers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rcs_devtools.lock_arrivals import ArrivalCountingLock, same_lock_for_every_key
from rcs_provider._kaleyra.paging import TesterList
from rcs_provider._kaleyra.parsing import TesterRecord as Record
from rcs_provider._roster import Roster, Sighting


def test_concurrent_lookups_share_one_list_call() -> None:
    """Eight callers at once: the list call holds until the seven others are queued on the
    agent's lock (counted there, no sleep), or until a second list call shows there is no
    single flight."""
    calls: list[str] = []
    agent_lock = ArrivalCountingLock()

    def lister(agent: str) -> TesterList:
        calls.append(agent)
        agent_lock.notify()
        agent_lock.wait_until(lambda lock: lock.arrived == 8 or len(calls) > 1)
        return TesterList((Record("919800000001", "Pending", "id-1"),))

    roster = Roster()
    roster._agent_lock = same_lock_for_every_key(agent_lock)  # type: ignore[method-assign]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: roster.lookup("48900", "919800000001", lister), range(8)))
    assert calls == ["48900"]
    assert results == [Sighting("id-1", "Pending")] * 8


def test_fresh_lists_again_and_record_updates_the_cache() -> None:
    answers = [TesterList(()), TesterList((Record("919800000002", None, "id-2"),))]
    roster = Roster()
    lister = lambda _agent: answers.pop(0)  # noqa: E731
    assert roster.lookup("1", "919800000002", lister) is None
    roster.record("1", "919800000003", Sighting("id-3", "Unverified"))
    assert roster.lookup("1", "919800000003", lister) == Sighting("id-3", "Unverified")
    assert roster.lookup("1", "919800000002", lister, fresh=True) == Sighting("id-2", None)
    assert answers == []


def test_record_before_any_list_is_ignored_until_listed() -> None:
    roster = Roster()
    roster.record("1", "919800000002", Sighting("id", None))
    assert roster.testers("1", lambda _a: TesterList(())).sightings == {}


def test_claims() -> None:
    roster = Roster()
    roster.claim("1", "919800000002", "qa-new")
    assert roster.claimed_by("1", "919800000002") == "qa-new"
    assert roster.claimed_by("2", "919800000002") is None
