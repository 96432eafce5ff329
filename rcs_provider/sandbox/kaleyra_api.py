"""The Kaleyra calls (register a tester, list an agent's testers): one raw-ASGI handler
answers every ``/v1/`` request, applying the faults in their order, then the call itself.

They bypass FastAPI's routing and parameter solving, which cost about a third of the CPU of a
call; FastAPI serves the inspection API and the OpenAPI document (``app`` adds these paths to it).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from rcs_provider.sandbox import answers
from rcs_provider.sandbox.answers import Answer
from rcs_provider.sandbox.faults import (
    RawResponse,
    connection_gone,
    drop_connection,
    fault_answer,
    with_echo,
)
from rcs_provider.sandbox.store import AlreadyRegistered, SandboxState, seconds_to_utc_midnight

__all__ = [
    "AGENT_PATTERN",
    "DEVICE_STATUS",
    "LIST_PATHS",
    "MAX_BODY_BYTES",
    "PHONE_PATTERN",
    "REGISTER_PATHS",
    "KaleyraApi",
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
#: Largest request body the Kaleyra calls accept (413 beyond it).
MAX_BODY_BYTES = 1024 * 1024

CallKind = Literal["register", "list"]
_METHODS: dict[CallKind, tuple[str, ...]] = {"register": ("POST",), "list": ("GET", "POST")}
_DOCUMENTED_REGISTER = re.compile(r"/v1/[^/]+/rcs/agenttester/register")
_PATHS = re.compile(
    r"/v1/(?P<sid>[^/]+)/rcs/(?:"
    r"(?P<register>agenttester/register|agent/registerTester)"
    r"|(?:agenttester|agent)/testersbyagent)"
)
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
        return answers.invalid_json(f"Content-Type must be application/json, got {shown!r}")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return answers.invalid_json("request body is not valid JSON")
    if not isinstance(body, dict):
        return answers.invalid_fields({"body": "must be a JSON object"})
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
        return answers.invalid_fields(problems)
    assert isinstance(phoneno, str) and isinstance(agent_no, str)
    return agent_no, phoneno


def agent_number(value: Any) -> str | Answer:
    """A list call's ``agent_number``, or the RCS904 that says what is wrong with it."""
    if value is None or value == "":
        return answers.invalid_fields({"agent_number": "is required"})
    if not isinstance(value, str) or not AGENT_PATTERN.fullmatch(value):
        return answers.invalid_fields({"agent_number": _AGENT_RULE})
    return value


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
        return answers.status_answer(413)
    if call.sid != state.config.sid:
        return answers.unauthorized("unknown sid")
    if not call.api_key:
        return answers.unauthorized("api-key header is missing")
    if not hmac.compare_digest(call.api_key.encode(), state.config.api_key.encode()):
        return answers.unauthorized("api-key is not valid for this sid")
    return None


def register_tester(state: SandboxState, call: KaleyraCall) -> Answer:
    """Kaleyra "Register Tester": store a new registration, or say why not."""
    documented = _DOCUMENTED_REGISTER.fullmatch(call.path) is not None
    refused = answers.refuses_path(state.personality, documented_register=documented)
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
        return answers.agent_not_found()
    existing = state.store.get(agent_no, phoneno)
    if existing is not None:
        state.stats.register_conflicts += 1
        return answers.conflict(state.personality, agent_no, existing.id)
    now = state.now()
    limit = state.faults.settings.daily_quota
    if not state.quota.try_take(agent_no, limit=limit, now=now):
        state.stats.injected["quota"] += 1
        return answers.quota_exceeded(agent_no, limit, seconds_to_utc_midnight(now))
    try:
        row = state.store.add(agent_no, phoneno, created_at=now)
    except AlreadyRegistered as exc:
        state.stats.register_conflicts += 1
        return answers.conflict(state.personality, agent_no, exc.existing.id)
    state.stats.register_created += 1
    return answers.registered(agent_no, phoneno, row.id)


