"""A deadline for the status line and headers of a response.

urllib3's read timeout applies to each ``recv``: a server (or a broken proxy) that trickles its
status line or headers a byte at a time never trips it and can hold a pipeline for ever. The
connection classes here arm a timer when they start waiting for a response and shut the socket
down when it fires; the blocked read then fails at once. The client reads the body under its
own deadline, so the whole call is bounded.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

__all__ = ["header_deadline", "install", "last_call_timed_out"]


class _Call:
    """One client call: its header budget and whether the watchdog fired."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.fired = False


class _Current(threading.local):
    call: _Call | None = None
    last: _Call | None = None


_current = _Current()


@contextlib.contextmanager
def header_deadline(seconds: float) -> Iterator[None]:
    """Within this block, responses on this thread must deliver their headers in ``seconds``."""
    call = _Call(seconds)
    _current.call = _current.last = call
    try:
        yield
    finally:
        _current.call = None


def last_call_timed_out() -> bool:
    """Whether the watchdog cut the last call made on this thread."""
    return _current.last is not None and _current.last.fired


class _Watched:
    """Mixin: arm a timer around ``getresponse`` (status line and headers)."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        call = _current.call
        if call is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]

        def fire() -> None:
            call.fired = True
            if self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(call.budget, 0.0), fire)
        timer.daemon = True
        timer.start()
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            timer.cancel()


class WatchedHTTPConnection(_Watched, HTTPConnection):
    """HTTPConnection whose response headers are bounded by :func:`header_deadline`."""


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    """HTTPSConnection whose response headers are bounded by :func:`header_deadline`."""


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


def install(pool_manager: PoolManager) -> None:
    """Make ``pool_manager`` create watched connections (call before its first request)."""
    pool_manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
