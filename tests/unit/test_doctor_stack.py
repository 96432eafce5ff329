"""Doctor's reading of the stack itself, without the network: its testers validated as the
program validates them in ``pulumi preview`` (stack-file text included), its declared agents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rcs_devtools.fleet_data import formatted
from rcs_provider._doctor.stack import check_fleet, stack_agents

SOURCE = "stacks/Pulumi.prod.yaml"


def project(tmp_path: Path, config: dict[str, Any]) -> Path:
    """A project folder holding Pulumi.yaml (stackConfigDir: stacks) and the prod stack file."""
    (tmp_path / "Pulumi.yaml").write_text("name: rcs-testers\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    text = yaml.safe_dump({"config": config}, sort_keys=False)
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(text)
    return tmp_path


def test_an_invalid_phone_is_the_problem_preview_reports(tmp_path: Path) -> None:
    agents = [
        {
            "agent": "48900",
            "testers": [
                {"label": "qa-alice", "phone": formatted(1)},
                {"label": "qa-uk", "phone": "+44 7700 900456"},
            ],
        }
    ]
    config = {"kaleyra:pod": "sandbox", "rcs-testers:agents": agents}

    check = check_fleet(config, project(tmp_path, config), "prod")

    assert check.source == SOURCE
    assert len(check.problems) == 1
    assert check.problems == [
        f"{SOURCE}: agents[0].testers[1].phone: phone number 44770XXXXX56 is not a valid "
        "number for its country code; check the country code and the number"
    ]
    assert check.agents == ["48900"]


def test_the_stack_file_text_is_read_for_clear_phones_outside_the_sandbox(tmp_path: Path) -> None:
    agents = [{"agent": "48900", "testers": [{"label": "qa-alice", "phone": formatted(1)}]}]
    config = {"kaleyra:pod": "na", "rcs-testers:agents": agents}

    check = check_fleet(config, project(tmp_path, config), "prod")

    assert [p.split(": ", 2)[1] for p in check.problems] == ["agents[0].testers[0].phone"]
    assert "is written in clear" in check.problems[0]
    assert (
        check_fleet({**config, "rcs-testers:allowClearPhones": "true"}, tmp_path, "prod").problems
        == []
    )


def test_a_valid_stack_counts_its_testers_and_keeps_preview_warnings(tmp_path: Path) -> None:
    book = {"qa-alice": {"phone": formatted(1)}, "qa-bob": {"phone": formatted(2)}}
    agents = [
        {"agent": "48900", "testers": ["qa-alice"]},
        {"agent": 20700, "testers": ["qa-alice"]},
    ]
    config = {"kaleyra:pod": "sandbox", "rcs-testers:agents": agents, "rcs-testers:testers": book}

    check = check_fleet(config, project(tmp_path, config), "prod")

    assert check.problems == []
    assert (check.agents, check.testers) == (["48900", "20700"], 2)
    assert [w.split(": ")[1] for w in check.warnings] == ["testers.qa-bob"]


def test_a_stack_without_agents_is_the_usual_error(tmp_path: Path) -> None:
    check = check_fleet({"kaleyra:pod": "sandbox"}, project(tmp_path, {}), "prod")

    assert check.problems == [
        f"{SOURCE}: agents: not set: add `rcs-testers:agents:` with a list of agents and testers"
    ]


def test_declared_agents_are_read_leniently_from_an_invalid_stack() -> None:
    config = {
        "rcs-testers:agents": [{"agent": "48900"}, {"agent": 31337, "testers": "x"}, "junk"],
        "qa:agents": '[{"agent": "48900"}, {"agent": "20700"}]',
        "kaleyra:agents": [{"agent": "1"}],
    }
    assert stack_agents(config) == ["48900", "31337", "20700"]
