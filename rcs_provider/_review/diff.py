"""What a change to the stack files does to the testers, per stack and agent.

Testers are identified by (agent, label), as the program names its resources. A label that
disappears while the same phone appears under a new label of the same agent is a rename (the
provider adopts the registration: no invitation); the same phone leaving one agent for another
is a move (an invitation at the new agent, a removal by hand at the old one). A reference to
the stack's phonebook is compared as the person's entry: a phone changed there is a phone change
of every agent that refers to the person, each saying where it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from . import rules
from .connection import ConnectionChange
from .stack_version import INVALID, DeclaredAgent, StackVersion, TesterEntry

__all__ = [
    "AgentReview",
    "Change",
    "ChangeKind",
    "Review",
    "StackReview",
    "Status",
    "diff_stack",
]

CONSOLE = "in the Kaleyra console"
#: How a tester with ``allowNonMobile: true`` is flagged beside its change.
ALLOW_NON_MOBILE_FLAG = f"{rules.ALLOW_NON_MOBILE_KEY}: line type not checked"


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    PHONE_CHANGED = "phone_changed"
    MOVED = "moved"
    NOTE_CHANGED = "note_changed"
    ALLOW_NON_MOBILE_CHANGED = "allow_non_mobile_changed"


class Status(StrEnum):
    """Whether a stack or an agent is new, gone, or present on both sides."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


_ORDER = list(ChangeKind)
#: Changes that register a number at an agent (an invitation, when the number is valid).
_REGISTERING = (ChangeKind.ADDED, ChangeKind.PHONE_CHANGED, ChangeKind.MOVED)


@dataclass(frozen=True)
class Change:
    """One tester's change. ``phone`` is masked, ``"secret"`` or ``"invalid"``."""

    kind: ChangeKind
    agent: str
    label: str
    phone: str
    from_label: str | None = None
    from_phone: str | None = None
    from_agent: str | None = None
    secret_compared: bool = False
    #: The phonebook entry (``testers.qa-alice``) the tester's phone comes from, if any.
    from_phonebook: str | None = None
    #: The tester has ``allowNonMobile: true``: its line type is not checked.
    allow_non_mobile: bool = False

    @property
    def fails(self) -> bool:
        """Whether preview refuses it (listed among the problems): the phone it would register
        is invalid, so deploying it fails and registers nothing."""
        return self.phone == INVALID and self.kind in _REGISTERING

    @property
    def invites(self) -> bool:
        """Whether ``pulumi up`` sends a new invitation for it."""
        return self.kind in _REGISTERING and not self.fails

    @property
    def action(self) -> str | None:
        """What a person must do by hand (Kaleyra has no API to remove a tester), if anything.
        An invalid number was never registered, so it leaves nothing to remove; a change that
        fails changes nothing at Kaleyra."""
        if self.fails:
            return None
        if self.kind is ChangeKind.REMOVED and self.phone != INVALID:
            return f"remove {self.label} ({self.phone}) from agent {self.agent} {CONSOLE}"
        if self.kind is ChangeKind.PHONE_CHANGED and self.from_phone != INVALID:
            return (
                f"remove the old number of {self.label} ({self.from_phone}) from agent "
                f"{self.agent} {CONSOLE}"
            )
        if self.kind is ChangeKind.MOVED:
            return (
                f"remove {self.from_label or self.label} ({self.phone}) from agent "
                f"{self.from_agent} {CONSOLE}"
            )
        return None

    @property
    def effect(self) -> str:
        """The change in a few words, for a table cell."""
        flag = f"; {ALLOW_NON_MOBILE_FLAG}" if self.allow_non_mobile else ""
        return self._effect() + flag

    def _effect(self) -> str:
        if self.kind in _REGISTERING:
            outcome = (
                "will fail, its phone is invalid (see the problems)"
                if self.fails
                else "invitation sent"
            )
            return f"{self._registering_change()}: {outcome}"
        return self._other_effect()

    def _registering_change(self) -> str:
        if self.kind is ChangeKind.PHONE_CHANGED:
            where = f" in the phonebook ({self.from_phonebook})" if self.from_phonebook else ""
            return f"phone changed{where} from {self.from_phone}"
        if self.kind is ChangeKind.MOVED:
            renamed = f" (was {self.from_label})" if self.from_label else ""
            return f"moved from agent {self.from_agent}{renamed}"
        return "added"

    def _other_effect(self) -> str:
        if self.kind is ChangeKind.REMOVED:
            return "removed"
        if self.kind is ChangeKind.RENAMED:
            return f"renamed from {self.from_label}: no invitation"
        if self.kind is ChangeKind.ALLOW_NON_MOBILE_CHANGED:
            if self.allow_non_mobile:
                return f"{rules.ALLOW_NON_MOBILE_KEY} set: no effect on the registration"
            return f"{rules.ALLOW_NON_MOBILE_KEY} removed: its line type is checked again"
        return "note changed: no effect"


