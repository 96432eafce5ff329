"""The ``/_sandbox/`` inspection and control API (no auth: a loopback tool)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from rcs_provider import __version__
from rcs_provider.sandbox.answers import Personality, iso_time
from rcs_provider.sandbox.faults import FaultUpdate
from rcs_provider.sandbox.kaleyra_api import AGENT_PATTERN, PHONE_PATTERN
from rcs_provider.sandbox.store import (
    AlreadyRegistered,
    SandboxState,
    StatusClock,
    StoredRegistration,
    TesterStatus,
    sandbox_state,
)

__all__ = ["router"]

router = APIRouter(prefix="/_sandbox", tags=["sandbox"])

_PHONE = Field(pattern=f"^{PHONE_PATTERN.pattern}$", description="E.164 without '+'.")
_AGENT = Field(pattern=f"^{AGENT_PATTERN.pattern}$")


class NewRegistration(BaseModel):
    """Body of ``POST /_sandbox/registrations``."""

    model_config = ConfigDict(extra="forbid")

    agent_no: str = _AGENT
    phoneno: str = _PHONE
    status: TesterStatus | None = Field(
        default=None, description="Pin a status; omit for the clock."
    )
    age_seconds: float = Field(
        default=0.0, ge=0, description="Backdate creation, to test the clock."
    )


class StatusChange(BaseModel):
    """Body of ``PATCH /_sandbox/registrations/{agent_no}/{phoneno}``; null = back to clock."""

    model_config = ConfigDict(extra="forbid")

    status: TesterStatus | None


class ResetRequest(BaseModel):
    """Optional body of ``POST /_sandbox/reset``."""

    model_config = ConfigDict(extra="forbid")

    keep_registrations: bool = False


class Agents(BaseModel):
    """Known agent numbers (register/list for others answer "Agent Not Found")."""

    model_config = ConfigDict(extra="forbid")

    agents: list[str] = Field(description="Agent numbers (digits).")


class PersonalityChoice(BaseModel):
    """Which variant of Kaleyra's tester API the sandbox plays."""

    model_config = ConfigDict(extra="forbid")

    personality: Personality


class Clock(BaseModel):
    """Seconds to ``Pending``; seconds from ``Pending`` to ``Approved`` (null = never)."""

    model_config = ConfigDict(extra="forbid")

    status_clock: float = Field(ge=0)
    auto_approve: float | None = Field(default=None, ge=0)


class FrozenTime(BaseModel):
    """The sandbox's time, pinned (epoch seconds) or real (null)."""

    model_config = ConfigDict(extra="forbid")

    now: float | None = Field(
        ge=0, description="Epoch seconds the sandbox's clock stays at; null = the wall clock."
    )


def _view(state: SandboxState, row: StoredRegistration, now: float) -> dict[str, Any]:
    return {
        "agent_no": row.agent_no,
        "phoneno": row.phoneno,
        "id": row.id,
        "status": state.status_of(row, now),
        "status_source": "clock" if row.status is None else "manual",
        "created_at": iso_time(row.created_at),
    }


def _missing(agent_no: str) -> HTTPException:
    return HTTPException(404, f"No registration of that number at agent {agent_no}")


@router.get("/registrations", summary="Every registration (optionally one agent's)")
async def list_registrations(request: Request, agent_no: str | None = None) -> dict[str, Any]:
    """All stored registrations with their current status, oldest first."""
    state = sandbox_state(request)
    now = state.now()
    return {"registrations": [_view(state, row, now) for row in state.store.list(agent_no)]}


@router.post("/registrations", status_code=201, summary="Add a registration out of band")
async def add_registration(request: Request, new: NewRegistration) -> dict[str, Any]:
    """Add a registration as if made elsewhere (not counted as a register call)."""
    state = sandbox_state(request)
    if new.agent_no not in state.agents:
        raise HTTPException(400, f"Unknown agent {new.agent_no}: PUT /_sandbox/agents first")
    now = state.now()
    status = None if new.status is None else new.status.value
    try:
        row = state.store.add(
            new.agent_no, new.phoneno, created_at=now - new.age_seconds, status=status
        )
    except AlreadyRegistered as exc:
        raise HTTPException(409, f"Already registered at agent {new.agent_no}") from exc
    return _view(state, row, now)


@router.patch("/registrations/{agent_no}/{phoneno}", summary="Change a status out of band")
async def change_status(
    request: Request, agent_no: str, phoneno: str, change: StatusChange
) -> dict[str, Any]:
    """Pin a status (e.g. ``Declined``), or hand it back to the clock with ``null``."""
    state = sandbox_state(request)
    status = None if change.status is None else change.status.value
    if not state.store.set_status(agent_no, phoneno, status):
        raise _missing(agent_no)
    row = state.store.get(agent_no, phoneno)
    if row is None:
        raise _missing(agent_no)
    return _view(state, row, state.now())


