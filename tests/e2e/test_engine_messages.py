"""What a person reads in the engine's output when something is wrong: the provider's
sentence without a Python class in front, a 401 that says where the api-key came from, and the
shipped prod stack file's placeholder phone named once with the command that sets it."""

from __future__ import annotations

import re
import shutil
from typing import Any

from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import REPO, Project, Stack

ONE_TESTER = {"48900": [("qa-alice", 1)]}
#: A dotted Python name, as ``traceback`` writes an exception's class (``pkg.mod.Error``).
DOTTED_CLASS = re.compile(r"\b[a-z_]+(\.[a-z_]+)+\.[A-Z]\w*(Error|Exception)\b")


def test_a_provider_error_reads_as_its_sentence(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(ONE_TESTER))
    stack.run("config", "set", "--secret", "kaleyra:apiKey", "a-revoked-key").ok()

    failed = stack.up()

    assert failed.returncode != 0
    assert (
        "Unable to look up tester qa-alice in the tester list of agent 48900: Kaleyra "
        "rejected the api-key (401). The api-key came from kaleyra:apiKey"
    ) in failed.output
    assert not DOTTED_CLASS.search(failed.output), DOTTED_CLASS.search(failed.output)
    assert "AuthenticationError" not in failed.output and "Traceback" not in failed.output


def test_a_401_with_the_key_from_the_environment_names_the_variable(
    stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(agents_block(ONE_TESTER))
    stack.run("config", "rm", "kaleyra:apiKey").ok()
    stack.project.env["KALEYRA_API_KEY"] = "a-revoked-key"

    failed = stack.up()

    assert failed.returncode != 0
    assert "The api-key came from the environment variable KALEYRA_API_KEY" in failed.output
    assert "Kaleyra answers 401 to a wrong SID too" in failed.output
    assert "export KALEYRA_API_KEY=<key>" in failed.output
    assert "a-revoked-key" not in failed.output


def test_the_shipped_prod_file_names_its_placeholders_once_each_with_the_command(
    project: Project, sandbox: Any
) -> None:
    """The SID placeholder, the api-key not set yet and the phone placeholder, all at once: the
    key as a warning (a preview makes no Kaleyra call, so it does not fail on it)."""
    shutil.copy(REPO / "stacks" / "Pulumi.prod.yaml", project.root / "stacks")
    project.pulumi("stack", "init", "prod", "--secrets-provider", "passphrase").ok()
    prod = Stack(project, "prod")
    prod.run("config", "set", "kaleyra:baseUrl", sandbox.url).ok()  # the sandbox as the pod

    previewed = prod.preview()

    assert previewed.returncode != 0
    assert "2 problem(s); nothing was registered" in previewed.output
    settings = re.findall(r"stacks/Pulumi\.prod\.yaml: (kaleyra:\w+): (.*)", previewed.output)
    assert sorted(set(settings), reverse=True) == [
        (
            "kaleyra:sid",
            "is the placeholder 'REPLACE-WITH-ACCOUNT-SID', not an account SID; set it with "
            "`pulumi config set kaleyra:sid <account SID>` (or export KALEYRA_SID)",
        ),
        (
            "kaleyra:apiKey",
            "is not set; set it with `pulumi config set --secret kaleyra:apiKey <key>` (or "
            "export KALEYRA_API_KEY): `pulumi up` needs it (a preview does not)",
        ),
    ]
    problems = re.findall(r"stacks/Pulumi\.prod\.yaml: (agents\S+): (.*)", previewed.output)
    assert problems == [
        (
            "agents[0].testers[0].phone",
            "'REPLACE-WITH-SECRET' is a placeholder, not a number: set the tester's number with "
            "`pulumi config set --secret --path 'rcs-testers:agents[0].testers[0].phone' "
            "'<number>'`",
        )
    ]
    assert sandbox.stats()["register_calls"] == 0 and sandbox.stats()["list_calls"] == 0


def test_a_refresh_with_a_wrong_key_makes_one_list_call_and_one_error_per_agent(
    stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(
        agents_block(
            {"48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)], "20700": [("qa-dana", 4)]}
        )
    )
    stack.up().ok()
    lists_before = sandbox.stats()["list_calls"]
    stack.run("config", "set", "--secret", "kaleyra:apiKey", "a-revoked-key").ok()

    refreshed = stack.refresh()

    assert refreshed.returncode != 0
    assert sandbox.stats()["list_calls"] - lists_before == 2, "one list call per agent"
    diagnostics = refreshed.output.partition("Diagnostics:")[2]
    refused = re.findall(
        r"error: Unable to look up tester (\S+) in the tester list of agent (\d+): Kaleyra "
        r"rejected the api-key \(401\)",
        diagnostics,
    )
    # One tester of each agent fails with the 401 (the engine may print a failed step's error
    # twice under its resource); the agent's other testers are kept as recorded.
    assert sorted(agent for _, agent in set(refused)) == ["20700", "48900"], diagnostics
    assert "a-revoked-key" not in refreshed.output
