"""What ``rcs-testers doctor`` checks of the stack itself: its config, read decrypted through
the pulumi CLI; its testers, validated exactly as ``pulumi preview`` validates them; and its
declared agents, each looked up at the pod with the list call (read-only, so it is used in
every ``kaleyra:lookup`` mode, ``register-only`` included, wherever the pod answers it)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ._config import (
    ALLOW_CLEAR_PHONES_KEY,
    PHONEBOOK_NAME,
    FleetConfigError,
    read_stack_file,
    read_stack_testers,
    stack_file_path,
)
from ._doctor_report import Report
from ._kaleyra.errors import InvalidRequestError, KaleyraError
from ._kaleyra.paging import TesterList
from ._kaleyra.settings import CONFIG_KEYS, SANDBOX_POD
from ._lookup import unusable_list_reason
from ._project import project_name

__all__ = [
    "AgentProbe",
    "FleetCheck",
    "check_fleet",
    "declared_agents",
    "probe_agents",
    "read_stack_config",
    "selected_stack",
]

# -- the stack's config --------------------------------------------------------------------------


def _pulumi(project_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["pulumi", *args], cwd=project_dir, capture_output=True, text=True, timeout=120
        )
    except FileNotFoundError:
        raise RuntimeError("the pulumi CLI is not on PATH") from None


def read_stack_config(stack: str | None, project_dir: Path) -> dict[str, Any]:
    """The stack's config, decrypted, as ``{key: value}`` (objects decoded)."""
    command = ["config", "--show-secrets", "--json"]
    if stack:
        command += ["--stack", stack]
    done = _pulumi(project_dir, *command)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"`pulumi config` failed: {said[-1] if said else 'no output'}")
    entries = json.loads(done.stdout or "{}")
    config: dict[str, Any] = {}
    for key, entry in entries.items():
        if isinstance(entry, dict):
            value = entry.get("objectValue", entry.get("value"))
            config[key] = value
    return config


def selected_stack(project_dir: Path) -> str | None:
    """The stack ``pulumi`` works on when none is named, or None."""
    done = _pulumi(project_dir, "stack", "--show-name")
    return done.stdout.strip() or None if done.returncode == 0 else None


def _agents_keys(config: Mapping[str, Any]) -> list[str]:
    return [k for k in config if k.endswith(":agents") and not k.startswith("kaleyra:")]


def declared_agents(config: Mapping[str, Any]) -> list[str]:
    """Every agent number the stack's ``<namespace>:agents`` declare, read leniently (the
    stack may be invalid), in order, once each."""
    agents: dict[str, None] = {}
    for key in _agents_keys(config):
        value = config[key]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        for entry in value if isinstance(value, list) else []:
            agent = entry.get("agent") if isinstance(entry, dict) else None
            if isinstance(agent, str | int) and str(agent).strip().isdigit():
                agents[str(agent).strip()] = None
    return list(agents)


# -- the testers, as preview reads them ----------------------------------------------------------


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
            ].next = "Fix each problem above: `pulumi preview` fails with the same ones."
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
    check = FleetCheck(str(path), agents=declared_agents(config))
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
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# -- the agents, at the pod ----------------------------------------------------------------------


class TesterLister(Protocol):
    """The read-only call an agent is checked with (a ``KaleyraClient``)."""

    def tester_list(self, agent_no: str, *, label: str | None = None) -> TesterList: ...


@dataclass
class AgentProbe:
    """Each declared agent as the pod's list call shows it: ``known`` (listed), ``unknown``
    (refused: agent and why), or ``unchecked`` (the call cannot tell: agent and why)."""

    known: list[str] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)

    def report_to(self, report: Report) -> None:
        for agent, why in self.unknown:
            report.add(
                "agents",
                "fail",
                f"agent {agent}: the pod refused it ({why})",
                f"Check agent {agent}'s service code in the stack file and that this account "
                "(kaleyra:sid) owns it: each of its testers would fail.",
            )
        if self.unchecked:
            agents = ", ".join(agent for agent, _ in self.unchecked)
            reasons = "; ".join(dict.fromkeys(why for _, why in self.unchecked))
            report.add(
                "agents",
                "warn",
                f"{agents}: unchecked, the list call cannot tell whether the pod knows them "
                f"({reasons})",
                "Nothing to check them with before a run: the first `pulumi up` does.",
            )
            report.unchecked_agents = [agent for agent, _ in self.unchecked]
        if self.known:
            report.add("agents", "ok", f"{', '.join(self.known)}: listed by the pod")


def probe_agents(client: TesterLister, agents: Sequence[str]) -> AgentProbe:
    """List each agent once (read-only) and sort it by what the answer shows."""
    probe = AgentProbe()
    for agent in agents:
        try:
            client.tester_list(agent)
        except KaleyraError as err:
            reason = unusable_list_reason(err)
            if reason is None and isinstance(err, InvalidRequestError) and err.status == 400:
                probe.unknown.append((agent, err.why))
            else:
                probe.unchecked.append((agent, reason or err.why))
        else:
            probe.known.append(agent)
    return probe
