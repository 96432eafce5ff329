"""What the two Kaleyra calls do, independent of the web framework that delivers them."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any, Literal

from rcs_provider.sandbox import bodies, personality
from rcs_provider.sandbox.asgi import MAX_BODY_BYTES
from rcs_provider.sandbox.bodies import Answer
from rcs_provider.sandbox.quota import seconds_to_utc_midnight
from rcs_provider.sandbox.state import SandboxState
from rcs_provider.sandbox.store import AlreadyRegistered
from rcs_provider.sandbox.validation import agent_number, parse_json_object, register_fields

__all__ = [
    "DEVICE_STATUS",
    "LIST_PATHS",
    "REGISTER_PATHS",
    "CallKind",
    "KaleyraCall",
    "list_testers",
    "match_path",
    "register_tester",
]

#: Documented path first, then the alias older doc versions use.
REGISTER_PATHS = ("/v1/{sid}/rcs/agenttester/register", "/v1/{sid}/rcs/agent/registerTester")
LIST_PATHS = ("/v1/{sid}/rcs/agenttester/testersbyagent", "/v1/{sid}/rcs/agent/testersbyagent")
#: ``device_status`` of every listed tester (Kaleyra documents the field, not its values).
DEVICE_STATUS = "RCS Enabled"

CallKind = Literal["register", "list"]
_DOCUMENTED_REGISTER = re.compile(r"/v1/[^/]+/rcs/agenttester/register")
_PATHS = re.compile(
    r"/v1/(?P<sid>[^/]+)/rcs/(?:"
    r"(?P<register>agenttester/register|agent/registerTester)"
    r"|(?:agenttester|agent)/testersbyagent)"
)


def match_path(path: str) -> tuple[CallKind, str] | None:
    """``(kind, sid)`` when ``path`` is a register or list path."""
    found = _PATHS.fullmatch(path)
    if found is None:
        return None
    return ("register" if found["register"] else "list"), found["sid"]


@dataclass(frozen=True, slots=True)
class KaleyraCall:
    """The parts of a request the Kaleyra calls look at."""

    sid: str
    method: str
    api_key: str | None
    content_type: str | None
    body: bytes
    agent_number: str | None = None  # from the query string
    path: str = ""
    page: str | None = None  # from the query string (paged-list)


def _check_request(state: SandboxState, call: KaleyraCall) -> Answer | None:
    if len(call.body) > MAX_BODY_BYTES:
        return bodies.status_answer(413)
    if call.sid != state.config.sid:
        return bodies.unauthorized("unknown sid")
    if not call.api_key:
        return bodies.unauthorized("api-key header is missing")
    if not hmac.compare_digest(call.api_key.encode(), state.config.api_key.encode()):
        return bodies.unauthorized("api-key is not valid for this sid")
    return None


def register_tester(state: SandboxState, call: KaleyraCall) -> Answer:
    """Kaleyra "Register Tester": store a new registration, or say why not."""
    documented = _DOCUMENTED_REGISTER.fullmatch(call.path) is not None
    refused = personality.refuses_path(state.personality, documented_register=documented)
    if refused is not None:
        return refused
    problem = _check_request(state, call)
    if problem is not None:
        return problem
    parsed = parse_json_object(call.body, call.content_type)
    if isinstance(parsed, Answer):
        return parsed
    fields = register_fields(parsed)
    if isinstance(fields, Answer):
        return fields
    agent_no, phoneno = fields
    if agent_no not in state.agents:
        return bodies.agent_not_found()
    existing = state.store.get(agent_no, phoneno)
    if existing is not None:
        state.stats.register_conflicts += 1
        return personality.conflict(state.personality, agent_no, existing.id)
    now = state.now()
    limit = state.faults.settings.daily_quota
    if not state.quota.try_take(agent_no, limit=limit, now=now):
        state.stats.injected["quota"] += 1
        return bodies.quota_exceeded(agent_no, limit, seconds_to_utc_midnight(now))
    try:
        row = state.store.add(agent_no, phoneno, created_at=now)
    except AlreadyRegistered as exc:
        state.stats.register_conflicts += 1
        return personality.conflict(state.personality, agent_no, exc.existing.id)
    state.stats.register_created += 1
    return bodies.registered(agent_no, phoneno, row.id)


def list_testers(state: SandboxState, call: KaleyraCall) -> Answer:
    """Kaleyra "Get Tester By Agent": the agent's testers with their current status."""
    refused = personality.refuses_path(state.personality, documented_register=False)
    if refused is not None:
        return refused
    problem = _check_request(state, call)
    if problem is not None:
        return problem
    requested: Any = call.agent_number
    if call.method == "POST" and call.body.strip():
        parsed = parse_json_object(call.body, call.content_type)
        if isinstance(parsed, Answer):
            return parsed
        if not requested:
            requested = parsed.get("agent_number", parsed.get("agent_no"))
    agent_no = agent_number(requested)
    if isinstance(agent_no, Answer):
        return agent_no
    if agent_no not in state.agents:
        return bodies.agent_not_found()
    now = state.now()
    records = [
        {
            "phoneno": row.phoneno,
            "agent_no": row.agent_no,
            "id": row.id,
            "status": state.status_of(row, now),
            "device_status": DEVICE_STATUS,
            "created_at": bodies.iso_time(row.created_at),
        }
        for row in state.store.list(agent_no)
    ]
    page = _page_number(call.page)
    if page is None:
        return bodies.invalid_fields({"page": "must be a whole number of at least 1"})
    return personality.list_answer(
        state.personality, records, path=call.path, agent_no=agent_no, page=page
    )


def _page_number(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return 1
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None
