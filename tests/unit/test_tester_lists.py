"""TesterListCache: one list call per agent per process, even with concurrent callers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rcs_devtools.lock_arrivals import ArrivalCountingLock, same_lock_for_every_key
from rcs_provider._kaleyra.paging import TesterList
from rcs_provider._kaleyra.parsing import TesterRecord as Record
from rcs_provider._tester_lists import KnownRegistration, TesterListCache


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

    tester_lists = TesterListCache()
    tester_lists._agent_lock = same_lock_for_every_key(agent_lock)  # type: ignore[method-assign]
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: tester_lists.lookup("48900", "919800000001", lister), range(8))
        )
    assert calls == ["48900"]
    assert results == [KnownRegistration("id-1", "Pending")] * 8


def test_fresh_lists_again_and_record_updates_the_cache() -> None:
    answers = [TesterList(()), TesterList((Record("919800000002", None, "id-2"),))]
    tester_lists = TesterListCache()
    lister = lambda _agent: answers.pop(0)  # noqa: E731
    assert tester_lists.lookup("1", "919800000002", lister) is None
    tester_lists.record("1", "919800000003", KnownRegistration("id-3", "Unverified"))
    assert tester_lists.lookup("1", "919800000003", lister) == KnownRegistration(
        "id-3", "Unverified"
    )
    assert tester_lists.lookup("1", "919800000002", lister, fresh=True) == KnownRegistration(
        "id-2", None
    )
    assert answers == []


def test_record_before_any_list_is_ignored_until_listed() -> None:
    tester_lists = TesterListCache()
    tester_lists.record("1", "919800000002", KnownRegistration("id", None))
    assert tester_lists.testers("1", lambda _a: TesterList(())).registrations == {}


def test_claims() -> None:
    tester_lists = TesterListCache()
    tester_lists.claim("1", "919800000002", "qa-new")
    assert tester_lists.claimed_by("1", "919800000002") == "qa-new"
    assert tester_lists.claimed_by("2", "919800000002") is None
