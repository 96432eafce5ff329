"""What ``rcs-testers doctor`` found: its checks in order, and the verdict they add up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Check", "Report", "Status"]

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass
class Check:
    """One line of the report; ``next_step`` is the step to take when it failed or warns
    (``next`` in the JSON report)."""

    name: str
    status: Status
    detail: str
    next_step: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "next": self.next_step,
        }


@dataclass
class Report:
    """Everything doctor found, in order; ``auto_uses`` is the mode ``auto`` will run in;
    ``unchecked_agents`` the declared agents no read-only call could find at the pod."""

    stack: str | None
    base_url: str | None = None
    lookup: str | None = None
    auto_uses: str | None = None
    checks: list[Check] = field(default_factory=list)
    timings: dict[str, str] = field(default_factory=dict)
    unchecked_agents: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check failed: a run would get past the pre-flight's concerns."""
        return all(c.status != "fail" for c in self.checks)

    @property
    def verdict(self) -> str:
        """``ready``, ``agents unchecked`` (nothing failed, but whether the pod knows some
        agent is unknown: a run may still fail on it) or ``a run would fail``."""
        if not self.ok:
            return "a run would fail"
        return "agents unchecked" if self.unchecked_agents else "ready"

    def add(self, name: str, status: Status, detail: str, next_step: str = "") -> Check:
        check = Check(name, status, detail, next_step)
        self.checks.append(check)
        return check

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "base_url": self.base_url,
            "lookup": self.lookup,
            "auto_uses": self.auto_uses,
            "timings": self.timings,
            "ok": self.ok,
            "verdict": self.verdict,
            "unchecked_agents": self.unchecked_agents,
            "checks": [c.as_json() for c in self.checks],
        }

    def as_table(self) -> str:
        width = max([len(c.name) for c in self.checks] + [5])
        lines = [f"{'check':<{width}}  result  detail"]
        lines += [f"{c.name:<{width}}  {c.status:<6}  {c.detail}" for c in self.checks]
        steps = [f"  - {c.name}: {c.next_step}" for c in self.checks if c.next_step]
        if steps:
            lines += ["", "next steps:", *steps]
        lines += ["", f"{self.verdict} (stack {self.stack or '?'}){_why(self)}"]
        return "\n".join(lines)


def _why(report: Report) -> str:
    if report.verdict != "agents unchecked":
        return ""
    return (
        f": no read-only call of this pod shows whether it knows agent(s) "
        f"{_listed(report.unchecked_agents)}; everything else is ready, and the first "
        "`pulumi up` tells (an unknown agent fails its testers with Kaleyra's answer)"
    )


def _listed(agents: Sequence[str]) -> str:
    return ", ".join(agents)
