"""A label rename kept as one tester: the program reads the testers of the stack's last
deployment and gives a renamed tester the URN of its previous name as an alias.

A tester's logical name holds its label, so a rename is a new name. Without an alias the engine
creates a new resource (one register call, or one list call, per rename) and deletes the old
one. With it the engine diffs the previous resource, sees only the label change and updates it
in place, which makes no API call: against a Kaleyra that serves only the register call,
nothing else can tell that the number is already a tester.

The previous testers come from the engine's built-in ``readStackResourceOutputs`` invoke on
the stack itself: read from the backend, stored nowhere, one read per program run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._config import AgentSpec
from ._domain import PhoneNumberError, normalize_phone

__all__ = ["PreviousTester", "plan_aliases", "previous_testers", "read_previous_testers"]

RCS_TESTER_TYPE = "pulumi-python:dynamic/kaleyra:RcsTester"
READ_STACK_RESOURCES = "pulumi:pulumi:readStackResourceOutputs"


@dataclass(frozen=True)
class PreviousTester:
    """A tester resource of the stack's last deployment (``phone`` as E.164 digits)."""

    urn: str
    agent_no: str
    label: str
    phone: str = field(repr=False)


def previous_testers(result: Mapping[str, Any] | None) -> list[PreviousTester]:
    """The testers in a ``readStackResourceOutputs`` result (``{"outputs": {urn: {"type",
    "outputs"}}}``). Entries of other types, or without a readable agent, label or phone
    (a pending create, an older layout), are skipped: they can only be left unaliased."""
    resources = (result or {}).get("outputs")
    if not isinstance(resources, Mapping):
        return []
    found: list[PreviousTester] = []
    for urn, entry in resources.items():
        if not isinstance(entry, Mapping) or entry.get("type") != RCS_TESTER_TYPE:
            continue
        outputs = entry.get("outputs")
        if not isinstance(outputs, Mapping):
            continue
        agent, label, phone = (outputs.get(k) for k in ("agent_no", "label", "phoneno"))
        if not (isinstance(agent, str) and isinstance(label, str) and isinstance(phone, str)):
            continue
        try:
            digits = normalize_phone(phone)
        except PhoneNumberError:
            continue
        found.append(PreviousTester(str(urn), agent, label, digits))
    return found


def plan_aliases(
    previous: Sequence[PreviousTester], agents: Sequence[AgentSpec]
) -> dict[tuple[str, str], str]:
    """``{(agent, new label): previous URN}`` for every declared tester that is a rename.

    A rename is a declared (agent, phone) whose label has no previous resource, held by
    exactly one previous resource whose label is no longer declared for that agent. Anything
    else (a swap of labels, a number that also moved, two previous resources of one number)
    stays a create and a delete, as without this module: an alias the engine would refuse,
    or one that could merge two testers, is never proposed."""
    by_number: dict[tuple[str, str], list[PreviousTester]] = {}
    previous_labels: set[tuple[str, str]] = set()
    for old in previous:
        by_number.setdefault((old.agent_no, old.phone), []).append(old)
        previous_labels.add((old.agent_no, old.label))
    aliases: dict[tuple[str, str], str] = {}
    for spec in agents:
        declared = {tester.label for tester in spec.testers}
        for tester in spec.testers:
            if (spec.agent_no, tester.label) in previous_labels:
                continue
            holders = by_number.get((spec.agent_no, tester.phone), [])
            if len(holders) == 1 and holders[0].label not in declared:
                aliases[(spec.agent_no, tester.label)] = holders[0].urn
    return aliases


def read_previous_testers(stack_name: str) -> list[PreviousTester]:
    """The testers of ``stack_name``'s last deployment, read through the engine.

    An engine or backend that cannot answer costs only the rename shortcut: renames fall back
    to a create and a delete, and the reason is shown at debug level (``pulumi up -d``)."""
    import pulumi  # the planning above stays importable without the SDK

    try:
        result = pulumi.runtime.invoke(READ_STACK_RESOURCES, {"stackName": stack_name})
    except Exception as err:  # any failure means "no previous testers"
        pulumi.log.debug(f"previous testers of {stack_name} not read, renames are new: {err}")
        return []
    return previous_testers(result.value if isinstance(result.value, Mapping) else None)
