"""What the provider process knows of each agent's testers during one engine operation.

The dynamic provider serves up to four calls at once for one ``pulumi`` command, then exits.
:class:`Roster` lists each agent's testers once per process (refresh of N testers on A agents
makes A list calls), records the registrations made or adopted in this run, and remembers
which numbers are still declared, so that a label rename does not warn about a removal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .kaleyra.parsing import TesterRecord

__all__ = ["PROCESS_ROSTER", "Roster", "Sighting"]

Lister = Callable[[str], list[TesterRecord]]


@dataclass(frozen=True)
class Sighting:
    """A registration known for ``(agent_no, phoneno)``: its id and status, if known."""

    id: str | None
    status: str | None


class Roster:
    """Thread-safe, per-process cache of the testers of each agent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agent_locks: dict[str, threading.Lock] = {}
        self._testers: dict[str, dict[str, Sighting]] = {}
        self._claimed: dict[tuple[str, str], str] = {}
        self._new: dict[str, set[str]] = {}

    def _agent_lock(self, agent_no: str) -> threading.Lock:
        with self._lock:
            return self._agent_locks.setdefault(agent_no, threading.Lock())

    def lookup(
        self, agent_no: str, phoneno: str, lister: Lister, *, fresh: bool = False
    ) -> Sighting | None:
        """The registration of ``phoneno`` at ``agent_no``, listing the agent at most once
        per process (single flight: concurrent callers wait for the one list call).
        ``fresh=True`` lists again, for after an ambiguous failure or a 409."""
        return self.testers(agent_no, lister, fresh=fresh).get(phoneno)

    def testers(self, agent_no: str, lister: Lister, *, fresh: bool = False) -> dict[str, Sighting]:
        """All known testers of ``agent_no`` by number (see :meth:`lookup`)."""
        with self._agent_lock(agent_no):
            known = None if fresh else self._testers.get(agent_no)
            if known is None:
                records = lister(agent_no)
                known = {r.phoneno: Sighting(r.id, r.status) for r in records}
                with self._lock:
                    self._testers[agent_no] = known
            return dict(known)

    def record(self, agent_no: str, phoneno: str, sighting: Sighting) -> None:
        """Note a registration made in this run, so later lookups see it without listing."""
        with self._lock:
            if agent_no in self._testers:
                self._testers[agent_no][phoneno] = sighting

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


#: The roster of this process: every provider instance the engine unpickles shares it, so a
#: resource's old and new selves (a label rename) see one view of the agent's testers.
PROCESS_ROSTER = Roster()
