"""Kaleyra's codes, in one table, and the one rule that tells an error body from a success.

Kaleyra answers with a ``code`` in the body (``RCS902``) and may carry an error in a body sent
with HTTP 200 (``200 {"code": "RCS500", "data": [], "error": {}}``), so the status alone does
not say whether a call worked. A body reports an error, whatever its HTTP status, when it
carries a code of :data:`ERROR_CODES`, an integer ``code`` of 400 or more, or a non-empty
``error`` object. Such a body is then read as the answer its status would have been
(:func:`status_meant`), so that retries, adoption and the list fallback decide as for that
status. Pure functions of parsed JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "ERROR_CODES",
    "LIST_SUCCESS",
    "REGISTER_SUCCESS",
    "codes_in",
    "is_error_body",
    "is_success_code",
    "status_meant",
]

#: Register's success code, as Kaleyra's Register Tester page shows it.
REGISTER_SUCCESS: Final = "RCS902"
#: The list's success code. Kaleyra publishes no sample of the list answer; this is the code
#: the sandbox answers, taken to be Kaleyra's. A list answer with another code and no sign of
#: an error is read, and the code named in a warning (as a register answer's).
LIST_SUCCESS: Final = "RCS903"

#: Kaleyra's error codes and the HTTP status each stands for, whatever status carried it.
ERROR_CODES: Final[Mapping[str, int]] = {
    "RCS904": 400,  # a missing or invalid field, or an unknown agent
    "RCS601": 400,  # the RCS channel is not enabled for the account
    "RCS701": 400,  # the request body is not JSON
    "RCS405": 405,  # method not allowed: the account has no such call
    "RCS409": 409,  # already a tester of this agent (adopted, see conflicts.py)
    "RCS500": 500,  # Kaleyra's internal error
    "RCS502": 502,  # Kaleyra's upstream gave no valid answer
}


def is_error_body(doc: Any) -> bool:
    """Whether a parsed body reports an error: a code of :data:`ERROR_CODES`, an integer code
    of 400 or more, or a non-empty ``error`` object (at the top or under ``data``)."""
    if any(code.upper() in ERROR_CODES or _http_code(code) >= 400 for code in codes_in(doc)):
        return True
    return any(isinstance(error, Mapping) and error for error in _error_objects(doc))


def status_meant(doc: Any) -> int | None:
    """The HTTP status an error body stands for: its Kaleyra code's (:data:`ERROR_CODES`), else
    its integer code when that is an HTTP error status; ``None`` when it says no status."""
    codes = codes_in(doc)
    for code in codes:
        if code.upper() in ERROR_CODES:
            return ERROR_CODES[code.upper()]
    for code in codes:
        if 400 <= _http_code(code) < 600:
            return _http_code(code)
    return None


def is_success_code(code: str | None, *, success: str) -> bool:
    """Whether ``code`` (as :func:`codes_in` finds it) says success:
    none at all, ``success`` (:data:`REGISTER_SUCCESS` or :data:`LIST_SUCCESS`), or a 2xx."""
    return code is None or code.upper() == success or 200 <= _http_code(code) < 300


def codes_in(doc: Any) -> list[str]:
    """Every code a body carries, in the places Kaleyra's bodies put one (``code``,
    ``error.code``, ``data.error.error_code``, ``error_code``), as stripped text."""
    found: list[str] = []
    for keys in _CODE_PLACES:
        value: Any = doc
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            found.append(str(value).strip()[:40])
    return found


_CODE_PLACES = (("code",), ("error", "code"), ("data", "error", "error_code"), ("error_code",))


def _http_code(code: str) -> int:
    """An integer code's value (``"500"`` or ``500``), else -1."""
    return int(code) if code.isascii() and code.isdigit() and len(code) <= 4 else -1


def _error_objects(doc: Any) -> list[Any]:
    if not isinstance(doc, Mapping):
        return []
    data = doc.get("data")
    return [doc.get("error"), data.get("error") if isinstance(data, Mapping) else None]
