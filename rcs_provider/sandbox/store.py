"""What a running sandbox keeps: registrations in SQLite, their status clock, the daily
quota, the call counters, and the state object that ties them with faults and personality.

The database holds full phone numbers, so it is private to its owner: created 0600 (its folder
0700 when created here), and an existing one narrowed to 0600. SQLite gives its -wal, -shm
and -journal files the database file's permissions, so they follow.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import stat
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcs_provider.sandbox.answers import Personality
from rcs_provider.sandbox.faults import FaultInjector, FaultSettings
from rcs_provider.sandbox.process import DEFAULT_AGENTS, DEFAULT_API_KEY, DEFAULT_SID, MEMORY

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = [
    "DEFAULT_STATUS_CLOCK",
    "INJECTED_KINDS",
    "AlreadyRegistered",
    "DailyQuota",
    "RegistrationStore",
    "SandboxConfig",
    "SandboxState",
    "Stats",
    "StatusClock",
    "StoredRegistration",
    "TesterStatus",
    "sandbox_state",
    "seconds_to_utc_midnight",
]


# -- registrations (SQLite) ------------------------------------------------------------------------


#: Permissions of the database file (and so of SQLite's files beside it) and of its folder.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS registrations (
    agent_no   TEXT NOT NULL,
    phoneno    TEXT NOT NULL,
    id         TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    status     TEXT,
    PRIMARY KEY (agent_no, phoneno)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS registrations_by_agent ON registrations (agent_no, created_at);
"""
_COLUMNS = "agent_no, phoneno, id, created_at, status"


@dataclass(frozen=True, slots=True)
class StoredRegistration:
    """One row: ``status`` is a manual override, ``None`` while the status clock decides."""

    agent_no: str
    phoneno: str
    id: str
    created_at: float
    status: str | None = None


class AlreadyRegistered(Exception):
    """The number is already a tester of that agent; ``existing`` is the stored row."""

    def __init__(self, existing: StoredRegistration) -> None:
        super().__init__(f"tester already registered for agent {existing.agent_no}")
        self.existing = existing


class RegistrationStore:
    """Registrations keyed by (agent_no, phoneno); a path or ``:memory:``."""

    def __init__(self, path: str | Path = MEMORY) -> None:
        self.path = str(path)
        if self.path != MEMORY:
            _create_private(Path(self.path))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            self._db.close()
            raise RuntimeError(
                f"Unable to open sandbox database {self.path}: schema version {version} "
                f"is newer than this sandbox ({_SCHEMA_VERSION})"
            )
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the connection (checkpoints the WAL)."""
        with self._lock:
            self._db.close()

    def add(
        self, agent_no: str, phoneno: str, *, created_at: float, status: str | None = None
    ) -> StoredRegistration:
        """Insert a new registration with a fresh uuid4; raises :class:`AlreadyRegistered`."""
        row = StoredRegistration(agent_no, phoneno, str(uuid.uuid4()), created_at, status)
        with self._lock:
            existing = self._get(agent_no, phoneno)
            if existing is not None:
                raise AlreadyRegistered(existing)
            self._db.execute(
                f"INSERT INTO registrations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (row.agent_no, row.phoneno, row.id, row.created_at, row.status),
            )
        return row

    def get(self, agent_no: str, phoneno: str) -> StoredRegistration | None:
        """The registration of ``phoneno`` at ``agent_no``, if any."""
        with self._lock:
            return self._get(agent_no, phoneno)

    def list(self, agent_no: str | None = None) -> list[StoredRegistration]:
        """All registrations (or one agent's), oldest first."""
        with self._lock:
            if agent_no is None:
                cursor = self._db.execute(
                    f"SELECT {_COLUMNS} FROM registrations ORDER BY created_at, agent_no, phoneno"
                )
            else:
                cursor = self._db.execute(
                    f"SELECT {_COLUMNS} FROM registrations WHERE agent_no = ? "
                    "ORDER BY created_at, phoneno",
                    (agent_no,),
                )
            return [StoredRegistration(*row) for row in cursor.fetchall()]

    def set_status(self, agent_no: str, phoneno: str, status: str | None) -> bool:
        """Override (or, with ``None``, un-override) a status; False if there is no such row."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE registrations SET status = ? WHERE agent_no = ? AND phoneno = ?",
                (status, agent_no, phoneno),
            )
            return cursor.rowcount > 0

    def remove(self, agent_no: str, phoneno: str) -> bool:
        """Delete one registration; False if there was none."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM registrations WHERE agent_no = ? AND phoneno = ?",
                (agent_no, phoneno),
            )
            return cursor.rowcount > 0

    def clear(self) -> None:
        """Delete every registration."""
        with self._lock:
            self._db.execute("DELETE FROM registrations")

    def count(self) -> int:
        """How many registrations are stored."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM registrations").fetchone()[0])

    def journal_mode(self) -> str:
        """SQLite's journal mode (``wal`` for files, ``memory`` for ``:memory:``)."""
        with self._lock:
            return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def _get(self, agent_no: str, phoneno: str) -> StoredRegistration | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM registrations WHERE agent_no = ? AND phoneno = ?",
            (agent_no, phoneno),
        ).fetchone()
        return None if row is None else StoredRegistration(*row)


