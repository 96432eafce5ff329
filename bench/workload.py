"""What is measured: N testers spread over A agents, a fresh project and stack per run.

Reuses the dev tooling (``rcs_devtools``): :class:`Project` copies the program into a
temporary folder with its own ``file://`` backend; :func:`agents_block` writes the testers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rcs_devtools.fleet_data import agents_block, phone
from rcs_devtools.pulumi_cli import Project, Stack, engine_environ
from rcs_provider.sandbox import SandboxProcess

REPO = Path(__file__).resolve().parents[1]

__all__ = ["REPO", "Fleet", "Stack", "engine_environ", "fresh_stack", "prepare_sandbox"]

FIRST_AGENT = 48900


@dataclass(frozen=True)
class Fleet:
    """``testers`` testers over ``agents`` agents, as even as possible, numbered from 1."""

    testers: int
    agents: int

    def agent_numbers(self) -> list[str]:
        return [str(FIRST_AGENT + i) for i in range(self.agents)]

    def layout(self) -> dict[str, list[tuple[str, int]]]:
        """``{"48900": [("qa-0001", 1), ...], ...}``: round-robin, so agents differ by <= 1."""
        layout: dict[str, list[tuple[str, int]]] = {a: [] for a in self.agent_numbers()}
        names = self.agent_numbers()
        for n in range(1, self.testers + 1):
            layout[names[(n - 1) % self.agents]].append((f"qa-{n:04d}", n))
        return {agent: testers for agent, testers in layout.items() if testers}

    def pairs(self) -> list[tuple[str, str]]:
        """(agent_no, phoneno) of every tester, in declaration order."""
        return [(a, phone(n)) for a, testers in self.layout().items() for _, n in testers]


def prepare_sandbox(sandbox: SandboxProcess, latency_ms: int) -> None:
    """Forget every registration and counter, then set the injected latency again
    (``reset`` clears faults too)."""
    sandbox.reset()
    sandbox.set_faults(latency_ms=latency_ms, jitter_ms=0)


@contextmanager
def fresh_stack(
    env: dict[str, str], sandbox: SandboxProcess, fleet: Fleet, name: str = "bench"
) -> Iterator[Stack]:
    """A new project copy with an empty ``file://`` backend and one stack declaring
    ``fleet``; the folder is deleted afterwards."""
    root = Path(tempfile.mkdtemp(prefix="rcs-bench-"))
    try:
        project = Project.create(root / "project", env)
        stack = project.stack(name, sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
        stack.set_agents(agents_block(fleet.layout()))
        yield stack
    finally:
        shutil.rmtree(root, ignore_errors=True)
