"""Faults of the Kaleyra calls: their settings, the seeded dice that decide which call gets
which fault, and the raw-ASGI tools that carry them out (a fault's answer, a dropped
connection, an echoed request, a padded or dripped body)."""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Receive, Scope, Send

from rcs_provider.sandbox import answers
from rcs_provider.sandbox.answers import Answer

__all__ = [
    "SERVER_ERROR_STATUSES",
    "FaultInjector",
    "FaultSettings",
    "FaultUpdate",
    "Injected",
    "RawResponse",
    "ScriptStep",
    "connection_gone",
    "drop_connection",
    "fault_answer",
    "with_echo",
]

SERVER_ERROR_STATUSES = (500, 502, 503, 504)
_MAX_MS = 60_000.0
_MAX_BYTES = 64 * 1024 * 1024
_DRIP_CHUNKS_PER_SEC = 20
_DISCONNECT_WAIT_S = 1.0
_DISCONNECT_POLLS = 64


class FaultSettings(BaseModel):
    """Every fault knob; the defaults inject nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(
        default=0.0, ge=0, le=_MAX_MS, description="Added delay per Kaleyra call."
    )
    jitter_ms: float = Field(
        default=0.0, ge=0, le=_MAX_MS, description="Extra uniform 0..jitter delay."
    )
    error_rate: float = Field(
        default=0.0, ge=0, le=1, description="Fraction answered 500/502/503/504."
    )
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1, description="Fraction answered 429.")
    retry_after: int = Field(
        default=1, ge=0, le=86_400, description="Retry-After seconds on those 429s."
    )
    drop_rate: float = Field(
        default=0.0, ge=0, le=1, description="Fraction closed without a response."
    )
    lost_response_rate: float = Field(
        default=0.0, ge=0, le=1, description="Fraction of successful registers answered 504 anyway."
    )
    daily_quota: int = Field(
        default=0, ge=0, description="New registrations per agent per UTC day."
    )
    seed: int | None = Field(default=None, description="Seed for reproducible fault decisions.")
    echo_request_in_errors: bool = Field(
        default=False, description="Error bodies echo the request's method, path, headers and body."
    )
    slow_body_bytes_per_sec: int = Field(
        default=0, ge=0, description="Drip response bodies this slowly."
    )
    oversize_body_bytes: int = Field(
        default=0, ge=0, le=_MAX_BYTES, description="Pad JSON responses with spaces to this size."
    )
    force_status: int | None = Field(
        default=None, ge=400, le=599, description="Answer every Kaleyra call with this status."
    )
    error_in_body: int | None = Field(
        default=None,
        ge=400,
        le=599,
        description="Answer every Kaleyra call 200, with the Kaleyra error body of this status "
        "inside (500: RCS500).",
    )

    @property
    def active(self) -> bool:
        """Whether any per-request fault handling is needed (quota is checked by the route)."""
        return bool(
            self.latency_ms
            or self.jitter_ms
            or self.error_rate
            or self.rate_limit_rate
            or self.drop_rate
            or self.lost_response_rate
            or self.echo_request_in_errors
            or self.slow_body_bytes_per_sec
            or self.oversize_body_bytes
            or self.force_status is not None
            or self.error_in_body is not None
        )


#: One scripted fault: a status 400-599, ``drop``, ``lost`` or ``pass`` (no fault).
ScriptStep = Annotated[int, Field(ge=400, le=599)] | Literal["drop", "lost", "pass"]


class FaultUpdate(BaseModel):
    """Body of ``PUT /_sandbox/faults``: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = Field(default=None, ge=0, le=_MAX_MS)
    jitter_ms: float | None = Field(default=None, ge=0, le=_MAX_MS)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    rate_limit_rate: float | None = Field(default=None, ge=0, le=1)
    retry_after: int | None = Field(default=None, ge=0, le=86_400)
    drop_rate: float | None = Field(default=None, ge=0, le=1)
    lost_response_rate: float | None = Field(default=None, ge=0, le=1)
    daily_quota: int | None = Field(default=None, ge=0)
    seed: int | None = None
    echo_request_in_errors: bool | None = None
    slow_body_bytes_per_sec: int | None = Field(default=None, ge=0)
    oversize_body_bytes: int | None = Field(default=None, ge=0, le=_MAX_BYTES)
    force_status: int | None = Field(default=None, ge=400, le=599)
    error_in_body: int | None = Field(default=None, ge=400, le=599)
    script: list[ScriptStep] | None = Field(
        default=None,
        max_length=1000,
        description="Faults for the next Kaleyra calls, in order, before any dice: a status "
        "400-599, 'drop' (close the connection), 'lost' (process, then answer 504) or 'pass'.",
    )

    def changes(self) -> dict[str, Any]:
        """The settings the caller set (an explicit ``null`` clears ``seed``, ``force_status``
        and ``error_in_body``)."""
        nullable = {"seed", "force_status", "error_in_body"}
        return {
            name: value
            for name, value in self.model_dump(exclude_unset=True).items()
            if name != "script" and (value is not None or name in nullable)
        }


