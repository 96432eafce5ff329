"""The Kaleyra RCS tester routes: register a tester, list an agent's testers.

Handlers read the raw request and answer pre-shaped JSON, so Kaleyra's own error codes (RCS701,
RCS904, ...) come out instead of FastAPI's, and the hot path stays cheap.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from rcs_provider.sandbox import bodies
from rcs_provider.sandbox.bodies import Answer
from rcs_provider.sandbox.quota import seconds_to_utc_midnight
from rcs_provider.sandbox.state import SandboxState, sandbox_state
from rcs_provider.sandbox.store import AlreadyRegistered
from rcs_provider.sandbox.validation import agent_number, parse_json_object, register_fields

__all__ = ["DEVICE_STATUS", "LIST_PATHS", "REGISTER_PATHS", "router"]

#: Documented path first, then the alias older doc versions use.
REGISTER_PATHS = ("/v1/{sid}/rcs/agenttester/register", "/v1/{sid}/rcs/agent/registerTester")
LIST_PATHS = ("/v1/{sid}/rcs/agenttester/testersbyagent", "/v1/{sid}/rcs/agent/testersbyagent")
#: ``device_status`` of every listed tester (Kaleyra documents the field, not its values).
DEVICE_STATUS = "RCS Enabled"

_API_KEY_PARAMETER = {
    "name": "api-key",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "API key of the account.",
}
_REGISTER_OPENAPI: dict[str, Any] = {
    "parameters": [_API_KEY_PARAMETER],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["phoneno", "agent_no"],
                    "properties": {
                        "phoneno": {
                            "type": "string",
                            "pattern": "^[0-9]{8,15}$",
                            "description": "E.164 without '+'.",
                        },
                        "agent_no": {"type": "string", "pattern": "^[0-9]+$"},
                    },
                }
            }
        },
    },
}
_LIST_OPENAPI: dict[str, Any] = {
    "parameters": [_API_KEY_PARAMETER],
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"agent_number": {"type": "string"}}}
            }
        },
    },
}
_GET_OPENAPI: dict[str, Any] = {"parameters": [_API_KEY_PARAMETER]}
_REGISTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "RCS902: registration request sent."},
    400: {"description": "RCS701 invalid JSON / RCS904 invalid fields or Agent Not Found."},
    401: {"description": "Wrong sid or missing/invalid api-key."},
    409: {"description": "RCS409: already a tester of this agent (data.id is the existing id)."},
    429: {"description": "Throttling or daily quota exceeded; see Retry-After."},
}
_LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "RCS903: data.testers lists the agent's testers."},
    400: {"description": "RCS701 invalid JSON / RCS904 missing agent_number or unknown agent."},
    401: {"description": "Wrong sid or missing/invalid api-key."},
}

router = APIRouter(tags=["kaleyra"])


def _check_auth(state: SandboxState, sid: str, request: Request) -> Answer | None:
    if sid != state.config.sid:
        return bodies.unauthorized("unknown sid")
    key = request.headers.get("api-key")
    if not key:
        return bodies.unauthorized("api-key header is missing")
    if not hmac.compare_digest(key.encode(), state.config.api_key.encode()):
        return bodies.unauthorized("api-key is not valid for this sid")
    return None


async def register_tester(sid: str, request: Request) -> Response:
    """Register ``phoneno`` as a tester of ``agent_no`` (Kaleyra "Register Tester")."""
    return (await _register(sandbox_state(request), sid, request)).response()


async def _register(state: SandboxState, sid: str, request: Request) -> Answer:
    problem = _check_auth(state, sid, request)
    if problem is not None:
        return problem
    parsed = parse_json_object(await request.body(), request.headers.get("content-type"))
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
        return bodies.already_registered(agent_no, existing.id)
    now = time.time()
    limit = state.faults.settings.daily_quota
    if not state.quota.try_take(agent_no, limit=limit, now=now):
        state.stats.injected["quota"] += 1
        return bodies.quota_exceeded(agent_no, limit, seconds_to_utc_midnight(now))
    try:
        row = state.store.add(agent_no, phoneno, created_at=now)
    except AlreadyRegistered as exc:
        state.stats.register_conflicts += 1
        return bodies.already_registered(agent_no, exc.existing.id)
    state.stats.register_created += 1
    return bodies.registered(agent_no, phoneno, row.id)


async def list_testers(sid: str, request: Request, agent_number: str | None = None) -> Response:
    """List an agent's testers (Kaleyra "Get Tester By Agent"); GET or POST."""
    return (await _list(sandbox_state(request), sid, request, agent_number)).response()


async def _list(state: SandboxState, sid: str, request: Request, query_agent: str | None) -> Answer:
    problem = _check_auth(state, sid, request)
    if problem is not None:
        return problem
    requested: Any = query_agent
    if request.method == "POST":
        raw = await request.body()
        if raw.strip():
            parsed = parse_json_object(raw, request.headers.get("content-type"))
            if isinstance(parsed, Answer):
                return parsed
            if not requested:
                requested = parsed.get("agent_number", parsed.get("agent_no"))
    agent_no = agent_number(requested)
    if isinstance(agent_no, Answer):
        return agent_no
    if agent_no not in state.agents:
        return bodies.agent_not_found()
    now = time.time()
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
    return bodies.testers(records)


def _add_routes() -> None:
    for index, path in enumerate(REGISTER_PATHS):
        suffix = "" if index == 0 else "_alias"
        router.add_api_route(
            path,
            register_tester,
            methods=["POST"],
            operation_id=f"register_tester{suffix}",
            summary="Register a tester" + (" (alias path)" if index else ""),
            responses=_REGISTER_RESPONSES,
            openapi_extra=_REGISTER_OPENAPI,
        )
    for index, path in enumerate(LIST_PATHS):
        suffix = "" if index == 0 else "_alias"
        for method in ("GET", "POST"):
            router.add_api_route(
                path,
                list_testers,
                methods=[method],
                operation_id=f"list_testers_{method.lower()}{suffix}",
                summary="List an agent's testers" + (" (alias path)" if index else ""),
                responses=_LIST_RESPONSES,
                openapi_extra=_LIST_OPENAPI if method == "POST" else _GET_OPENAPI,
            )


_add_routes()
