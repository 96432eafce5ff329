"""What ``rcs-testers doctor`` checks of the stack itself: its testers, validated exactly as
``pulumi preview`` validates them (through ``_config``, the program's own reader), and the
agents it declares."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config import (
    ALLOW_CLEAR_PHONES_KEY,
    PHONEBOOK_NAME,
    FleetConfigError,
    declared_agents,
    read_stack_file,
    read_stack_testers,
    stack_file_path,
)
from .._kaleyra.settings import CONFIG_KEYS, SANDBOX_POD
from .._project import project_name
from .report import Report

__all__ = ["FleetCheck", "check_fleet", "stack_agents"]


def _agents_keys(config: Mapping[str, Any]) -> list[str]:
    return [k for k in config if k.endswith(":agents") and not k.startswith("kaleyra:")]


def stack_agents(config: Mapping[str, Any]) -> list[str]:
    """Every agent number the stack's ``<namespace>:agents`` declare, read leniently (the
    stack may be invalid), in order, once each."""
    agents: dict[str, None] = {}
    for key in _agents_keys(config):
        agents.update(dict.fromkeys(declared_agents(_decoded(config[key]))))
    return list(agents)


@dataclass
class FleetCheck:
    """The stack's testers as ``pulumi preview`` validates them: each problem and warning
    (``source: path: what``), and the agents declared."""

    source: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    testers: int = 0

    def report_to(self, report: Report) -> None:
        for problem in self.problems:
            report.add("stack", "fail", problem)
        if self.problems:
            report.checks[
                -len(self.problems)
            ].next_step = "Fix each problem above: `pulumi preview` fails with the same ones."
        else:
            report.add(
                "stack",
                "ok",
                f"{self.source}: {len(self.agents)} agent(s), {self.testers} tester(s), valid "
                "as `pulumi preview` reads them",
            )
        for warning in self.warnings:
            report.add("stack", "warn", warning)


def check_fleet(config: Mapping[str, Any], project_dir: Path, stack: str) -> FleetCheck:
    """Validate every ``<namespace>:agents`` of the stack (and its phonebook) as the program
    does in ``pulumi preview``; without any, the project's own ``<project>:agents``."""
    path = stack_file_path(project_dir, stack)
    check = FleetCheck(str(path), agents=stack_agents(config))
    keys = _agents_keys(config) or [f"{project_name(project_dir)}:agents"]
    clear_phones_checked = config.get(CONFIG_KEYS["pod"]) != SANDBOX_POD
    for key in keys:
        namespace = key.split(":", 1)[0]
        allow = config.get(f"{namespace}:{ALLOW_CLEAR_PHONES_KEY}")
        try:
            testers = read_stack_testers(
                _decoded(config.get(key)),
                _decoded(config.get(f"{namespace}:{PHONEBOOK_NAME}")),
                stack_text=read_stack_file(project_dir / path),
                source=check.source,
                key=key,
                outside_sandbox=clear_phones_checked,
                allow_clear_phones=str(allow).lower() == "true",
            )
        except FleetConfigError as err:
            check.problems += [f"{err.source}: {problem}" for problem in err.problems]
            continue
        check.warnings += [f"{check.source}: {warning}" for warning in testers.warnings]
        check.testers += sum(len(agent.testers) for agent in testers.agents)
    return check


def _decoded(value: Any) -> Any:
    """A config value as ``pulumi config --json`` gives it: objects may come as JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
