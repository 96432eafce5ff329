"""The guardrails policy pack (policy/) on the real engine: `pulumi preview|up --policy-pack`.

The pack runs in its own virtualenv (policy/venv), created as the README says: `make
policy-venv`, a hash-checked install of policy/requirements.txt. A pack whose virtualenv is
missing stops the preview at once, naming that command.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from rcs_devtools.fleet_data import agents_block, formatted, phone
from rcs_devtools.pulumi_cli import REPO, Project, Stack

PACK = REPO / "policy"


@pytest.fixture(scope="session")
def pack(engine_env: dict[str, str]) -> Path:
    """policy/ with its virtualenv installed for the current requirements.txt by `make
    policy-venv` (once: make keeps a stamp, and a lock keeps parallel test workers from
    installing it twice)."""
    with open(PACK / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        out = subprocess.run(
            ["make", "--no-print-directory", "policy-venv"],
            cwd=REPO,
            env=engine_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert out.returncode == 0, f"make policy-venv failed:\n{out.stdout}{out.stderr}"
    return PACK


def test_a_pack_without_its_virtualenv_stops_the_preview_naming_the_install(
    stack: Stack, tmp_path: Path
) -> None:
    stack.set_agents(agents_block({"48900": [("qa-alice", 1)]}))
    fresh = tmp_path / "pack"
    shutil.copytree(PACK, fresh, ignore=shutil.ignore_patterns("venv", "__pycache__", ".*"))

    result = stack.project.pulumi("preview", *with_policy(fresh), stack=stack.name, timeout=120)

    assert result.returncode != 0
    assert f"its virtualenv {fresh}/venv is not installed" in result.output, result.output
    assert "`make policy-venv`" in result.output
    assert not (fresh / "venv").exists(), "nothing is installed behind the user's back"


def pack_config(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "pack-config.json"
    path.write_text(json.dumps(config))
    return str(path)


def with_policy(pack: Path, *extra: str) -> tuple[str, ...]:
    return ("--policy-pack", str(pack), *extra)


def assert_no_full_phone(text: str) -> None:
    for digits in (phone(1), phone(2), "447400123456"):
        assert digits not in text and digits[2:] not in text
    assert "7400 123456" not in text and formatted(1) not in text


def test_demo_stack_passes_the_pack(
    pack: Path, project: Project, sandbox: Any, tmp_path: Path
) -> None:
    demo = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text())
    demo["config"]["kaleyra:baseUrl"] = sandbox.url
    (project.root / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(demo, sort_keys=False))
    project.env["PULUMI_CONFIG_PASSPHRASE"] = "rcs-testers-demo"
    project.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "dev")

    shipped = str(pack / "config" / "dev.json")  # the dev stack's own pack config
    preview = stack.preview(*with_policy(pack, "--policy-pack-config", shipped)).ok()
    assert "Loading policy packs...: done" in preview.output
    assert "+ 8 to create" in preview.output  # the stack, 2 agents, 5 testers
    assert "✅ rcs-testers-guardrails" in preview.output
    assert "[mandatory]" not in preview.output and "[advisory]" not in preview.output

    # The other shipped configs load (the engine checks them against the pack's schema) and
    # refuse the dev stack's agents, which are not theirs.
    for other, approved in (("staging", "48900"), ("prod", "61200")):
        config = str(pack / "config" / f"{other}.json")
        refused = stack.preview(*with_policy(pack, "--policy-pack-config", config))
        assert refused.returncode != 0, refused.output
        assert "[mandatory]  rcs-allowed-agents" in refused.output, refused.output
        assert f"is not an approved agent ({approved})" in refused.output
        assert "Invalid type" not in refused.output and "Unable to read" not in refused.output

    stack.run("up", "--yes", *with_policy(pack, "--policy-pack-config", shipped)).ok()
    assert len(sandbox.registrations()) == 5


def test_violations_fail_preview_and_up_with_zero_register_calls(
    pack: Path, stack: Stack, sandbox: Any, tmp_path: Path
) -> None:
    agents = agents_block({"48900": [("qa-alice", 1)], "20700": [("qa-dana", 2)]})
    agents[0]["testers"].append({"label": "qa-uk", "phone": "+44 7400 123456"})
    stack.set_agents(agents)
    config = pack_config(
        tmp_path,
        {
            "rcs-allowed-agents": {"agents": ["48900"]},
            "rcs-allowed-countries": {"countryCodes": ["91"]},
        },
    )

    agents_refused = "tester qa-dana of agent 20700: agent 20700 is not an approved agent (48900)"
    country_refused = (
        "tester qa-uk of agent 48900 (44740XXXXX56): country calling code 44 is not allowed"
    )
    # preview, and up with its preview: every violation, before anything is created.
    for result in (
        stack.preview(*with_policy(pack, "--policy-pack-config", config)),
        stack.run("up", "--yes", *with_policy(pack, "--policy-pack-config", config)),
    ):
        text = result.output
        assert result.returncode != 0, text
        assert "[mandatory]  rcs-allowed-agents" in text and agents_refused in text, text
        assert "[mandatory]  rcs-allowed-countries" in text and country_refused in text
        assert_no_full_phone(text)
    assert sandbox.stats()["register_calls"] == 0
    assert stack.testers_in_state() == []

    # up --skip-preview: the engine checks each tester just before creating it and stops at
    # the first mandatory violation; a violating tester is never registered. One violating
    # tester per run, so which violation is reported does not depend on the engine's order.
    alice = agents_block({"48900": [("qa-alice", 1)]})[0]
    runs = [
        ([alice, agents[1]], agents_refused, country_refused),
        ([{**alice, "testers": agents[0]["testers"]}], country_refused, agents_refused),
    ]
    for layout, refused, not_this_run in runs:
        stack.set_agents(layout)
        skipped = stack.up(*with_policy(pack, "--policy-pack-config", config))
        assert skipped.returncode != 0
        assert refused in skipped.output, skipped.output
        assert not_this_run not in skipped.output
        assert_no_full_phone(skipped.output)
        registered = {r["phoneno"] for r in sandbox.registrations()}
        assert registered <= {phone(1)}, "a tester refused by the pack was registered"


def test_advisory_label_pattern_warns_and_the_run_succeeds(
    pack: Path, stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(agents_block({"48900": [("qa-alice", 1), ("QA_Erin", 2)]}))

    result = stack.run("up", "--yes", *with_policy(pack)).ok()

    assert "rcs-label-pattern" in result.output
    assert "advisory" in result.output
    assert "tester QA_Erin of agent 48900: label does not match the naming pattern" in result.output
    assert "qa-alice of agent" not in result.output
    assert sandbox.stats()["register_calls"] == 2


def test_pack_config_changes_the_limits(pack: Path, stack: Stack, tmp_path: Path) -> None:
    stack.set_agents(agents_block({"48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)]}))
    stack.preview(*with_policy(pack)).ok()  # default: at most 200 per agent

    strict = pack_config(
        tmp_path,
        {"rcs-max-testers-per-agent": {"maximum": 2}, "rcs-label-pattern": {"pattern": "^qa-a.*$"}},
    )
    result = stack.preview(*with_policy(pack, "--policy-pack-config", strict))

    assert result.returncode != 0
    assert "rcs-max-testers-per-agent" in result.output
    assert "agent 48900 has 3 testers; this pack allows at most 2 per agent" in result.output
    assert (
        "tester qa-bob of agent 48900: label does not match the naming pattern ^qa-a.*$"
        in result.output
    )


def test_the_maximum_holds_at_its_edge(pack: Path, stack: Stack, tmp_path: Path) -> None:
    """Exactly ``maximum`` testers on an agent pass, one more fails (and another agent's
    testers do not count towards it)."""
    config = pack_config(tmp_path, {"rcs-max-testers-per-agent": {"maximum": 3}})
    three = [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)]
    other = {"20700": [("qa-erin", 5), ("qa-finn", 6)]}

    stack.set_agents(agents_block({"48900": three, **other}))
    at_the_edge = stack.preview(*with_policy(pack, "--policy-pack-config", config))
    stack.set_agents(agents_block({"48900": [*three, ("qa-dana", 4)], **other}))
    one_more = stack.preview(*with_policy(pack, "--policy-pack-config", config))

    assert at_the_edge.returncode == 0, at_the_edge.output[-3000:]
    assert "rcs-max-testers-per-agent" not in at_the_edge.output
    assert one_more.returncode != 0
    assert "[mandatory]  rcs-max-testers-per-agent" in one_more.output
    assert "agent 48900 has 4 testers; this pack allows at most 3 per agent" in one_more.output
    assert "agent 20700" not in one_more.output


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"rcs-max-testers-per-agent": {"maximum": "ten"}}, "maximum"),
        ({"rcs-max-testers-per-agent": {"maximum": 500}}, "maximum"),
        ({"rcs-allowed-agents": {"agents": "48900"}}, "agents"),
        ({"rcs-allowed-countries": {"countryCodes": [91]}}, "countryCodes"),
        ({"rcs-label-pattern": {"pattern": 7}}, "pattern"),
        ({"rcs-label-pattern": {"pattern": "("}}, "pattern must be a Python regular expression"),
    ],
    ids=[
        "maximum-string",
        "maximum-over-200",
        "agents-not-a-list",
        "country-code-number",
        "pattern-number",
        "pattern-not-a-regex",
    ],
)
def test_wrong_typed_pack_config_fails_naming_the_key(
    pack: Path, stack: Stack, sandbox: Any, tmp_path: Path, config: dict[str, Any], key: str
) -> None:
    stack.set_agents(agents_block({"48900": [("qa-alice", 1)]}))

    result = stack.run(
        "up", "--yes", *with_policy(pack, "--policy-pack-config", pack_config(tmp_path, config))
    )

    assert result.returncode != 0
    [policy] = config
    assert policy in result.output and key in result.output, result.output[-3000:]
    assert sandbox.stats()["register_calls"] == 0


UNKNOWN_LABEL_PROGRAM = """
import pulumi
from rcs_provider._resource import RcsTester, RcsTesterArgs

