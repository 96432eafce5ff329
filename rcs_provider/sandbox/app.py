"""The sandbox's ASGI app and its server.

FastAPI serves the inspection API (``/_sandbox/``) and the OpenAPI document; in front of its
routing, :class:`~rcs_provider.sandbox.kaleyra_api.KaleyraApi` answers every ``/v1/`` call, and
in front of everything :class:`LoopbackHostGuard` refuses requests not addressed to a loopback
name: the inspection API has no credentials and the Kaleyra calls take the public demo key by
default, so a web page that rebinds its own DNS name to 127.0.0.1 must not reach them. uvicorn
serves the app on a socket bound here, prints the ``listening on URL`` line once serving, and
exits 0 on SIGINT/SIGTERM.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from rcs_provider import __version__
from rcs_provider._kaleyra.settings import is_loopback
from rcs_provider.sandbox import inspection
from rcs_provider.sandbox.cli import ALLOW_REMOTE_FLAG
from rcs_provider.sandbox.kaleyra_api import LIST_PATHS, PHONE_PATTERN, REGISTER_PATHS, KaleyraApi
from rcs_provider.sandbox.process import LISTENING_PREFIX
from rcs_provider.sandbox.store import SandboxConfig, SandboxState

__all__ = [
    "LoopbackHostGuard",
    "bind_socket",
    "create_app",
    "format_url",
    "is_loopback_host_header",
    "serve",
]

_DESCRIPTION = (
    "A local stand-in for Kaleyra's RCS tester API (register a tester, list an agent's "
    "testers) with an inspection and fault-injection API under `/_sandbox/`."
)
#: ``name[:port]`` or ``[ipv6][:port]``, as a Host header carries them (RFC 9110 7.2).
_HOST_HEADER = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[^:\[\]@/\\\s]+))(?::(?P<port>[0-9]{1,5}))?"
)
_SHOWN_HOST_CHARS = 100


class _SandboxApi(FastAPI):
    """FastAPI whose OpenAPI document also describes the Kaleyra calls it does not route."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            document["paths"] = {**kaleyra_paths(), **document["paths"]}
        return self.openapi_schema or {}