@dataclass
class AgentReview:
    agent: str
    name: str | None
    status: Status
    testers_after: int
    changes: list[Change] = field(default_factory=list)


@dataclass
class StackReview:
    stack: str
    source: str
    status: Status
    pod: str | None
    agents: list[AgentReview]
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Changes to where and how the api-key is sent (``kaleyra:baseUrl``, ``pod``, paths...).
    connection: list[ConnectionChange] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [c for a in self.agents for c in a.changes]

    @property
    def is_shown(self) -> bool:
        """Whether the review has anything to say about this stack."""
        return bool(self.has_tester_changes or self.connection or self.warnings or self.problems)

    @property
    def has_tester_changes(self) -> bool:
        return bool(self.changes) or any(a.status is not Status.CHANGED for a in self.agents)


@dataclass
class Review:
    """The review of every stack file that differs between the base and the work tree."""

    base: str
    base_commit: str
    stacks: list[StackReview]
    decrypted: bool = False
    #: The base commit's date, and when the review ran (the base's age is the difference).
    base_committed: datetime | None = None
    reviewed_at: datetime | None = None
    #: A local branch named like a remote-tracking base, and its commits the base lacks.
    base_local_ahead: tuple[str, int] | None = None

    @property
    def base_age(self) -> str | None:
        """``committed 2026-01-01, 3 days ago``, or None when the date is unknown."""
        if self.base_committed is None:
            return None
        text = f"committed {self.base_committed.date().isoformat()}"
        if self.reviewed_at is None:
            return text
        days = max(0, (self.reviewed_at - self.base_committed).days)
        ago = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
        return f"{text}, {ago}"

    @property
    def base_warnings(self) -> list[str]:
        """What may make the base compared with not the one meant."""
        if self.base_local_ahead is None:
            return []
        branch, ahead = self.base_local_ahead
        return [
            f"your local branch {branch} has {ahead} commit(s) that {self.base} (the base "
            f"compared with) has not: changes made on {branch} and not pushed show here as "
            f"changes of the work tree. Push {branch}, or review with --base {branch}."
        ]

    @property
    def has_problems(self) -> bool:
        return any(s.problems for s in self.stacks)

    @property
    def has_tester_changes(self) -> bool:
        return any(s.has_tester_changes for s in self.stacks)

    @property
    def is_quiet(self) -> bool:
        """Nothing to say: no tester change, no connection change, no warning, no problem."""
        return not any(s.is_shown for s in self.stacks)

    @property
    def compared_secrets_by_ciphertext(self) -> bool:
        return any(c.secret_compared for s in self.stacks for c in s.changes)

    def actions(self) -> list[tuple[str, str]]:
        """``(stack, action)`` for everything a person must check or do by hand, in report
        order: per stack, its connection changes first, then its testers'."""
        return [
            (s.stack, action)
            for s in self.stacks
            for action in [
                *(item.action for item in s.connection),
                *(c.action for c in s.changes if c.action),
            ]
        ]


