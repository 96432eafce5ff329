"""HTTP client for Kaleyra's RCS tester API. All of the project's HTTP lives here.

Retries are urllib3's :class:`~urllib3.util.Retry`, mounted on the session's adapter
(:class:`_KaleyraRetry` adds a POST safety rule, a Retry-After cap and a deadline):

- Connection errors (nothing was sent) are retried for every method.
- ``GET`` (listing) is idempotent: read errors and 429/502/503/504 are retried.
- ``POST`` (registering) is retried only where Kaleyra cannot have acted on it: connection
  errors, 429 (throttled) and 503 (unavailable, "try again later"). A read timeout, a
  dropped connection, a 502 or a 504 may follow a registration that reached Kaleyra, and
  re-sending it could invite the phone twice; those surface as :class:`TransportError` /
  :class:`ServerError` and the provider checks the agent's tester list before trying again.
- Backoff is exponential with jitter, capped at ``backoff_max``; ``Retry-After`` is honoured
  up to ``max_retry_after``; no retry starts once ``total_timeout`` seconds (counted from the
  first failed attempt) would be exceeded.

Thread safety: one :class:`requests.Session` is shared by all calls, and its connection pool
(``pool_maxsize`` 8) serves concurrent threads without blocking. requests does not promise
that a Session is thread-safe in general; the parts that are not (cookie-jar updates,
redirect handling, changing headers or adapters) are unused here: cookies are refused,
redirects are not followed and the session is configured once, in ``__init__``. Up to 8
threads may call one client at once (the provider uses 4).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import ipaddress
import json as jsonlib
import logging
import math
import re
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__, watchdog
from .errors import (
    ConfigurationError,
    KaleyraError,
    TransportError,
    UnparseableResponseError,
    error_from_response,
    extract_code_and_message,
    format_seconds,
)
from .listing import MAX_LIST_PAGES, TesterList, is_masked, page_info
from .phone import PhoneNumberError, mask_phone, normalize_phone

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_LIST_PATH",
    "DEFAULT_REGISTER_PATH",
    "LOOKUP_MODES",
    "POD_BASE_URLS",
    "SANDBOX_POD",
    "ClientSettings",
    "KaleyraClient",
    "Registration",
    "TesterRecord",
]

POD_BASE_URLS: Final[dict[str, str]] = {
    "in": "https://rcs-api.in.kaleyra.io",
    "na": "https://rcs-api.na.kaleyra.io",
}
SANDBOX_POD: Final = "sandbox"
DEFAULT_REGISTER_PATH: Final = "/v1/{sid}/rcs/agenttester/register"
DEFAULT_LIST_PATH: Final = "/v1/{sid}/rcs/agenttester/testersbyagent"

#: Stack config key for each :class:`ClientSettings` field (used in error messages).
CONFIG_KEYS: Final[dict[str, str]] = {
    "sid": "kaleyra:sid",
    "api_key": "kaleyra:apiKey",
    "pod": "kaleyra:pod",
    "base_url": "kaleyra:baseUrl",
    "register_path": "kaleyra:registerPath",
    "list_path": "kaleyra:listPath",
    "list_method": "kaleyra:listMethod",
    "connect_timeout": "kaleyra:connectTimeout",
    "read_timeout": "kaleyra:readTimeout",
    "max_retries": "kaleyra:maxRetries",
    "backoff_factor": "kaleyra:backoffFactor",
    "backoff_max": "kaleyra:backoffMax",
    "max_retry_after": "kaleyra:maxRetryAfter",
    "total_timeout": "kaleyra:totalTimeout",
    "max_response_bytes": "kaleyra:maxResponseBytes",
    "lookup": "kaleyra:lookup",
}
#: Values of ``kaleyra:lookup``: use the list while it works / always / never.
LOOKUP_MODES: Final = ("auto", "list", "register-only")

_log = logging.getLogger("rcs_provider.client")

_PHONE_KEYS = ("phoneno", "phone_no", "phone", "msisdn", "number")
_STATUS_KEYS = ("status", "test_status", "device_status", "tester_status")
_ID_KEYS = ("id", "tester_id", "registration_id")
_LIST_LOCATIONS: tuple[tuple[str, ...], ...] = (
    (),
    ("data",),
    ("data", "testers"),
    ("testers",),
    ("data", "items"),
)
_PHONE_TEXT = re.compile(r"\(?\+?[0-9 .()\-]+")
_HEADER_SAFE = re.compile(r"[!-~]+")  # printable ASCII, no spaces: safe as a header value
_CHUNK_BYTES = 16_384
_IDEMPOTENT_METHODS = Retry.DEFAULT_ALLOWED_METHODS


@dataclass(frozen=True)
class Registration:
    """A tester registration as Kaleyra confirmed it (``phoneno``/``agent_no`` as sent)."""

    id: str
    phoneno: str
    agent_no: str
    override_dcs_check: bool
    code: str | None
    message: str | None

    def __repr__(self) -> str:
        return (
            f"Registration(id={self.id!r}, phoneno={mask_phone(self.phoneno)!r}, "
            f"agent_no={self.agent_no!r}, override_dcs_check={self.override_dcs_check!r}, "
            f"code={self.code!r}, message={self.message!r})"
        )


@dataclass(frozen=True)
class TesterRecord:
    """One entry of an agent's tester list (``phoneno`` as E.164 digits without ``+``)."""

    phoneno: str
    status: str | None
    id: str | None

    def __repr__(self) -> str:
        return (
            f"TesterRecord(phoneno={mask_phone(self.phoneno)!r}, status={self.status!r}, "
            f"id={self.id!r})"
        )


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """Connection settings; invalid values raise :class:`ConfigurationError` naming the key.

    The base URL comes from ``base_url`` if set, else from ``pod`` (``in`` | ``na``;
    ``sandbox`` requires ``base_url``). ``http://`` is accepted for loopback hosts only.
    Paths may contain ``{sid}``. Times are in seconds.
    """

    sid: str
    api_key: str = field(repr=False)
    pod: str | None = None
    base_url: str | None = None
    register_path: str = DEFAULT_REGISTER_PATH
    list_path: str = DEFAULT_LIST_PATH
    list_method: str = "GET"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    total_timeout: float = 300.0
    max_response_bytes: int = 1_048_576
    lookup: str = "auto"

    def __post_init__(self) -> None:
        problems = _settings_problems(self)
        if problems:
            key = problems[0][0]
            raise ConfigurationError("; ".join(f"{k}: {m}" for k, m in problems), key=key)


