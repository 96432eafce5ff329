"""Who has not accepted yet: each tester's status read against the report's time and limit.

One model feeds every format (Markdown, text, JSON), so they cannot disagree: the renderers
only lay out what is decided here, the sentences for a person included.

- ``Approved``: done. ``Pending`` / ``Unverified``: waiting, *overdue* once older than
  ``--pending-after``. ``Declined``: always needs a person.
- ``Registered`` (adopted from an "already registered" answer, without a list) and
  ``Unknown`` (Kaleyra showed none): the status is not visible, nothing to mark.
- Any other status Kaleyra reports is shown as given and counted apart.
- Under ``kaleyra:lookup register-only`` refresh never reads statuses, so a stack's recorded
  ones are stale: the stack is reported as "status not visible" and nothing in it is marked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from .durations import format_age, format_duration
from .export import ExportedStack, ExportedTester

__all__ = [
    "COUNTED_STATUSES",
    "NOT_VISIBLE_STATUSES",
    "REGISTER_ONLY",
    "Action",
    "AgentStatus",
    "Dropped",
    "StackInput",
    "StackStatus",
    "StatusReport",
    "TesterLine",
    "Verdict",
    "build_report",
    "classify",
]

APPROVED = "Approved"
DECLINED = "Declined"
WAITING_STATUSES = ("Pending", "Unverified")
#: Counted per agent, always shown (zero included), in this order.
COUNTED_STATUSES = (APPROVED, *WAITING_STATUSES, DECLINED)
#: Statuses of our own that say Kaleyra's status is not known; counted apart.
NOT_VISIBLE_STATUSES = ("Registered", "Unknown")
REGISTER_ONLY = "register-only"


class Verdict(StrEnum):
    """What a tester's status asks of a person."""

    APPROVED = "approved"
    WAITING = "waiting"
    OVERDUE = "overdue"
    DECLINED = "declined"
    NOT_VISIBLE = "not_visible"
    OTHER = "other"


def classify(status: str, age: timedelta | None, pending_after: timedelta) -> Verdict:
    """The verdict on one tester. An age that is not known (a state written before Pulumi
    recorded creation times) never makes an invitation overdue."""
    if status == APPROVED:
        return Verdict.APPROVED
    if status == DECLINED:
        return Verdict.DECLINED
    if status in WAITING_STATUSES:
        overdue = age is not None and age > pending_after
        return Verdict.OVERDUE if overdue else Verdict.WAITING
    if status in NOT_VISIBLE_STATUSES:
        return Verdict.NOT_VISIBLE
    return Verdict.OTHER


@dataclass(frozen=True)
class TesterLine:
    """A tester that is not ``Approved``, as every format lists it."""

    agent: str
    label: str
    phone: str | None
    status: str
    created: datetime | None
    age: timedelta | None
    verdict: Verdict

    @property
    def who(self) -> str:
        """``qa-bob (91980XXXXX02)``, or the label alone when the phone is not shown."""
        return f"{self.label} ({self.phone})" if self.phone else self.label

    @property
    def age_text(self) -> str:
        return format_age(self.age) if self.age is not None else "unknown"


@dataclass(frozen=True)
class Dropped:
    """A tester that left the state since an earlier export (a refresh in ``list`` mode drops
    those a complete tester list no longer shows)."""

    agent: str
    label: str
    phone: str | None

    @property
    def who(self) -> str:
        return f"{self.label} ({self.phone})" if self.phone else self.label


@dataclass(frozen=True)
class AgentStatus:
    """One agent's testers. ``counts``, ``not_visible`` and ``other`` are ``None`` when the
    stack's statuses are not visible (``register-only``), and then ``lines`` is empty."""

    agent: str
    testers: int
    counts: dict[str, int] | None
    not_visible: dict[str, int] | None
    other: dict[str, int] | None
    lines: tuple[TesterLine, ...]


@dataclass(frozen=True)
class StackStatus:
    """One stack: ``deployed`` is false when the backend has no such stack; ``dropped`` is
    ``None`` when no earlier export was compared."""

    stack: str
    deployed: bool
    last_update: datetime | None
    lookup: str | None
    agents: tuple[AgentStatus, ...]
    dropped: tuple[Dropped, ...] | None

    @property
    def status_visible(self) -> bool:
        return self.lookup != REGISTER_ONLY

    @property
    def lines(self) -> list[TesterLine]:
        return [line for agent in self.agents for line in agent.lines]


@dataclass(frozen=True)
class Action:
    """Something a person has to do: ``reason`` is ``overdue``, ``declined`` or ``dropped``."""

    stack: str
    agent: str
    label: str
    phone: str | None
    reason: str
    text: str


