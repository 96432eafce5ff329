"""Which declared testers are renames of a previous resource (rcs_provider._renames): the
parsing of the engine's readStackResourceOutputs answer and the planning of aliases."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rcs_devtools.fleet_data import formatted, phone
from rcs_provider._config import AgentSpec, TesterSpec
from rcs_provider._renames import (
    FLEET_TESTER_TYPES,
    RCS_TESTER_TYPE,
    PreviousTester,
    plan_aliases,
    previous_testers,
)


def urn(agent: str, label: str, types: str = FLEET_TESTER_TYPES) -> str:
    return f"urn:pulumi:dev::rcs-testers::{types}::{agent}-{label}"


def old(agent: str, label: str, n: int) -> PreviousTester:
    return PreviousTester(urn(agent, label), agent, phone(n))


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
        (urn("1", "a"), RCS_TESTER_TYPE, {**good, "phoneno": "not a number"}),
        (urn("2", "a"), RCS_TESTER_TYPE, {"agent_no": "48900", "label": "qa-bob"}),
        (urn("3", "a"), RCS_TESTER_TYPE, {**good, "agent_no": None}),
        (urn("4", "a"), "pulumi-python:dynamic:Resource", good),
        (urn("5", "a"), RCS_TESTER_TYPE, good),
        ("not-a-urn", RCS_TESTER_TYPE, good),
        (urn("6", "a", types=RCS_TESTER_TYPE), RCS_TESTER_TYPE, good),
        (urn("7", "a", types=f"platform:index:Messaging${RCS_TESTER_TYPE}"), RCS_TESTER_TYPE, good),
    )
    result["outputs"]["u6"] = "not an entry"
    result["outputs"][urn("8", "a")] = {"type": RCS_TESTER_TYPE, "outputs": None}

    assert [t.urn for t in previous_testers(result)] == [urn("5", "a")], (
        "only readable testers of a fleet (child of AgentTesters)"
    )
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


def test_a_number_taken_over_from_a_label_still_declared_is_not_aliased() -> None:
    """qa-bob gets a new phone and the new qa-robert takes bob's old one: bob's URN is
    registered again in this run, so it cannot be robert's alias (the engine refuses)."""
    previous = [old("48900", "qa-bob", 2)]
    declared = fleet({"48900": [("qa-bob", 5), ("qa-robert", 2)]})

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


def test_names_come_from_the_urn_not_the_label_output() -> None:
    """A tester left out of a ``--target`` run keeps its old outputs under its new URN: what
    is declared is the URN's name, so that one is never an alias target."""
    lagging = PreviousTester(urn("48900", "qa-robert"), "48900", phone(2))

    assert lagging.name == "48900-qa-robert"
    assert plan_aliases([lagging], fleet({"48900": [("qa-robert", 2)]})) == {}
    assert plan_aliases([lagging], fleet({"48900": [("qa-rob", 2)]})) == {
        ("48900", "qa-rob"): urn("48900", "qa-robert")
    }


def test_a_lagging_label_output_in_the_answer_does_not_change_the_name_looked_up() -> None:
    """From the engine's answer to the aliases: a resource whose URN says qa-robert and whose
    ``label`` output still says qa-bob (left out of a ``--target`` run) is known by its URN's
    name. Keyed by the label, qa-robert would look undeclared and be aliased to itself, and a
    rename to qa-rob would be refused as a label still declared."""
    lagging = {"agent_no": "48900", "label": "qa-bob", "phoneno": formatted(2)}
    previous = previous_testers(answer((urn("48900", "qa-robert"), RCS_TESTER_TYPE, lagging)))

    assert [t.name for t in previous] == ["48900-qa-robert"]
    assert plan_aliases(previous, fleet({"48900": [("qa-robert", 2)]})) == {}
    assert plan_aliases(previous, fleet({"48900": [("qa-bob", 2)]})) == {
        ("48900", "qa-bob"): urn("48900", "qa-robert")
    }
    assert plan_aliases(previous, fleet({"48900": [("qa-rob", 2), ("qa-bob", 7)]})) == {
        ("48900", "qa-rob"): urn("48900", "qa-robert")
    }


def test_a_tester_declared_directly_is_never_a_rename_source() -> None:
    """The same number declared directly with RcsTester (not a fleet's child) and by a fleet:
    that resource is still registered in this run, so aliasing it would be refused."""
    direct = {"agent_no": "48900", "label": "oncall", "phoneno": phone(2)}
    result = answer(
        (urn("48900", "oncall", types=RCS_TESTER_TYPE), RCS_TESTER_TYPE, direct),
        (urn("48900", "qa-alice"), RCS_TESTER_TYPE, {**direct, "phoneno": phone(1)}),
    )
    previous = previous_testers(result)

    declared = fleet({"48900": [("qa-alice", 1), ("qa-oncall", 2)]})
    assert plan_aliases(previous, declared) == {}


LABELS = st.sampled_from([f"qa-{c}" for c in "abcdefgh"])
NUMBERS = st.integers(min_value=1, max_value=8)


def _testers() -> st.SearchStrategy[list[tuple[str, int]]]:
    return (
        st.lists(st.tuples(LABELS, NUMBERS), max_size=6)
        .map(lambda pairs: list({label: n for label, n in pairs}.items()))
        .filter(lambda pairs: len({n for _, n in pairs}) == len(pairs))
    )


@settings(max_examples=300)
@given(before=_testers(), after=_testers(), direct=st.sets(NUMBERS, max_size=2))
def test_aliases_are_never_ones_the_engine_would_refuse(
    before: list[tuple[str, int]], after: list[tuple[str, int]], direct: set[int]
) -> None:
    """Whatever the change, checked the way the engine checks aliases: a target is a previous
    URN that no resource of this run registers and no other alias claims, holding the same
    number; a new name that already has a resource gets no alias. Testers declared directly
    (same numbers, other URNs) are in the state too and must never be targets."""
    fleet_olds = {urn("48900", label): n for label, n in before}
    direct_olds = {urn("48900", f"oncall-{n}", types=RCS_TESTER_TYPE): n for n in direct}
    result = answer(
        *(
            (u, RCS_TESTER_TYPE, {"agent_no": "48900", "label": "x", "phoneno": phone(n)})
            for u, n in {**fleet_olds, **direct_olds}.items()
        )
    )
    plan = plan_aliases(previous_testers(result), fleet({"48900": after}))

    registered = {urn("48900", label) for label, _ in after} | set(direct_olds)
    targets = list(plan.values())
    assert len(set(targets)) == len(targets), "one previous resource claimed twice"
    for (agent, label), target in plan.items():
        assert agent == "48900"
        assert target in fleet_olds and target not in registered
        assert urn(agent, label) not in fleet_olds
        assert fleet_olds[target] == dict(after)[label], "the same number"
    renamed = {
        label
        for label, n in after
        if label not in dict(before) and [p for p, m in before if m == n and p not in dict(after)]
    }
    assert {label for _, label in plan} == renamed