def create_app(config: SandboxConfig | None = None, *, check_host: bool = True) -> FastAPI:
    """A sandbox app with its own state; the database closes on lifespan shutdown.

    ``check_host`` refuses requests whose Host header is not a loopback name (off only with
    ``--allow-remote``).
    """
    state = SandboxState(config or SandboxConfig())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    app = _SandboxApi(
        title="Kaleyra RCS tester sandbox",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.sandbox = state
    app.include_router(inspection.router)
    app.add_middleware(KaleyraApi, state=state)
    if check_host:
        app.add_middleware(LoopbackHostGuard)  # added last: runs first
    return app


_PARAMETERS = {
    "sid": {"name": "sid", "in": "path", "required": True, "schema": {"type": "string"}},
    "api-key": {
        "name": "api-key",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "API key of the account.",
    },
    "agent_number": {"name": "agent_number", "in": "query", "schema": {"type": "string"}},
    "page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
}
_AUTH_FAILED = "Wrong sid or missing/invalid api-key."


def _json_body(schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _operation(
    operation_id: str, summary: str, parameters: list[str], responses: dict[int, str]
) -> dict[str, Any]:
    return {
        "tags": ["kaleyra"],
        "summary": summary,
        "operationId": operation_id,
        "parameters": [_PARAMETERS[name] for name in parameters],
        "responses": {str(code): {"description": text} for code, text in responses.items()},
    }


def kaleyra_paths() -> dict[str, Any]:
    """The OpenAPI path items of the Kaleyra calls, which FastAPI does not route."""
    register_body = _json_body(
        {
            "type": "object",
            "required": ["phoneno", "agent_no"],
            "properties": {
                "phoneno": {
                    "type": "string",
                    "pattern": f"^{PHONE_PATTERN.pattern}$",
                    "description": "E.164 without '+'.",
                },
                "agent_no": {"type": "string", "pattern": "^[0-9]+$"},
            },
        },
        required=True,
    )
    list_body = _json_body(
        {"type": "object", "properties": {"agent_number": {"type": "string"}}}, required=False
    )
    register_responses = {
        200: "RCS902: registration request sent.",
        400: "RCS701 invalid JSON / RCS904 invalid fields or Agent Not Found.",
        401: _AUTH_FAILED,
        409: "RCS409: already a tester of this agent (data.id is the existing id).",
        429: "Throttling or daily quota exceeded; see Retry-After.",
    }
    list_responses = {
        200: "RCS903: data.testers lists the agent's testers.",
        400: "RCS701 invalid JSON / RCS904 missing agent_number or unknown agent.",
        401: _AUTH_FAILED,
    }
    paths: dict[str, Any] = {}
    for index, path in enumerate(REGISTER_PATHS):
        suffix, alias = ("_alias", " (alias path)") if index else ("", "")
        register = _operation(
            f"register_tester{suffix}",
            f"Register a tester{alias}",
            ["sid", "api-key"],
            register_responses,
        )
        paths[path] = {"post": register | {"requestBody": register_body}}
    for index, path in enumerate(LIST_PATHS):
        suffix, alias = ("_alias", " (alias path)") if index else ("", "")
        paths[path] = {
            method: _operation(
                f"list_testers_{method}{suffix}",
                f"List an agent's testers{alias}",
                ["sid", "api-key", "agent_number", "page"],
                list_responses,
            )
            for method in ("get", "post")
        }
        paths[path]["post"]["requestBody"] = list_body
    return paths


def is_loopback_host_header(value: str | None) -> bool:
    """Whether a Host header names this machine: ``localhost``, an address of 127.0.0.0/8 or
    ``[::1]``, with any port. A missing or malformed header is not."""
    if value is None:
        return False
    match = _HOST_HEADER.fullmatch(value.strip())
    if match is None:
        return False
    if match["port"] is not None and int(match["port"]) > 65535:
        return False
    host = match["ipv6"] or match["name"]
    return is_loopback(host) and (match["ipv6"] is None or ":" in host)


def _host_header(scope: Scope) -> str | None:
    values = [raw for key, raw in scope["headers"] if key == b"host"]
    return values[0].decode("latin-1") if len(values) == 1 else None


class LoopbackHostGuard:
    """Answers 403 to any HTTP request whose Host header is not a loopback name.

    It guards every route, the Kaleyra ones included: their api-key is the public demo key
    unless told otherwise, so it does not keep a rebinding web page out. Outermost, so that a
    refused request is neither counted nor faulted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host_header(scope)
        if is_loopback_host_header(host):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "code": 403,
                "message": "Host not allowed",
                "error": {
                    "host": None if host is None else host[:_SHOWN_HOST_CHARS],
                    "reason": (
                        "the sandbox answers only requests addressed to a loopback name "
                        "(127.0.0.1, localhost or [::1], any port), so that a web page cannot "
                        "reach it by DNS rebinding. Call it as http://127.0.0.1:<port>, or "
                        f"start it with {ALLOW_REMOTE_FLAG}."
                    ),
                },
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
        ]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def format_url(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 = any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _log_config() -> dict[str, Any]:
    """uvicorn's logging set-up with the access log on stderr: stdout carries only the URL."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


class _AnnouncingServer(uvicorn.Server):
    """Prints ``listening on URL`` once serving; handles signals without re-raising them."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            print(f"{LISTENING_PREFIX}{self.url}", flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn re-raises the captured signal after shutdown, which would end the process
        # with -SIGTERM or KeyboardInterrupt; a sandbox stopped on purpose exits 0 instead.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(
    app: ASGIApp, *, host: str, port: int, log_level: str = "warning", access_log: bool = False
) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit code."""
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        print(
            f"Unable to start the sandbox: cannot listen on {host}:{port}: {exc}", file=sys.stderr
        )
        return 1
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=_log_config(),
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    server = _AnnouncingServer(config, format_url(host, bound_port))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1
