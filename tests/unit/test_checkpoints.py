"""The PULUMI_SKIP_CHECKPOINTS hint: only on big stacks, only when the variable is not set."""

from __future__ import annotations

import re

import pytest

from rcs_provider._checkpoints import BIG_STACK_TESTERS, skip_checkpoints_hint


@pytest.mark.parametrize("testers", [1, 20, BIG_STACK_TESTERS])
def test_small_stacks_get_nothing(testers: int) -> None:
    assert skip_checkpoints_hint(testers, {}) is None


def test_a_big_stack_is_told_what_it_saves_and_why_it_is_safe() -> None:
    hint = skip_checkpoints_hint(BIG_STACK_TESTERS + 1, {"PULUMI_SKIP_CHECKPOINTS": "false"})
    assert hint is not None
    assert hint.startswith(f"{BIG_STACK_TESTERS + 1} testers: set PULUMI_SKIP_CHECKPOINTS=true")
    assert "faster (bench/RESULTS.md has the figures)" in hint
    assert not re.search(r"[0-9.]+x\b", hint), "no bench figures in a user message"
    assert "adopts an existing registration before it registers" in hint
    assert "\n" not in hint, "one line"


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1"])
def test_nothing_once_the_engine_reads_the_variable_as_set(value: str) -> None:
    assert skip_checkpoints_hint(900, {"PULUMI_SKIP_CHECKPOINTS": value}) is None


@pytest.mark.parametrize("value", ["", "0", "false", "yes"])
def test_values_the_engine_reads_as_unset_still_get_the_hint(value: str) -> None:
    assert skip_checkpoints_hint(900, {"PULUMI_SKIP_CHECKPOINTS": value}) is not None
