"""FastAPI routes of the two Kaleyra calls (they also make the OpenAPI document).

Under uvicorn the :class:`~rcs_provider.sandbox.dispatch.KaleyraDispatch` middleware answers
these calls before FastAPI's routing, with the same functions from ``calls``; these routes
serve them when the app runs without it (``create_app(fast_path=False)``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from rcs_provider.sandbox import calls
from rcs_provider.sandbox.calls import LIST_PATHS, REGISTER_PATHS, KaleyraCall
from rcs_provider.sandbox.state import sandbox_state

__all__ = ["router"]

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


async def _call(
    sid: str, request: Request, agent_number: str | None = None, page: str | None = None
) -> KaleyraCall:
    return KaleyraCall(
        sid=sid,
        method=request.method,
        api_key=request.headers.get("api-key"),
        content_type=request.headers.get("content-type"),
        body=await request.body(),
        agent_number=agent_number,
        path=request.url.path,
        page=page,
    )


async def register_tester(sid: str, request: Request) -> Response:
    """Register ``phoneno`` as a tester of ``agent_no`` (Kaleyra "Register Tester")."""
    call = await _call(sid, request)
    return calls.register_tester(sandbox_state(request), call).response()


async def list_testers(
    sid: str, request: Request, agent_number: str | None = None, page: str | None = None
) -> Response:
    """List an agent's testers (Kaleyra "Get Tester By Agent"); GET or POST."""
    call = await _call(sid, request, agent_number, page)
    return calls.list_testers(sandbox_state(request), call).response()


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
