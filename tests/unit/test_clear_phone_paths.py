"""Phones written in clear are found one by one in the stack file's YAML: a secret phone
beside them hides none, and each is reported at its own path with a masked number."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from rcs_provider._config import clear_phone_paths, clear_phone_problems, compose_stack_text

KEY = "rcs-testers:agents"
SECURE = {"secure": "v1:c2VjcmV0IHBob25lIGNpcGhlcnRleHQ="}


def phone_of(n: int) -> str:
    return f"+91 98{n:03d} {n:05d}"


def stack_text(agents: list[dict[str, object]]) -> str:
    config = {"kaleyra:pod": "na", KEY: agents}
    return yaml.safe_dump({"config": config}, sort_keys=False)


def clear_paths(text: str | None) -> list[str]:
    return clear_phone_paths(compose_stack_text(text), KEY)


def mixed_agents() -> list[dict[str, object]]:
    return [
        {
            "agent": "48900",
            "testers": [
                {"label": "qa-alice", "phone": SECURE},
                {"label": "qa-bob", "phone": phone_of(2)},
            ],
        },
        {
            "agent": "20700",
            "testers": [
                {"label": "qa-alice", "phone": SECURE},
                {"label": "qa-carol", "phone": SECURE},
                {"label": "qa-dan", "phone": phone_of(4)},
            ],
        },
    ]


def test_clear_phones_beside_secret_ones_are_each_found() -> None:
    assert clear_paths(stack_text(mixed_agents())) == [
        "agents[0].testers[1].phone",
        "agents[1].testers[2].phone",
    ]


def test_an_all_secret_stack_has_no_clear_phone() -> None:
    agents = [{"agent": "48900", "testers": [{"label": "qa-alice", "phone": SECURE}]}]
    assert clear_paths(stack_text(agents)) == []


def test_a_missing_or_broken_file_reports_nothing() -> None:
    assert clear_paths(None) == []
    assert clear_paths("config: [unclosed") == []


def decoded(agents: list[dict[str, object]]) -> list[dict[str, object]]:
    """What the engine hands the program: secure values decrypted."""
    clear = [
        {
            **agent,
            "testers": [
                {**t, "phone": phone_of(9) if t["phone"] == SECURE else t["phone"]}
                for t in agent["testers"]  # type: ignore[attr-defined]
            ],
        }
        for agent in agents
    ]
    return clear


def test_each_clear_phone_is_a_problem_naming_its_path_and_the_fix() -> None:
    agents = mixed_agents()
    paths = clear_paths(stack_text(agents))

    problems, warning = clear_phone_problems(paths, decoded(agents), key=KEY, allowed=False)

    assert warning is None
    assert problems == [
        "agents[0].testers[1].phone: 91980XXXXX02 is written in clear; outside the sandbox a "
        "phone must be a secret (the engine stores the stack config in the state): run "
        "`pulumi config set --secret --path 'rcs-testers:agents[0].testers[1].phone' "
        "'<number>'`, or set rcs-testers:allowClearPhones: true to accept clear phones",
        "agents[1].testers[2].phone: 91980XXXXX04 is written in clear; outside the sandbox a "
        "phone must be a secret (the engine stores the stack config in the state): run "
        "`pulumi config set --secret --path 'rcs-testers:agents[1].testers[2].phone' "
        "'<number>'`, or set rcs-testers:allowClearPhones: true to accept clear phones",
    ]


def test_the_opt_out_turns_the_problems_into_one_warning_naming_them() -> None:
    agents = mixed_agents()
    paths = clear_paths(stack_text(agents))

    problems, warning = clear_phone_problems(paths, decoded(agents), key=KEY, allowed=True)

    assert problems == []
    assert warning is not None
    assert warning.startswith(
        "2 phone(s) are written in clear (agents[0].testers[1].phone (91980XXXXX02), "
        "agents[1].testers[2].phone (91980XXXXX04))"
    )
    assert "rcs-testers:allowClearPhones accepts that" in warning
    assert "919800200002" not in warning and phone_of(2) not in warning


def test_an_unreadable_clear_phone_is_still_reported_without_echoing_it() -> None:
    raw = [{"agent": "48900", "testers": [{"label": "qa-x", "phone": "#9800012345"}]}]
    problems, _ = clear_phone_problems(["agents[0].testers[0].phone"], raw, key=KEY, allowed=False)
    assert problems[0].startswith("agents[0].testers[0].phone: an invalid number is written")
    assert "9800012345" not in problems[0]


def test_a_placeholder_is_left_to_the_config_model_which_names_the_same_command() -> None:
    raw = [
        {
            "agent": "61200",
            "testers": [
                {"label": "release-manager", "phone": "REPLACE-WITH-SECRET"},
                {"label": "qa-alice", "phone": phone_of(1)},
            ],
        }
    ]
    paths = ["agents[0].testers[0].phone", "agents[0].testers[1].phone"]
    problems, _ = clear_phone_problems(paths, raw, key=KEY, allowed=False)
    assert [p.split(":", 1)[0] for p in problems] == ["agents[0].testers[1].phone"]
    _, warning = clear_phone_problems(paths, raw, key=KEY, allowed=True)
    assert warning is not None and warning.startswith("1 phone(s) are written in clear")
    assert clear_phone_problems(paths[:1], raw, key=KEY, allowed=False) == ([], None)


def test_no_clear_phone_no_problem_no_warning() -> None:
    assert clear_phone_problems([], [], key=KEY, allowed=False) == ([], None)
    assert clear_phone_problems([], [], key=KEY, allowed=True) == ([], None)


@given(
    st.lists(st.lists(st.booleans(), min_size=1, max_size=6), min_size=1, max_size=5),
    st.sampled_from(["plain", "single", "double"]),
)
def test_exactly_the_clear_phones_are_found_in_any_mix(
    secret_flags: list[list[bool]], quoting: str
) -> None:
    """Any mix of secret and clear phones, in any scalar style: the clear ones, and only
    they, are reported, each at its own path."""
    lines = ["config:", "  kaleyra:pod: in", f"  {KEY}:"]
    expected = []
    for i, flags in enumerate(secret_flags):
        lines += [f'    - agent: "{48900 + i}"', "      testers:"]
        for j, secret in enumerate(flags):
            lines.append(f"        - label: qa-{i}-{j}")
            if secret:
                lines.append(f"          phone:\n            secure: {SECURE['secure']}")
            else:
                text = {"plain": "+919800000123", "single": "'+91 98000 00123'"}.get(
                    quoting, '"+91-98000-00123"'
                )
                lines.append(f"          phone: {text}")
                expected.append(f"agents[{i}].testers[{j}].phone")
    assert clear_paths("\n".join(lines) + "\n") == expected
