"""The public API of the package: the names of ``rcs_provider.__all__``, a light import, the
provider's pickled path, and ``declare_testers`` reading a config namespace given by the caller
(under Pulumi's mocks; the real engine runs it in tests/e2e/test_existing_program.py)."""

from __future__ import annotations

import hashlib
import inspect
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime.config import set_all_config

import rcs_provider
from rcs_provider import FleetConfigError, declare_testers

PUBLIC = {
    "AgentSpec",
    "AgentTesters",
    "FleetConfigError",
    "RcsTester",
    "RcsTesterArgs",
    "TesterSpec",
    "__version__",
    "declare_testers",
    "parse_fleet",
}


def test_all_lists_the_public_names_each_documented() -> None:
    assert set(rcs_provider.__all__) == PUBLIC
    for name in PUBLIC - {"__version__"}:
        value = getattr(rcs_provider, name)
        assert inspect.getdoc(value), f"rcs_provider.{name} has no docstring"
        assert name in dir(rcs_provider)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'KaleyraClient'"):
        _ = rcs_provider.KaleyraClient  # type: ignore[attr-defined]


def test_the_provider_keeps_the_path_that_states_pickled() -> None:
    from rcs_provider.provider import TesterProvider

    assert (TesterProvider.__module__, TesterProvider.__qualname__) == (
        "rcs_provider.provider",
        "TesterProvider",
    )


#: sha256 of ``serialize_provider(TesterProvider())`` as the states written by the first
#: releases (commit f936663) hold it: the engine compares it with the program's on every run.
PICKLED_PROVIDER_SHA256 = "ac10838f4de0459e47ca2fcabca549d3eb3aebeacacf609c308d1c6b4f321946"


def test_the_pickled_provider_is_byte_for_byte_the_one_earlier_states_hold() -> None:
    """A provider pickled differently is a change of every tester's ``__provider`` input: each
    existing state would see a diff on its first run after an upgrade."""
    from pulumi.dynamic.dynamic import serialize_provider

    from rcs_provider.provider import TesterProvider

    pickled = serialize_provider(TesterProvider()).encode()
    assert hashlib.sha256(pickled).hexdigest() == PICKLED_PROVIDER_SHA256


def test_every_other_module_is_private_by_name() -> None:
    """Only the provider (pickled by path in states) and the sandbox command keep public
    module names; the rest start with ``_`` so that nobody mistakes them for the API."""
    names = {m.name for m in pkgutil.iter_modules(rcs_provider.__path__)}

    assert {n for n in names if not n.startswith("_")} == {"provider", "sandbox"}
    assert "_program" in names, "the package was found"


def test_importing_the_package_loads_neither_pulumi_nor_the_sandbox() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, rcs_provider; print(sorted(set(sys.modules) & "
         "{'pulumi', 'fastapi', 'uvicorn', 'requests'}))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == "[]"


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.calls: list[pulumi.runtime.MockCallArgs] = []
        #: What the engine's readStackResourceOutputs answers; a string is a failure reason.
        self.previous_state: dict[str, Any] | str = {}
        #: Stack names the backend does not take (as a legacy-layout backend, qualified ones).
        self.unknown_stacks: set[str] = set()

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        outs = dict(args.inputs, registration_id=f"id-{args.name}", status="Unverified")
        return f"{args.name}-id", dict(outs, phone_masked="91980XXXXX01")

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append(args)
        if isinstance(self.previous_state, str):
            return {}, [("stackName", self.previous_state)]
        if args.args.get("stackName") in self.unknown_stacks:
            return {}, [("stackName", "unknown stack")]
        return self.previous_state, []


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Mocks]:
    (tmp_path / "Pulumi.yaml").write_text("name: platform\nstackConfigDir: envs\n")
    monkeypatch.chdir(tmp_path)
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="platform", stack="dev", preview=False)
    yield m
    set_all_config({}, secret_keys=[])


QA_AGENTS = [{"agent": "48900", "testers": [{"label": "qa-alice", "phone": "+91 98000 00001"}]}]
#: The provider settings every program run needs (checked by declare_testers too).
SANDBOX_ACCOUNT = {
    "kaleyra:pod": "sandbox",
    "kaleyra:sid": "SANDBOXSID0001",
    "kaleyra:apiKey": "sandbox-api-key",
}