@dataclass(frozen=True, slots=True)
class Injected:
    """A fault decided for one call: ``kind`` is the stats bucket, ``status`` what to answer.

    ``dropped``: close without answering; ``lost``: process the call, then answer 504;
    ``in_body``: answer 200 with the error body of ``status`` (counted as ``forced``).
    """

    kind: Literal["5xx", "429", "dropped", "forced", "lost"]
    status: int = 0
    in_body: bool = False


def _scripted(step: ScriptStep) -> Injected | None:
    if step == "pass":
        return None
    if step == "drop":
        return Injected("dropped")
    if step == "lost":
        return Injected("lost", 504)
    assert isinstance(step, int)
    if step == 429:
        return Injected("429", 429)
    return Injected("5xx" if step >= 500 else "forced", step)


class FaultInjector:
    """Holds the current settings, the pending script and a generator seeded from them."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.settings = settings or FaultSettings()
        self.script: deque[ScriptStep] = deque()
        self._rng = random.Random(self.settings.seed)

    @property
    def active(self) -> bool:
        """Whether calls need the fault path at all."""
        return bool(self.script) or self.settings.active

    def replace(self, settings: FaultSettings, *, reseed: bool = True) -> None:
        """Swap in new settings (clearing the script); reseeding restarts the sequence."""
        self.settings = settings
        self.script.clear()
        if reseed:
            self._rng = random.Random(settings.seed)

    def update(self, update: FaultUpdate) -> None:
        """Apply a partial update; reseeds when ``seed`` is part of it; a script replaces."""
        changes = update.changes()
        merged = FaultSettings.model_validate({**self.settings.model_dump(), **changes})
        self.settings = merged
        if "seed" in changes:
            self._rng = random.Random(merged.seed)
        if update.script is not None:
            self.script = deque(update.script)

    def describe(self) -> dict[str, Any]:
        """Settings plus the script steps still pending (body of ``GET /_sandbox/faults``)."""
        return {**self.settings.model_dump(), "script": list(self.script)}

    def delay_seconds(self) -> float:
        """Latency plus jitter for this call, in seconds."""
        settings = self.settings
        delay = settings.latency_ms
        if settings.jitter_ms:
            delay += self._rng.uniform(0.0, settings.jitter_ms)
        return delay / 1000.0

    def pick(self) -> Injected | None:
        """Next script step, else ``force_status``, else ``error_in_body``, else roll for drop,
        5xx, then 429.

        A zero rate never consumes randomness, so a seed gives the same sequence of faults
        for the same sequence of calls.
        """
        if self.script:
            return _scripted(self.script.popleft())
        settings = self.settings
        if settings.force_status is not None:
            return Injected("forced", settings.force_status)
        if settings.error_in_body is not None:
            return Injected("forced", settings.error_in_body, in_body=True)
        if settings.drop_rate and self._rng.random() < settings.drop_rate:
            return Injected("dropped")
        if settings.error_rate and self._rng.random() < settings.error_rate:
            return Injected("5xx", self._rng.choice(SERVER_ERROR_STATUSES))
        if settings.rate_limit_rate and self._rng.random() < settings.rate_limit_rate:
            return Injected("429", 429)
        return None

    def lose_response(self) -> bool:
        """Whether a successful registration's answer is replaced by a 504."""
        rate = self.settings.lost_response_rate
        return bool(rate) and self._rng.random() < rate


def fault_answer(fault: Injected, retry_after: int) -> Answer:
    """What a call answers instead of being processed (``dropped`` aside)."""
    if fault.in_body:
        return answers.error_in_success(fault.status)
    if fault.status == 429:
        return answers.rate_limited(retry_after)
    return answers.status_answer(fault.status)


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A whole response held in memory as bytes, ready to send (or to alter first)."""

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

    def padded(self, size: int) -> RawResponse:
        """The body padded with trailing spaces to ``size`` bytes (still valid JSON)."""
        if size <= len(self.body):
            return self
        return self.with_body(self.body + b" " * (size - len(self.body)))

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


def with_echo(response: RawResponse, scope: Scope, request_body: bytes) -> RawResponse:
    """An error body with the request in it (``echo_request_in_errors``): method, path, query,
    every header (api-key included) and body, to prove a client never repeats them."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response
    body["request"] = {
        "method": scope["method"],
        "path": scope["path"],
        "query_string": scope["query_string"].decode("latin-1"),
        "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
        "body": request_body.decode("utf-8", "replace"),
    }
    return response.with_body(answers.dumps(body))


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
