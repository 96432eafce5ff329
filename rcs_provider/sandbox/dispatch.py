"""Raw-ASGI fast path: answers the Kaleyra calls without FastAPI's routing and parameters.

About a third of the sandbox's CPU per call goes otherwise into FastAPI's router and
dependency solving; the calls themselves are the same functions the FastAPI routes use.
Anything else (other methods, other paths) goes on to FastAPI.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from rcs_provider.sandbox import calls
from rcs_provider.sandbox.asgi import RawResponse, read_body
from rcs_provider.sandbox.calls import KaleyraCall
from rcs_provider.sandbox.state import SandboxState

__all__ = ["KaleyraDispatch"]

_METHODS = {"register": ("POST",), "list": ("GET", "POST")}


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


class KaleyraDispatch:
    """Answers register/list calls itself; passes every other request to ``app``."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = calls.match_path(scope["path"]) if scope["type"] == "http" else None
        if matched is None or scope["method"] not in _METHODS[matched[0]]:
            await self.app(scope, receive, send)
            return
        kind, sid = matched
        call = KaleyraCall(
            sid=sid,
            method=scope["method"],
            api_key=_header(scope, b"api-key"),
            content_type=_header(scope, b"content-type"),
            body=await read_body(receive),
            agent_number=_query(scope, "agent_number") if kind == "list" else None,
            path=scope["path"],
            page=_query(scope, "page") if kind == "list" else None,
        )
        handler = calls.register_tester if kind == "register" else calls.list_testers
        await RawResponse.of(handler(self.state, call)).send(send)
