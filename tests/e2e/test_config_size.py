"""The stack-config size ceiling, as a user meets it on the real engine: Pulumi's language host
hands the whole config to the program in the PULUMI_CONFIG environment variable, which Linux
caps at 131,072 bytes. Near the cap the preview warns once; past it the engine cannot start
the program and says `argument list too long`."""

from __future__ import annotations

import re
from typing import Any

from rcs_devtools.fleet_data import agents_block
from rcs_devtools.pulumi_cli import Stack
from rcs_provider._config_size import ENV_STRING_LIMIT

WARNING = re.compile(r"the stack config takes ([0-9,]+) bytes, ([0-9]+)% of the 131,072 bytes")


def with_note(stack: Stack, note_chars: int) -> None:
    """Two testers of agent 48900, the first with a note of ``note_chars`` letters."""
    agents = agents_block({"48900": [("qa-alice", 1), ("qa-bob", 2)]})
    agents[0]["testers"][0]["note"] = "n" * note_chars
    stack.set_agents(agents)


def warnings_in(output: str) -> list[tuple[int, int]]:
    """Each size warning of the run, from the Diagnostics summary, which lists every
    diagnostic once (the progress lines above it repeat them)."""
    summary = output.partition("\nDiagnostics:")[2].partition("\nResources:")[0]
    return [(int(m[1].replace(",", "")), int(m[2])) for m in WARNING.finditer(summary)]


def test_preview_warns_once_past_three_quarters_of_the_limit(stack: Stack, sandbox: Any) -> None:
    with_note(stack, 110_000)

    result = stack.preview().ok()

    [(size, percent)] = warnings_in(result.output)
    assert 110_000 < size < ENV_STRING_LIMIT
    assert percent == size * 100 // ENV_STRING_LIMIT >= 75
    assert "split the agents into several stacks" in result.output
    assert "rcs-testers-dev create 1 warning" in result.output
    assert sandbox.stats()["register_calls"] == 0


def test_no_warning_for_a_stack_well_under_the_limit(stack: Stack) -> None:
    with_note(stack, 60_000)

    result = stack.preview().ok()

    assert warnings_in(result.output) == []
    assert "stack config takes" not in result.output


def test_past_the_limit_the_engine_cannot_start_the_program(stack: Stack, sandbox: Any) -> None:
    with_note(stack, ENV_STRING_LIMIT)

    for result in (stack.preview(), stack.up()):
        assert result.returncode != 0
        assert "problem executing program" in result.output, result.output[-3000:]
        assert "argument list too long" in result.output
        assert "Traceback" not in result.output
    assert sandbox.stats()["register_calls"] == 0
    assert stack.testers_in_state() == []
