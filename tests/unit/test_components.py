"""AgentTesters and RcsTester under Pulumi's mocks: names, parents, secrets, outputs.
(Mocks never call create; the real engine is exercised in tests/e2e.)"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from rcs_provider._components import declare_fleet
from rcs_provider._config import AgentSpec, TesterSpec


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        outs = dict(args.inputs)
        if args.typ.endswith("RcsTester"):
            outs.update(registration_id=f"id-{args.name}", status="Unverified")
        return f"{args.name}-id", outs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, preview=False)
    return m


@pulumi.runtime.test
def test_one_component_per_agent_one_child_per_tester(mocks: Mocks) -> Any:
    spec = AgentSpec(
        "48900", (TesterSpec("qa-bob", "919800000002"), TesterSpec("qa-alice", "919800000001"))
    )
    outputs = declare_fleet([spec])

    def check(rows: list[dict[str, Any]]) -> None:
        names = {(r.typ, r.name) for r in mocks.resources}
        assert ("rcs-testers:index:AgentTesters", "agent-48900") in names
        assert ("pulumi-python:dynamic/kaleyra:RcsTester", "48900-qa-alice") in names
        assert ("pulumi-python:dynamic/kaleyra:RcsTester", "48900-qa-bob") in names
        testers = [r for r in mocks.resources if r.typ.endswith("RcsTester")]
        phones = [r.inputs["phoneno"] for r in testers]
        assert all(isinstance(p, dict) and p.get("value") for p in phones), (
            "phone is sent as a secret"
        )
        assert sorted(p["value"] for p in phones) == ["919800000001", "919800000002"]
        assert all("919800000" not in r.name for r in mocks.resources)
        assert [r["label"] for r in rows] == ["qa-alice", "qa-bob"]
        assert rows[0] == {
            "label": "qa-alice",
            "phone": "91980XXXXX01",
            "registration_id": "id-48900-qa-alice",
            "status": "Unverified",
        }

    return outputs["48900"].apply(check)
