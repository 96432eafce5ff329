"""A label rename kept as one tester: the program reads the testers of the stack's last
deployment and gives a renamed tester the URN of its previous name as an alias.

A tester's logical name holds its label, so a rename is a new name. Without an alias the engine
creates a new resource (one register call, or one list call, per rename) and deletes the old
one. With it the engine diffs the previous resource, sees only the label change and updates it
in place, which makes no API call: against a Kaleyra that serves only the register call,
nothing else can tell that the number is already a tester.

The previous testers come from the engine's built-in ``readStackResourceOutputs`` invoke on
the stack itself: read from the backend, stored nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ._config import AgentSpec
from ._phones import PhoneNumberError, normalize_phone
from ._resource import tester_logical_name

__all__ = ["PreviousTester", "plan_aliases", "previous_testers", "read_previous_testers"]

RCS_TESTER_TYPE = "pulumi-python:dynamic/kaleyra:RcsTester"
#: The type chain in the URN of a tester declared by a fleet (child of its agent's component):
#: testers declared directly with ``RcsTester`` elsewhere in the program are never renamed.
FLEET_TESTER_TYPES = f"rcs-testers:index:AgentTesters${RCS_TESTER_TYPE}"
READ_STACK_RESOURCES = "pulumi:pulumi:readStackResourceOutputs"


@dataclass(frozen=True)
class PreviousTester:
    """A fleet tester of the stack's last deployment (``phone`` as E.164 digits)."""

    urn: str
    agent_no: str
    phone: str = field(repr=False)

    @property
    def name(self) -> str:
        """The logical name in the URN (``<agent>-<label>``); the ``label`` output can lag
        behind it (a resource left out of a ``--target`` run keeps its old outputs)."""
        return self.urn.rsplit("::", 1)[-1]


def previous_testers(result: Mapping[str, Any] | None) -> list[PreviousTester]:
    """The fleet testers in a ``readStackResourceOutputs`` result (``{"outputs": {urn:
    {"type", "outputs"}}}``). Entries of other types or parents, or without a readable agent
    or phone (a pending create), are skipped: they can only be left unaliased."""
    resources = (result or {}).get("outputs")
    if not isinstance(resources, Mapping):
        return []
    found: list[PreviousTester] = []
    for urn, entry in resources.items():
        if not isinstance(entry, Mapping) or entry.get("type") != RCS_TESTER_TYPE:
            continue
        parts = str(urn).split("::")
        outputs = entry.get("outputs")
        if len(parts) != 4 or parts[2] != FLEET_TESTER_TYPES or not isinstance(outputs, Mapping):
            continue
        agent, phone = outputs.get("agent_no"), outputs.get("phoneno")
        if not (isinstance(agent, str) and isinstance(phone, str | int)):
            continue
        try:
            digits = normalize_phone(phone)
        except PhoneNumberError:
            continue
        found.append(PreviousTester(str(urn), agent, digits))
    return found


def plan_aliases(
    previous: Sequence[PreviousTester], agents: Sequence[AgentSpec]
) -> dict[tuple[str, str], str]:
    """``{(agent, new label): previous URN}`` for every declared tester that is a rename.

    A rename is a declared (agent, phone) whose logical name has no previous resource, held by
    exactly one previous fleet tester whose logical name is not declared in this run. Anything
    else (a swap of labels, a number that also moved, two previous resources of one number)
    stays a create and a delete, as without this module: an alias the engine would refuse (a
    URN also registered in this run), or one that could merge two testers, is never proposed."""
    declared = {tester_logical_name(s.agent_no, t.label) for s in agents for t in s.testers}
    holders: dict[tuple[str, str], list[PreviousTester]] = {}
    for old in previous:
        holders.setdefault((old.agent_no, old.phone), []).append(old)
    existing = {old.name for old in previous}
    aliases: dict[tuple[str, str], str] = {}
    for spec in agents:
        for tester in spec.testers:
            if tester_logical_name(spec.agent_no, tester.label) in existing:
                continue
            found = holders.get((spec.agent_no, tester.phone), [])
            if len(found) == 1 and found[0].name not in declared:
                aliases[(spec.agent_no, tester.label)] = found[0].urn
    return aliases


def read_previous_testers(stack_names: Sequence[str]) -> list[PreviousTester]:
    """The fleet testers of the stack's last deployment, read through the engine under the
    first of ``stack_names`` the backend accepts (a self-managed backend in its legacy layout
    takes only the bare stack name).

    An engine or backend that cannot answer costs only the rename shortcut: renames fall back
    to a create and a delete, and the reasons are shown at debug level (``pulumi up -d``)."""
    reasons: list[str] = []
    for name in stack_names:
        try:
            result = pulumi.runtime.invoke(READ_STACK_RESOURCES, {"stackName": name})
        except Exception as err:  # any failure means "not under this name"
            reasons.append(f"{name}: {err}")
            continue
        return previous_testers(result.value if isinstance(result.value, Mapping) else None)
    pulumi.log.debug(f"the last deployment was not read, renames are new testers: {reasons}")
    return []