def _settings_problems(s: ClientSettings) -> list[tuple[str, str]]:
    """Every invalid setting as (config key, what is wrong and what to do)."""
    problems: list[tuple[str, str]] = []

    def bad(name: str, message: str) -> None:
        problems.append((CONFIG_KEYS[name], message))

    if not isinstance(s.sid, str) or not s.sid.strip():
        bad("sid", "is empty; set it with `pulumi config set kaleyra:sid <sid>`")
    if not isinstance(s.api_key, str) or not s.api_key:
        bad("api_key", "is empty; set it with `pulumi config set --secret kaleyra:apiKey <key>`")
    elif not _HEADER_SAFE.fullmatch(s.api_key):
        bad(
            "api_key",
            "contains spaces or characters that cannot be sent in a header; "
            "set it again with `pulumi config set --secret kaleyra:apiKey <key>`",
        )
    try:
        _resolve_base_url(s.pod, s.base_url)
    except ConfigurationError as exc:
        problems.append((exc.key, str(exc).split(": ", 1)[-1]))
    for name in ("register_path", "list_path"):
        path = getattr(s, name)
        if not isinstance(path, str) or not path.startswith("/") or re.search(r"[\s?#]", path):
            bad(name, "must start with '/' and contain no spaces, '?' or '#'")
    if not isinstance(s.list_method, str) or s.list_method.upper() not in ("GET", "POST"):
        bad("list_method", "must be GET or POST")
    for name in ("connect_timeout", "read_timeout", "total_timeout"):
        if not _is_number(getattr(s, name)) or getattr(s, name) <= 0:
            bad(name, "must be a positive number of seconds")
    for name in ("backoff_factor", "backoff_max", "max_retry_after"):
        if not _is_number(getattr(s, name)) or getattr(s, name) < 0:
            bad(name, "must be a number of seconds, 0 or more")
    if not _is_int(s.max_retries) or s.max_retries < 0:
        bad("max_retries", "must be a whole number, 0 or more")
    if s.lookup not in LOOKUP_MODES:
        bad("lookup", f"must be one of {', '.join(LOOKUP_MODES)}")
    if not _is_int(s.max_response_bytes) or s.max_response_bytes <= 0:
        bad("max_response_bytes", "must be a positive whole number of bytes")
    return problems


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _resolve_base_url(pod: str | None, base_url: str | None) -> str:
    """The base URL (no trailing '/') from ``base_url`` or ``pod``; base_url wins."""
    pods = ", ".join([*POD_BASE_URLS, SANDBOX_POD])
    name = pod.strip().lower() if isinstance(pod, str) else None
    if pod is not None and name not in (*POD_BASE_URLS, SANDBOX_POD):
        shown = pod[:20] if isinstance(pod, str) else type(pod).__name__
        raise ConfigurationError(
            f"{CONFIG_KEYS['pod']}: unknown pod {shown!r}; use one of {pods}",
            key=CONFIG_KEYS["pod"],
        )
    if base_url:
        return _check_base_url(base_url)
    key = CONFIG_KEYS["base_url"]
    if name == SANDBOX_POD:
        raise ConfigurationError(
            f"{key}: pod 'sandbox' needs a base URL; set it with "
            f"`pulumi config set {key} http://127.0.0.1:<port>`",
            key=key,
        )
    if name is None:
        raise ConfigurationError(
            f"{CONFIG_KEYS['pod']}: neither a pod nor a base URL is set; set "
            f"{CONFIG_KEYS['pod']} to one of {pods}, or set {key}",
            key=CONFIG_KEYS["pod"],
        )
    return POD_BASE_URLS[name]