def _create_private(path: Path) -> None:
    """Create the database file 0600 (its folder 0700) before SQLite opens it, which would
    create it 0644; narrow an existing file and SQLite's files beside it to 0600."""
    path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for file in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(file.stat().st_mode) & ~PRIVATE_FILE:
                file.chmod(PRIVATE_FILE)


#: Seconds from ``Unverified`` to ``Pending``: "about two minutes" per Kaleyra's console docs.
DEFAULT_STATUS_CLOCK = 120.0


class TesterStatus(StrEnum):
    """Tester statuses as Kaleyra's console shows them (plus ``Declined``, as RBM has it)."""

    UNVERIFIED = "Unverified"
    PENDING = "Pending"
    APPROVED = "Approved"
    DECLINED = "Declined"


@dataclass(frozen=True, slots=True)
class StatusClock:
    """Derives a status from a registration's age, so it survives restarts.

    ``pending_after``: seconds from creation to ``Pending``.
    ``approve_after``: seconds from ``Pending`` to ``Approved``; ``None`` = never automatic
    (the phone's owner has to accept, which the inspection API simulates).
    """

    pending_after: float = DEFAULT_STATUS_CLOCK
    approve_after: float | None = None

    def __post_init__(self) -> None:
        if self.pending_after < 0:
            raise ValueError("status clock must be >= 0 seconds")
        if self.approve_after is not None and self.approve_after < 0:
            raise ValueError("auto-approve must be >= 0 seconds")

    def status_at(self, created_at: float, now: float) -> TesterStatus:
        """The status of a registration created at ``created_at`` (epoch seconds) at ``now``."""
        age = now - created_at
        if age < self.pending_after:
            return TesterStatus.UNVERIFIED
        if self.approve_after is not None and age >= self.pending_after + self.approve_after:
            return TesterStatus.APPROVED
        return TesterStatus.PENDING


def seconds_to_utc_midnight(now: float) -> int:
    """Whole seconds (rounded up, at least 1) until the next UTC midnight."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - moment).total_seconds()))


class DailyQuota:
    """Counts new registrations per (agent, UTC date); the limit is passed per call."""

    def __init__(self) -> None:
        self._used: Counter[tuple[str, str]] = Counter()

    def try_take(self, agent_no: str, *, limit: int, now: float) -> bool:
        """Take one unit of ``agent_no``'s quota for today; False when it is used up.

        ``limit`` 0 means unlimited; registrations are counted either way, so a quota set
        mid-day sees the ones already made.
        """
        key = (agent_no, datetime.fromtimestamp(now, UTC).date().isoformat())
        if limit > 0 and self._used[key] >= limit:
            return False
        self._used[key] += 1
        return True

    def used(self, agent_no: str, *, now: float) -> int:
        """How much of today's quota ``agent_no`` has used."""
        return self._used[(agent_no, datetime.fromtimestamp(now, UTC).date().isoformat())]

    def reset(self) -> None:
        """Forget every counter, as if a new day had started."""
        self._used.clear()


