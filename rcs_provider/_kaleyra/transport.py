"""The transport to Kaleyra: one session, the retry policy, bounded reads, and the one place
that turns a failed exchange into a :class:`~rcs_provider._kaleyra.errors.TransportError`.

Retries are urllib3's :class:`~urllib3.util.Retry`, mounted on the session's adapter
(:class:`_KaleyraRetry` adds the POST rule, a Retry-After cap and a deadline):

- Connection errors (nothing was sent) are retried for every method.
- ``GET`` (listing) is idempotent: read errors and 429/502/503/504 are retried.
- ``POST`` (registering) is re-sent only where Kaleyra cannot have acted on it (see
  :meth:`_KaleyraRetry.may_resend`): connection errors, 429 (throttled) and 503
  (unavailable). A read timeout, a dropped connection, a 502 or a 504 may follow a
  registration that reached Kaleyra, and re-sending it could invite the phone twice; those
  surface as errors and the caller checks the agent's tester list before trying again.
- Backoff is exponential with jitter, capped at ``backoff_max``; ``Retry-After`` is honoured
  up to ``max_retry_after``; no retry starts once ``total_timeout`` seconds (counted from the
  first failed attempt) would be exceeded.

Each call is bounded by connect/read timeouts, a header deadline (:mod:`.watchdog`), a body
deadline and a body size cap.

Thread safety: one :class:`requests.Session` is shared by all calls, and its connection pool
(``pool_maxsize`` 8) serves concurrent threads without blocking. requests does not promise
that a Session is thread-safe in general; the parts that are not (cookie-jar updates,
redirect handling, changing headers or adapters) are unused here: cookies are refused,
redirects are not followed and the session is configured once, in ``__init__``.
"""

from __future__ import annotations

import http.cookiejar
import logging
import re
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .. import __version__
from . import watchdog
from .errors import (
    MAY_HAVE_REGISTERED_HINT,
    TransportError,
    attempts_of,
    error_from_response,
    format_seconds,
)
from .settings import CONFIG_KEYS, ClientSettings, is_loopback, resolve_base_url

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

__all__ = ["Transport"]

_log = logging.getLogger("rcs_provider.client")
_CHUNK_BYTES = 16_384
_IDEMPOTENT_METHODS = Retry.DEFAULT_ALLOWED_METHODS


class _KaleyraRetry(Retry):
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


