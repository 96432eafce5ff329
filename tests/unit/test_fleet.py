"""Stack config validation: every problem at once, by path, no phone in clear."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_provider._config import AgentSpec, FleetConfigError, TesterSpec, parse_fleet
from rcs_provider._phones import MAX_TESTERS_PER_AGENT
from rcs_provider._resource import tester_logical_name

SOURCE = "stacks/Pulumi.prod.yaml"


def problems(raw: Any) -> list[str]:
    with pytest.raises(FleetConfigError) as info:
        parse_fleet(raw, source=SOURCE)
    assert str(info.value).startswith(f"Unable to read the testers of {SOURCE}:")
    assert "nothing was registered" in str(info.value)
    return info.value.problems


def agent(testers: Any, number: Any = "48900", **extra: Any) -> dict[str, Any]:
    return {"agent": number, "testers": testers, **extra}


def test_valid_config_is_normalised() -> None:
    agents = parse_fleet(
        [
            agent(
                [
                    {"label": "qa-alice", "phone": "+91 98000 00001", "note": "Pixel"},
                    {"label": "qa-bob", "phone": 919800000002},
                ],
                number=48900,
                name="Support",
            ),
            agent([{"label": "qa-alice", "phone": "919800000001"}], number="20700"),
        ],
        source=SOURCE,
    )
    assert agents == (
        AgentSpec(
            "48900",
            (TesterSpec("qa-alice", "919800000001", "Pixel"), TesterSpec("qa-bob", "919800000002")),
            "Support",
        ),
        AgentSpec("20700", (TesterSpec("qa-alice", "919800000001"),)),
    )
    assert agents[0].testers[0].masked == "91980XXXXX01"
    assert "919800000001" not in repr(agents)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "agents: not set"),
        ({"agent": "1"}, "agents: must be a list of agents, got dict"),
        ([], "agents: is empty"),
        (["48900"], "agents[0]: must be a map with agent and testers, got str"),
        ([{"testers": [{"label": "a", "phone": "919800000001"}]}], "agents[0].agent: missing"),
        (
            [agent([{"label": "a", "phone": "919800000001"}], number=4.5)],
            "agents[0].agent: agent must be a string, got float",
        ),
        (
            [agent([{"label": "a", "phone": "919800000001"}], number=None)],
            "agents[0].agent: agent must be a string, got null",
        ),
        (
            [agent([{"label": "a", "phone": "919800000001"}], number="48 900")],
            "agents[0].agent: must be the agent's service code",
        ),
        (
            [agent([{"label": "a", "phone": "919800000001"}], name=5)],
            "agents[0].name: must be a string, got int",
        ),
        ([{"agent": "1"}], "agents[0].testers: missing"),
        ([agent({"label": "a"})], "agents[0].testers: must be a list of testers, got dict"),
        ([agent([])], "agents[0].testers: is empty"),
        ([agent(["qa"])], "agents[0].testers[0]: must be a map with label and phone, got str"),
        ([agent([{"phone": "919800000001"}])], "agents[0].testers[0].label: missing"),
        (
            [agent([{"label": 7, "phone": "919800000001"}])],
            "agents[0].testers[0].label: must be a string, got int",
        ),
        (
            [agent([{"label": "qa\nx", "phone": "919800000001"}])],
            "agents[0].testers[0].label: must be 1-64 characters",
        ),
        (
            [agent([{"label": "a", "phone": None}])],
            "agents[0].testers[0].phone: phone must be a string, got null",
        ),
        (
            [agent([{"label": "a", "phone": True}])],
            "agents[0].testers[0].phone: phone must be a string, got bool",
        ),
        ([agent([{"label": "a"}])], "agents[0].testers[0].phone: missing"),
        (
            [agent([{"label": "a", "phone": "919800000001", "note": 3}])],
            "agents[0].testers[0].note: must be a string, got int",
        ),
        (
            [agent([{"label": "a", "phone": "919800000001", "phoneNo": "x"}])],
            "agents[0].testers[0]: unknown key \"phoneNo\": did you mean 'phone'?",
        ),
        (
            [agent([{"label": "a", "phone": "919800000001"}], tester=[])],
            "agents[0]: unknown key \"tester\": did you mean 'testers'?",
        ),
        (
            [agent([{"label": "a", "phone": "919800000001", "zzz": 1}])],
            'agents[0].testers[0]: unknown key "zzz": allowed keys: label, phone, note',
        ),
    ],
)
def test_each_problem_names_its_path(raw: Any, expected: str) -> None:
    found = problems(raw)
    assert any(p.startswith(expected) or expected in p for p in found), found


@pytest.mark.parametrize(
    "placeholder", ["REPLACE-WITH-SECRET", "SET-WITH-CONFIG-SET-SECRET", "<number>", "TODO", "xx"]
)
def test_a_placeholder_phone_says_how_to_set_the_number(placeholder: str) -> None:
    raw = [{"agent": "61200", "testers": [{"label": "release-manager", "phone": placeholder}]}]
    with pytest.raises(FleetConfigError) as info:
        parse_fleet(raw, source=SOURCE)
    assert info.value.problems == [
        f"agents[0].testers[0].phone: '{placeholder}' is a placeholder, not a number: set the "
        "tester's number with `pulumi config set --secret --path "
        "'rcs-testers:agents[0].testers[0].phone' '<number>'`"
    ]


@pytest.mark.parametrize("typo", ["+91 95300 0009O", "+91 98OOO OOO12", "919530000092#"])
def test_a_mistyped_number_is_not_taken_for_a_placeholder(typo: str) -> None:
    raw = [{"agent": "61200", "testers": [{"label": "qa-alice", "phone": typo}]}]
    with pytest.raises(FleetConfigError) as info:
        parse_fleet(raw, source=SOURCE)
    assert "placeholder" not in info.value.problems[0]
    assert "may only contain digits" in info.value.problems[0]


def test_duplicates_within_an_agent_and_across_agents() -> None:
    found = problems(
        [
            agent(
                [
                    {"label": "qa-a", "phone": "919800000001"},
                    {"label": "QA-A", "phone": "+91 98000 00001"},
                ]
            ),
            agent([{"label": "qa-b", "phone": "919800000003"}]),
        ]
    )
    assert found == [
        "agents[0].testers[1].label: duplicate label 'QA-A', also at agents[0].testers[0].label",
        "agents[0].testers[1].phone: 91980XXXXX01 is already declared at agents[0].testers[0].phone",
        "agents[1].agent: agent 48900 is already declared at agents[0]: merge the two testers lists",
    ]


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = problems(
        [agent([{"label": "", "phone": "abc"}, {"label": "ok", "phone": "12"}]), {"agent": True}]
    )
    assert len(found) >= 5


def test_too_many_testers_on_one_agent() -> None:
    testers = [{"label": f"t{i}", "phone": f"9198{i:08d}"} for i in range(10_000)]
    [found] = problems([agent(testers)])
    assert found.startswith(
        f"agents[0].testers: 10000 testers; an agent can have at most {MAX_TESTERS_PER_AGENT}"
    )


def test_phone_never_appears_in_clear() -> None:
    found = problems(
        [
            agent(
                [
                    {"label": "a", "phone": "+91 98000 0000"},
                    {"label": "b", "phone": "9198000000011111"},
                ]
            )
        ]
    )
    text = "\n".join(found)
    assert "980000000" not in text and "9198000000011111" not in text


@given(
    st.lists(
        st.sampled_from(["qa-a", "qa-b", "qa-c", "qa-d"]), min_size=1, max_size=4, unique=True
    ),
    st.randoms(),
)
def test_logical_names_do_not_depend_on_order(labels: list[str], rnd: Any) -> None:
    testers = [{"label": label, "phone": f"91980000000{i}"} for i, label in enumerate(labels)]
    shuffled = list(testers)
    rnd.shuffle(shuffled)

    def names(ts: list[dict[str, Any]]) -> set[str]:
        [spec] = parse_fleet([agent(ts)], source=SOURCE)
        return {tester_logical_name("48900", t.label) for t in spec.testers}

    assert names(testers) == names(shuffled)


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.floats(),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
)
def test_garbage_at_any_level_gives_a_path_not_a_crash(value: Any) -> None:
    for raw in (
        value,
        [value],
        [agent(value)],
        [agent([value])],
        [agent([{"label": "a", "phone": value}])],
    ):
        try:
            parse_fleet(raw, source=SOURCE)
        except FleetConfigError as err:
            assert all(p.startswith("agents") for p in err.problems)


def test_logical_name() -> None:
    assert tester_logical_name("48900", "qa-alice") == "48900-qa-alice"


def test_unquoted_numbers_that_yaml_would_change_are_refused() -> None:
    from rcs_provider._config import compose_stack_text, yaml_number_problems

    stack = compose_stack_text(
        "config:\n"
        "  rcs-testers:agents:\n"
        "    - agent: 04890\n"
        "      testers:\n"
        "        - {label: a, phone: 0919800000001}\n"
        "        - {label: b, phone: 919800000002}\n"
        "        - {label: c, phone: '0919800000003'}\n"
        "        - {label: d, phone: +91 98000 00004}\n"
        "    - agent: 0xBEEF\n"
        "      testers: []\n"
        "    - agent: 48900.0\n"
        '    - agent: "04890"\n'
        "    - agent: 48900\n"
    )
    problems = yaml_number_problems(stack, "rcs-testers:agents")
    assert problems == [
        'agents[0].agent: written without quotes as 04890, which YAML may read as a different number: quote it ("04890")',
        'agents[0].testers[0].phone: written without quotes as 09198XXXXXX01, which YAML may read as a different number: quote it ("09198XXXXXX01")',
        'agents[1].agent: written without quotes as 0xBEEF, which YAML may read as a different number: quote it ("0xBEEF")',
        'agents[2].agent: written without quotes as 48900.0, which YAML may read as a different number: quote it ("48900.0")',
    ]
    assert yaml_number_problems(compose_stack_text(None), "rcs-testers:agents") == []
    bad = compose_stack_text("config: [unclosed")
    assert yaml_number_problems(bad, "rcs-testers:agents") == []


def test_extra_problems_come_first_and_fail_an_otherwise_valid_fleet() -> None:
    with pytest.raises(FleetConfigError) as info:
        parse_fleet(
            [agent([{"label": "a", "phone": "919800000001"}])],
            source=SOURCE,
            extra_problems=["agents[0].agent: quote it"],
        )
    assert info.value.problems == ["agents[0].agent: quote it"]
    with pytest.raises(FleetConfigError) as info:
        parse_fleet(None, source=SOURCE, extra_problems=["x"])
    assert info.value.problems[0] == "x"


def test_huge_integers_are_a_config_problem() -> None:
    found = problems([agent([{"label": "a", "phone": 10**5000}], number=10**5000)])
    assert any("more than 19 digits" in p for p in found)


@pytest.mark.parametrize(
    "text", ["48 900", "4 8", "qa", "+91 98000 00001", "+919800000001", "48900", "0", "-48900"]
)
def test_plain_scalars_yaml_keeps_are_not_flagged(text: str) -> None:
    from rcs_provider._config import compose_stack_text, yaml_number_problems

    stack = compose_stack_text(f"config:\n  k:\n    - agent: {text}\n")
    assert yaml_number_problems(stack, "k") == []


@pytest.mark.parametrize(
    "text", ["04890", "0xBEEF", "0o17", "0b101", "48900.0", "4.89e4", "48_900", ".5", "1e5"]
)
def test_plain_scalars_yaml_changes_are_flagged(text: str) -> None:
    from rcs_provider._config import compose_stack_text, yaml_number_problems

    stack = compose_stack_text(f"config:\n  k:\n    - agent: {text}\n")
    assert len(yaml_number_problems(stack, "k")) == 1


def test_config_parsing_loads_neither_pulumi_nor_http() -> None:
    """The config model is pure: parsing a stack's testers imports no Pulumi and no HTTP."""
    code = (
        "import sys; import rcs_provider._config; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pulumi', 'requests', 'urllib3'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
