"""The guardrails pack's config: one file per stack under one name, policy/config/<stack>.json,
shipped for every stack file, and the only name the README and the pack's own file give."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "policy" / "config"
STACKS = sorted(p.name.split(".")[1] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
#: Every way the docs name a pack config file: the CLI flag and the pipeline's input.
NAMED = re.compile(
    r"(?:--policy-pack-config|policyPackConfigs:)\s+((?:[^\s$`]|\$\{\{ matrix\.stack \}\})+)"
)
PER_STACK = ("<stack>", "${{ matrix.stack }}")


def test_every_stack_file_has_its_pack_config_and_no_other_is_shipped() -> None:
    assert STACKS == ["dev", "prod", "staging"]
    assert sorted(p.stem for p in CONFIGS.glob("*.json")) == STACKS


@pytest.mark.parametrize("document", ["README.md", "policy/PulumiPolicy.yaml"])
def test_every_pack_config_the_docs_name_is_a_shipped_file(document: str) -> None:
    named = NAMED.findall((REPO / document).read_text(encoding="utf-8"))
    assert named, f"{document} names no pack config"
    for name in named:
        assert name.startswith("policy/config/"), f"{document} names {name}"
        if any(marker in name for marker in PER_STACK):
            for stack in STACKS:
                path = name.replace(PER_STACK[0], stack).replace(PER_STACK[1], stack)
                assert (REPO / path).is_file(), f"{document}: {path} is not shipped"
        else:
            assert (REPO / name).is_file(), f"{document}: {name} is not shipped"


@pytest.mark.parametrize("stack", STACKS)
def test_each_config_approves_the_agents_its_shipped_stack_declares(stack: str) -> None:
    config = json.loads((CONFIGS / f"{stack}.json").read_text(encoding="utf-8"))
    declared = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    agents = {str(a["agent"]) for a in declared["rcs-testers:agents"]}
    assert agents <= set(config["rcs-allowed-agents"]["agents"])
    assert set(config) <= {
        "rcs-max-testers-per-agent",
        "rcs-allowed-agents",
        "rcs-allowed-countries",
        "rcs-label-pattern",
    }
