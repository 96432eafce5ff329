"""Fault settings and the seeded dice that decide which Kaleyra call gets which fault."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SERVER_ERROR_STATUSES",
    "FaultInjector",
    "FaultSettings",
    "FaultUpdate",
    "Injected",
    "ScriptStep",
]

SERVER_ERROR_STATUSES = (500, 502, 503, 504)
_MAX_MS = 60_000.0
_MAX_BYTES = 64 * 1024 * 1024


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
