"""Achieved concurrency of a ``pulumi up``, read from the sandbox's own records.

With a fixed injected latency L and no jitter, a registration stored at ``created_at`` (ms
resolution) was in flight during ``[created_at - L, created_at]``: the sandbox sleeps L before
it handles the call. From those intervals come the register window, the peak number of
registers in flight and the mean concurrency inside the window, and, against the command's own
start and end, the time before the first and after the last register.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Timeline", "timeline"]


@dataclass(frozen=True)
class Timeline:
    """Where the wall time of one ``pulumi up`` went, in seconds."""

    before_first: float
    window: float
    after_last: float
    peak_in_flight: int
    mean_in_flight: float


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _peak(intervals: Iterable[tuple[float, float]]) -> int:
    """Largest number of overlapping half-open intervals."""
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    peak = depth = 0
    for _, step in edges:  # ends sort before starts at the same instant
        depth += step
        peak = max(peak, depth)
    return peak


def timeline(
    registrations: list[dict[str, Any]], latency_s: float, started: float, ended: float
) -> Timeline:
    """The register window of one command from the sandbox's registrations."""
    if not registrations or latency_s <= 0:
        raise ValueError("need registrations and a positive latency")
    ends = sorted(_epoch(r["created_at"]) for r in registrations)
    intervals = [(e - latency_s, e) for e in ends]
    first, last = intervals[0][0], ends[-1]
    window = max(last - first, latency_s)
    return Timeline(
        before_first=first - started,
        window=window,
        after_last=ended - last,
        peak_in_flight=_peak(intervals),
        mean_in_flight=len(ends) * latency_s / window,
    )
