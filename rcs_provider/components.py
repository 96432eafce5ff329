"""The Pulumi side of the stack's testers: one AgentTesters component per declared agent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from .config import AgentSpec
from .resource import RcsTester, RcsTesterArgs, tester_logical_name

__all__ = ["AgentTesters", "declare_fleet"]


class AgentTesters(pulumi.ComponentResource):
    """The testers of one agent: one RcsTester child per declared tester.

    Children are named ``<agent>-<label>``, so reordering the list changes nothing.
    """

    testers: pulumi.Output[list[dict[str, Any]]]

    def __init__(self, spec: AgentSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("rcs-testers:index:AgentTesters", f"agent-{spec.agent_no}", None, opts)
        children = [
            RcsTester(
                tester_logical_name(spec.agent_no, t.label),
                RcsTesterArgs(agent_no=spec.agent_no, phoneno=t.phone, label=t.label),
                pulumi.ResourceOptions(parent=self),
            )
            for t in spec.testers
        ]
        self.testers = pulumi.Output.all(
            *[
                pulumi.Output.all(c.label, c.phone_masked, c.registration_id, c.status).apply(
                    lambda v: {
                        "label": v[0],
                        "phone": v[1],
                        "registration_id": v[2],
                        "status": v[3],
                    }
                )
                for c in children
            ]
        ).apply(lambda rows: sorted(rows, key=lambda r: str(r["label"])))
        # The table is exported once, as the stack output; recording it on the component too
        # would store every tester a second time in state (measured: +0.6 KB per tester).
        self.register_outputs({})


def declare_fleet(agents: Sequence[AgentSpec]) -> dict[str, pulumi.Output[list[dict[str, Any]]]]:
    """Declare every agent's component; returns the per-agent outputs to export."""
    return {spec.agent_no: AgentTesters(spec).testers for spec in agents}
