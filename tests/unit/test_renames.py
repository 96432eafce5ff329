"""Which declared testers are renames of a previous resource (rcs_provider._renames): the
parsing of the engine's readStackResourceOutputs answer and the planning of aliases."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rcs_provider._config import AgentSpec, TesterSpec
from rcs_provider._renames import (
    RCS_TESTER_TYPE,
    PreviousTester,
    plan_aliases,
    previous_testers,
)
from support.fleet_data import formatted, phone


def urn(agent: str, label: str) -> str:
    return (
        "urn:pulumi:dev::rcs-testers::rcs-testers:index:AgentTesters$"
        f"{RCS_TESTER_TYPE}::{agent}-{label}"
    )


def old(agent: str, label: str, n: int) -> PreviousTester:
    return PreviousTester(urn(agent, label), agent, label, phone(n))


def fleet(layout: dict[str, list[tuple[str, int]]]) -> list[AgentSpec]:
    return [
        AgentSpec(agent, tuple(TesterSpec(label, phone(n)) for label, n in testers))
        for agent, testers in layout.items()
    ]


def answer(*entries: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "organization/rcs-testers/dev",
        "outputs": {u: {"type": t, "outputs": o} for u, t, o in entries},
    }


def test_the_answer_yields_each_tester_with_its_number_normalised() -> None:
    outputs = {"agent_no": "48900", "label": "qa-bob", "phoneno": formatted(2), "status": "x"}
    result = answer(
        (urn("48900", "qa-bob"), RCS_TESTER_TYPE, outputs),
        (
            "urn:pulumi:dev::rcs-testers::pulumi:pulumi:Stack::rcs-testers-dev",
            "pulumi:pulumi:Stack",
            {"agents": {}},
        ),
    )

    assert previous_testers(result) == [old("48900", "qa-bob", 2)]


def test_entries_that_cannot_be_read_are_skipped() -> None:
    good = {"agent_no": "48900", "label": "qa-bob", "phoneno": phone(2)}
    result = answer(
        ("u1", RCS_TESTER_TYPE, {**good, "phoneno": "not a number"}),
        ("u2", RCS_TESTER_TYPE, {"agent_no": "48900", "label": "qa-bob"}),
        ("u3", RCS_TESTER_TYPE, {**good, "label": None}),
        ("u4", "pulumi-python:dynamic:Resource", good),
        ("u5", RCS_TESTER_TYPE, good),
    )
    result["outputs"]["u6"] = "not an entry"
    result["outputs"]["u7"] = {"type": RCS_TESTER_TYPE, "outputs": None}

    assert [t.urn for t in previous_testers(result)] == ["u5"]
    assert previous_testers(None) == []
    assert previous_testers({"outputs": []}) == []


def test_a_plain_rename_is_aliased_to_the_previous_urn() -> None:
    previous = [old("48900", "qa-alice", 1), old("48900", "qa-bob", 2), old("20700", "qa-bob", 2)]
    declared = fleet({"48900": [("qa-alice", 1), ("qa-robert", 2)], "20700": [("qa-bob", 2)]})

    assert plan_aliases(previous, declared) == {("48900", "qa-robert"): urn("48900", "qa-bob")}


def test_a_swap_of_labels_is_not_aliased() -> None:
    previous = [old("48900", "qa-alice", 1), old("48900", "qa-bob", 2)]
    declared = fleet({"48900": [("qa-alice", 2), ("qa-bob", 1)]})

    assert plan_aliases(previous, declared) == {}


def test_a_number_that_also_moved_or_changed_is_not_aliased() -> None:
    previous = [old("48900", "qa-bob", 2)]

    assert plan_aliases(previous, fleet({"48900": [("qa-erin", 5)]})) == {}
    assert plan_aliases(previous, fleet({"20700": [("qa-robert", 2)]})) == {}


def test_a_number_held_by_two_previous_resources_is_not_aliased() -> None:
    """Possible only in a state edited by hand; merging two resources would lose one."""
    previous = [old("48900", "qa-bob", 2), old("48900", "qa-bobby", 2)]

    assert plan_aliases(previous, fleet({"48900": [("qa-robert", 2)]})) == {}


def test_a_label_that_already_has_a_resource_is_not_aliased() -> None:
    """qa-robert kept its resource (say, from an interrupted run) while qa-bob still holds the
    number: the engine finds qa-robert by name, an alias could only conflict."""
    previous = [old("48900", "qa-bob", 2), old("48900", "qa-robert", 9)]

    assert plan_aliases(previous, fleet({"48900": [("qa-robert", 2)]})) == {}


LABELS = st.sampled_from([f"qa-{c}" for c in "abcdefgh"])
NUMBERS = st.integers(min_value=1, max_value=8)


def _testers() -> st.SearchStrategy[list[tuple[str, int]]]:
    return (
        st.lists(st.tuples(LABELS, NUMBERS), max_size=6)
        .map(lambda pairs: list({label: n for label, n in pairs}.items()))
        .filter(lambda pairs: len({n for _, n in pairs}) == len(pairs))
    )


@given(before=_testers(), after=_testers())
def test_aliases_are_never_ones_the_engine_would_refuse(
    before: list[tuple[str, int]], after: list[tuple[str, int]]
) -> None:
    """Whatever the change: each alias joins the same number under a new label, points at a
    URN whose label is no longer declared, and no URN is claimed twice."""
    previous = [old("48900", label, n) for label, n in before]
    plan = plan_aliases(previous, fleet({"48900": after}))

    declared = dict(after)
    by_urn = {t.urn: t for t in previous}
    assert len(set(plan.values())) == len(plan)
    for (agent, label), target in plan.items():
        source = by_urn[target]
        assert agent == source.agent_no == "48900"
        assert source.label not in declared and label not in dict(before)
        assert phone(declared[label]) == source.phone
    renamed = {
        label
        for label, n in after
        if label not in dict(before) and [p for p, m in before if m == n and p not in declared]
    }
    assert {label for _, label in plan} == renamed
