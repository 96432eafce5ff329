"""A preview of a big stack names PULUMI_SKIP_CHECKPOINTS once; small stacks and stacks that
already set it hear nothing. Real engine, previews only (nothing is registered)."""

from __future__ import annotations

from typing import Any

from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import Stack
from rcs_provider._checkpoints import BIG_STACK_TESTERS

HINT = "testers: set PULUMI_SKIP_CHECKPOINTS=true"


def layout(testers: int) -> dict[str, list[tuple[str, int]]]:
    """``testers`` testers over two agents."""
    agents = ("48900", "20700")
    out: dict[str, list[tuple[str, int]]] = {a: [] for a in agents}
    for n in range(1, testers + 1):
        out[agents[n % 2]].append((f"qa-{n:04d}", n))
    return out


def hints(output: str) -> list[str]:
    return [line for line in output.splitlines() if HINT in line]


def test_only_a_big_stack_without_the_variable_gets_the_hint(stack: Stack, sandbox: Any) -> None:
    stack.project.env.pop("PULUMI_SKIP_CHECKPOINTS", None)
    stack.set_agents(agents_block(layout(BIG_STACK_TESTERS + 1)))
    big = stack.preview().ok()
    # The engine shows a program's message in its progress lines (cut to the terminal width)
    # and, whole, under Diagnostics: that one is the program's single line.
    said = [line.strip() for line in hints(big.output)]
    whole = [line for line in said if line.startswith(f"{BIG_STACK_TESTERS + 1} {HINT}")]
    assert len(whole) == 1, big.output[-3000:]
    assert "adopts an existing registration before it registers" in whole[0]
    assert whole[0].endswith("sends no invitation twice."), whole[0]

    stack.project.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    assert hints(stack.preview().ok().output) == []

    del stack.project.env["PULUMI_SKIP_CHECKPOINTS"]
    stack.set_agents(agents_block(layout(BIG_STACK_TESTERS)))
    assert hints(stack.preview().ok().output) == []
    assert sandbox.stats()["register_calls"] == 0
