"""ASGI middleware in front of the Kaleyra routes: counts calls and injects the set faults.

The inspection API (``/_sandbox/``) and the OpenAPI pages pass through untouched.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rcs_provider.sandbox import bodies
from rcs_provider.sandbox.asgi import (
    RawResponse,
    capture_response,
    connection_gone,
    drop_connection,
    read_body,
    replay_receive,
)
from rcs_provider.sandbox.bodies import Answer, dumps
from rcs_provider.sandbox.calls import match_path
from rcs_provider.sandbox.faults import Injected
from rcs_provider.sandbox.state import SandboxState

__all__ = ["FaultGate"]


class FaultGate:
    """Counts every register/list call (faulted or not) and applies the fault settings."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        stats = self.state.stats
        matched = match_path(scope["path"])
        kind = None if matched is None else matched[0]
        if kind == "register":
            stats.register_calls += 1
        elif kind == "list":
            stats.list_calls += 1
        if self.state.faults.active:
            await self._with_faults(scope, receive, send, kind)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.responses[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, counted)

    async def _with_faults(
        self, scope: Scope, receive: Receive, send: Send, kind: str | None
    ) -> None:
        injector = self.state.faults
        settings = injector.settings
        stats = self.state.stats
        # The whole request is read before any delay, as a real server has it once the client
        # sent it: a request received in full is processed even if its client goes away
        # during the delay (a client killed while waiting for its answer).
        request_body = await read_body(receive)
        app_receive = replay_receive(request_body, receive)
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
            response = RawResponse.of(_fault_answer(fault, settings.retry_after))
        else:
            response = await capture_response(self.app, scope, app_receive)
            lost = fault is not None or (kind == "register" and injector.lose_response())
            if lost and response.status == 200:
                stats.injected["lost"] += 1
                response = RawResponse.of(bodies.status_answer(504))

        if settings.echo_request_in_errors and response.status >= 400:
            response = _with_echo(response, scope, request_body)
        if settings.oversize_body_bytes > len(response.body):
            padding = b" " * (settings.oversize_body_bytes - len(response.body))
            response = response.with_body(response.body + padding)
        stats.responses[response.status] += 1
        await response.send(
            send, bytes_per_sec=settings.slow_body_bytes_per_sec, gone=connection_gone(receive)
        )


def _fault_answer(fault: Injected, retry_after: int) -> Answer:
    if fault.in_body:
        return bodies.error_in_success(fault.status)
    if fault.status == 429:
        return bodies.rate_limited(retry_after)
    return bodies.status_answer(fault.status)


def _with_echo(response: RawResponse, scope: Scope, request_body: bytes) -> RawResponse:
    body = response.json_body()
    if body is None:
        return response
    body["request"] = _echo(scope, request_body)
    return response.with_body(dumps(body))


def _echo(scope: Scope, request_body: bytes) -> dict[str, Any]:
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query_string": scope["query_string"].decode("latin-1"),
        "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
        "body": request_body.decode("utf-8", "replace"),
    }
