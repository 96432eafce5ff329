"""The Kaleyra client's errors: one root, :class:`KaleyraError`, the subtree under it, and the
one table that maps a response's status to an error. An error reported inside the body of a
success answer (see :mod:`.codes`) is mapped as the status its code stands for.

Every error reads ``Unable to <action>: <why>. <what to do>``. Messages never carry the api-key
or a full phone number: server text is scrubbed with :func:`~rcs_provider._domain.redact_digits`
and the api-key sent with the request. Hints name settings by their ``kaleyra:`` keys and say
nothing of how they are set (that is the caller's business).
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._domain import DAILY_INVITATION_LIMIT, redact_digits
from .codes import status_meant
from .conflicts import existing_registration_id, is_already_registered
from .parsing import extract_code_and_message, load_json

if TYPE_CHECKING:
    import requests

__all__ = [
    "MAY_HAVE_REGISTERED_HINT",
    "REJECTED_KEY_HINT",
    "UNCONFIRMED_REGISTRATION_HINT",
    "AlreadyRegisteredError",
    "AuthenticationError",
    "ConfigurationError",
    "InvalidRequestError",
    "KaleyraError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "UnparseableResponseError",
    "attempts_of",
    "error_from_response",
    "format_seconds",
    "parse_retry_after",
]

REQUEST_ID_HEADERS = ("x-request-id", "x-kaleyra-request-id", "request-id", "x-amzn-requestid")
_REQUEST_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:/=+\-]")
_SUPPORT_HINT = "Retry later; if it persists, contact Kaleyra support"

#: Hints whose next step depends on the tool driving the client (which may reword them).
REJECTED_KEY_HINT = "Set kaleyra:apiKey to the account's api-key."
MAY_HAVE_REGISTERED_HINT = (
    "The registration may have reached Kaleyra; check the agent's tester list before "
    "registering again."
)
UNCONFIRMED_REGISTRATION_HINT = (
    "The tester may or may not be registered; check the agent's testers in the Kaleyra "
    "console before registering again."
)


class KaleyraError(Exception):
    """The root of the client's errors: a Kaleyra API call failed, or could not be made.

    Attributes: ``status`` (HTTP status or ``None``), ``code`` (Kaleyra code such as
    ``"RCS904"``), ``message`` (Kaleyra's message, redacted), ``method``, ``path`` (no
    query), ``request_id``, ``retry_after`` (seconds), ``action`` and ``attempts``;
    ``in_body`` when Kaleyra reported the error inside a success (2xx) answer, and then
    ``status_meant``, the status its code stands for (``None``: a code of no known meaning).
    """

    def __init__(
        self,
        why: str,
        *,
        action: str,
        hint: str = "",
        status: int | None = None,
        code: str | None = None,
        message: str = "",
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
        in_body: bool = False,
        status_meant: int | None = None,
    ) -> None:
        self.action = redact_digits(action)
        self.why = why.rstrip(". ")
        self.hint = hint
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts
        self.in_body = in_body
        self.status_meant = status_meant
        super().__init__(self._text())

    @property
    def effective_status(self) -> int | None:
        """The status whose meaning the error carries: ``status_meant`` for an error reported
        inside a success answer, else the HTTP status. Decisions (retry, adopt, fall back)
        read this one."""
        return self.status_meant if self.in_body else self.status

    def _text(self) -> str:
        text = f"Unable to {self.action}: {self.why}."
        return f"{text} {self.hint}" if self.hint else text

    def __str__(self) -> str:
        return str(self.args[0])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"method={self.method!r}, path={self.path!r}, request_id={self.request_id!r}, "
            f"message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[KaleyraError], state: dict[str, Any]) -> KaleyraError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    err.args = (err._text(),)
    return err


class ConfigurationError(KaleyraError, ValueError):
    """A client setting is invalid. ``problems`` lists each as (config key, what is wrong);
    ``key`` is the first key (e.g. ``kaleyra:baseUrl``)."""

    def __init__(self, message: str, *, key: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        self.key = key
        self.problems = list(problems) or [(key, message)]
        super().__init__(message, action="configure the Kaleyra client")
        self.why = message
        self.args = (message,)

    @classmethod
    def of(cls, problems: Sequence[tuple[str, str]]) -> ConfigurationError:
        """One error listing ``problems``, as ``<key>: <what is wrong>; ...``."""
        text = "; ".join(f"{key}: {message}" for key, message in problems)
        return cls(text, key=problems[0][0], problems=problems)

    def _text(self) -> str:
        return self.why


class AuthenticationError(KaleyraError):
    """401/403: the api-key is missing, wrong, or lacks permission."""


class InvalidRequestError(KaleyraError):
    """400 and other non-retryable 4xx: Kaleyra rejected the request as sent."""


class AlreadyRegisteredError(InvalidRequestError):
    """The number is already a tester of the agent (nothing was sent to the phone): any
    answer in :data:`~rcs_provider._kaleyra.conflicts.ALREADY_REGISTERED`. ``existing_id`` is the
    existing registration's id when the answer carried one."""

    existing_id: str | None = None


