"""Small raw-ASGI tools: buffer a request, capture a response, drip it, drop a connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rcs_provider.sandbox.bodies import Answer

__all__ = [
    "MAX_BODY_BYTES",
    "RawResponse",
    "capture_response",
    "connection_gone",
    "drop_connection",
    "read_body",
    "replay_receive",
]

#: Largest request body the Kaleyra calls accept (413 beyond it).
MAX_BODY_BYTES = 1024 * 1024
_DRIP_CHUNKS_PER_SEC = 20
_DISCONNECT_WAIT_S = 1.0
_DISCONNECT_POLLS = 64


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A whole response held in memory, ready to send (or alter first)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @classmethod
    def of(cls, answer: Answer) -> RawResponse:
        """From a Kaleyra-shaped answer."""
        body = answer.encoded()
        return cls(answer.status, answer.raw_headers(len(body)), body)

    def with_body(self, body: bytes) -> RawResponse:
        """Same status and headers, new body (Content-Length follows)."""
        headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
        headers.append((b"content-length", b"%d" % len(body)))
        return replace(self, headers=headers, body=body)

    def json_body(self) -> dict[str, Any] | None:
        """The body as a JSON object, if it is one."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    async def send(
        self, send: Send, *, bytes_per_sec: int = 0, gone: Callable[[], bool] = lambda: False
    ) -> None:
        """Send it whole, or drip the body at ``bytes_per_sec`` until done or disconnected."""
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        if bytes_per_sec <= 0 or not self.body:
            await send({"type": "http.response.body", "body": self.body})
            return
        chunk = max(1, bytes_per_sec // _DRIP_CHUNKS_PER_SEC)
        pause = chunk / bytes_per_sec
        for start in range(0, len(self.body), chunk):
            if gone():
                return
            await asyncio.sleep(pause)
            end = start + chunk
            more = end < len(self.body)
            await send(
                {"type": "http.response.body", "body": self.body[start:end], "more_body": more}
            )


async def capture_response(app: ASGIApp, scope: Scope, receive: Receive) -> RawResponse:
    """Run ``app`` and keep what it answers instead of sending it."""
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return RawResponse(status, headers, b"".join(chunks))


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


def replay_receive(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that first hands out ``body``, then defers to the real one."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _cycle(receive: Receive) -> Any:
    # uvicorn's h11 and httptools protocols hand the app a bound method of their
    # RequestResponseCycle, which holds the connection's transport and a `disconnected` flag.
    return getattr(receive, "__self__", None)


def connection_gone(receive: Receive) -> Callable[[], bool]:
    """A probe telling whether the client went away (always False outside uvicorn)."""
    cycle = _cycle(receive)
    return lambda: bool(getattr(cycle, "disconnected", False))


async def drop_connection(receive: Receive) -> None:
    """Close the TCP connection without any response, then wait until the server notices.

    Needs uvicorn's h11/httptools protocol (the server's own ``receive``); waiting for the
    disconnect keeps uvicorn from answering a 500 for the response the app never started.
    """
    transport = getattr(_cycle(receive), "transport", None)
    if transport is None:
        raise RuntimeError("Unable to drop the connection: the server exposes no transport")
    transport.close()
    for _ in range(_DISCONNECT_POLLS):
        try:
            message = await asyncio.wait_for(receive(), _DISCONNECT_WAIT_S)
        except TimeoutError:
            return
        if message["type"] == "http.disconnect":
            return