def diff_stack(base: StackVersion | None, head: StackVersion | None) -> StackReview:
    """The tester changes from ``base`` to ``head`` (either may be absent: stack added/removed)."""
    known = head or base
    assert known is not None, "a stack exists on at least one side"
    before = base.agents if base else {}
    after = head.agents if head else {}
    status = _status(base is not None, head is not None)
    agents: dict[str, AgentReview] = {}
    for number in [*after, *(a for a in before if a not in after)]:
        declared = after.get(number) or before[number]
        agents[number] = AgentReview(
            agent=number,
            name=declared.name,
            status=_status(number in before, number in after),
            testers_after=len(after[number].testers) if number in after else 0,
        )
    removed: list[tuple[str, TesterEntry]] = []
    added: list[tuple[str, TesterEntry]] = []
    for number, review in agents.items():
        old = before.get(number, DeclaredAgent(number, None, {})).testers
        new = after.get(number, DeclaredAgent(number, None, {})).testers
        review.changes += _same_labels(number, old, new)
        gone = [old[label] for label in old if label not in new]
        came = [new[label] for label in new if label not in old]
        review.changes += _renames(number, gone, came)
        removed += [(number, t) for t in gone]
        added += [(number, t) for t in came]
    for agent_to, tester, agent_from, previous in _moves(removed, added):
        agents[agent_to].changes.append(_moved(agent_to, tester, agent_from, previous))
    for number, tester in added:
        agents[number].changes.append(_single(ChangeKind.ADDED, number, tester))
    for number, tester in removed:
        agents[number].changes.append(_single(ChangeKind.REMOVED, number, tester))
    for review in agents.values():
        review.changes.sort(key=lambda c: (_ORDER.index(c.kind), c.label))
    return StackReview(
        stack=known.stack,
        source=known.source,
        status=status,
        pod=known.pod,
        agents=[a for a in agents.values() if a.changes or a.status is not Status.CHANGED],
    )


def _status(before: bool, after: bool) -> Status:
    return Status.CHANGED if before and after else Status.ADDED if after else Status.REMOVED


def _same_labels(
    agent: str, old: dict[str, TesterEntry], new: dict[str, TesterEntry]
) -> list[Change]:
    changes = []
    for label in (label for label in new if label in old):
        before, after = old[label], new[label]
        if before.phone.identity != after.phone.identity:
            changes.append(
                Change(
                    ChangeKind.PHONE_CHANGED,
                    agent,
                    after.label,
                    after.phone.shown,
                    from_phone=before.phone.shown,
                    secret_compared=before.phone.secret or after.phone.secret,
                    from_phonebook=_phonebook_entry(after),
                    allow_non_mobile=after.allow_non_mobile,
                )
            )
        elif before.allow_non_mobile != after.allow_non_mobile:
            changes.append(_single(ChangeKind.ALLOW_NON_MOBILE_CHANGED, agent, after))
        elif before.note != after.note:
            changes.append(_single(ChangeKind.NOTE_CHANGED, agent, after))
    return changes


def _renames(agent: str, gone: list[TesterEntry], came: list[TesterEntry]) -> list[Change]:
    """Pair testers that left and arrived under the same phone; the pairs leave the lists."""
    changes = []
    for before in list(gone):
        after = next((t for t in came if t.phone.identity == before.phone.identity), None)
        if after is None or before.phone.identity.startswith("invalid:"):
            continue
        gone.remove(before)
        came.remove(after)
        changes.append(
            Change(
                ChangeKind.RENAMED,
                agent,
                after.label,
                after.phone.shown,
                before.label,
                allow_non_mobile=after.allow_non_mobile,
            )
        )
    return changes


def _moves(
    removed: list[tuple[str, TesterEntry]], added: list[tuple[str, TesterEntry]]
) -> list[tuple[str, TesterEntry, str, TesterEntry]]:
    """Pair a phone leaving one agent with the same phone arriving at another."""
    moves = []
    for agent_from, before in list(removed):
        if before.phone.identity.startswith("invalid:"):
            continue
        match = next(
            (
                (agent_to, after)
                for agent_to, after in added
                if agent_to != agent_from and after.phone.identity == before.phone.identity
            ),
            None,
        )
        if match is None:
            continue
        removed.remove((agent_from, before))
        added.remove(match)
        moves.append((match[0], match[1], agent_from, before))
    return moves


def _moved(agent: str, tester: TesterEntry, agent_from: str, previous: TesterEntry) -> Change:
    return Change(
        ChangeKind.MOVED,
        agent,
        tester.label,
        tester.phone.shown,
        from_label=previous.label if previous.label != tester.label else None,
        from_agent=agent_from,
        allow_non_mobile=tester.allow_non_mobile,
    )


def _single(kind: ChangeKind, agent: str, tester: TesterEntry) -> Change:
    return Change(
        kind, agent, tester.label, tester.phone.shown, allow_non_mobile=tester.allow_non_mobile
    )


def _phonebook_entry(tester: TesterEntry) -> str | None:
    return rules.phonebook_path(tester.label) if tester.from_phonebook else None
