"""The sandbox's configuration and the live state every route shares."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rcs_provider.sandbox.defaults import DEFAULT_AGENTS, DEFAULT_API_KEY, DEFAULT_SID, MEMORY
from rcs_provider.sandbox.faults import FaultInjector, FaultSettings
from rcs_provider.sandbox.personality import Personality
from rcs_provider.sandbox.quota import DailyQuota
from rcs_provider.sandbox.stats import Stats
from rcs_provider.sandbox.status import StatusClock
from rcs_provider.sandbox.store import RegistrationStore, StoredRegistration

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = [
    "SandboxConfig",
    "SandboxState",
    "sandbox_state",
]


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """What the sandbox starts with; ``POST /_sandbox/reset`` returns to it (minus faults)."""

    sid: str = DEFAULT_SID
    api_key: str = DEFAULT_API_KEY
    agents: tuple[str, ...] = DEFAULT_AGENTS
    db: str = MEMORY
    clock: StatusClock = field(default_factory=StatusClock)
    faults: FaultSettings = field(default_factory=FaultSettings)
    personality: Personality = Personality.DOCUMENTED


class SandboxState:
    """Store, counters, faults, known agents and the status clock of one running sandbox.

    ``frozen_time`` pins the sandbox's "now" (epoch seconds) for creation times, statuses and
    the daily quota's day and ``Retry-After``, so tests need not race the wall clock."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = RegistrationStore(config.db)
        self.stats = Stats()
        self.faults = FaultInjector(config.faults)
        self.quota = DailyQuota()
        self.agents: frozenset[str] = frozenset(config.agents)
        self.clock = config.clock
        self.personality = config.personality
        self.frozen_time: float | None = None

    def now(self) -> float:
        """The sandbox's time: ``frozen_time`` when set, else the wall clock."""
        return time.time() if self.frozen_time is None else self.frozen_time

    def status_of(self, registration: StoredRegistration, now: float) -> str:
        """A manual override if one was set, else what the clock says."""
        if registration.status is not None:
            return registration.status
        return self.clock.status_at(registration.created_at, now).value

    def reset(self, *, keep_registrations: bool = False) -> None:
        """Clear stats, faults and quota counters; restore agents, clock, personality and real
        time; maybe registrations."""
        if not keep_registrations:
            self.store.clear()
        self.stats.reset()
        self.faults.replace(FaultSettings())
        self.quota.reset()
        self.agents = frozenset(self.config.agents)
        self.clock = self.config.clock
        self.personality = self.config.personality
        self.frozen_time = None

    def close(self) -> None:
        """Release the database."""
        self.store.close()


def sandbox_state(request: Request) -> SandboxState:
    """The state the app factory stored on the app."""
    state: SandboxState = request.app.state.sandbox
    return state