@pulumi.runtime.test
def test_declare_testers_reads_the_namespace_it_is_given(mocks: Mocks) -> Any:
    set_all_config({"qa:agents": json.dumps(QA_AGENTS), **SANDBOX_ACCOUNT})
    outputs = declare_testers(pulumi.Config("qa"))

    def check(rows: list[dict[str, Any]]) -> None:
        assert rows == [
            {
                "label": "qa-alice",
                "phone": "91980XXXXX01",
                "registration_id": "id-48900-qa-alice",
                "status": "Unverified",
            }
        ]
        assert {(r.typ, r.name) for r in mocks.resources} == {
            ("rcs-testers:index:AgentTesters", "agent-48900"),
            ("pulumi-python:dynamic/kaleyra:RcsTester", "48900-qa-alice"),
        }

    assert list(outputs) == ["48900"]
    assert [(c.token, c.args) for c in mocks.calls] == [
        ("pulumi:pulumi:readStackResourceOutputs", {"stackName": "dev"})
    ], "the stack's last deployment is read once, for renames"
    return outputs["48900"].apply(check)


@pulumi.runtime.test
def test_a_previous_state_that_cannot_be_read_only_costs_the_rename_shortcut(
    mocks: Mocks,
) -> Any:
    mocks.previous_state = "no backend client is available"
    set_all_config({"qa:agents": json.dumps(QA_AGENTS), **SANDBOX_ACCOUNT})
    outputs = declare_testers(pulumi.Config("qa"))

    def check(rows: list[dict[str, Any]]) -> None:
        assert [row["registration_id"] for row in rows] == ["id-48900-qa-alice"]

    assert len(mocks.calls) == 1
    return outputs["48900"].apply(check)


@pulumi.runtime.test
def test_the_stack_is_read_by_its_qualified_name_then_its_bare_one(mocks: Mocks) -> Any:
    """Pulumi Cloud needs the organization; a self-managed backend in its legacy layout takes
    only the bare name. Two fleets share one read."""
    pulumi.runtime.set_mocks(
        mocks, project="platform", stack="dev", preview=False, organization="acme"
    )
    mocks.unknown_stacks = {"acme/platform/dev"}
    other = [{"agent": "20700", "testers": [{"label": "qa-b", "phone": "+91 98000 00002"}]}]
    set_all_config(
        {
            "qa:agents": json.dumps(QA_AGENTS),
            "uat:agents": json.dumps(other),
            **SANDBOX_ACCOUNT,
        }
    )
    qa = declare_testers(pulumi.Config("qa"))
    declare_testers(pulumi.Config("uat"))

    assert [c.args["stackName"] for c in mocks.calls] == ["acme/platform/dev", "dev"]
    return qa["48900"]


@pulumi.runtime.test
def test_one_agent_declared_from_two_namespaces_is_refused_naming_both(mocks: Mocks) -> Any:
    other = [{"agent": "20700", "testers": [{"label": "qa-b", "phone": "+91 98000 00002"}]}]
    set_all_config(
        {
            "qa:agents": json.dumps(QA_AGENTS),
            "uat:agents": json.dumps([*other, *QA_AGENTS]),
            **SANDBOX_ACCOUNT,
        }
    )
    outputs = declare_testers(pulumi.Config("qa"))
    with pytest.raises(FleetConfigError) as raised:
        declare_testers(pulumi.Config("uat"))

    assert raised.value.problems == [
        "agents[1].agent: 48900 is already declared by qa:agents in this program: an agent's "
        "testers live under one namespace (both would declare the component agent-48900); "
        "remove it from one of them"
    ]
    assert isinstance(raised.value, pulumi.RunError)

    def check(_rows: list[dict[str, Any]]) -> None:
        names = {r.name for r in mocks.resources}
        assert names == {"agent-48900", "48900-qa-alice"}, "uat declared nothing"

    return outputs["48900"].apply(check)


@pulumi.runtime.test
def test_one_namespace_declared_twice_is_refused_saying_so(mocks: Mocks) -> Any:
    set_all_config({"qa:agents": json.dumps(QA_AGENTS), **SANDBOX_ACCOUNT})
    outputs = declare_testers(pulumi.Config("qa"))
    with pytest.raises(FleetConfigError) as raised:
        declare_testers(pulumi.Config("qa"))

    assert raised.value.problems == [
        "agents[0].agent: 48900 is already declared by an earlier declare_testers call for "
        "qa:agents in this program: call it once per namespace"
    ]
    return outputs["48900"]


def test_a_namespace_without_testers_is_the_usual_error_naming_its_key(mocks: Mocks) -> None:
    set_all_config({"rcs-testers:agents": json.dumps(QA_AGENTS), **SANDBOX_ACCOUNT})
    with pytest.raises(FleetConfigError) as raised:
        declare_testers(pulumi.Config("qa"))
    assert str(raised.value) == (
        "Unable to read the testers of envs/Pulumi.dev.yaml: 1 problem(s); nothing was "
        "registered.\n  envs/Pulumi.dev.yaml: agents: not set: add `qa:agents:` with a list of "
        "agents and testers"
    )
    assert isinstance(raised.value, pulumi.RunError), "the engine prints it without a traceback"
    assert mocks.resources == []


