"""The transport to Kaleyra: one session, the retry policy, bounded reads, and the one place
that turns a failed exchange into a :class:`~rcs_provider._kaleyra.errors.TransportError`.

Retries follow :class:`~rcs_provider._kaleyra.retries.RetryPolicy` (urllib3's ``Retry`` plus
the POST rule, a Retry-After cap and a deadline), mounted on the session's adapter.

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
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .. import __version__
from . import watchdog
from .errors import MAY_HAVE_REGISTERED_HINT, TransportError
from .retries import RetryPolicy, attempts_of, format_seconds
from .settings import CONFIG_KEYS, ClientSettings, is_loopback, resolve_base_url
from .statuses import error_from_response

if TYPE_CHECKING:
    pass

__all__ = ["Transport"]

_log = logging.getLogger("rcs_provider.client")
_CHUNK_BYTES = 16_384


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
        retry = RetryPolicy(
            total=s.max_retries,
            connect=s.max_retries,
            read=s.max_retries,
            status=s.max_retries,
            other=0,
            allowed_methods=RetryPolicy.METHODS,
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
