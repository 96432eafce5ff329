"""What the Kaleyra calls answer: Kaleyra-shaped bodies, success and error, and the
personalities (API variants) that change some of them.

Error bodies never carry the tester's phone number (only ``echo_request_in_errors`` adds the
request to them, on purpose).

Kaleyra documents one tester call, register. Everything else (the list call, its shape, paging,
masking, the body of a 409) is undocumented, so the sandbox can play each plausible variant:

- ``documented``: the sandbox's default assumptions (list under ``data.testers``, 409 ``RCS409``
  carrying the existing id).
- ``no-list``: only the documented register path exists; every other ``/v1/`` path (the list
  paths, the register alias) answers 404, and a duplicate answers 409
  ``{"message": "Conflict (Subject already)"}`` with no id (the wording of Kaleyra's error table).
- ``bare-conflict``: a duplicate answers 409 with a plain-text body and no id; the list works.
- ``masked-list``: the list shows numbers masked like ``91953XXXXX92``.
- ``paged-list``: the list answers ``PAGE_SIZE`` testers per page, with ``page``, ``per_page``,
  ``total``, ``total_pages`` and a ``next`` link (``null`` on the last page) under ``data``.
- ``root-list``: the list is the whole body, a JSON array.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "JSON_TYPE",
    "PAGE_SIZE",
    "TEXT_TYPE",
    "Answer",
    "Personality",
    "agent_not_found",
    "already_registered",
    "conflict",
    "dumps",
    "error_in_success",
    "invalid_fields",
    "invalid_json",
    "iso_time",
    "list_answer",
    "method_not_allowed",
    "not_found",
    "quota_exceeded",
    "rate_limited",
    "refuses_path",
    "registered",
    "status_answer",
    "testers",
    "unauthorized",
]

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def iso_time(epoch: float) -> str:
    """``2025-01-31T12:00:00.123Z``."""
    text = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Answer:
    """A status, a body and extra headers, as the Kaleyra handler sends them.

    The body is JSON (any value) unless ``media_type`` says otherwise; then it is a ``str``.
    """

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = JSON_TYPE

    def encoded(self) -> bytes:
        """The body as sent."""
        if self.media_type == JSON_TYPE:
            return dumps(self.body)
        return str(self.body).encode()

    def raw_headers(self, length: int) -> list[tuple[bytes, bytes]]:
        """ASGI headers for a body of ``length`` bytes."""
        kind = self.media_type.encode()
        headers = [(b"content-type", kind), (b"content-length", b"%d" % length)]
        headers += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        return headers


def registered(agent_no: str, phoneno: str, registration_id: str) -> Answer:
    """200 RCS902, exactly as register-tester.txt shows it."""
    return Answer(
        200,
        {
            "code": "RCS902",
            "message": "Tester registration request sent successfully",
            "data": {
                "phoneno": phoneno,
                "agent_no": agent_no,
                "id": registration_id,
                "override_dcs_check": False,
            },
            "error": {},
        },
    )


def testers(records: list[dict[str, Any]]) -> Answer:
    """200 RCS903 with ``data.testers`` (the sandbox's assumption; Kaleyra shows no sample)."""
    return Answer(
        200,
        {
            "code": "RCS903",
            "message": "Testers fetched successfully",
            "data": {"testers": records},
            "error": {},
        },
    )


def unauthorized(reason: str) -> Answer:
    """401 for a wrong sid or a missing/wrong ``api-key``."""
    return Answer(
        401,
        {"code": 401, "message": "Missing or invalid authorization", "error": {"reason": reason}},
    )


def invalid_json(detail: str) -> Answer:
    """400 RCS701: wrong Content-Type or a body that is not JSON."""
    return Answer(400, {"code": "RCS701", "message": "Invalid JSON", "error": {"detail": detail}})


def invalid_fields(problems: dict[str, str]) -> Answer:
    """400 RCS904: missing or invalid fields, one message per field."""
    return Answer(
        400, {"code": "RCS904", "message": "Missing or invalid fields", "error": problems}
    )


def agent_not_found() -> Answer:
    """400 RCS904 "Agent Not Found"."""
    return Answer(
        400,
        {
            "code": "RCS904",
            "message": "Agent Not Found",
            "error": {"agent_no": "no such agent on this account"},
        },
    )


def already_registered(agent_no: str, registration_id: str) -> Answer:
    """409 RCS409 naming the existing registration (not the phone number)."""
    return Answer(
        409,
        {
            "code": "RCS409",
            "message": "Tester already registered for this agent",
            "data": {"agent_no": agent_no, "id": registration_id},
            "error": {"phoneno": "already registered as a tester of this agent"},
        },
    )


def quota_exceeded(agent_no: str, limit: int, retry_after: int) -> Answer:
    """429 when an agent's daily quota of new registrations is used up."""
    return Answer(
        429,
        {
            "code": 429,
            "message": f"Daily tester registration quota exceeded ({limit} per agent per day)",
            "error": {
                "quota": "daily_tester_registrations",
                "limit": limit,
                "agent_no": agent_no,
                "retry_after": retry_after,
            },
        },
        {"Retry-After": str(retry_after)},
    )


def rate_limited(retry_after: int) -> Answer:
    """429 "Throttling" with ``Retry-After``."""
    return Answer(
        429,
        {"code": 429, "message": "Throttling", "error": {"retry_after": retry_after}},
        {"Retry-After": str(retry_after)},
    )


_STATUS_BODIES: dict[int, tuple[int | str, str]] = {
    400: ("RCS904", "Missing or invalid fields"),
    401: (401, "Missing or invalid authorization"),
    403: (403, "Forbidden"),
    404: (404, "Not Found"),
    405: ("RCS405", "Method not allowed"),
    409: ("RCS409", "Conflict"),
    413: (413, "Request entity too large"),
    429: (429, "Throttling"),
    500: ("RCS500", "Internal server error"),
    501: (501, "Not implemented"),
    502: ("RCS502", "Bad gateway"),
    503: (503, "Temporal error, try again later"),
    504: (504, "Gateway timeout"),
}


def status_answer(status: int, *, retry_after: int = 1) -> Answer:
    """A generic Kaleyra-style body for any error status (injected 5xx, ``force_status``)."""
    code, message = _STATUS_BODIES.get(status, (status, _phrase(status)))
    headers = {"Retry-After": str(retry_after)} if status == 429 else {}
    return Answer(status, {"code": code, "message": message, "error": {}}, headers)


def error_in_success(status: int) -> Answer:
    """200 carrying the error body of ``status`` (``{"code": "RCS500", ..., "data": []}``):
    Kaleyra may report an error inside a success answer, with an empty list beside it."""
    body = status_answer(status).body
    return Answer(200, {"code": body["code"], "message": body["message"], "data": [], "error": {}})


def method_not_allowed() -> Answer:
    """405 RCS405."""
    return status_answer(405)


def not_found() -> Answer:
    """404 for an unknown Kaleyra path."""
    return status_answer(404)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


#: Testers per page in the ``paged-list`` personality.
PAGE_SIZE = 2
#: The 409 message of Kaleyra's RCS error table.
CONFLICT_MESSAGE = "Conflict (Subject already)"
_PLAIN_CONFLICT = "Tester already exists"
_VISIBLE_HEAD, _VISIBLE_TAIL = 5, 2


class Personality(StrEnum):
    """Which variant of the tester API the sandbox plays."""

    DOCUMENTED = "documented"
    NO_LIST = "no-list"
    BARE_CONFLICT = "bare-conflict"
    MASKED_LIST = "masked-list"
    PAGED_LIST = "paged-list"
    ROOT_LIST = "root-list"


def refuses_path(personality: Personality, *, documented_register: bool) -> Answer | None:
    """The 404 of a ``no-list`` Kaleyra for any call but the documented register path."""
    if personality is Personality.NO_LIST and not documented_register:
        return not_found()
    return None


def conflict(personality: Personality, agent_no: str, registration_id: str) -> Answer:
    """What a duplicate register call answers."""
    if personality is Personality.NO_LIST:
        return Answer(409, {"message": CONFLICT_MESSAGE})
    if personality is Personality.BARE_CONFLICT:
        return Answer(409, _PLAIN_CONFLICT, media_type=TEXT_TYPE)
    return already_registered(agent_no, registration_id)


def list_answer(
    personality: Personality,
    records: list[dict[str, Any]],
    *,
    path: str,
    agent_no: str,
    page: int,
) -> Answer:
    """The agent's tester list (``records`` oldest first) as this personality shows it."""
    if personality is Personality.MASKED_LIST:
        return testers([{**r, "phoneno": mask(r["phoneno"])} for r in records])
    if personality is Personality.ROOT_LIST:
        return Answer(200, records)
    if personality is Personality.PAGED_LIST:
        return _page(records, path=path, agent_no=agent_no, page=page)
    return testers(records)


def mask(phoneno: str) -> str:
    """``919530000092`` -> ``91953XXXXX92``."""
    hidden = max(0, len(phoneno) - _VISIBLE_HEAD - _VISIBLE_TAIL)
    return phoneno[:_VISIBLE_HEAD] + "X" * hidden + phoneno[len(phoneno) - _VISIBLE_TAIL :]


def _page(records: list[dict[str, Any]], *, path: str, agent_no: str, page: int) -> Answer:
    total_pages = max(1, math.ceil(len(records) / PAGE_SIZE))
    if page < 1 or page > total_pages:
        return invalid_fields({"page": f"must be between 1 and {total_pages}"})
    start = (page - 1) * PAGE_SIZE
    following = urlencode({"agent_number": agent_no, "page": page + 1})
    answer = testers(records[start : start + PAGE_SIZE])
    answer.body["data"] |= {
        "page": page,
        "per_page": PAGE_SIZE,
        "total": len(records),
        "total_pages": total_pages,
        "next": f"{path}?{following}" if page < total_pages else None,
    }
    return answer
