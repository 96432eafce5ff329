"""Request checks of the Kaleyra routes: Content-Type, JSON, phone and agent numbers."""

from __future__ import annotations

import json
import re
from typing import Any

from rcs_provider.sandbox import bodies
from rcs_provider.sandbox.bodies import Answer

__all__ = [
    "AGENT_PATTERN",
    "PHONE_PATTERN",
    "agent_number",
    "is_json_content_type",
    "parse_json_object",
    "register_fields",
]

#: E.164 without '+': 8 to 15 ASCII digits.
PHONE_PATTERN = re.compile(r"[0-9]{8,15}")
#: Agent service codes: ASCII digits.
AGENT_PATTERN = re.compile(r"[0-9]{1,20}")

_PHONE_RULE = "must be a string of 8 to 15 digits (E.164 without '+')"
_AGENT_RULE = "must be a string of digits"


def is_json_content_type(value: str | None) -> bool:
    """``application/json`` in any case, parameters such as ``charset`` allowed."""
    if not value:
        return False
    return value.split(";", 1)[0].strip().lower() == "application/json"


def parse_json_object(raw: bytes, content_type: str | None) -> dict[str, Any] | Answer:
    """The body as a JSON object, or the 400 answer that explains why not."""
    if not is_json_content_type(content_type):
        shown = (content_type or "none")[:60]
        return bodies.invalid_json(f"Content-Type must be application/json, got {shown!r}")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return bodies.invalid_json("request body is not valid JSON")
    if not isinstance(body, dict):
        return bodies.invalid_fields({"body": "must be a JSON object"})
    return body


def register_fields(body: dict[str, Any]) -> tuple[str, str] | Answer:
    """``(agent_no, phoneno)`` from a register body, or a RCS904 naming each bad field."""
    problems: dict[str, str] = {}
    phoneno = body.get("phoneno")
    agent_no = body.get("agent_no")
    if phoneno is None:
        problems["phoneno"] = "is required"
    elif not isinstance(phoneno, str) or not PHONE_PATTERN.fullmatch(phoneno):
        problems["phoneno"] = _PHONE_RULE
    if agent_no is None:
        problems["agent_no"] = "is required"
    elif not isinstance(agent_no, str) or not AGENT_PATTERN.fullmatch(agent_no):
        problems["agent_no"] = _AGENT_RULE
    if problems:
        return bodies.invalid_fields(problems)
    assert isinstance(phoneno, str) and isinstance(agent_no, str)
    return agent_no, phoneno


def agent_number(value: Any) -> str | Answer:
    """A list call's ``agent_number``, or the RCS904 that says what is wrong with it."""
    if value is None or value == "":
        return bodies.invalid_fields({"agent_number": "is required"})
    if not isinstance(value, str) or not AGENT_PATTERN.fullmatch(value):
        return bodies.invalid_fields({"agent_number": _AGENT_RULE})
    return value