class RateLimitedError(KaleyraError):
    """429: throttled, typically the per-agent daily invitation quota; see ``retry_after``."""


class ServerError(KaleyraError):
    """5xx: Kaleyra failed; retrying later may succeed."""


class TransportError(KaleyraError):
    """No usable answer: connection failure, timeout, oversized or too slow response body."""


class UnparseableResponseError(KaleyraError):
    """Kaleyra answered, but with a body or status this client cannot interpret."""


def format_seconds(seconds: float) -> str:
    """Render a duration for people: ``"1.5s"``, ``"30s"``, ``"5 min"``, ``"2 h"``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g}s"


def error_from_response(
    response: requests.Response,
    *,
    action: str,
    secrets: Iterable[str] = (),
    phone_sent: bool = True,
) -> KaleyraError:
    """Map a non-success response, or a success whose body reports an error (see
    :mod:`.codes`), to the matching :class:`KaleyraError` subclass.

    A success's error body is classified as the status its code stands for. The body is parsed
    leniently (``code`` string or int; message and code at the top
    level, under ``error`` or under ``data.error``). Kaleyra's message is redacted: phone
    numbers are masked, and the request's ``api-key`` header value plus any ``secrets``
    are removed. ``phone_sent=False`` (a list call) keeps the phone number out of the hint.
    Reads ``response.content``, so bound the body before calling this.
    """
    request = getattr(response, "request", None)
    method = str(getattr(request, "method", "") or "")
    url = str(getattr(request, "url", None) or response.url or "")
    path = urlsplit(url).path
    hidden = [*secrets, _header(getattr(request, "headers", None), "api-key") or ""]
    body = load_json(response.content or b"null")
    code, message = extract_code_and_message(body, secrets=hidden)
    in_body = 200 <= response.status_code < 300
    meant = status_meant(body) if in_body else response.status_code
    fields: dict[str, Any] = {
        "action": action,
        "status": response.status_code,
        "code": code,
        "message": message,
        "method": method,
        "path": path,
        "request_id": _request_id(response.headers, hidden),
        "retry_after": parse_retry_after(response.headers.get("Retry-After")),
        "attempts": attempts_of(response),
    }
    cls, why, hint = _classify(meant, code, message, fields, phone_sent=phone_sent)
    body_fields: dict[str, Any] = {"in_body": True, "status_meant": meant} if in_body else {}
    error = cls(why, hint=hint, **fields, **body_fields)
    if isinstance(error, AlreadyRegisteredError):
        error.existing_id = existing_registration_id(body)
    return error


def _classify(
    status: int | None,
    code: str | None,
    message: str,
    fields: Mapping[str, Any],
    *,
    phone_sent: bool,
) -> tuple[type[KaleyraError], str, str]:
    """The single status -> (error class, why, what to do) table; ``status`` is the one the
    answer means (``None``: an error body in a success answer that names no known status)."""
    phone = " and the phone number" if phone_sent else ""
    detail = _detail(fields["status"], code, message, fields["attempts"], meant=status)
    upper_code = (code or "").upper()
    request_id = fields["request_id"]
    support = _SUPPORT_HINT + (f" quoting request id {request_id}." if request_id else ".")
    if status == 401:
        return (
            AuthenticationError,
            "Kaleyra rejected the api-key (401)",
            REJECTED_KEY_HINT,
        )
    if status == 403:
        return (
            AuthenticationError,
            f"Kaleyra refused access ({detail}): the api-key lacks permission for this "
            "account or the RCS channel is not enabled",
            "Check kaleyra:sid and kaleyra:apiKey belong to the same account; to enable RCS, "
            "contact your Kaleyra representative.",
        )
    if status is None:
        return (
            UnparseableResponseError,
            f"Kaleyra reported an error this client does not know ({detail})",
            f"Check the agent number{phone}; if it persists, ask Kaleyra support what the "
            "error means.",
        )
    if phone_sent and is_already_registered(status, code, message):
        return (
            AlreadyRegisteredError,
            f"the number is already a tester of this agent ({detail})",
            "No new invitation was sent; adopt the existing registration.",
        )
    if status == 429:
        retry_after = fields["retry_after"]
        when = f"in {format_seconds(retry_after)}" if retry_after is not None else "later"
        return (
            RateLimitedError,
            f"Kaleyra is throttling requests ({detail}); the agent may have used its daily "
            "tester invitation quota (Google RBM allows "
            f"{DAILY_INVITATION_LIMIT} new testers per agent per day)",
            f"Retry {when}; if the daily quota is used up, retry tomorrow or spread new "
            "testers over several days.",
        )
    if 400 <= status < 500:
        if upper_code == "RCS904":
            fields_or_agent = "a missing or invalid field, or " if phone_sent else ""
            why = f"Kaleyra reported {fields_or_agent}an unknown agent ({detail})"
            hint = (
                f"Check the agent number (the agent's service code in the Kaleyra console){phone}."
            )
        elif upper_code == "RCS601":
            why = f"the RCS channel is not enabled for this Kaleyra account ({detail})"
            hint = "Contact your Kaleyra representative to enable the RCS channel."
        elif upper_code == "RCS701":
            why = f"Kaleyra could not parse the request body as JSON ({detail})"
            hint = "This is a bug in rcs-testers or in a proxy on the way; please report it."
        elif status == 404:
            why = f"Kaleyra found no such endpoint or agent ({detail})"
            hint = (
                "Check kaleyra:pod, kaleyra:baseUrl, kaleyra:registerPath, kaleyra:listPath "
                "and the agent number."
            )
        elif status == 405 or upper_code == "RCS405":
            why = f"Kaleyra does not allow {fields['method'] or 'this method'} here ({detail})"
            hint = "Check kaleyra:registerPath and kaleyra:listPath against Kaleyra's docs."
        elif status == 413:
            why = f"Kaleyra rejected the request as too large ({detail})"
            hint = "This is a bug in rcs-testers; please report it."
        else:
            why = f"Kaleyra rejected the request ({detail})"
            hint = f"Check the agent number{phone}."
        return InvalidRequestError, why, hint
    if 500 <= status < 600:
        what = {
            502: "Kaleyra's gateway got no valid answer upstream",
            503: "Kaleyra is temporarily unavailable",
            504: "Kaleyra's gateway timed out upstream",
        }.get(status, "Kaleyra had an internal error")
        return ServerError, f"{what} ({detail})", support
    return (
        UnparseableResponseError,
        f"Kaleyra answered with an unexpected HTTP status ({detail})",
        "Check kaleyra:baseUrl points at the Kaleyra RCS API (redirects are not followed).",
    )


def _detail(
    status: int, code: str | None, message: str, attempts: int, *, meant: int | None
) -> str:
    """``"400 RCS904: Agent not found"`` (``"RCS904 inside a 200 answer: ..."`` when a success
    carried it), plus ``"; after 6 attempts"`` when retried."""
    if 200 <= status < 300 and meant != status:
        text = f"{code or 'an error'} inside a {status} answer"
    else:
        text = " ".join(str(p) for p in (status, code) if p)
    if message:
        text = f"{text}: {message}"
    return f"{text}; after {attempts} attempts" if attempts > 1 else text


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value if isinstance(value, str) else None


def _request_id(headers: Mapping[str, str], secrets: Iterable[str]) -> str | None:
    """The first request-id header, reduced to safe characters; dropped if it holds a secret."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value and value.strip():
            if any(secret and secret in value for secret in secrets):
                return None
            return redact_digits(_REQUEST_ID_UNSAFE.sub("", value.strip())[:100]) or None
    return None


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
