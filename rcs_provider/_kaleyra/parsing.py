"""Lenient readers for Kaleyra's response bodies.

Kaleyra publishes the register response but not the list response, and its error bodies vary
in shape, so each reader tries the plausible shapes and says, rather than guesses, when none
fits. Pure functions of parsed JSON: no HTTP and no errors raised here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .._phones import PHONE_TEXT, PhoneNumberError, mask_phone, normalize_phone, redact_digits
from .codes import codes_in, is_error_body

__all__ = [
    "NOT_JSON",
    "Registration",
    "TesterRecord",
    "extract_code_and_message",
    "is_masked",
    "load_json",
    "registration_from",
    "tester_page",
    "testers_from",
]

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
_MASKED = re.compile(r"[0-9+ .()\-]*[Xx*#•][0-9Xx*#•+ .()\-]*")
_MAX_MESSAGE_CHARS = 200
_KALEYRA_CODE = re.compile(r"[A-Za-z]+[0-9]+")
#: What :func:`load_json` returns for a body that is not JSON.
NOT_JSON: Final = object()


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
        return _masked_repr(self)


@dataclass(frozen=True)
class TesterRecord:
    """One entry of an agent's tester list (``phoneno`` as E.164 digits without ``+``)."""

    phoneno: str
    status: str | None
    id: str | None

    def __repr__(self) -> str:
        return _masked_repr(self)


def _masked_repr(record: Registration | TesterRecord) -> str:
    """The dataclass repr with ``phoneno`` masked (reprs end up in logs and tracebacks)."""
    shown = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    shown["phoneno"] = mask_phone(record.phoneno)
    return f"{type(record).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def load_json(body: bytes, default: object = None) -> Any:
    """``body`` parsed as JSON, or ``default`` (e.g. :data:`NOT_JSON`) when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return default


def registration_from(
    doc: Any, phone: str, agent: str, *, status: int, secrets: Iterable[str] = ()
) -> Registration | str:
    """The registration a register response confirms, or (as a ``str``) why it confirms none:
    an error body (:func:`~.codes.is_error_body`) confirms none, even with an id."""
    data = doc.get("data") if isinstance(doc, dict) else None
    reg_id = _scalar(data.get("id") if isinstance(data, dict) else None)
    if reg_id is None and isinstance(doc, dict):
        reg_id = _scalar(doc.get("id"))
    code, message = extract_code_and_message(doc, secrets=secrets)
    if is_error_body(doc):
        return _reported(status, code, message)
    if reg_id is None:
        return f"Kaleyra answered {status} without a registration id{_said(code, message)}"
    override = data.get("override_dcs_check") if isinstance(data, dict) else None
    return Registration(
        id=reg_id,
        phoneno=phone,
        agent_no=agent,
        override_dcs_check=override is True or str(override).lower() == "true",
        code=code,
        message=message or None,
    )


def testers_from(doc: Any, *, status: int, secrets: Iterable[str] = ()) -> list[TesterRecord] | str:
    """The tester list in a list response, or (as a ``str``) why there is none to trust."""
    page = tester_page(doc, status=status, secrets=secrets)
    if isinstance(page, str):
        return page
    records, masked = page
    if masked:
        return (
            f"{masked} entries of the tester list have a phone number that is masked or malformed"
        )
    return records


def tester_page(
    doc: Any, *, status: int, secrets: Iterable[str] = ()
) -> tuple[list[TesterRecord], int] | str:
    """One page of a list response: its records and how many entries had masked numbers
    (counted, never matched), or (as a ``str``) why there is no list to trust: an error body
    (:func:`~.codes.is_error_body`) is never a list, even with one in it."""
    if is_error_body(doc):
        return _reported(status, *extract_code_and_message(doc, secrets=secrets))
    items = _find_list(doc)
    if items is None:
        code, message = extract_code_and_message(doc, secrets=secrets)
        return f"Kaleyra answered {status} without a tester list{_said(code, message)}"
    records = []
    masked = 0
    for index, item in enumerate(items):
        phone = _first(item, _PHONE_KEYS) if isinstance(item, dict) else None
        if isinstance(phone, str) and is_masked(phone):
            masked += 1
            continue
        record = _tester_record(item)
        if isinstance(record, str):
            return f"item {index} of the tester list {record}"
        records.append(record)
    return records, masked


def is_masked(text: str) -> bool:
    """Whether a listed phone number is masked (``91953XXXXX92``, ``*******0092``)."""
    return bool(_MASKED.fullmatch(text)) and sum(c.isdigit() for c in text) < len(text.strip())


def _reported(status: int, code: str | None, message: str) -> str:
    return f"Kaleyra answered {status} with an error in its body{_said(code, message)}"


def _said(code: str | None, message: str) -> str:
    return f" ({' '.join(p for p in (code, message) if p)})" if code or message else ""


def _find_list(doc: Any) -> list[Any] | None:
    for keys in _LIST_LOCATIONS:
        value = _dig(doc, *keys)
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
    if text is None or not PHONE_TEXT.fullmatch(text):
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


def extract_code_and_message(body: Any, *, secrets: Iterable[str] = ()) -> tuple[str | None, str]:
    """Kaleyra's code (as ``str``) and message (redacted, shortened) from a parsed JSON body."""
    hidden = list(secrets)
    code = _find_code(body)
    message = _clean_message(_find_message(body), hidden)
    return (_clean_message(code, hidden) or None) if code else None, message


def _dig(body: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


def _find_code(body: Any) -> str | None:
    """First Kaleyra-looking code ("RCS904"), else the first code of any form."""
    found = codes_in(body)
    for value in found:
        if _KALEYRA_CODE.fullmatch(value):
            return value
    return found[0] if found else None


def _find_message(body: Any) -> str:
    if isinstance(body, str):
        return body
    for keys in (
        ("error", "message"),
        ("data", "error", "error_message"),
        ("error", "error_message"),
        ("message",),
        ("error",),
        ("error_description",),
    ):
        value = _dig(body, *keys)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _clean_message(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    message = " ".join(redact_digits(message).split())
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[: _MAX_MESSAGE_CHARS - 3] + "..."
    return message.rstrip(". ")
