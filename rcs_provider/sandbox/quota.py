"""Per-agent daily quota of new tester registrations (UTC days, counters in memory)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

__all__ = ["DailyQuota", "seconds_to_utc_midnight"]


def seconds_to_utc_midnight(now: float) -> int:
    """Whole seconds (rounded up, at least 1) until the next UTC midnight."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - moment).total_seconds()))


class DailyQuota:
    """Counts new registrations per (agent, UTC date); the limit is passed per call."""

    def __init__(self) -> None:
        self._used: Counter[tuple[str, str]] = Counter()

    def try_take(self, agent_no: str, *, limit: int, now: float) -> bool:
        """Take one unit of ``agent_no``'s quota for today; False when it is used up.

        ``limit`` 0 means unlimited; registrations are counted either way, so a quota set
        mid-day sees the ones already made.
        """
        key = (agent_no, datetime.fromtimestamp(now, UTC).date().isoformat())
        if limit > 0 and self._used[key] >= limit:
            return False
        self._used[key] += 1
        return True

    def used(self, agent_no: str, *, now: float) -> int:
        """How much of today's quota ``agent_no`` has used."""
        return self._used[(agent_no, datetime.fromtimestamp(now, UTC).date().isoformat())]

    def reset(self) -> None:
        """Forget every counter, as if a new day had started."""
        self._used.clear()