def list_testers(state: SandboxState, call: KaleyraCall) -> Answer:
    """Kaleyra "Get Tester By Agent": the agent's testers with their current status."""
    refused = answers.refuses_path(state.personality, documented_register=False)
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
        return answers.agent_not_found()
    now = state.now()
    records = [
        {
            "phoneno": row.phoneno,
            "agent_no": row.agent_no,
            "id": row.id,
            "status": state.status_of(row, now),
            "device_status": DEVICE_STATUS,
            "created_at": answers.iso_time(row.created_at),
        }
        for row in state.store.list(agent_no)
    ]
    page = _page_number(call.page)
    if page is None:
        return answers.invalid_fields({"page": "must be a whole number of at least 1"})
    return answers.list_answer(
        state.personality, records, path=call.path, agent_no=agent_no, page=page
    )


def _page_number(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return 1
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body; of a longer one, only the first ``limit + 1`` bytes are kept."""
    parts: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        part = message.get("body", b"")
        if size <= limit:
            parts.append(part[: limit + 1 - size])
            size += len(parts[-1])
        more = message.get("more_body", False)
    return b"".join(parts)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, raw in scope["headers"]:
        if key == name:
            return str(raw.decode("latin-1"))
    return None


def _query(scope: Scope, name: str) -> str | None:
    value = None
    for key, raw in parse_qsl(scope["query_string"].decode("latin-1")):
        if key == name:
            value = raw
    return value


class KaleyraApi:
    """Answers every ``/v1/`` request: counts it, applies the faults, then makes the call (an
    unknown path answers a Kaleyra-shaped 404, a wrong method 405); anything else goes on to
    ``app``.

    Order per call: the whole body is read, then latency, then the fault picked (script step,
    ``force_status``, ``error_in_body``, drop, 5xx, 429), then the call (quota, conflicts),
    then lost response, echo, padding and dripping.
    """

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        stats = self.state.stats
        matched = match_path(scope["path"])
        if matched is not None and matched[0] == "register":
            stats.register_calls += 1
        elif matched is not None:
            stats.list_calls += 1
        faulty = self.state.faults.active
        # The whole request is read before any delay, as a real server has it once the client
        # sent it: a request received in full is processed even if its client goes away
        # during the delay (a client killed while waiting for its answer).
        body = await read_body(receive)
        if faulty:
            await self._with_faults(scope, receive, send, matched, body)
            return
        response = RawResponse.of(self._answer(scope, matched, body))
        stats.responses[response.status] += 1
        await response.send(send)

    def _answer(self, scope: Scope, matched: tuple[CallKind, str] | None, body: bytes) -> Answer:
        if matched is None:
            return answers.not_found()
        kind, sid = matched
        if scope["method"] not in _METHODS[kind]:
            return answers.method_not_allowed()
        call = KaleyraCall(
            sid=sid,
            method=scope["method"],
            api_key=_header(scope, b"api-key"),
            content_type=_header(scope, b"content-type"),
            body=body,
            agent_number=_query(scope, "agent_number") if kind == "list" else None,
            path=scope["path"],
            page=_query(scope, "page") if kind == "list" else None,
        )
        handler = register_tester if kind == "register" else list_testers
        return handler(self.state, call)

    async def _with_faults(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        matched: tuple[CallKind, str] | None,
        request_body: bytes,
    ) -> None:
        injector, stats = self.state.faults, self.state.stats
        settings = injector.settings
        delay = injector.delay_seconds()
        if delay > 0:
            stats.delayed_calls += 1  # counted as decided: tests read delays, not clocks
            stats.delay_ms += delay * 1000
            await asyncio.sleep(delay)

        fault = injector.pick()
        if fault is not None and fault.kind != "lost":
            stats.injected[fault.kind] += 1
            if fault.kind == "dropped":
                await drop_connection(receive)
                return
            response = RawResponse.of(fault_answer(fault, settings.retry_after))
        else:
            response = RawResponse.of(self._answer(scope, matched, request_body))
            register = matched is not None and matched[0] == "register"
            lost = fault is not None or (register and injector.lose_response())
            if lost and response.status == 200:
                stats.injected["lost"] += 1
                response = RawResponse.of(answers.status_answer(504))

        if settings.echo_request_in_errors and response.status >= 400:
            response = with_echo(response, scope, request_body)
        response = response.padded(settings.oversize_body_bytes)
        stats.responses[response.status] += 1
        await response.send(
            send, bytes_per_sec=settings.slow_body_bytes_per_sec, gone=connection_gone(receive)
        )
