"""Counters served by ``GET /_sandbox/stats``."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

__all__ = ["INJECTED_KINDS", "Stats"]

#: Buckets of ``errors_injected``: random 5xx, random 429, dropped connections, daily quota,
#: ``force_status`` and ``error_in_body`` answers and registrations whose success answer was
#: replaced by a 504.
INJECTED_KINDS = ("5xx", "429", "dropped", "quota", "forced", "lost")


class Stats:
    """Plain counters; all updates happen on the server's event loop."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        self.since = time.time()
        self.register_calls = 0
        self.register_created = 0
        self.register_conflicts = 0
        self.list_calls = 0
        self.injected: Counter[str] = Counter()
        self.responses: Counter[int] = Counter()
        self.delayed_calls = 0
        self.delay_ms = 0.0

    def snapshot(self) -> dict[str, Any]:
        """The JSON body of ``GET /_sandbox/stats``."""
        return {
            "register_calls": self.register_calls,
            "register_created": self.register_created,
            "register_conflicts": self.register_conflicts,
            "list_calls": self.list_calls,
            "errors_injected": {kind: self.injected[kind] for kind in INJECTED_KINDS},
            "responses_by_status": {str(k): v for k, v in sorted(self.responses.items())},
            "delayed_calls": self.delayed_calls,
            "delay_ms": round(self.delay_ms, 3),
            "since": self.since,
        }