def test_the_stack_file_can_be_named(mocks: Mocks, tmp_path: Path) -> None:
    (tmp_path / "qa.yaml").write_text(
        'config:\n  qa:agents:\n    - agent: 04890\n      testers: [{label: qa-a, phone: "+91 98000 00001"}]\n'
    )
    agents = [{"agent": 4890, "testers": QA_AGENTS[0]["testers"]}]
    set_all_config({"qa:agents": json.dumps(agents), **SANDBOX_ACCOUNT})
    with pytest.raises(FleetConfigError, match=r"qa\.yaml: agents\[0\]\.agent: written without"):
        declare_testers(pulumi.Config("qa"), stack_file=tmp_path / "qa.yaml")


# The program's own order of checks, which the engine tests cover only by the order in which
# the engine happens to run things.

MIXED_STACK_FILE = """\
config:
  kaleyra:pod: in
  qa:agents:
    - agent: "48900"
      testers:
        - label: qa-a
          phone:
            secure: v1:c2VjcmV0IHBob25lIGNpcGhlcnRleHQ=
        - label: qa-b
          phone: "+91 98000 00002"
"""
MIXED_AGENTS = [
    {
        "agent": "48900",
        "testers": [
            {"label": "qa-a", "phone": "+91 98000 00001"},
            {"label": "qa-b", "phone": "+91 98000 00002"},
        ],
    }
]


def test_a_clear_phone_beside_a_secret_one_is_refused_though_the_key_is_secret(
    mocks: Mocks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine marks the whole key secret as soon as one of its phones is ``secure:``; the
    check reads each phone in the stack file, so the clear one beside it is still refused."""
    monkeypatch.setenv("KALEYRA_SID", "SID1")
    monkeypatch.setenv("KALEYRA_API_KEY", "k" * 16)
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(MIXED_STACK_FILE)
    set_all_config(
        {"qa:agents": json.dumps(MIXED_AGENTS), "kaleyra:pod": "in"}, secret_keys=["qa:agents"]
    )

    with pytest.raises(FleetConfigError) as raised:
        declare_testers(pulumi.Config("qa"), stack_file=stack_file)

    [problem] = raised.value.problems
    assert problem.startswith("agents[0].testers[1].phone: 91980XXXXX02 is written in clear")
    assert mocks.resources == []


def test_stack_file_problems_are_raised_before_any_tester_is_declared(
    mocks: Mocks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What only the stack file's text shows stops the program before ``declare_fleet``: a
    resource registered first could be created before the error ends the run."""
    monkeypatch.setenv("KALEYRA_SID", "SID1")
    monkeypatch.setenv("KALEYRA_API_KEY", "k" * 16)
    declared: list[Any] = []
    monkeypatch.setattr("rcs_provider._program.declare_fleet", lambda *a: declared.append(a))
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(MIXED_STACK_FILE.replace('agent: "48900"', "agent: 048900"))
    agents = [{**MIXED_AGENTS[0], "agent": 48900}]
    set_all_config({"qa:agents": json.dumps(agents), "kaleyra:pod": "in"}, secret_keys=[])

    with pytest.raises(FleetConfigError) as raised:
        declare_testers(pulumi.Config("qa"), stack_file=stack_file)

    assert [p.split(":", 1)[0] for p in raised.value.problems] == [
        "agents[0].agent",
        "agents[0].testers[1].phone",
    ]
    assert declared == [], "declare_fleet was never called"


def test_the_provider_settings_are_listed_with_the_testers_problems(
    mocks: Mocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped prod file: a placeholder SID, no api-key and a placeholder phone, all three
    at once, each with its command, before anything is declared."""
    monkeypatch.delenv("KALEYRA_API_KEY", raising=False)
    monkeypatch.delenv("KALEYRA_SID", raising=False)
    agents = [{"agent": "61200", "testers": [{"label": "lead", "phone": "REPLACE-WITH-SECRET"}]}]
    set_all_config(
        {
            "qa:agents": json.dumps(agents),
            "kaleyra:pod": "na",
            "kaleyra:sid": "REPLACE-WITH-ACCOUNT-SID",
        }
    )
    with pytest.raises(FleetConfigError) as raised:
        declare_testers(pulumi.Config("qa"))
    assert raised.value.problems == [
        "kaleyra:sid: is the placeholder 'REPLACE-WITH-ACCOUNT-SID', not an account SID; set it "
        "with `pulumi config set kaleyra:sid <account SID>` (or export KALEYRA_SID)",
        "kaleyra:apiKey: is not set; set it with `pulumi config set --secret kaleyra:apiKey "
        "<key>` (or export KALEYRA_API_KEY)",
        "agents[0].testers[0].phone: 'REPLACE-WITH-SECRET' is a placeholder, not a number: set "
        "the tester's number with `pulumi config set --secret --path "
        "'qa:agents[0].testers[0].phone' '<number>'`",
    ]
    assert mocks.resources == []
