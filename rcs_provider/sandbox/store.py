"""SQLite persistence of tester registrations (WAL mode, one connection behind a lock).

The file holds full phone numbers, so it is private to its owner: created 0600 (its folder
0700 when created here), and an existing one narrowed to 0600. SQLite gives its -wal, -shm
and -journal files the database file's permissions, so they follow.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from rcs_provider.sandbox.defaults import MEMORY

__all__ = ["AlreadyRegistered", "RegistrationStore", "StoredRegistration"]

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