def _check_base_url(base_url: str) -> str:
    key = CONFIG_KEYS["base_url"]

    def fail(message: str) -> ConfigurationError:
        return ConfigurationError(f"{key}: {message}", key=key)

    if not isinstance(base_url, str):
        raise fail("must be a URL string such as https://rcs-api.in.kaleyra.io")
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise fail("has an invalid port") from None
    if scheme not in ("https", "http") or not host:
        raise fail("must be an https:// URL with a host, such as https://rcs-api.in.kaleyra.io")
    if parts.username is not None or parts.password is not None:
        raise fail("must not contain credentials; set the api-key as kaleyra:apiKey")
    if parts.query or parts.fragment:
        raise fail("must not contain a query or fragment")
    if scheme == "http" and not _is_loopback(host):
        raise fail(
            f"http:// is only allowed for a loopback host (127.0.0.1, ::1, localhost), "
            f"not {host}; use https://"
        )
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _KaleyraRetry(Retry):
    """urllib3 ``Retry`` plus POST safety, a Retry-After cap and an overall deadline."""

    #: A Retry-After on these (not on 413) may trigger a retry.
    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})
    #: Statuses after which a POST certainly was not acted on, so re-sending it is safe.
    POST_RETRY_STATUSES: Final = frozenset({429, 503})

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
        """As urllib3, but a POST is retried only on statuses in ``POST_RETRY_STATUSES``."""
        if method.upper() not in _IDEMPOTENT_METHODS and status_code not in (
            self.POST_RETRY_STATUSES
        ):
            return False
        return super().is_retry(method, status_code, has_retry_after)

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
        if (
            error is not None
            and (method or "").upper() not in _IDEMPOTENT_METHODS
            and not self._is_connection_error(error)
        ):
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


