"""Tester status values and the clock that moves a registration through them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DEFAULT_STATUS_CLOCK", "StatusClock", "TesterStatus"]

#: Seconds from ``Unverified`` to ``Pending``: "about two minutes" per Kaleyra's console docs.
DEFAULT_STATUS_CLOCK = 120.0


class TesterStatus(StrEnum):
    """Tester statuses as Kaleyra's console shows them (plus ``Declined``, as RBM has it)."""

    UNVERIFIED = "Unverified"
    PENDING = "Pending"
    APPROVED = "Approved"
    DECLINED = "Declined"


@dataclass(frozen=True, slots=True)
class StatusClock:
    """Derives a status from a registration's age, so it survives restarts.

    ``pending_after``: seconds from creation to ``Pending``.
    ``approve_after``: seconds from ``Pending`` to ``Approved``; ``None`` = never automatic
    (the phone's owner has to accept, which the inspection API simulates).
    """

    pending_after: float = DEFAULT_STATUS_CLOCK
    approve_after: float | None = None

    def __post_init__(self) -> None:
        if self.pending_after < 0:
            raise ValueError("status clock must be >= 0 seconds")
        if self.approve_after is not None and self.approve_after < 0:
            raise ValueError("auto-approve must be >= 0 seconds")

    def status_at(self, created_at: float, now: float) -> TesterStatus:
        """The status of a registration created at ``created_at`` (epoch seconds) at ``now``."""
        age = now - created_at
        if age < self.pending_after:
            return TesterStatus.UNVERIFIED
        if self.approve_after is not None and age >= self.pending_after + self.approve_after:
            return TesterStatus.APPROVED
        return TesterStatus.PENDING