#: Buckets of ``errors_injected``: random 5xx, random 429, dropped connections, daily quota,
#: ``force_status`` and ``error_in_body`` answers and registrations whose success answer was
#: replaced by a 504.
INJECTED_KINDS = ("5xx", "429", "dropped", "quota", "forced", "lost")


class Stats:
    """Plain counters; all updates happen on the server's event loop."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        self.since = time.time()
        self.register_calls = 0
        self.register_created = 0
        self.register_conflicts = 0
        self.list_calls = 0
        self.injected: Counter[str] = Counter()
        self.responses: Counter[int] = Counter()
        self.delayed_calls = 0
        self.delay_ms = 0.0

    def snapshot(self) -> dict[str, Any]:
        """The JSON body of ``GET /_sandbox/stats``."""
        return {
            "register_calls": self.register_calls,
            "register_created": self.register_created,
            "register_conflicts": self.register_conflicts,
            "list_calls": self.list_calls,
            "errors_injected": {kind: self.injected[kind] for kind in INJECTED_KINDS},
            "responses_by_status": {str(k): v for k, v in sorted(self.responses.items())},
            "delayed_calls": self.delayed_calls,
            "delay_ms": round(self.delay_ms, 3),
            "since": self.since,
        }


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """What the sandbox starts with; ``POST /_sandbox/reset`` returns to it (minus faults)."""

    sid: str = DEFAULT_SID
    api_key: str = DEFAULT_API_KEY
    agents: tuple[str, ...] = DEFAULT_AGENTS
    db: str = MEMORY
    clock: StatusClock = field(default_factory=StatusClock)
    faults: FaultSettings = field(default_factory=FaultSettings)
    personality: Personality = Personality.DOCUMENTED


class SandboxState:
    """Store, counters, faults, known agents and the status clock of one running sandbox.

    ``frozen_time`` pins the sandbox's "now" (epoch seconds) for creation times, statuses and
    the daily quota's day and ``Retry-After``, so tests need not race the wall clock."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = RegistrationStore(config.db)
        self.stats = Stats()
        self.faults = FaultInjector(config.faults)
        self.quota = DailyQuota()
        self.agents: frozenset[str] = frozenset(config.agents)
        self.clock = config.clock
        self.personality = config.personality
        self.frozen_time: float | None = None

    def now(self) -> float:
        """The sandbox's time: ``frozen_time`` when set, else the wall clock."""
        return time.time() if self.frozen_time is None else self.frozen_time

    def status_of(self, registration: StoredRegistration, now: float) -> str:
        """A manual override if one was set, else what the clock says."""
        if registration.status is not None:
            return registration.status
        return self.clock.status_at(registration.created_at, now).value

    def reset(self, *, keep_registrations: bool = False) -> None:
        """Clear stats, faults and quota counters; restore agents, clock, personality and real
        time; maybe registrations."""
        if not keep_registrations:
            self.store.clear()
        self.stats.reset()
        self.faults.replace(FaultSettings())
        self.quota.reset()
        self.agents = frozenset(self.config.agents)
        self.clock = self.config.clock
        self.personality = self.config.personality
        self.frozen_time = None

    def close(self) -> None:
        """Release the database."""
        self.store.close()


def sandbox_state(request: Request) -> SandboxState:
    """The state the app factory stored on the app."""
    state: SandboxState = request.app.state.sandbox
    return state