class KaleyraClient:
    """Registers and lists the testers of Kaleyra RCS agents.

    Errors are :class:`~rcs_provider.errors.KaleyraError` subclasses whose text reads
    ``Unable to <action>: <why>. <what to do>``; invalid phone numbers raise
    :class:`~rcs_provider.phone.PhoneNumberError` before any request. Safe to share between
    threads (see the module docstring). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self._settings = settings
        self._base_url = _resolve_base_url(settings.pod, settings.base_url)
        self._host = urlsplit(self._base_url).netloc
        self._session = self._build_session()

    @property
    def base_url(self) -> str:
        """The resolved base URL, without a trailing ``/``."""
        return self._base_url

    def register_tester(
        self, agent_no: str, phoneno: str, *, label: str | None = None
    ) -> Registration:
        """Register ``phoneno`` as a tester of agent ``agent_no`` (sends an invitation)."""
        phone = normalize_phone(phoneno)
        agent = _check_agent(agent_no)
        action = f"register tester {label or mask_phone(phone)} for agent {agent}"
        _log.debug("registering %s as a tester of agent %s", mask_phone(phone), agent)
        response, body = self._call(
            "POST",
            self._settings.register_path,
            action=action,
            json={"phoneno": phone, "agent_no": agent},
        )
        return self._parse_registration(response, body, phone, agent, action)

    def list_testers(self, agent_no: str, *, label: str | None = None) -> list[TesterRecord]:
        """The testers of agent ``agent_no``; raises rather than guess on an unknown body."""
        agent = _check_agent(agent_no)
        action = (
            f"look up tester {label} in the tester list of agent {agent}"
            if label
            else f"list the testers of agent {agent}"
        )
        method = self._settings.list_method.upper()
        response, body = self._call(
            method,
            self._settings.list_path,
            action=action,
            params={"agent_number": agent},
            json={"agent_number": agent} if method == "POST" else None,
        )
        return self._parse_testers(response, body, action)

    def tester_list(self, agent_no: str, *, label: str | None = None) -> TesterList:
        """The testers of agent ``agent_no``, following pagination signs page by page.

        Raises rather than guess on a body it does not understand; a list it could not read
        whole (too many pages, no way to the next page, a total that does not add up) comes
        back marked incomplete, and masked numbers are counted, not matched.
        """
        agent = _check_agent(agent_no)
        action = (
            f"look up tester {label} in the tester list of agent {agent}"
            if label
            else f"list the testers of agent {agent}"
        )
        method = self._settings.list_method.upper()
        first = {"agent_number": agent}
        params: dict[str, str] = first
        url: str | None = None
        seen = {urlencode(first)}
        records: list[TesterRecord] = []
        masked = 0
        signs: list[str] = []

        def partial(why: str, pages: int) -> TesterList:
            return TesterList(tuple(records), why, masked, tuple(signs), pages)

        for pages in range(1, MAX_LIST_PAGES + 1):
            response, body = self._call(
                method,
                self._settings.list_path,
                url=url,
                action=action,
                params=None if url else params,
                json=first if method == "POST" else None,
            )
            doc, page, page_masked = self._parse_list_page(response, body, action)
            records += page
            masked += page_masked
            info = page_info(
                doc, items_on_page=len(page) + page_masked, read_so_far=len(records) + masked
            )
            signs += [sign for sign in info.signs if sign not in signs]
            if not info.more:
                read = len(records) + masked
                if info.total is not None and info.total != read:
                    return partial(f"it said total={info.total} but {read} were listed", pages)
                return TesterList(tuple(records), None, masked, tuple(signs), pages)
            if info.next_link is not None:
                url = self._same_origin(info.next_link)
                if url is None:
                    return partial("its next-page link points away from the configured pod", pages)
            elif info.next_params:
                url, params = None, {**first, **info.next_params}
            else:
                return partial("it shows more testers but no way to fetch them", pages)
            following = url or urlencode(params)
            if following in seen:
                return partial("its pagination did not move on to a new page", pages)
            seen.add(following)
        return partial(f"it has more than {MAX_LIST_PAGES} pages", MAX_LIST_PAGES)

    def probe_register(self) -> KaleyraError | None:
        """Send the register call with an empty JSON object, which Kaleyra must refuse (400):
        an answer past its credential check proves the key and the path, registering nothing.
        Returns the error Kaleyra answered, or ``None`` if it (wrongly) accepted the call."""
        try:
            self._call(
                "POST",
                self._settings.register_path,
                action="check the register call with an empty body",
                json={},
            )
        except KaleyraError as err:
            return err
        return None

    def _same_origin(self, link: str) -> str | None:
        """``link`` resolved against the base URL, if it stays on the same scheme and host."""
        url = urljoin(self._base_url + "/", link)
        base = urlsplit(self._base_url)
        target = urlsplit(url)
        same = (target.scheme, target.netloc) == (base.scheme, base.netloc)
        return url if same else None

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KaleyraClient(base_url={self._base_url!r})"

    # -- HTTP ---------------------------------------------------------------------------

    def _build_session(self) -> requests.Session:
        s = self._settings
        retry = _KaleyraRetry(
            total=s.max_retries,
            connect=s.max_retries,
            read=s.max_retries,
            status=s.max_retries,
            other=0,
            allowed_methods=frozenset({"GET", "POST"}),
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
        session.trust_env = not _is_loopback(urlsplit(self._base_url).hostname or "")
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
        watchdog.install(adapter.poolmanager)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def _call(
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

        ``url`` (a next-page link) replaces the base URL and path."""
        s = self._settings
        if url is None:
            url = self._base_url + path_template.replace("{sid}", quote(s.sid, safe=""))
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
        attempts = _attempts(response)
        _log.info(
            "%s %s -> %d in %.3fs (attempt %d)",
            method,
            path,
            response.status_code,
            _since(started),
            attempts,
        )
        if not 200 <= response.status_code < 300:
            raise error_from_response(response, action=action, secrets=(s.api_key,))
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
            f"Check network access to {self._base_url} (proxy, firewall, DNS) and "
            f"{CONFIG_KEYS['pod']} / {CONFIG_KEYS['base_url']}."
        )

    @staticmethod
    def _retry_hint(method: str) -> str:
        if method.upper() == "POST":
            return (
                "The registration may have reached Kaleyra; run `pulumi up` again, which checks "
                "the agent's tester list before registering again."
            )
        return "Retry later; if Kaleyra is slow, raise kaleyra:readTimeout."

    # -- parsing ------------------------------------------------------------------------

    def _unparseable(
        self, response: requests.Response, action: str, why: str, hint: str
    ) -> UnparseableResponseError:
        request = response.request
        return UnparseableResponseError(
            why,
            hint=hint,
            action=action,
            status=response.status_code,
            method=str(request.method or ""),
            path=urlsplit(str(request.url or "")).path,
        )

    def _parse_registration(
        self, response: requests.Response, body: bytes, phone: str, agent: str, action: str
    ) -> Registration:
        status = response.status_code
        doc = _json_or(body, _NOT_JSON)
        hint = (
            "The tester may or may not be registered; check the agent's testers in the Kaleyra "
            "console, then run `pulumi up` again (it adopts an existing registration)."
        )
        if doc is _NOT_JSON:
            raise self._unparseable(
                response, action, f"Kaleyra answered {status} with a body that is not JSON", hint
            )
        data = doc.get("data") if isinstance(doc, dict) else None
        reg_id = _scalar(data.get("id") if isinstance(data, dict) else None)
        if reg_id is None and isinstance(doc, dict):
            reg_id = _scalar(doc.get("id"))
        code, message = extract_code_and_message(doc, secrets=(self._settings.api_key,))
        if reg_id is None:
            said = f" ({' '.join(p for p in (code, message) if p)})" if code or message else ""
            raise self._unparseable(
                response, action, f"Kaleyra answered {status} without a registration id{said}", hint
            )
        override = data.get("override_dcs_check") if isinstance(data, dict) else None
        return Registration(
            id=reg_id,
            phoneno=phone,
            agent_no=agent,
            override_dcs_check=override is True or str(override).lower() == "true",
            code=code,
            message=message or None,
        )

    def _parse_testers(
        self, response: requests.Response, body: bytes, action: str
    ) -> list[TesterRecord]:
        _, records, masked = self._parse_list_page(response, body, action)
        if masked:
            raise self._unparseable(
                response,
                action,
                f"{masked} entries of the tester list have a phone number that is masked or "
                "malformed",
                "Nothing was concluded from it; set kaleyra:lookup to auto or register-only if "
                "your account masks numbers in the list.",
            )
        return records

    def _parse_list_page(
        self, response: requests.Response, body: bytes, action: str
    ) -> tuple[Any, list[TesterRecord], int]:
        """One list page: its JSON, its records and how many entries had masked numbers."""
        status = response.status_code
        hint = (
            f"Nothing was concluded from it; check {CONFIG_KEYS['list_path']} and "
            f"{CONFIG_KEYS['list_method']} against Kaleyra's docs, or report the response shape."
        )
        doc = _json_or(body, _NOT_JSON)
        if doc is _NOT_JSON:
            raise self._unparseable(
                response, action, f"Kaleyra answered {status} with a body that is not JSON", hint
            )
        items = _find_list(doc)
        if items is None:
            code, message = extract_code_and_message(doc, secrets=(self._settings.api_key,))
            said = f" ({' '.join(p for p in (code, message) if p)})" if code or message else ""
            raise self._unparseable(
                response, action, f"Kaleyra answered {status} without a tester list{said}", hint
            )
        records: list[TesterRecord] = []
        masked = 0
        for index, item in enumerate(items):
            phone = _first(item, _PHONE_KEYS) if isinstance(item, dict) else None
            if isinstance(phone, str) and is_masked(phone):
                masked += 1
                continue
            record = _tester_record(item)
            if isinstance(record, str):
                raise self._unparseable(
                    response, action, f"item {index} of the tester list {record}", hint
                )
            records.append(record)
        return doc, records, masked


