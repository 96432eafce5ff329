"""How the client retries: the policy (urllib3's ``Retry``), Retry-After, and how many
attempts a response took.

Retries are urllib3's :class:`~urllib3.util.Retry`, mounted on the session's adapter
(:class:`RetryPolicy` adds the POST rule, a Retry-After cap and a deadline):

- Connection errors (nothing was sent) are retried for every method.
- ``GET`` (listing) is idempotent: read errors and 429/502/503/504 are retried.
- ``POST`` (registering) is re-sent only where Kaleyra cannot have acted on it (see
  :meth:`RetryPolicy.may_resend`): connection errors, 429 (throttled) and 503
  (unavailable). A read timeout, a dropped connection, a 502 or a 504 may follow a
  registration that reached Kaleyra, and re-sending it could invite the phone twice; those
  surface as errors and the caller checks the agent's tester list before trying again.
- Backoff is exponential with jitter, capped at ``backoff_max``; ``Retry-After`` is honoured
  up to ``max_retry_after``; no retry starts once ``total_timeout`` seconds (counted from the
  first failed attempt) would be exceeded.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import urlsplit

import urllib3.exceptions
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    import requests
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

__all__ = ["RetryPolicy", "attempts_of", "format_seconds", "parse_retry_after"]

_log = logging.getLogger("rcs_provider.client")
_IDEMPOTENT_METHODS = Retry.DEFAULT_ALLOWED_METHODS


class RetryPolicy(Retry):
    """urllib3 ``Retry`` plus POST safety, a Retry-After cap and an overall deadline."""

    #: A Retry-After on these (not on 413) may trigger a retry.
    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})
    #: Statuses after which a POST certainly was not acted on, so re-sending it is safe.
    POST_RETRY_STATUSES: Final = frozenset({429, 503})
    #: Methods sent at all through this policy; which of them may be re-sent when is
    #: :meth:`may_resend`'s call alone.
    METHODS: Final = frozenset({"GET", "POST"})

    def __init__(
        self,
        *args: Any,
        max_retry_after: float = 60.0,
        total_timeout: float = 300.0,
        started_at: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after
        self.total_timeout = total_timeout
        self.started_at = started_at
        self._backoff: float | None = None

    def new(self, **kw: Any) -> Self:
        """Copy with updated counters; the first copy starts the deadline clock."""
        kw.setdefault("max_retry_after", self.max_retry_after)
        kw.setdefault("total_timeout", self.total_timeout)
        kw.setdefault("started_at", self.started_at or time.monotonic())
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """As urllib3, within :meth:`may_resend`."""
        if not self.may_resend(method, status=status_code):
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def may_resend(
        self, method: str | None, *, status: int | None = None, error: Exception | None = None
    ) -> bool:
        """The POST rule, stated once: an idempotent method may always be sent again; any other
        only when Kaleyra certainly did not act on it (the connection never carried the
        request, or it answered a status in ``POST_RETRY_STATUSES``)."""
        if (method or "").upper() in _IDEMPOTENT_METHODS:
            return True
        if error is not None:
            return bool(self._is_connection_error(error))
        return status is None or status in self.POST_RETRY_STATUSES

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds from a Retry-After header, capped at ``max_retry_after``."""
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def _retry_after_beyond_cap(self, response: BaseHTTPResponse | None) -> float | None:
        """The uncapped Retry-After when it asks for more than ``max_retry_after`` (a daily
        quota, say): waiting that long inside one call is pointless, so the call gives up."""
        header = response.headers.get("Retry-After") if response is not None else None
        if not header or not self.respect_retry_after_header:
            return None
        try:
            seconds = Retry.parse_retry_after(self, header)
        except urllib3.exceptions.InvalidHeader:
            return None
        return seconds if seconds > self.max_retry_after else None

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """Capped Retry-After; an unparseable header falls back to exponential backoff."""
        try:
            return super().get_retry_after(response)
        except urllib3.exceptions.InvalidHeader:
            return None

    def get_backoff_time(self) -> float:
        """Backoff with jitter, drawn once per instance so the deadline check matches."""
        if self._backoff is None:
            self._backoff = super().get_backoff_time()
        return self._backoff

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        """Count a failed attempt; refuse unsafe POST retries and retries past the deadline."""
        if error is not None and not self.may_resend(method, error=error):
            # The request may have reached Kaleyra: do not send it again.
            raise error.with_traceback(_stacktrace)
        too_long = self._retry_after_beyond_cap(response)
        if too_long is not None:
            cap = urllib3.exceptions.ResponseError(
                f"Retry-After {format_seconds(too_long)} exceeds the "
                f"{format_seconds(self.max_retry_after)} cap"
            )
            raise urllib3.exceptions.MaxRetryError(_pool, url, cap) from cap  # type: ignore[arg-type]
        new_retry = super().increment(method, url, response, error, _pool, _stacktrace)
        wait = new_retry._next_wait(response)
        elapsed = time.monotonic() - (new_retry.started_at or time.monotonic())
        path = urlsplit(url or "").path
        if elapsed + wait > self.total_timeout:
            reason = error or urllib3.exceptions.ResponseError(
                f"the {format_seconds(self.total_timeout)} total timeout would be exceeded"
            )
            raise urllib3.exceptions.MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
        cause = f"HTTP {response.status}" if response is not None else type(error).__name__
        _log.info(
            "retrying %s %s after %s (attempt %d), waiting %.2fs",
            method,
            path,
            cause,
            len(new_retry.history) + 1,
            wait,
        )
        return new_retry

    def _next_wait(self, response: BaseHTTPResponse | None) -> float:
        """The sleep urllib3 is about to take before the next attempt."""
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
            if retry_after:
                return retry_after
        return self.get_backoff_time()


def format_seconds(seconds: float) -> str:
    """Render a duration for people: ``"1.5s"``, ``"30s"``, ``"5 min"``, ``"2 h"``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g}s"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def attempts_of(response: requests.Response) -> int:
    """How many attempts urllib3 made for ``response`` (1 when it was not retried)."""
    retries = getattr(getattr(response, "raw", None), "retries", None)
    history = getattr(retries, "history", None)
    return len(history) + 1 if isinstance(history, tuple) else 1
