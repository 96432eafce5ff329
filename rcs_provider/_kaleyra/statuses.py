"""Which error a Kaleyra answer is: the one status-to-error table, applied to a non-success
response or to a success whose body reports an error (see :mod:`.codes`: mapped as the status
its code stands for), with the request id and Retry-After the answer carried. Kaleyra's text is
scrubbed here: phone numbers masked, the api-key and other secrets removed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._phones import DAILY_INVITATION_LIMIT, redact_digits
from .codes import status_meant
from .conflicts import existing_registration_id, is_already_registered
from .errors import (
    REJECTED_KEY_HINT,
    AlreadyRegisteredError,
    AuthenticationError,
    InvalidRequestError,
    KaleyraError,
    RateLimitedError,
    ServerError,
    UnparseableResponseError,
)
from .parsing import extract_code_and_message, load_json
from .retries import attempts_of, format_seconds, parse_retry_after

if TYPE_CHECKING:
    import requests

__all__ = ["REQUEST_ID_HEADERS", "error_from_response"]

REQUEST_ID_HEADERS = ("x-request-id", "x-kaleyra-request-id", "request-id", "x-amzn-requestid")
_REQUEST_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:/=+\-]")
_SUPPORT_HINT = "Retry later; if it persists, contact Kaleyra support"


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
        "action": redact_digits(action),
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