_NOT_JSON: Final = object()


def _json_or(body: bytes, default: object) -> Any:
    try:
        return jsonlib.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return default


def _find_list(doc: Any) -> list[Any] | None:
    for keys in _LIST_LOCATIONS:
        value = doc
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, list):
            return value
    return None


def _first(item: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if item.get(key) is not None:
            return item[key]
    return None


def _scalar(value: Any) -> str | None:
    """A non-empty str/int value as ``str``, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None


def _tester_record(item: Any) -> TesterRecord | str:
    """Parse one list item, or say (as a ``str``) why it cannot be parsed."""
    if not isinstance(item, dict):
        return f"is a JSON {type(item).__name__}, not an object"
    raw = _first(item, _PHONE_KEYS)
    if raw is None:
        return f"has no phone number (looked for {', '.join(_PHONE_KEYS)})"
    text = _scalar(raw)
    if text is None or not _PHONE_TEXT.fullmatch(text):
        return "has a phone number that is masked or malformed"
    digits = re.sub(r"[^0-9]", "", text)
    # Canonicalise like our own input; if that fails keep the digits as Kaleyra wrote them.
    with contextlib.suppress(PhoneNumberError):
        digits = normalize_phone(digits)
    return TesterRecord(
        phoneno=digits,
        status=_scalar(_first(item, _STATUS_KEYS)),
        id=_scalar(_first(item, _ID_KEYS)),
    )


def _check_agent(agent_no: str) -> str:
    if not isinstance(agent_no, str | int) or isinstance(agent_no, bool):
        raise ValueError(f"agent number must be a string, not {type(agent_no).__name__}")
    agent = str(agent_no).strip()
    if not agent or not _HEADER_SAFE.fullmatch(agent):
        raise ValueError("agent number must be a non-empty string without spaces")
    return agent


def _attempts(response: requests.Response) -> int:
    history = getattr(getattr(response.raw, "retries", None), "history", None)
    return len(history) + 1 if isinstance(history, tuple) else 1


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
