"""Recognising "this number is already a tester of this agent" in Kaleyra's answers.

Kaleyra's RCS error table lists 409 "Conflict (Subject already)"; the body of that answer is
not documented, and other Kaleyra APIs report duplicates as a 400. Every answer that means
"already registered" is recognised by :data:`ALREADY_REGISTERED`, the one table of this rule:
a register call answered so is adopted, never repeated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALREADY_REGISTERED",
    "AlreadyRegisteredRule",
    "existing_registration_id",
    "is_already_registered",
]


@dataclass(frozen=True)
class AlreadyRegisteredRule:
    """HTTP ``status`` plus, optionally, Kaleyra codes or message words that must match.

    With neither ``codes`` nor ``words`` the status alone decides (any body, even empty).
    """

    status: int
    codes: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()

    def matches(self, status: int, code: str | None, message: str) -> bool:
        if status != self.status:
            return False
        if not self.codes and not self.words:
            return True
        if (code or "").upper() in self.codes:
            return True
        return any(re.search(rf"\b{word}\b", message, re.IGNORECASE) for word in self.words)


#: The answers that mean "already registered": 409 with any body (``RCS409``, "Conflict
#: (Subject already)", plain text, empty); a 400 whose code is ``RCS409`` or whose message
#: says "already", "exists" or "duplicate".
ALREADY_REGISTERED: tuple[AlreadyRegisteredRule, ...] = (
    AlreadyRegisteredRule(409),
    AlreadyRegisteredRule(
        400, codes=frozenset({"RCS409"}), words=("already", "exists", "duplicate")
    ),
)


def is_already_registered(status: int, code: str | None, message: str) -> bool:
    """Whether an answer means the number is already a tester of the agent."""
    return any(rule.matches(status, code, message) for rule in ALREADY_REGISTERED)


def existing_registration_id(body: Any) -> str | None:
    """The existing registration's id, if an "already registered" body carries one."""
    for holder in (body.get("data") if isinstance(body, Mapping) else None, body):
        if isinstance(holder, Mapping):
            for key in ("id", "tester_id", "registration_id"):
                value = holder.get(key)
                if isinstance(value, str | int) and not isinstance(value, bool):
                    text = str(value).strip()
                    if text:
                        return text[:200]
    return None
