"""The Pulumi side of the stack's testers: one AgentTesters component per declared agent, one
RcsTester child per declared tester, and the table of what was registered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import pulumi
from pulumi.output import Unknown

from ._config import AgentSpec
from ._phones import mask_phone
from ._resource import RcsTester, RcsTesterArgs, tester_logical_name

__all__ = ["AgentTesters", "declare_fleet"]

Row = dict[str, Any]


class AgentTesters(pulumi.ComponentResource):
    """The parent of one agent's testers (``agent-<agent>``), so that the engine groups them.

    Its children are declared by :func:`declare_fleet` and named ``<agent>-<label>``, so
    reordering the list changes nothing.
    """

    def __init__(self, agent_no: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rcs-testers:index:AgentTesters", f"agent-{agent_no}", None, opts)
        # The table is exported once, as the stack output; recording it on the component too
        # would store every tester a second time in state (measured: +0.6 KB per tester).
        self.register_outputs({})


def declare_fleet(
    agents: Sequence[AgentSpec],
    aliases: Mapping[tuple[str, str], str] | None = None,
    *,
    by_label: bool = False,
) -> dict[str, Any]:
    """Declare every agent's component and testers; returns, per agent, the table to export:
    a list of rows (label, masked phone, registration id, status; sorted by label), or with
    ``by_label`` a map ``{label: {phone, registration_id, status}}`` whose values are each
    an output of their own.

    ``aliases`` maps ``(agent, label)`` to the URN the tester had under an earlier label
    (:func:`rcs_provider._renames.plan_aliases`), so that a rename updates it in place.

    Each RcsTester is constructed right here, in plain loops: the SDK records the call stack
    of every resource in the state, so each function or comprehension between the program and
    the resource would cost every tester one more stored frame (60-100 bytes)."""
    tables: dict[str, Any] = {}
    renamed = aliases or {}
    for spec in agents:
        component = AgentTesters(spec.agent_no)
        parent = pulumi.ResourceOptions(parent=component)
        rows: list[Row] = []
        results: list[pulumi.Output[str | None]] = []
        for tester in spec.testers:
            args = RcsTesterArgs(
                agent_no=spec.agent_no,
                phoneno=tester.phone,
                label=tester.label,
                allow_non_mobile=tester.allow_non_mobile,
            )
            previous = renamed.get((spec.agent_no, tester.label))
            opts = (
                parent
                if previous is None
                else pulumi.ResourceOptions(parent=component, aliases=[previous])
            )
            resource = RcsTester(tester_logical_name(spec.agent_no, tester.label), args, opts)
            rows.append({"label": tester.label, "phone": mask_phone(tester.phone)})
            results += [_recorded(resource.registration_id), _recorded(resource.status)]
        if by_label:
            tables[spec.agent_no] = _by_label(rows, results)
        else:
            tables[spec.agent_no] = pulumi.Output.all(*results).apply(partial(_table, rows))
    return tables


def _recorded(value: pulumi.Output[str]) -> pulumi.Output[str | None]:
    """A tester's output as the stack output shows it: in a run that changes the state,
    ``None`` where the engine left it unknown. That is a tester this run did not create: a
    ``pulumi refresh --run-program`` (which creates nothing, and gives the program unknown
    outputs for testers missing from the state) or a targeted ``up``. Exported unknown, the
    value would be stored as Pulumi's unknown marker (a fixed UUID) until the next ``up``.
    A preview keeps it unknown, shown as such."""
    if pulumi.runtime.is_dry_run():
        return value
    return value.apply(_none_if_unknown, run_with_unknowns=True)


def _none_if_unknown(value: str | None) -> str | None:
    return None if isinstance(value, Unknown) else value


def _by_label(rows: list[Row], results: list[pulumi.Output[str | None]]) -> dict[str, Row]:
    """``{label: {phone, registration_id, status}}``: each value its own output, so one
    tester's change (an unknown id in a preview, a removal) shows as that tester's alone."""
    return {
        row["label"]: {
            "phone": row["phone"],
            "registration_id": results[2 * i],
            "status": results[2 * i + 1],
        }
        for i, row in enumerate(rows)
    }


def _table(rows: list[Row], values: list[Any]) -> list[Row]:
    """``rows`` completed with each tester's registration id and status (``values`` holds
    them in pairs, in the same order), sorted by label."""
    done = [
        {**row, "registration_id": values[2 * i], "status": values[2 * i + 1]}
        for i, row in enumerate(rows)
    ]
    return sorted(done, key=lambda row: str(row["label"]))