first = RcsTester("48900-qa-first", RcsTesterArgs(agent_no="48900", phoneno="{first}", label="qa-first"))
# The second label is computed from the first tester's status: unknown during preview.
RcsTester(
    "48900-qa-second",
    RcsTesterArgs(agent_no="48900", phoneno="{second}", label=first.status.apply(lambda _: "qa-x")),
)
"""


def test_unknown_values_in_preview_are_skipped_and_said(
    pack: Path, project: Project, stack: Stack, tmp_path: Path
) -> None:
    """The pack checks what it can see and says which policy it skipped for which field; the
    preview goes through (the provider lets unknown inputs pass its check)."""
    (project.root / "__main__.py").write_text(
        UNKNOWN_LABEL_PROGRAM.format(first=formatted(1), second=formatted(2))
    )
    stack.set_agents([])  # Pulumi.yaml declares the key; this program does not read it
    config = pack_config(tmp_path, {"rcs-label-pattern": {"pattern": "^qa-x$"}})

    result = stack.preview(*with_policy(pack, "--policy-pack-config", config))

    assert "tester qa-first of agent 48900: label does not match the naming pattern ^qa-x$" in (
        result.output
    ), result.output[-3000:]
    assert (
        "can't run policy 'rcs-label-pattern' from policy pack 'rcs-testers-guardrails@v0.0.1' "
        "during preview: string value at .label can't be known during preview"
    ) in result.output
    assert "Traceback" not in result.output
    assert result.returncode == 0, result.output[-3000:]
