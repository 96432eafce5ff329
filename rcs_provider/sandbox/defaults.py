"""Defaults shared by the server and the client-side helper (stdlib only)."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_AGENTS",
    "DEFAULT_API_KEY",
    "DEFAULT_DB",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_SID",
    "LISTENING_PREFIX",
    "MEMORY",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8766
DEFAULT_SID = "SANDBOXSID0001"
DEFAULT_API_KEY = "sandbox-api-key"
#: The environment variable that carries the api-key, out of sight of ``ps``.
API_KEY_ENV = "RCS_SANDBOX_API_KEY"
DEFAULT_AGENTS = ("48900", "20700")
#: Database used when --db is not given, relative to the working directory.
DEFAULT_DB = Path(".sandbox") / "kaleyra.db"
MEMORY = ":memory:"
#: The line printed on stdout once the server accepts connections: ``listening on URL``.
LISTENING_PREFIX = "listening on "
