"""Connection settings of the Kaleyra client: one model, one validator, one table of keys.

Every setting has a public key (``kaleyra:sid``, ``kaleyra:readTimeout``...) under which it is
configured and named in errors. :func:`settings_from_values` reads them from any lookup
function (stack config, environment); :class:`ClientSettings` checks them, and that check is
the only one.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_LIST_PATH",
    "DEFAULT_REGISTER_PATH",
    "ENV_FALLBACKS",
    "LOOKUP_MODES",
    "PODS",
    "POD_BASE_URLS",
    "SANDBOX_BASE_URL",
    "SANDBOX_POD",
    "ClientSettings",
    "is_loopback",
    "resolve_base_url",
    "settings_from_values",
]

POD_BASE_URLS: Final[dict[str, str]] = {
    "in": "https://rcs-api.in.kaleyra.io",
    "na": "https://rcs-api.na.kaleyra.io",
}
#: The local Kaleyra-compatible API (``python -m rcs_provider.sandbox``).
SANDBOX_POD: Final = "sandbox"
#: Where the sandbox listens by default; pod ``sandbox`` without a base URL goes there.
SANDBOX_BASE_URL: Final = "http://127.0.0.1:8766"
#: Pods a configuration may name.
PODS: Final = (*POD_BASE_URLS, SANDBOX_POD)
DEFAULT_REGISTER_PATH: Final = "/v1/{sid}/rcs/agenttester/register"
DEFAULT_LIST_PATH: Final = "/v1/{sid}/rcs/agenttester/testersbyagent"

#: The key of each :class:`ClientSettings` field, as configured and as named in errors.
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
#: Values of ``kaleyra:lookup``: use the tester list while it works / always / never.
LOOKUP_MODES: Final = ("auto", "list", "register-only")
#: Environment variables read when a key is not configured.
ENV_FALLBACKS: Final[dict[str, str]] = {
    "sid": "KALEYRA_SID",
    "api_key": "KALEYRA_API_KEY",
    "pod": "KALEYRA_POD",
}
#: Numeric settings and the type each is read as.
_NUMBERS: Final[dict[str, type[int] | type[float]]] = {
    "connect_timeout": float,
    "read_timeout": float,
    "total_timeout": float,
    "max_retries": int,
    "backoff_factor": float,
    "backoff_max": float,
    "max_retry_after": float,
    "max_response_bytes": int,
}
_HEADER_SAFE = re.compile(r"[!-~]+")  # printable ASCII, no spaces: safe as a header value
#: A value still to be replaced, as the shipped stack files and the docs write them
#: (``REPLACE-WITH-ACCOUNT-SID``, ``<account SID>``).
_PLACEHOLDER = re.compile(r"^REPLACE-WITH|^<.*>$", re.IGNORECASE)

Problem = tuple[str, str]  # (config key, what is wrong)


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
        problems = _problems(self)
        if problems:
            raise ConfigurationError.of(problems)


_DEFAULTS: Final[dict[str, Any]] = {
    f.name: f.default for f in dataclasses.fields(ClientSettings) if f.name in _NUMBERS
}


def _problems(s: ClientSettings) -> list[Problem]:
    """Every invalid setting as (config key, what is wrong): the one validator."""
    problems: list[Problem] = []

    def bad(name: str, message: str) -> None:
        problems.append((CONFIG_KEYS[name], message))

    if not isinstance(s.sid, str) or not s.sid.strip():
        bad("sid", "is not set")
    elif _PLACEHOLDER.search(s.sid):
        bad("sid", f"is the placeholder {s.sid[:40]!r}, not an account SID")
    if not isinstance(s.api_key, str) or not s.api_key:
        bad("api_key", "is not set")
    elif _PLACEHOLDER.search(s.api_key):
        bad("api_key", "is a placeholder, not an api-key")
    elif not _HEADER_SAFE.fullmatch(s.api_key):
        bad("api_key", "contains spaces or characters that cannot be sent in a header")
    try:
        resolve_base_url(s.pod, s.base_url)
    except ConfigurationError as exc:
        problems += exc.problems
    for name in ("register_path", "list_path"):
        path = getattr(s, name)
        if not isinstance(path, str) or not path.startswith("/") or re.search(r"[\s?#]", path):
            bad(name, "must start with '/' and contain no spaces, '?' or '#'")
    if not isinstance(s.list_method, str) or s.list_method.upper() not in ("GET", "POST"):
        shown = s.list_method[:20] if isinstance(s.list_method, str) else s.list_method
        bad("list_method", f"must be GET or POST, got {shown!r}")
    for name in ("connect_timeout", "read_timeout", "total_timeout"):
        if not _is_number(getattr(s, name)) or getattr(s, name) <= 0:
            bad(name, f"must be a positive number of seconds, got {getattr(s, name)!r}")
    for name in ("backoff_factor", "backoff_max", "max_retry_after"):
        if not _is_number(getattr(s, name)) or getattr(s, name) < 0:
            bad(name, f"must be a number of seconds, 0 or more, got {getattr(s, name)!r}")
    if not _is_int(s.max_retries) or s.max_retries < 0:
        bad("max_retries", f"must be a whole number, 0 or more, got {s.max_retries!r}")
    if not _is_int(s.max_response_bytes) or s.max_response_bytes <= 0:
        bad("max_response_bytes", "must be a positive whole number of bytes")
    if s.lookup not in LOOKUP_MODES:
        shown = s.lookup[:20] if isinstance(s.lookup, str) else s.lookup
        bad("lookup", f"must be one of {', '.join(LOOKUP_MODES)}, got {shown!r}")
    return problems


def settings_from_values(
    get: Callable[[str], Any], environ: Mapping[str, str] | None = None
) -> ClientSettings:
    """Build settings from ``get(key)`` (keys as in :data:`CONFIG_KEYS`; values as strings,
    as a stack config holds them), with the :data:`ENV_FALLBACKS`. Pod ``sandbox`` without a
    base URL means :data:`SANDBOX_BASE_URL`. Every problem is reported at once."""
    env = os.environ if environ is None else environ
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name, key in CONFIG_KEYS.items():
        raw = get(key)
        if raw in (None, "") and name in ENV_FALLBACKS:
            raw = env.get(ENV_FALLBACKS[name]) or None
        if raw in (None, ""):
            continue
        if name in _NUMBERS:
            value = _number(raw, _NUMBERS[name])
            if value is None:
                kind = "a whole number" if _NUMBERS[name] is int else "a number of seconds"
                problems.append((key, f"must be {kind}, got {str(raw)[:20]!r}"))
            else:
                values[name] = value
        elif not isinstance(raw, str):
            problems.append((key, f"must be a string, got {type(raw).__name__}"))
        elif raw.strip():
            values[name] = raw.strip()
    if "list_method" in values:
        values["list_method"] = values["list_method"].upper()
    if values.get("pod") == SANDBOX_POD:
        values.setdefault("base_url", SANDBOX_BASE_URL)
        values["pod"] = None
    bad_keys = {key for key, _ in problems}
    try:  # sid and api_key are required: left out, the validator reports them as not set
        settings = ClientSettings(**{"sid": "", "api_key": "", **values})
    except ConfigurationError as exc:
        problems += [p for p in exc.problems if p[0] not in bad_keys]
    if problems:
        raise ConfigurationError.of(sorted(problems, key=_key_order))
    return settings


def _key_order(problem: Problem) -> int:
    return (
        list(CONFIG_KEYS.values()).index(problem[0]) if problem[0] in CONFIG_KEYS.values() else 99
    )


def _number(raw: object, kind: type[int] | type[float]) -> int | float | None:
    try:
        return kind(str(raw))
    except ValueError:
        return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def resolve_base_url(pod: str | None, base_url: str | None) -> str:
    """The base URL (no trailing '/') from ``base_url`` or ``pod``; base_url wins."""
    pods = ", ".join(PODS)
    pod_key, url_key = CONFIG_KEYS["pod"], CONFIG_KEYS["base_url"]
    name = pod.strip().lower() if isinstance(pod, str) else None
    if pod is not None and name not in PODS:
        shown = pod[:20] if isinstance(pod, str) else type(pod).__name__
        raise ConfigurationError.of([(pod_key, f"must be one of {pods}, got {shown!r}")])
    if base_url:
        return _check_base_url(base_url)
    if name == SANDBOX_POD:
        raise ConfigurationError.of(
            [
                (
                    url_key,
                    f"is not set: pod {SANDBOX_POD!r} needs a base URL (http://127.0.0.1:<port>)",
                )
            ]
        )
    if name is None:
        raise ConfigurationError.of(
            [(pod_key, f"is not set: set it to one of {pods}, or set {url_key}")]
        )
    return POD_BASE_URLS[name]


def _check_base_url(base_url: str) -> str:
    key = CONFIG_KEYS["base_url"]

    def fail(message: str) -> ConfigurationError:
        return ConfigurationError.of([(key, message)])

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
        raise fail(f"must not contain credentials; set the api-key as {CONFIG_KEYS['api_key']}")
    if parts.query or parts.fragment:
        raise fail("must not contain a query or fragment")
    if scheme == "http" and not is_loopback(host):
        raise fail(
            f"http:// is only allowed for a loopback host (127.0.0.1, ::1, localhost), "
            f"not {host}; use https://"
        )
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (traffic to it never leaves it)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
