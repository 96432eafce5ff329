"""The stack's phonebook (rcs_provider._config.phonebook): references resolve to the same testers as
inline entries, and every problem of both is listed with its path, numbers masked."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from rcs_devtools.fleet_data import formatted, phone
from rcs_provider._config import (
    FleetConfigError,
    StackTesters,
    clear_phone_problems,
    compose_stack_text,
    parse_fleet,
    parse_stack_testers,
    phonebook_clear_phones,
    phonebook_yaml_number_problems,
)
from rcs_provider._config.phonebook import phonebook_path

SRC = "stacks/Pulumi.dev.yaml"
NOT_IN_PHONEBOOK = "not in rcs-testers:testers"


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"phone": formatted(n), **extra}


PHONEBOOK = {
    "qa-alice": person(1, note="Alice's Pixel 8"),
    "qa-bob": person(2),
    "qa-chen": person(3),
}
REFERENCES = [
    {"agent": "48900", "name": "Support", "testers": ["qa-alice", "qa-bob"]},
    {"agent": "20700", "testers": ["qa-alice", {"label": "qa-zed", "phone": formatted(9)}]},
]
INLINE = [
    {
        "agent": "48900",
        "name": "Support",
        "testers": [
            {"label": "qa-alice", "phone": formatted(1), "note": "Alice's Pixel 8"},
            {"label": "qa-bob", "phone": formatted(2)},
        ],
    },
    {
        "agent": "20700",
        "testers": [
            {"label": "qa-alice", "phone": formatted(1), "note": "Alice's Pixel 8"},
            {"label": "qa-zed", "phone": formatted(9)},
        ],
    },
]


def parsed(agents: object, phonebook: object) -> StackTesters:
    return parse_stack_testers(agents, phonebook, source=SRC)


def problems_of(agents: object, phonebook: object) -> list[str]:
    with pytest.raises(FleetConfigError) as caught:
        parsed(agents, phonebook)
    text = str(caught.value)
    for n in range(1, 20):
        assert phone(n) not in re.sub(r"[^0-9X]", "", text), f"number {n} shown in full"
    return caught.value.problems


def agents_testing(*testers: object) -> list[dict[str, Any]]:
    return [{"agent": "48900", "testers": list(testers)}]


# -- same testers, either form ---------------------------------------------------------------


def test_references_are_the_same_testers_as_inline_entries() -> None:
    with_phonebook = parsed(REFERENCES, {**PHONEBOOK, "qa-chen": person(3)})
    inline = parse_fleet(INLINE, source=SRC)
    assert with_phonebook.agents == inline
    flags = [[t.from_phonebook for t in a.testers] for a in with_phonebook.agents]
    assert flags == [[True, True], [True, False]]
    assert with_phonebook.agents[0].testers[0].note == "Alice's Pixel 8"


def test_an_inline_stack_without_a_phonebook_parses_as_before() -> None:
    result = parsed(INLINE, None)
    assert result.agents == parse_fleet(INLINE, source=SRC)
    assert result.warnings == ()


def test_an_inline_entry_may_repeat_a_phonebook_person_with_the_same_phone() -> None:
    agents = [
        {"agent": "48900", "testers": ["qa-alice"]},
        {"agent": "20700", "testers": [{"label": "qa-alice", "phone": phone(1)}]},
    ]
    result = parsed(agents, {"qa-alice": person(1)})
    assert [a.testers[0].phone for a in result.agents] == [phone(1), phone(1)]
    assert result.warnings == ()


def test_allow_non_mobile_in_the_phonebook_carries_to_every_reference() -> None:
    book = {"qa-desk": {"phone": "+44 20 7946 0958", "allowNonMobile": True}}
    result = parsed(agents_testing("qa-desk"), book)
    assert result.agents[0].testers[0].allow_non_mobile is True


# -- warnings ------------------------------------------------------------------------------


def test_a_person_referenced_by_no_agent_is_a_warning_not_an_error() -> None:
    result = parsed(REFERENCES, PHONEBOOK)
    assert result.warnings == (
        "testers.qa-chen: referenced by no agent: add `- qa-chen` to the testers of the agents "
        "this person tests, or remove the entry with "
        "`pulumi config rm --path 'rcs-testers:testers.qa-chen'`",
    )
    assert len(result.agents) == 2


def test_the_unreferenced_warning_names_the_exact_removal_command() -> None:
    """The command is the entry's path under the fleet's namespace, quoted for a dotted label."""
    book = {"qa.bob": person(2), "qa-alice": person(1)}
    result = parse_stack_testers(
        [{"agent": "48900", "testers": ["qa-alice"]}], book, source=SRC, key="qa:agents"
    )
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith('testers["qa.bob"]: referenced by no agent: ')
    assert result.warnings[0].endswith(
        """or remove the entry with `pulumi config rm --path 'qa:testers["qa.bob"]'`"""
    )


# -- problems --------------------------------------------------------------------------------


def test_an_unknown_reference_suggests_the_closest_label() -> None:
    assert problems_of(agents_testing("qa-alcie"), PHONEBOOK) == [
        f"agents[0].testers[0]: unknown tester 'qa-alcie': {NOT_IN_PHONEBOOK}; "
        "did you mean 'qa-alice'?"
    ]


def test_an_unknown_reference_differing_in_case_suggests_the_label() -> None:
    [problem] = problems_of(agents_testing("QA-Bob", "qa-alice"), PHONEBOOK)
    assert problem.endswith("did you mean 'qa-bob'?")


def test_an_unknown_reference_with_nothing_close_says_how_to_declare_it() -> None:
    [problem] = problems_of(agents_testing("support-lead"), PHONEBOOK)
    assert problem == (
        f"agents[0].testers[0]: unknown tester 'support-lead': {NOT_IN_PHONEBOOK}; declare it "
        "under rcs-testers:testers (support-lead: {phone: ...}) or write the tester inline as "
        "{label, phone}"
    )


def test_a_reference_without_any_phonebook_is_unknown() -> None:
    [problem] = problems_of(agents_testing("qa-alice"), None)
    assert problem.startswith(
        f"agents[0].testers[0]: unknown tester 'qa-alice': {NOT_IN_PHONEBOOK}"
    )


def test_messages_name_the_phonebook_of_the_namespace_read() -> None:
    """A fleet read from another namespace (``declare_testers(pulumi.Config("qa"))``) is
    told about ``qa:testers``, the key it would have to set."""
    agents = [
        {"agent": "48900", "testers": ["support-lead", "qa-alcie"]},
        {"agent": "20700", "testers": [{"label": "qa-alice", "phone": formatted(7)}]},
    ]
    with pytest.raises(FleetConfigError) as caught:
        parse_stack_testers(agents, PHONEBOOK, source=SRC, key="qa:agents")
    problems = caught.value.problems

    assert "not in qa:testers; declare it under qa:testers (support-lead:" in problems[0]
    assert "unknown tester 'qa-alcie': not in qa:testers; did you mean" in problems[1]
    assert "differs from the phone of 'qa-alice' in qa:testers (91980XXXXX01)" in problems[2]
    assert not any("rcs-testers:" in problem for problem in problems)


@pytest.mark.parametrize(
    ("entry", "kind"), [(48900, "int"), (None, "null"), (["qa-alice"], "list"), (True, "bool")]
)
def test_a_reference_that_is_not_a_string_is_refused(entry: object, kind: str) -> None:
    [problem] = problems_of(agents_testing("qa-alice", entry), PHONEBOOK)
    assert problem == (
        "agents[0].testers[1]: must be a label of testers (a string) or a map with label and "
        f"phone, got {kind}"
    )


def test_a_phone_written_as_a_reference_is_masked() -> None:
    [problem] = problems_of(agents_testing(formatted(12)), PHONEBOOK)
    assert problem.startswith(
        'agents[0].testers[0]: "91980XXXXX12" is not a label of testers: a label must be 1-64'
    )


def test_a_label_both_referenced_and_inline_with_another_phone_is_refused() -> None:
    agents = [
        {"agent": "48900", "testers": ["qa-alice"]},
        {"agent": "20700", "testers": [{"label": "qa-alice", "phone": formatted(7)}]},
    ]
    assert problems_of(agents, PHONEBOOK | {"qa-bob": person(2)})[0] == (
        "agents[1].testers[0].phone: 91980XXXXX07 differs from the phone of 'qa-alice' in "
        "rcs-testers:testers (91980XXXXX01): one label, one person; refer to the phonebook with "
        "`- qa-alice`, or give this tester another label"
    )


def test_two_phonebook_entries_with_one_number_are_refused() -> None:
    book = {"qa-alice": person(1), "alice-pixel": {"phone": phone(1)}}
    assert problems_of(agents_testing("qa-alice", "alice-pixel"), book) == [
        "testers.alice-pixel.phone: 91980XXXXX01 is also the phone of testers.qa-alice: one "
        "person, one entry; point the agents at one label",
        "agents[0].testers[1]: refers to testers.alice-pixel, which is invalid (see its problem)",
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({}, "testers.qa-x.phone: missing: the tester's number in E.164, e.g. +919530000092"),
        ({"phone": None}, "testers.qa-x.phone: phone must be a string, got null"),
        ({"phone": "+91 98OOO"}, "testers.qa-x.phone: phone number may only contain digits"),
        ({"phone": ["+91"]}, "testers.qa-x.phone: phone must be a string, got list"),
        (
            {"phone": "+91 11 2345 6789"},
            "testers.qa-x.phone: phone number 91112XXXXX89 is a fixed-line number",
        ),
        (formatted(5), "testers.qa-x: must be a map with phone (and optionally note), got str"),
        ({"phone": formatted(5), "phoneNo": 1}, 'testers.qa-x: unknown key "phoneNo": did you'),
        ({"phone": formatted(5), "label": "x"}, 'testers.qa-x: unknown key "label": allowed keys'),
        ({"phone": formatted(5), "note": 3}, "testers.qa-x.note: must be a string, got int"),
        (
            {"phone": formatted(5), "allowNonMobile": "yes"},
            "testers.qa-x.allowNonMobile: must be true or false (unquoted), got str",
        ),
    ],
)
def test_a_phonebook_entry_follows_the_tester_rules(entry: object, expected: str) -> None:
    problems = problems_of(agents_testing("qa-alice"), {"qa-alice": person(1), "qa-x": entry})
    assert problems[0].startswith(expected), problems


@pytest.mark.parametrize(
    ("label", "path", "reason"),
    [
        ("qa x", 'testers["qa x"]', "label must be 1-64 characters"),
        ("qa-" + phone(12), 'testers["qa-91980XXXXX12"]', "label must not contain 7 or more"),
        ("QA-Alice", "testers.QA-Alice", "same label as testers.qa-alice apart from case"),
    ],
)
def test_phonebook_labels_follow_the_label_rules(label: str, path: str, reason: str) -> None:
    book = {"qa-alice": person(1), label: person(5)}
    [problem] = problems_of(agents_testing("qa-alice"), book)
    assert problem.startswith(f"{path}: {reason}")


def test_a_phonebook_that_is_not_a_map_is_refused() -> None:
    problems = problems_of(agents_testing({"label": "qa-a", "phone": formatted(1)}), ["qa-a"])
    assert problems == ["testers: must be a map of label -> {phone, note?}, got list"]


def test_every_problem_of_both_is_listed_at_once() -> None:
    agents = [
        {"agent": "48900", "testers": ["qa-alcie", 7, {"label": "qa-bob", "phone": formatted(4)}]},
        {"agent": "2O700", "testers": ["qa-alice"]},
    ]
    book = {"qa-alice": person(1), "qa-bob": person(2), "qa-twin": person(1), "qa-x": {}}
    assert [p.split(":")[0] for p in problems_of(agents, book)] == [
        "testers.qa-twin.phone",
        "testers.qa-x.phone",
        "agents[0].testers[0]",
        "agents[0].testers[1]",
        "agents[0].testers[2].phone",
        "agents[1].agent",
    ]


# -- the stack file --------------------------------------------------------------------------


def stack_document(text: str) -> yaml.Node | None:
    return compose_stack_text("config:\n  rcs-testers:testers:\n" + text)


def test_unquoted_phonebook_numbers_that_yaml_changes_are_problems() -> None:
    document = stack_document(
        "    qa-alice:\n      phone: 0919800000001\n    qa-bob:\n      phone: +919800000002\n",
    )
    assert phonebook_yaml_number_problems(document, "rcs-testers:testers") == [
        "testers.qa-alice.phone: written without quotes as 09198XXXXXX01, which YAML may read "
        'as a different number: quote it ("09198XXXXXX01")'
    ]


def test_clear_phonebook_phones_are_found_one_by_one() -> None:
    document = stack_document(
        f'    qa-alice:\n      phone: "{formatted(1)}"\n'
        "    qa-bob:\n      phone:\n        secure: v1:abc\n",
    )
    book = {"qa-alice": person(1), "qa-bob": person(2)}
    clear = phonebook_clear_phones(document, "rcs-testers:testers", book)
    assert clear == {"testers.qa-alice.phone": "91980XXXXX01"}
    problems, _ = clear_phone_problems(
        list(clear), None, key="rcs-testers:agents", allowed=False, masked=clear
    )
    assert problems == [
        "testers.qa-alice.phone: 91980XXXXX01 is written in clear; outside the sandbox a phone "
        "must be a secret (the engine stores the stack config in the state): run `pulumi config "
        "set --secret --path 'rcs-testers:testers.qa-alice.phone' '<number>'`, or set "
        "rcs-testers:allowClearPhones: true to accept clear phones"
    ]


def test_phonebook_paths_quote_labels_that_a_dotted_path_cannot_hold() -> None:
    assert phonebook_path("qa-alice") == "testers.qa-alice"
    assert phonebook_path("qa.alice") == 'testers["qa.alice"]'
    assert phonebook_path("7qa") == 'testers["7qa"]'
