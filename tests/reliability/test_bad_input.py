"""Bad input: a corpus of invalid `rcs-testers:agents` blocks, each run through the real engine
(`pulumi preview` and `pulumi up`) against one stack that already holds 3 deployed testers.
Every entry must fail with its config path and reason, make zero API calls, leave the state as
it was and print no phone number (nor the api-key). Oddly formatted but valid phones are no
change. A hypothesis property test checks `parse_fleet` itself on arbitrary JSON-like values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rcs_devtools.fleet_data import agents_block, formatted, phone
from rcs_devtools.pulumi_cli import Project, Result, Stack
from rcs_provider._config import FleetConfigError, parse_fleet, parse_stack_testers

pytestmark = pytest.mark.reliability

STACK = "bad"
SRC = f"stacks/Pulumi.{STACK}.yaml"
#: Deployed before the corpus runs: 2 agents, 3 testers (numbers are rcs_devtools.fleet_data's).
BASE = {"48900": [("qa-alice", 1), ("qa-bob", 2)], "20700": [("qa-chen", 3)]}
BASE_PHONES = (1, 2, 3)
SCHEMA_ERROR = "configuration key 'agents' must be of type 'array<object>'"

# Reasons, as parse_fleet words them (the fragment each corpus entry must show).
ONLY_DIGITS = "phone number may only contain digits 0-9, spaces, dashes, dots, parentheses"
LABEL_CHARS = "must be 1-64 characters of letters, digits, '.', '_' or '-'"
AGENT_DIGITS = "must be the agent's service code: digits only, e.g. 48900"


@dataclass(frozen=True)
class Case:
    """One corpus entry: the agents block (a value, or raw YAML text), the fragments the
    output must contain, the test numbers it uses and any other text that must not be shown."""

    id: str
    agents: Any = None
    raw: str | None = None
    expect: tuple[str, ...] = ()
    phones: tuple[int, ...] = ()
    hidden: tuple[str, ...] = ()


def alice() -> dict[str, Any]:
    return {"label": "qa-alice", "phone": formatted(1)}


def tester(**fields: Any) -> list[dict[str, Any]]:
    """Agent 48900 with a valid first tester and ``fields`` as its second (testers[1])."""
    return [{"agent": "48900", "testers": [alice(), fields]}]


def agent(value: Any) -> list[dict[str, Any]]:
    """One agent whose ``agent`` is ``value`` and whose testers are valid."""
    return [{"agent": value, "testers": [alice()]}]


def at(path: str, reason: str) -> str:
    return f"{SRC}: {path}: {reason}"


def ph(reason: str) -> tuple[str, ...]:
    return (at("agents[0].testers[1].phone", reason),)


def lb(reason: str) -> tuple[str, ...]:
    return (at("agents[0].testers[1].label", reason),)


def in_digits(text: str, zero: int, *, plus: str = "+") -> str:
    """``text`` with its ASCII digits written in another script (``zero``: that script's 0)."""
    return "".join(
        chr(zero + int(ch)) if ch.isdigit() else plus if ch == "+" else ch for ch in text
    )


def raw_tester(phone_yaml: str) -> str:
    """Raw YAML: agent 48900, a valid tester, then qa-bob with ``phone_yaml`` as written."""
    return (
        '- agent: "48900"\n'
        "  testers:\n"
        "    - label: qa-alice\n"
        f'      phone: "{formatted(1)}"\n'
        "    - label: qa-bob\n"
        f"      phone: {phone_yaml}\n"
    )


def raw_agent(agent_yaml: str) -> str:
    """Raw YAML: one agent written as ``agent_yaml`` with one valid tester."""
    return (
        f'- agent: {agent_yaml}\n  testers:\n    - label: qa-alice\n      phone: "{formatted(1)}"\n'
    )


TEN_THOUSAND = [
    {
        "agent": "48900",
        "testers": [{"label": f"qa-{i:05d}", "phone": f"+91 97{i:08d}"} for i in range(10_000)],
    }
]

CORPUS = [
    # -- phone ------------------------------------------------------------------------------
    Case("phone-letters", tester(label="qa-bob", phone="+91 98OOO OOO12"), expect=ph(ONLY_DIGITS)),
    Case(
        "phone-arabic-indic-digits",
        raw=raw_tester(f'"{in_digits(formatted(12), 0x0660)}"'),
        expect=ph(ONLY_DIGITS),
        hidden=(in_digits(formatted(12), 0x0660)[1:],),
    ),
    Case(
        "phone-fullwidth-digits",
        raw=raw_tester(f'"{in_digits(formatted(12), 0xFF10, plus=chr(0xFF0B))}"'),
        expect=ph(ONLY_DIGITS),
        hidden=(in_digits(formatted(12), 0xFF10)[1:],),
    ),
    Case(
        "phone-too-short",
        tester(label="qa-bob", phone="+91 12"),
        expect=ph("phone number 9XX2 is too short"),
    ),
    Case(
        "phone-too-long-20-digits",
        tester(label="qa-bob", phone=formatted(12) + " 12345 678"),
        expect=ph("phone number 91980XXXXXXXXXXXXX78 is too long (E.164 allows at most 15 digits)"),
        phones=(12,),
    ),
    Case(
        "phone-country-code-only",
        tester(label="qa-bob", phone="+91"),
        expect=ph("phone number 9X is too short"),
    ),
    Case("phone-empty", tester(label="qa-bob", phone=""), expect=ph("phone number is empty")),
    Case(
        "phone-null",
        tester(label="qa-bob", phone=None),
        expect=ph("phone must be a string, got null"),
    ),
    Case(
        "phone-float",
        tester(label="qa-bob", phone=9.5),
        expect=ph("phone must be a string, got float"),
    ),
    Case(
        "phone-bool",
        tester(label="qa-bob", phone=True),
        expect=ph("phone must be a string, got bool"),
    ),
    Case(
        "phone-list",
        tester(label="qa-bob", phone=[formatted(12)]),
        expect=ph("phone must be a string, got list"),
        phones=(12,),
    ),
    Case(
        "phone-map",
        tester(label="qa-bob", phone={"number": formatted(12)}),
        expect=ph("phone must be a string, got dict"),
        phones=(12,),
    ),
    Case(
        "phone-missing",
        tester(label="qa-bob"),
        expect=ph("missing: the tester's number in E.164"),
    ),
    Case(
        "phone-with-extension",
        tester(label="qa-bob", phone=formatted(12) + " x123"),
        expect=ph(ONLY_DIGITS),
        phones=(12,),
    ),
    Case(
        "phone-00-international-prefix",
        tester(label="qa-bob", phone="0091 98000 00012"),
        expect=ph("phone number 00919XXXXXXX12 does not start with a known country code"),
        phones=(12,),
    ),
    Case(
        "phone-unknown-country-code",
        tester(label="qa-bob", phone="+999 1234 5678"),
        expect=ph("phone number 999XXXXXX78 does not start with a known country code"),
        hidden=("99912345678",),
    ),
    Case(
        "phone-not-valid-for-its-country",
        tester(label="qa-bob", phone="+91 50000 00012"),
        expect=ph("phone number 91500XXXXX12 is not a valid number for its country code"),
        hidden=("915000000012", "+91 50000 00012"),
    ),
    Case(
        "phone-with-tabs",
        raw=raw_tester('"+91\\t98000\\t00012"'),
        expect=ph(ONLY_DIGITS),
        phones=(12,),
    ),
    Case(
        "phone-with-newline",
        tester(label="qa-bob", phone="+91 98000\n00012"),
        expect=ph(ONLY_DIGITS),
        phones=(12,),
    ),
    Case(
        "phone-double-plus",
        tester(label="qa-bob", phone="++91 98000 00012"),
        expect=ph(ONLY_DIGITS),
        phones=(12,),
    ),
    Case(
        "phone-with-ansi-escape",
        tester(label="qa-bob", phone="\x1b[31m" + formatted(12)),
        expect=ph(ONLY_DIGITS),
        phones=(12,),
        hidden=("\x1b[31m",),
    ),
    # -- label ------------------------------------------------------------------------------
    Case(
        "label-missing",
        tester(phone=formatted(12)),
        expect=lb("missing: a short unique name such as qa-alice"),
        phones=(12,),
    ),
    Case(
        "label-empty", tester(label="", phone=formatted(12)), expect=lb(LABEL_CHARS), phones=(12,)
    ),
    Case(
        "label-null",
        tester(label=None, phone=formatted(12)),
        expect=lb("must be a string, got null"),
        phones=(12,),
    ),
    Case(
        "label-int",
        tester(label=42, phone=formatted(12)),
        expect=lb("must be a string, got int"),
        phones=(12,),
    ),
    Case(
        "label-with-newline",
        tester(label="qa\nbob", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
        hidden=("qa\nbob",),
    ),
    Case(
        "label-with-ansi-escape",
        tester(label="\x1b[31mred", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
        hidden=("\x1b[31m",),
    ),
    Case(
        "label-shell-substitution",
        tester(label="$(rm -rf /)", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
        hidden=("$(rm -rf /)",),
    ),
    Case(
        "label-backticks",
        tester(label="`id`", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
    ),
    Case(
        "label-semicolon",
        tester(label="qa;bob", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
    ),
    Case(
        "label-pipe",
        tester(label="qa|bob", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
    ),
    Case(
        "label-with-spaces",
        tester(label="qa bob", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
    ),
    Case(
        "label-65-chars",
        tester(label="q" * 65, phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
    ),
    Case(
        "label-unicode",
        tester(label="qa-bøb", phone=formatted(12)),
        expect=lb(LABEL_CHARS),
        phones=(12,),
    ),
    Case(
        "label-containing-a-phone-number",
        tester(label="qa-" + phone(12), phone=formatted(13)),
        expect=lb("must not contain"),
        phones=(12, 13),
    ),
    Case(
        "label-phone-number-split-by-dashes",
        tester(label="91-98000-00012", phone=formatted(13)),
        expect=lb("must not contain"),
        phones=(12, 13),
        hidden=("91-98000-00012",),
    ),
    Case(
        "label-phone-number-split-by-underscores",
        tester(label="9198_0000_0012", phone=formatted(13)),
        expect=lb("must not contain"),
        phones=(12, 13),
        hidden=("9198_0000_0012",),
    ),
    Case(
        "labels-duplicate-ignoring-case",
        tester(label="QA-ALICE", phone=formatted(12)),
        expect=lb("duplicate label 'QA-ALICE', also at agents[0].testers[0].label"),
        phones=(12,),
    ),
    Case(
        "phones-duplicate-in-different-formats",
        tester(label="qa-bob", phone=phone(1)),
        expect=ph("91980XXXXX01 is already declared at agents[0].testers[0].phone"),
    ),
    Case(
        "note-not-a-string",
        tester(label="qa-bob", phone=formatted(12), note=[1, 2]),
        expect=(at("agents[0].testers[1].note", "must be a string, got list"),),
        phones=(12,),
    ),
    # -- agent ------------------------------------------------------------------------------
    Case("agent-with-spaces", agent("48 900"), expect=(at("agents[0].agent", AGENT_DIGITS),)),
    Case("agent-letters", agent("48a00"), expect=(at("agents[0].agent", AGENT_DIGITS),)),
    Case("agent-empty", agent(""), expect=(at("agents[0].agent", AGENT_DIGITS),)),
    Case("agent-negative", agent(-48900), expect=(at("agents[0].agent", AGENT_DIGITS),)),
    Case(
        "agent-null",
        agent(None),
        expect=(at("agents[0].agent", "agent must be a string, got null"),),
    ),
    Case(
        "agent-bool",
        agent(True),
        expect=(at("agents[0].agent", "agent must be a string, got bool"),),
    ),
    Case(
        "agent-fractional-float",
        raw=raw_agent("48900.5"),
        expect=(at("agents[0].agent", "agent must be a string, got float"),),
    ),
    Case(
        "agent-missing",
        [{"testers": [alice()]}],
        expect=(at("agents[0].agent", "missing: the agent's service code"),),
    ),
    Case(
        "agents-duplicate",
        [{"agent": "48900", "testers": [alice()]}, {"agent": " 48900 ", "testers": [alice()]}],
        expect=(at("agents[1].agent", "agent 48900 is already declared at agents[0]"),),
    ),
    Case(
        "agents-duplicate-through-yaml-alias",
        raw=f'- &one\n  agent: "48900"\n  testers:\n    - label: qa-alice\n      phone: "{formatted(1)}"\n- *one\n',
        expect=(at("agents[1].agent", "agent 48900 is already declared at agents[0]"),),
    ),
    Case(
        "agent-name-not-a-string",
        [{"agent": "48900", "name": ["bot"], "testers": [alice()]}],
        expect=(at("agents[0].name", "must be a string, got list"),),
    ),
    # -- structure --------------------------------------------------------------------------
    Case(
        "agents-map-instead-of-list",
        raw=f'"48900":\n  testers:\n    - label: qa-alice\n      phone: "{formatted(1)}"\n',
        expect=(SCHEMA_ERROR,),
    ),
    Case("agents-string", "48900", expect=(SCHEMA_ERROR,)),
    Case("agents-null", None, expect=(SCHEMA_ERROR,)),
    Case("agents-empty-list", [], expect=(at("agents", "is empty: declare at least one agent"),)),
    Case("agent-entry-is-a-list", [["48900", [alice()]]], expect=(SCHEMA_ERROR,)),
    Case("agent-entry-is-a-string", ["48900"], expect=(SCHEMA_ERROR,)),
    Case(
        "testers-missing",
        [{"agent": "48900"}],
        expect=(at("agents[0].testers", "missing: list the agent's testers"),),
    ),
    Case(
        "testers-empty",
        [{"agent": "48900", "testers": []}],
        expect=(at("agents[0].testers", "is empty: declare at least one tester"),),
    ),
    Case(
        "testers-map-instead-of-list",
        [{"agent": "48900", "testers": {"qa-alice": formatted(1)}}],
        expect=(at("agents[0].testers", "must be a list of testers, got dict"),),
    ),
    Case(
        "tester-entry-is-a-phone-string",
        [{"agent": "48900", "testers": [formatted(12)]}],
        expect=(at("agents[0].testers[0]", '"91980XXXXX12" is not a label of testers'),),
        phones=(12,),
    ),
    Case(
        "tester-entry-is-an-unknown-reference",
        [{"agent": "48900", "testers": ["qa-alcie"]}],
        expect=(at("agents[0].testers[0]", "unknown tester 'qa-alcie'"),),
    ),
    Case(
        "tester-entry-is-a-number",
        [{"agent": "48900", "testers": [alice(), 48900]}],
        expect=(at("agents[0].testers[1]", "must be a label of testers (a string) or a map"),),
    ),
    Case(
        "unknown-key-phoneNo",
        tester(label="qa-bob", phoneNo=formatted(12)),
        expect=(
            at("agents[0].testers[1]", "unknown key \"phoneNo\": did you mean 'phone'?"),
            at("agents[0].testers[1].phone", "missing"),
        ),
        phones=(12,),
    ),
    Case(
        "unknown-key-lable",
        tester(lable="qa-bob", phone=formatted(12)),
        expect=(
            at("agents[0].testers[1]", "unknown key \"lable\": did you mean 'label'?"),
            at("agents[0].testers[1].label", "missing"),
        ),
        phones=(12,),
    ),
    Case(
        "unknown-key-tester",
        [{"agent": "48900", "tester": [alice()]}],
        expect=(
            at("agents[0]", "unknown key \"tester\": did you mean 'testers'?"),
            at("agents[0].testers", "missing"),
        ),
    ),
    Case(
        "tester-written-as-phone-to-label-map",
        [{"agent": "48900", "testers": [alice(), {formatted(12): "qa-bob"}]}],
        expect=(at("agents[0].testers[1]", "unknown key"),),
        phones=(12,),
    ),
    Case(
        "testers-201-on-one-agent",
        [
            {
                "agent": "48900",
                "testers": [{"label": f"qa-{i}", "phone": f"+91 97{i:08d}"} for i in range(201)],
            }
        ],
        expect=(at("agents[0].testers", "201 testers; an agent can have at most 200"),),
    ),
    Case(
        # Near the config size ceiling the program still runs: the limit and the size warning.
        "testers-2000-on-one-agent",
        [
            {
                "agent": "48900",
                "testers": [
                    {"label": f"qa-{i:05d}", "phone": f"+91 97{i:08d}"} for i in range(2000)
                ],
            }
        ],
        expect=(
            at("agents[0].testers", "2000 testers; an agent can have at most 200"),
            f"{SRC}: the stack config takes",
            "of the 131,072 bytes that Linux allows the PULUMI_CONFIG environment variable",
        ),
    ),
    Case(
        # Past it Pulumi's language host cannot start the program (the config travels in one
        # environment variable): the engine's own error is all a user sees.
        "testers-10000-on-one-agent",
        TEN_THOUSAND,
        expect=("problem executing program", "argument list too long"),
    ),
    Case(
        "many-problems-at-once",
        [
            {
                "agent": "48900",
                "testers": [
                    alice(),
                    {"label": "qa-alice", "phone": "not a phone"},
                    {"label": "qa x", "phoneNo": formatted(12)},
                ],
            },
            {"agent": "48900", "testers": []},
            {"agent": "4 8", "tester": []},
        ],
        expect=(
            f"of {SRC}: 10 problem(s); nothing was registered",
            at("agents[0].testers[1].label", "duplicate label 'qa-alice'"),
            at("agents[0].testers[1].phone", "'not a phone' is a placeholder, not a number"),
            at("agents[0].testers[2]", 'unknown key "phoneNo"'),
            at("agents[0].testers[2].label", LABEL_CHARS),
            at("agents[0].testers[2].phone", "missing"),
            at("agents[1].agent", "agent 48900 is already declared at agents[0]"),
            at("agents[1].testers", "is empty"),
            at("agents[2]", 'unknown key "tester"'),
            at("agents[2].agent", AGENT_DIGITS),
            at("agents[2].testers", "missing"),
        ),
        phones=(12,),
    ),
    # -- YAML scalars the engine turns into numbers before the program sees them --------------
    Case(
        "agent-hex-yaml-integer",
        raw=raw_agent("0xBEEF"),
        expect=(at("agents[0].agent", "written without quotes as"),),
    ),
    Case(
        "agent-unquoted-leading-zero",
        raw=raw_agent("04890"),
        expect=(at("agents[0].agent", "written without quotes as"),),
    ),
    Case(
        "agent-whole-float",
        raw=raw_agent("48900.0"),
        expect=(at("agents[0].agent", "written without quotes as"),),
    ),
]
assert len({c.id for c in CORPUS}) == len(CORPUS)


@dataclass
class Deployed:
    """The module's stack, its config file without agents, and the state to keep."""

    stack: Stack
    base: dict[str, Any]
    sandbox: Any
    resources: dict[str, Any]


def stack_yaml(base: dict[str, Any], agents: Any) -> str:
    data = {k: v for k, v in base.items() if k != "config"}
    data["config"] = {**base["config"], "rcs-testers:agents": agents}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_case(deployed: Deployed, case: Case) -> None:
    """Write the stack file with the case's agents block (raw text indented under the key)."""
    file = deployed.stack.file
    if case.raw is None:
        file.write_text(stack_yaml(deployed.base, case.agents), encoding="utf-8")
        return
    data = {k: v for k, v in deployed.base.items() if k != "config"}
    data["config"] = deployed.base["config"]  # last: the agents block is appended under it
    block = "\n".join("    " + line for line in case.raw.strip("\n").splitlines())
    text = yaml.safe_dump(data, sort_keys=False) + "  rcs-testers:agents:\n" + block + "\n"
    file.write_text(text, encoding="utf-8")


def never_shown(case: Case, api_key: str) -> list[str]:
    """Text that must appear in no output: every test number in full, the api-key..."""
    texts = [api_key, *case.hidden]
    for n in {*BASE_PHONES, *case.phones}:
        digits = phone(n)
        texts += [digits, formatted(n), digits[2:]]
    return texts


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, engine_env: dict[str, str], sandbox_server: Any
) -> Iterator[Deployed]:
    sandbox_server.reset()
    project = Project.create(tmp_path_factory.mktemp("bad-input") / "project", engine_env)
    stack = project.stack(
        STACK, sandbox_server.url, sid=sandbox_server.sid, api_key=sandbox_server.api_key
    )
    base = yaml.safe_load(stack.file.read_text())
    stack.file.write_text(stack_yaml(base, agents_block(BASE)))
    stack.up().ok()
    assert len(stack.testers_in_state()) == 3
    assert sandbox_server.stats()["register_calls"] == 3
    yield Deployed(stack, base, sandbox_server, stack.recorded())


def _check(result: Result, case: Case, forbidden: list[str]) -> None:
    text = result.output
    command = " ".join(result.args[:1])
    assert result.returncode != 0, f"pulumi {command} accepted {case.id}:\n{text[-3000:]}"
    missing = [e for e in case.expect if e not in text]
    assert not missing, f"pulumi {command} does not say {missing}:\n{text[-4000:]}"
    assert "Traceback" not in text, f"pulumi {command} crashed:\n{text[-4000:]}"
    shown = [repr(f) for f in forbidden if f in text]
    assert not shown, f"pulumi {command} printed {', '.join(shown)}:\n{text[-4000:]}"


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_invalid_config_fails_with_its_path_and_changes_nothing(
    deployed: Deployed, case: Case
) -> None:
    stack, sandbox = deployed.stack, deployed.sandbox
    before = sandbox.stats()
    write_case(deployed, case)
    forbidden = never_shown(case, sandbox.api_key)

    preview = stack.preview()
    _check(preview, case, forbidden)
    # _check stops here if the preview accepted the entry: `up` would change the shared stack.
    up = stack.up()
    _check(up, case, forbidden)

    after = sandbox.stats()
    assert after["register_calls"] == before["register_calls"], "a register call was made"
    assert after["list_calls"] == before["list_calls"], "a list call was made"
    assert stack.recorded() == deployed.resources, "the state changed"


ODD_FORMATS = {
    "digits-only": [phone(1), phone(2), phone(3)],
    "dashes-dots": ["+91-98000-00001", "+91.98000.00002", "+91 98000-000.03"],
    "parentheses": ["(+91) 98000 00001", "+91 (98000) 00002", "+(91) 9800000003"],
    "padded-and-double-spaces": ["  +91 98000 00001  ", "+91  98000  00002", " 919800000003"],
}


@pytest.mark.parametrize("formats", list(ODD_FORMATS.values()), ids=list(ODD_FORMATS))
def test_oddly_formatted_phones_are_normalised_to_no_change(
    deployed: Deployed, formats: list[str]
) -> None:
    stack, sandbox = deployed.stack, deployed.sandbox
    before = sandbox.stats()
    p1, p2, p3 = formats
    agents = [
        {
            "agent": "48900",
            "testers": [{"label": "qa-alice", "phone": p1}, {"label": "qa-bob", "phone": p2}],
        },
        {"agent": "20700", "testers": [{"label": "qa-chen", "phone": p3}]},
    ]
    stack.file.write_text(stack_yaml(deployed.base, agents))

    result = stack.preview("--expect-no-changes").ok()

    assert sandbox.stats()["register_calls"] == before["register_calls"]
    for n in BASE_PHONES:
        assert phone(n) not in result.output
    assert stack.recorded() == deployed.resources


def test_yaml_integer_phones_are_normalised_to_no_change(deployed: Deployed) -> None:
    """Unquoted phones are YAML integers (`+919800000002` too): accepted, same numbers."""
    write_case(
        deployed,
        Case(
            "yaml-integers",
            raw=(
                '- agent: "48900"\n  testers:\n'
                "    - label: qa-alice\n      phone: 919800000001\n"
                "    - label: qa-bob\n      phone: +919800000002\n"
                '- agent: "20700"\n  testers:\n'
                "    - label: qa-chen\n      phone: 919800000003\n"
            ),
        ),
    )
    deployed.stack.preview("--expect-no-changes").ok()
    assert deployed.stack.recorded() == deployed.resources


def test_phones_written_in_clear_outside_the_sandbox_fail_preview(deployed: Deployed) -> None:
    """The engine records the whole stack config in the state, so a phone written in clear
    would be stored in clear there too: outside the sandbox it is a validation problem, at
    its own path, with zero API calls and the state untouched."""
    stack, sandbox = deployed.stack, deployed.sandbox
    # The deployed testers, whatever an earlier test of the module left in the stack file
    # (under xdist it may be the 10,000-tester case, past the config size ceiling).
    stack.file.write_text(stack_yaml(deployed.base, agents_block(BASE)))
    exported = stack.run("stack", "export").ok().stdout
    assert phone(BASE_PHONES[0]) in exported or formatted(BASE_PHONES[0]) in exported, (
        "engine behaviour changed: revisit"
    )
    before = sandbox.stats()
    stack.set_kaleyra(pod="na")  # baseUrl still points at the loopback sandbox
    try:
        previewed = stack.preview()
    finally:
        stack.set_kaleyra(pod="sandbox")

    assert previewed.returncode != 0
    for path in ("agents[0].testers[0]", "agents[0].testers[1]", "agents[1].testers[0]"):
        assert f"{path}.phone: " in previewed.output and "is written in clear" in previewed.output
        assert f"--path 'rcs-testers:{path}.phone' '<number>'" in previewed.output
    assert "Traceback" not in previewed.output
    after = sandbox.stats()
    assert (after["register_calls"], after["list_calls"]) == (
        before["register_calls"],
        before["list_calls"],
    )
    assert stack.recorded() == deployed.resources
    assert "written in clear" not in stack.preview().ok().output, "the sandbox stays silent"


# -- parse_fleet on its own (no engine) -------------------------------------------------------

FUZZ_SRC = "stacks/Pulumi.fuzz.yaml"
PHONE_LIKE = st.builds(
    lambda n, sep: sep.join([f"+{phone(n)[:2]}", phone(n)[2:7], phone(n)[7:]]),
    st.integers(min_value=0, max_value=99_999_999),
    st.sampled_from(["", " ", "-", ".", "  "]),
)
KEYS = st.one_of(
    st.sampled_from(["agent", "name", "testers", "label", "phone", "note", "phoneNo", "tester"]),
    st.text(max_size=12),
    PHONE_LIKE,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    PHONE_LIKE,
    st.sampled_from(
        ["48900", "20700", "qa-alice", "QA-Alice", "", " ", in_digits(phone(12), 0x0660)]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=12,
)
LABELS = st.one_of(st.sampled_from(["qa-alice", "qa-bob", "QA-ALICE", "x"]), JSON)
PHONES = st.one_of(PHONE_LIKE, JSON)
TESTER = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {}, optional={"label": LABELS, "phone": PHONES, "note": JSON, "phoneNo": PHONES}
    ),
)
AGENT = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "agent": st.one_of(st.sampled_from(["48900", "20700", 31337, " 48900"]), JSON),
            "name": JSON,
            "testers": st.one_of(JSON, st.lists(TESTER, max_size=5)),
        },
    ).flatmap(
        lambda node: st.dictionaries(KEYS, JSON, max_size=2).map(lambda extra: {**extra, **node})
    ),
)
FLEET = st.one_of(JSON, st.lists(AGENT, max_size=4))

_RUN = re.compile(r"\+?\(?\d(?:[ .()/\-]{0,3}\d)*")  # a phone-like run, separators allowed


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.digit(ch)) for ch in text if ch.isdecimal())


def _input_digits(value: Any, *, skip_agents: bool = True) -> list[str]:
    """Every digit string the input holds (keys too), agent numbers aside."""
    found: list[str] = []
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, is_agent = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                found.append(_ascii_digits(str(key)))
                stack.append((child, key == "agent"))
        elif isinstance(node, list):
            stack.extend((child, False) for child in node)
        elif (
            isinstance(node, str | int)
            and not isinstance(node, bool)
            and not (skip_agents and is_agent)
        ):
            text = str(node) if not isinstance(node, int) or abs(node) < 10**100 else ""
            found.append(_ascii_digits(text))
    return [d for d in found if len(d) >= 7]


def _agent_numbers(value: Any) -> set[str]:
    """The digits of every value under an ``agent`` key: agent numbers are not personal data,
    and messages name them."""
    found: set[str] = set()
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            agent = node.get("agent")
            if isinstance(agent, str) or (
                isinstance(agent, int) and not isinstance(agent, bool) and abs(agent) < 10**100
            ):
                found.add(_ascii_digits(str(agent)))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def leaked_digits(problem: str, raw: Any) -> list[str]:
    """Runs of 7+ digits in ``problem`` (separators allowed) that come from the input; a run
    that is exactly an agent number of the input is not a leak, even when the same digits
    also stand elsewhere in it (``[1000000, {"agent": 1000000}]``)."""
    text = problem.replace("+919530000092", "")  # the example number of the "missing" hint
    sources = _input_digits(raw)
    agents = _agent_numbers(raw)
    leaks = []
    for match in _RUN.finditer(text):
        digits = _ascii_digits(match.group(0))
        if digits in agents:
            continue
        windows = {digits[i : i + 7] for i in range(len(digits) - 6)}
        if any(w in s for w in windows for s in sources):
            leaks.append(match.group(0))
    return leaks


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=FLEET)
@example(raw=[{"agent": "48900", "testers": [{"+91 98000 00012": "qa-bob"}]}])
@example(raw=[1000000, {"agent": 1000000}, {"agent": 1000000}])
def test_parse_fleet_returns_a_fleet_or_lists_problems_without_leaking(raw: Any) -> None:
    try:
        agents = parse_fleet(raw, source=FUZZ_SRC)
    except FleetConfigError as err:
        assert err.problems, "an error with no problem listed"
        for problem in err.problems:
            assert problem.startswith("agents"), problem
            assert not any(ch in problem for ch in "\n\r\x1b"), repr(problem)
            assert not leaked_digits(problem, raw), f"phone digits in {problem!r}"
        assert not leaked_digits(str(err), raw)
        return
    assert isinstance(agents, tuple) and agents
    for spec in agents:
        assert re.fullmatch(r"[0-9]{1,20}", spec.agent_no)
        assert spec.testers
        for t in spec.testers:
            assert re.fullmatch(r"[0-9]{7,15}", t.phone)
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", t.label)


PEOPLE_LABELS = st.one_of(st.sampled_from(["qa-alice", "qa-bob", "QA-ALICE", "qa.bob"]), KEYS)
PERSON = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={"phone": PHONES, "note": JSON, "allowNonMobile": st.one_of(st.booleans(), JSON)},
    ),
)
PHONEBOOK = st.one_of(st.none(), JSON, st.dictionaries(PEOPLE_LABELS, PERSON, max_size=4))
REFERENCE = st.one_of(st.sampled_from(["qa-alice", "qa-bob", "qa-alcie", "QA-Bob"]), TESTER)
FLEET_WITH_REFERENCES = st.one_of(
    FLEET,
    st.lists(
        st.fixed_dictionaries(
            {
                "agent": st.sampled_from(["48900", "20700"]),
                "testers": st.lists(REFERENCE, min_size=1, max_size=4),
            }
        ),
        max_size=3,
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=FLEET_WITH_REFERENCES, phonebook=PHONEBOOK)
@example(
    raw=[{"agent": "48900", "testers": ["qa-alice", "+91 98000 00012"]}],
    phonebook={"qa-alice": {"phone": "+91 98000 00013"}, "qa-919800000014": {"phone": 1}},
)
def test_phonebook_and_agents_give_testers_or_problems_without_leaking(
    raw: Any, phonebook: Any
) -> None:
    both = [raw, phonebook]
    try:
        result = parse_stack_testers(raw, phonebook, source=FUZZ_SRC)
    except FleetConfigError as err:
        assert err.problems, "an error with no problem listed"
        for problem in err.problems:
            assert problem.startswith(("agents", "testers")), problem
            assert not any(ch in problem for ch in "\n\r\x1b"), repr(problem)
            assert not leaked_digits(problem, both), f"phone digits in {problem!r}"
        return
    for warning in result.warnings:
        assert not leaked_digits(warning, both), f"phone digits in {warning!r}"
    for spec in result.agents:
        for t in spec.testers:
            assert re.fullmatch(r"[0-9]{7,15}", t.phone)
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", t.label)


@pytest.mark.parametrize(
    "node",
    [
        {"+91 98000 00012": "qa-bob"},
        {"label": "qa-bob", "phone": formatted(1), "919800000012": "old number"},
    ],
    ids=["tester-keyed-by-phone", "extra-key-is-a-phone"],
)
def test_unknown_key_error_masks_a_phone_number(node: dict[str, Any]) -> None:
    with pytest.raises(FleetConfigError) as caught:
        parse_fleet([{"agent": "48900", "testers": [node]}], source=FUZZ_SRC)
    text = str(caught.value)
    assert "agents[0].testers[0]: unknown key" in text
    assert phone(12) not in re.sub(r"[^0-9X]", "", text)
    assert "98000 00012" not in text


@pytest.mark.parametrize("where", ["phone", "agent"])
def test_huge_integer_is_a_config_problem_not_a_crash(where: str) -> None:
    """A YAML integer past Python's 4300-digit str() limit must be reported, not raise
    ValueError out of parse_fleet."""
    node: dict[str, Any] = {"agent": "48900", "testers": [{"label": "qa-bob", "phone": "+91"}]}
    if where == "phone":
        node["testers"][0]["phone"] = 10**5000
    else:
        node["agent"] = 10**5000
    with pytest.raises(FleetConfigError) as caught:
        parse_fleet([node], source=FUZZ_SRC)
    assert any(p.startswith("agents[0].") for p in caught.value.problems)


@pytest.mark.parametrize(
    "label",
    [
        "qa-" + phone(12),
        "91-98000-00012",
        "qa.9198.0000.0012",
        "9198_0000_0012",
        "qa-91_98000_00012",
    ],
)
def test_label_cannot_carry_a_phone_number(label: str) -> None:
    """Labels become logical names and URNs: a phone number must not hide in one."""
    with pytest.raises(FleetConfigError) as caught:
        parse_fleet(
            [{"agent": "48900", "testers": [{"label": label, "phone": formatted(13)}]}],
            source=FUZZ_SRC,
        )
    assert caught.value.problems[0].startswith("agents[0].testers[0].label: must not contain")


def test_every_problem_of_a_large_file_is_one_line() -> None:
    """10,000 testers on one agent are refused in one short line, not 10,000."""
    with pytest.raises(FleetConfigError) as caught:
        parse_fleet(TEN_THOUSAND, source=FUZZ_SRC)
    assert caught.value.problems == [
        "agents[0].testers: 10000 testers; an agent can have at most 200 (Google RBM's limit "
        "behind Kaleyra): split them across agents or remove some"
    ]