@dataclass(frozen=True)
class StatusReport:
    """Every stack's testers as of ``as_of``, invitations marked against ``pending_after``."""

    as_of: datetime
    pending_after: timedelta
    stacks: tuple[StackStatus, ...]

    @property
    def pending_after_text(self) -> str:
        return format_duration(self.pending_after)

    def actions(self) -> list[Action]:
        """What needs a person, stack by stack: overdue and declined invitations, then
        testers dropped from the state."""
        actions = []
        for stack in self.stacks:
            for line in stack.lines:
                text = self._action_text(line)
                if text is not None:
                    reason = line.verdict.value
                    actions.append(
                        Action(stack.stack, line.agent, line.label, line.phone, reason, text)
                    )
            for gone in stack.dropped or ():
                text = (
                    f"{gone.who} of agent {gone.agent} was dropped from the state by the "
                    "refresh: the agent's tester list no longer shows it (removed in the Kaleyra "
                    "console?), and the next `pulumi up` invites it again. Remove it from the "
                    "stack file if it should go."
                )
                actions.append(
                    Action(stack.stack, gone.agent, gone.label, gone.phone, "dropped", text)
                )
        return actions

    def _action_text(self, line: TesterLine) -> str | None:
        if line.verdict is Verdict.OVERDUE:
            return (
                f"{line.who} of agent {line.agent} is {line.status} for {line.age_text}, over "
                f"{self.pending_after_text}: remind its owner to accept the invitation."
            )
        if line.verdict is Verdict.DECLINED:
            return (
                f"{line.who} of agent {line.agent} declined the invitation: ask its owner, then "
                "remove the tester from the stack file and the Kaleyra console, or invite it "
                "again from the console."
            )
        return None

    @property
    def needs_person(self) -> bool:
        return bool(self.actions())

    def count(self, verdict: Verdict) -> int:
        return sum(1 for s in self.stacks for line in s.lines if line.verdict is verdict)


@dataclass(frozen=True)
class StackInput:
    """What was read of one stack: its export (``None``: not in the backend), the lookup mode
    its stack file sets, and an earlier export to compare with."""

    stack: str
    export: ExportedStack | None
    file_lookup: str | None = None
    before: ExportedStack | None = None


def build_report(
    stacks: Sequence[StackInput], *, as_of: datetime, pending_after: timedelta
) -> StatusReport:
    """The report of ``stacks`` as of ``as_of``."""
    return StatusReport(
        as_of=as_of,
        pending_after=pending_after,
        stacks=tuple(_stack(given, as_of, pending_after) for given in stacks),
    )


def _stack(given: StackInput, as_of: datetime, pending_after: timedelta) -> StackStatus:
    export = given.export
    if export is None:
        return StackStatus(given.stack, False, None, given.file_lookup, (), None)
    lookup = export.lookup if export.lookup is not None else given.file_lookup
    visible = lookup != REGISTER_ONLY
    # A refresh that drops one tester of an agent leaves that agent's whole `agents` output
    # unknown; the earlier export still shows the phones of the others.
    earlier = {t.urn: t.phone for t in given.before.testers} if given.before else {}
    by_agent: dict[str, list[ExportedTester]] = {}
    for tester in export.testers:
        if tester.phone is None and earlier.get(tester.urn):
            tester = replace(tester, phone=earlier[tester.urn])
        by_agent.setdefault(tester.agent, []).append(tester)
    agents = tuple(
        _agent(agent, testers, as_of, pending_after, visible=visible)
        for agent, testers in by_agent.items()
    )
    dropped = None
    if given.before is not None:
        now = {t.urn for t in export.testers}
        dropped = tuple(
            Dropped(t.agent, t.label, t.phone) for t in given.before.testers if t.urn not in now
        )
    return StackStatus(given.stack, True, export.last_update, lookup, agents, dropped)


def _agent(
    agent: str,
    testers: list[ExportedTester],
    as_of: datetime,
    pending_after: timedelta,
    *,
    visible: bool,
) -> AgentStatus:
    if not visible:
        return AgentStatus(agent, len(testers), None, None, None, ())
    statuses = Counter(t.status for t in testers)
    lines = []
    for tester in testers:
        age = as_of - tester.created if tester.created is not None else None
        verdict = classify(tester.status, age, pending_after)
        if verdict is not Verdict.APPROVED:
            line = TesterLine(
                agent, tester.label, tester.phone, tester.status, tester.created, age, verdict
            )
            lines.append(line)
    known = (*COUNTED_STATUSES, *NOT_VISIBLE_STATUSES)
    return AgentStatus(
        agent=agent,
        testers=len(testers),
        counts={status: statuses[status] for status in COUNTED_STATUSES},
        not_visible={status: statuses[status] for status in NOT_VISIBLE_STATUSES},
        other={status: n for status, n in sorted(statuses.items()) if status not in known},
        lines=tuple(lines),
    )