@router.delete(
    "/registrations/{agent_no}/{phoneno}", status_code=204, summary="Remove a registration"
)
async def remove_registration(request: Request, agent_no: str, phoneno: str) -> Response:
    """Remove one registration, as a console user would."""
    if not sandbox_state(request).store.remove(agent_no, phoneno):
        raise _missing(agent_no)
    return Response(status_code=204)


@router.get("/stats", summary="Call counters")
async def stats(request: Request) -> dict[str, Any]:
    """Counters since start or the last reset."""
    state = sandbox_state(request)
    return {**state.stats.snapshot(), "registrations": state.store.count()}


@router.post("/reset", summary="Clear registrations, stats, faults and quota counters")
async def reset(request: Request, body: ResetRequest | None = None) -> dict[str, Any]:
    """Back to the start-up state (agents and clock too), without any fault."""
    keep = body is not None and body.keep_registrations
    sandbox_state(request).reset(keep_registrations=keep)
    return {"reset": True, "kept_registrations": keep}


@router.get("/faults", summary="Current fault settings")
async def get_faults(request: Request) -> dict[str, Any]:
    """Every fault knob and its value, plus the script steps still pending."""
    return sandbox_state(request).faults.describe()


@router.put("/faults", summary="Change fault settings (only the fields given)")
async def put_faults(request: Request, update: FaultUpdate) -> dict[str, Any]:
    """Merge the given fields into the fault settings; a given ``seed`` restarts the dice,
    a given ``script`` replaces the pending one."""
    faults = sandbox_state(request).faults
    faults.update(update)
    return faults.describe()


@router.post("/quota/reset", summary="Reset the daily quota counters")
async def reset_quota(request: Request) -> dict[str, Any]:
    """As if a new UTC day had started."""
    sandbox_state(request).quota.reset()
    return {"reset": True}


@router.get("/agents", summary="Known agent numbers")
async def get_agents(request: Request) -> Agents:
    """Agent numbers that register/list accept."""
    return Agents(agents=sorted(sandbox_state(request).agents))


@router.put("/agents", summary="Replace the known agent numbers")
async def put_agents(request: Request, agents: Agents) -> Agents:
    """Set the agent numbers that register/list accept."""
    bad = [agent for agent in agents.agents if not AGENT_PATTERN.fullmatch(agent)]
    if bad:
        raise HTTPException(422, f"Agent numbers must be digits: {bad}")
    state = sandbox_state(request)
    state.agents = frozenset(agents.agents)
    return Agents(agents=sorted(state.agents))


@router.get("/personality", summary="API personality")
async def get_personality(request: Request) -> PersonalityChoice:
    """The variant of Kaleyra's tester API being played."""
    return PersonalityChoice(personality=sandbox_state(request).personality)


@router.put("/personality", summary="Change the API personality")
async def put_personality(request: Request, choice: PersonalityChoice) -> PersonalityChoice:
    """Play another variant from the next call on (``POST reset`` returns to the start-up one)."""
    sandbox_state(request).personality = choice.personality
    return choice


@router.get("/clock", summary="Status clock")
async def get_clock(request: Request) -> Clock:
    """Seconds to ``Pending`` and to ``Approved``."""
    clock = sandbox_state(request).clock
    return Clock(status_clock=clock.pending_after, auto_approve=clock.approve_after)


@router.put("/clock", summary="Change the status clock")
async def put_clock(request: Request, clock: Clock) -> Clock:
    """Applies to every registration at once: statuses are computed from creation times."""
    sandbox_state(request).clock = StatusClock(clock.status_clock, clock.auto_approve)
    return clock


@router.get("/time", summary="The sandbox's time")
async def get_time(request: Request) -> FrozenTime:
    """The pinned time, or null while the sandbox follows the wall clock."""
    return FrozenTime(now=sandbox_state(request).frozen_time)


@router.put("/time", summary="Pin the sandbox's time, or release it")
async def put_time(request: Request, frozen: FrozenTime) -> FrozenTime:
    """Creation times, statuses and the daily quota (its day and ``Retry-After``) read this
    time until released with null (``POST reset`` releases it too)."""
    sandbox_state(request).frozen_time = frozen.now
    return frozen


@router.get("/info", summary="What this sandbox is")
async def info(request: Request) -> dict[str, Any]:
    """Sid, agents, database and version (never the api key)."""
    state = sandbox_state(request)
    return {
        "sid": state.config.sid,
        "agents": sorted(state.agents),
        "db": state.store.path,
        "journal_mode": state.store.journal_mode(),
        "statuses": [status.value for status in TesterStatus],
        "personality": state.personality.value,
        "version": __version__,
    }