class Transport:
    """Sends one logical request (retries inside) and returns a 2xx response and its body,
    or raises a :class:`~rcs_provider._kaleyra.errors.KaleyraError`."""

    def __init__(self, settings: ClientSettings) -> None:
        self._settings = settings
        self.base_url = resolve_base_url(settings.pod, settings.base_url)
        self._host = urlsplit(self.base_url).netloc
        self._session = self._build_session()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def _build_session(self) -> requests.Session:
        s = self._settings
        retry = _KaleyraRetry(
            total=s.max_retries,
            connect=s.max_retries,
            read=s.max_retries,
            status=s.max_retries,
            other=0,
            allowed_methods=_KaleyraRetry.METHODS,
            status_forcelist=frozenset({429, 502, 503, 504}),
            backoff_factor=s.backoff_factor,
            backoff_jitter=s.backoff_factor,
            backoff_max=s.backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,
            max_retry_after=s.max_retry_after,
            total_timeout=s.total_timeout,
        )
        session = requests.Session()
        session.headers.update(
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "api-key": s.api_key,
                "User-Agent": f"rcs-testers/{__version__}",
            }
        )
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        # Proxies, netrc and CA bundles from the environment apply to the real pods only:
        # loopback traffic (the sandbox, tests) must never leave the machine.
        session.trust_env = not is_loopback(urlsplit(self.base_url).hostname or "")
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
        watchdog.install(adapter.poolmanager)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def request(
        self,
        method: str,
        path_template: str,
        *,
        action: str,
        params: dict[str, str] | None = None,
        json: dict[str, str] | None = None,
        url: str | None = None,
    ) -> tuple[requests.Response, bytes]:
        """Send one logical request (urllib3 retries inside); return a 2xx response and body.

        ``url`` (a next-page link, checked by the caller to stay on the base URL's host)
        replaces the base URL and path."""
        s = self._settings
        if url is None:
            url = self.base_url + path_template.replace("{sid}", quote(s.sid, safe=""))
        path = urlsplit(url).path
        started = time.monotonic()
        try:
            with watchdog.header_deadline(self._header_budget()):
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    timeout=(s.connect_timeout, s.read_timeout),
                    stream=True,
                    allow_redirects=False,  # a redirect would carry the api-key elsewhere
                    verify=True,
                )
        except (requests.RequestException, OSError) as exc:
            _log.warning(
                "%s %s failed after %.3fs: %s", method, path, _since(started), type(exc).__name__
            )
            raise self._transport_error(exc, method, path, action) from exc
        if watchdog.last_call_timed_out():
            # The headers were cut short: what arrived is not a response to trust.
            response.close()
            cut = requests.ConnectionError("headers cut off by the watchdog")
            raise self._transport_error(cut, method, path, action)
        try:
            body = self._read_body(response, method, path, action)
        finally:
            response.close()
        response._content = body
        attempts = attempts_of(response)
        _log.info(
            "%s %s -> %d in %.3fs (attempt %d)",
            method,
            path,
            response.status_code,
            _since(started),
            attempts,
        )
        if not 200 <= response.status_code < 300:
            raise error_from_response(
                response,
                action=action,
                secrets=(s.api_key,),
                phone_sent=json is not None and "phoneno" in json,
            )
        return response, body

    def _read_body(self, response: requests.Response, method: str, path: str, action: str) -> bytes:
        """Read at most ``max_response_bytes`` within ``read_timeout`` seconds."""
        limit = self._settings.max_response_bytes
        read_timeout = self._settings.read_timeout

        def fail(why: str, hint: str) -> TransportError:
            return TransportError(
                why,
                hint=hint,
                action=action,
                status=response.status_code,
                method=method,
                path=path,
            )

        def too_large() -> TransportError:
            return fail(
                f"the response was larger than {limit} bytes",
                f"Check {CONFIG_KEYS['base_url']} points at the Kaleyra RCS API; raise "
                f"{CONFIG_KEYS['max_response_bytes']} if the answer is legitimately that large.",
            )

        declared = response.headers.get("Content-Length", "")
        if re.fullmatch(r"[0-9]+", declared) and int(declared) > limit:
            raise too_large()
        deadline = time.monotonic() + read_timeout
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.raw.read1(
                min(_CHUNK_BYTES, limit + 1 - size), decode_content=True
            ):
                size += len(chunk)
                if size > limit:
                    raise too_large()
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise fail(
                        f"{self._host} sent the response too slowly (not complete within the "
                        f"{format_seconds(read_timeout)} read timeout)",
                        self._retry_hint(method),
                    )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise fail(
                f"the connection to {self._host} broke while reading the response "
                f"({type(exc).__name__})",
                self._retry_hint(method),
            ) from exc
        return b"".join(chunks)

    def _transport_error(
        self, exc: requests.RequestException | OSError, method: str, path: str, action: str
    ) -> TransportError:
        s = self._settings
        host = self._host
        if watchdog.last_call_timed_out():
            budget = format_seconds(self._header_budget())
            why = f"{host} sent its status line and headers too slowly (not within {budget})"
            hint = self._retry_hint(method)
        elif isinstance(exc, requests.ConnectTimeout):
            limit = format_seconds(s.connect_timeout)
            why = f"could not connect to {host} within the {limit} connect timeout"
            hint = self._network_hint()
        elif isinstance(exc, requests.exceptions.SSLError):
            why = f"the TLS certificate of {host} could not be verified"
            hint = (
                f"Check {CONFIG_KEYS['base_url']} and the system CA certificates "
                "(REQUESTS_CA_BUNDLE); certificate verification cannot be disabled."
            )
        elif isinstance(exc, requests.ReadTimeout) or _timed_out(exc):
            why = f"{host} did not answer within the {format_seconds(s.read_timeout)} read timeout"
            hint = self._retry_hint(method)
        elif isinstance(exc, requests.ConnectionError) and _never_sent(exc):
            why = f"could not connect to {host} ({_connection_reason(exc)})"
            hint = self._network_hint()
        elif isinstance(exc, requests.ConnectionError):
            why = f"the connection to {host} failed ({_connection_reason(exc)})"
            hint = self._retry_hint(method)
        elif not isinstance(exc, requests.RequestException):
            why = f"the request to {host} could not be prepared ({type(exc).__name__})"
            hint = "Check the CA bundle settings (REQUESTS_CA_BUNDLE, SSL_CERT_FILE)."
        else:
            why = f"the request to {host} failed ({type(exc).__name__})"
            hint = self._retry_hint(method)
        return TransportError(why, hint=hint, action=action, method=method, path=path)

    def _header_budget(self) -> float:
        """How long a response may take to deliver its status line and headers: twice the
        read timeout (a slow start, then the headers), within the total time budget."""
        s = self._settings
        return min(2 * s.read_timeout, s.total_timeout)

    def _network_hint(self) -> str:
        return (
            f"Check network access to {self.base_url} (proxy, firewall, DNS) and "
            f"{CONFIG_KEYS['pod']} / {CONFIG_KEYS['base_url']}."
        )

    @staticmethod
    def _retry_hint(method: str) -> str:
        if method.upper() == "POST":
            return MAY_HAVE_REGISTERED_HINT
        return "Retry later; if Kaleyra is slow, raise kaleyra:readTimeout."


def _since(started: float) -> float:
    return time.monotonic() - started


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (``args``, ``reason``, ``__cause__``, ``__context__``)."""
    seen: list[BaseException] = []
    stack: list[object] = [exc]
    while stack and len(seen) < 20:
        current = stack.pop()
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        stack.extend(
            [
                *current.args,
                getattr(current, "reason", None),
                current.__cause__,
                current.__context__,
            ]
        )
    return seen


def _timed_out(exc: BaseException) -> bool:
    """True when a read timed out, also when urllib3 wrapped it after exhausting retries."""
    return any(isinstance(c, urllib3.exceptions.ReadTimeoutError) for c in _causes(exc))


def _never_sent(exc: BaseException) -> bool:
    """True when the connection was never established (nothing reached the server)."""
    return any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in _causes(exc))


def _connection_reason(exc: BaseException) -> str:
    causes = _causes(exc)
    if any(isinstance(c, urllib3.exceptions.NameResolutionError) for c in causes):
        return "host name not found"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "connection refused"
    if any(isinstance(c, ConnectionResetError | BrokenPipeError) for c in causes):
        return "connection reset"
    if any(isinstance(c, urllib3.exceptions.ProtocolError) for c in causes):
        return "connection closed without a response"
    return type(exc).__name__
