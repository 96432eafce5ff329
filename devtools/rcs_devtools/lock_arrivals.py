"""A lock that counts the threads that came to it, so a test can hold one caller inside until
the others are provably queued behind it: overlap by events, not by sleeps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: How long a test waits for threads that should already be there before it fails.
PATIENCE_S = 60.0


class ArrivalCountingLock:
    """A ``threading.Lock`` (as a context manager) that counts arrivals before they block."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self.arrived = 0

    def __enter__(self) -> None:
        with self._changed:
            self.arrived += 1
            self._changed.notify_all()
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def notify(self) -> None:
        """Wake :meth:`wait_until` to look at its condition again (something else changed)."""
        with self._changed:
            self._changed.notify_all()

    def wait_until(self, done: Callable[[ArrivalCountingLock], bool]) -> None:
        """Block until ``done(self)``; fail the test (never hang) if that takes unreasonably
        long."""
        with self._changed:
            if not self._changed.wait_for(lambda: done(self), timeout=PATIENCE_S):
                raise AssertionError(f"only {self.arrived} threads came to the lock")


def same_lock_for_every_key(lock: ArrivalCountingLock) -> Callable[[Any], ArrivalCountingLock]:
    """A stand-in for a per-key lock factory (``TesterListCache._agent_lock``) that hands
    out ``lock``."""
    return lambda _key: lock
