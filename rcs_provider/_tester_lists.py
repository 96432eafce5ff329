"""What the provider process knows of each agent's testers during one engine operation.

The dynamic provider serves up to four calls at once for one ``pulumi`` command, then exits.
:class:`TesterListCache` lists each agent's testers once per process (refresh of N testers on
A agents makes A list calls), records the registrations made or adopted in this run, and remembers
which numbers are still declared, so that a label rename does not warn about a removal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ._kaleyra.errors import AuthenticationError
from ._kaleyra.paging import TesterList

__all__ = [
    "PROCESS_TESTER_LISTS",
    "KnownRegistration",
    "ListRefused",
    "ListedTesters",
    "TesterListCache",
]

Lister = Callable[[str], TesterList]


@dataclass(frozen=True)
class KnownRegistration:
    """A registration known for ``(agent_no, phoneno)``: its id and status, if known."""

    id: str | None
    status: str | None


@dataclass(frozen=True)
class ListedTesters:
    """An agent's listed testers by number, and whether the list was read whole.

    ``gaps`` says why a tester missing from ``registrations`` may still be registered (a list
    not read whole, masked numbers); ``None`` when the list was read whole and understood.
    """

    registrations: dict[str, KnownRegistration]
    gaps: str | None
    masked: int = 0


def _listed_testers(tester_list: TesterList) -> ListedTesters:
    gaps = tester_list.incomplete
    if gaps is None and tester_list.masked:
        gaps = f"{tester_list.masked} of its numbers are masked"
    registrations = {r.phoneno: KnownRegistration(r.id, r.status) for r in tester_list.records}
    return ListedTesters(registrations, gaps, tester_list.masked)


class ListRefused(Exception):
    """The agent's list call was refused earlier in this run (credentials: 401/403), and
    that error was raised there; ``error`` is it. Not asked again: the answer cannot change
    before the stack config does."""

    def __init__(self, error: AuthenticationError) -> None:
        super().__init__(str(error))
        self.error = error


class TesterListCache:
    """Thread-safe, per-process cache of the testers of each agent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agent_locks: dict[str, threading.Lock] = {}
        self._testers: dict[str, ListedTesters] = {}
        self._said: set[str] = set()
        self._list_given_up: str | None = None
        self._claimed: dict[tuple[str, str], str] = {}
        self._new: dict[str, set[str]] = {}
        self._refused: dict[str, AuthenticationError] = {}

    def _agent_lock(self, agent_no: str) -> threading.Lock:
        with self._lock:
            return self._agent_locks.setdefault(agent_no, threading.Lock())

    def lookup(
        self, agent_no: str, phoneno: str, lister: Lister, *, fresh: bool = False
    ) -> KnownRegistration | None:
        """The registration of ``phoneno`` at ``agent_no``, listing the agent at most once
        per process (single flight: concurrent callers wait for the one list call).
        ``fresh=True`` lists again, for after an ambiguous failure or a 409."""
        return self.testers(agent_no, lister, fresh=fresh).registrations.get(phoneno)

    def testers(self, agent_no: str, lister: Lister, *, fresh: bool = False) -> ListedTesters:
        """All known testers of ``agent_no`` by number (see :meth:`lookup`). Once the list
        call refused the credentials, later callers get :class:`ListRefused` without a call."""
        with self._agent_lock(agent_no):
            refused = self._refused.get(agent_no)
            if refused is not None:
                raise ListRefused(refused)
            known = None if fresh else self._testers.get(agent_no)
            if known is None:
                try:
                    known = _listed_testers(lister(agent_no))
                except AuthenticationError as err:
                    with self._lock:
                        self._refused[agent_no] = err
                    raise
                with self._lock:
                    self._testers[agent_no] = known
            return ListedTesters(dict(known.registrations), known.gaps, known.masked)

    def record(self, agent_no: str, phoneno: str, registration: KnownRegistration) -> None:
        """Note a registration made in this run, so later lookups see it without listing."""
        with self._lock:
            if agent_no in self._testers:
                self._testers[agent_no].registrations[phoneno] = registration

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is asked about in this run (warn-once bookkeeping)."""
        with self._lock:
            if key in self._said:
                return False
            self._said.add(key)
            return True

    def give_up_list(self, reason: str) -> bool:
        """Stop using the tester list for the rest of this run; True the first time."""
        with self._lock:
            first = self._list_given_up is None
            if first:
                self._list_given_up = reason
            return first

    @property
    def list_given_up(self) -> str | None:
        """Why the tester list is no longer used in this run, if it is not."""
        with self._lock:
            return self._list_given_up

    def claim(self, agent_no: str, phoneno: str, label: str) -> None:
        """Mark ``phoneno`` as declared (under ``label``) by a resource of this run."""
        with self._lock:
            self._claimed[(agent_no, phoneno)] = label

    def claimed_by(self, agent_no: str, phoneno: str) -> str | None:
        """The label that declares ``phoneno`` for ``agent_no`` in this run, if any."""
        with self._lock:
            return self._claimed.get((agent_no, phoneno))

    def note_new(self, agent_no: str, phoneno: str) -> int:
        """Count ``phoneno`` as a tester this change adds to ``agent_no``; returns how many
        distinct new testers the agent has so far in this run."""
        with self._lock:
            numbers = self._new.setdefault(agent_no, set())
            numbers.add(phoneno)
            return len(numbers)


#: The tester-list cache of this process: every provider instance the engine unpickles shares
#: it, so a resource's old and new selves (a label rename) see one view of the agent's testers.
PROCESS_TESTER_LISTS = TesterListCache()
