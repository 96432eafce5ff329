"""The stack-config size warning: when it speaks, and what it says."""

from __future__ import annotations

from rcs_provider._config_size import (
    CONFIG_VAR,
    ENV_STRING_LIMIT,
    config_env_bytes,
    config_size_warning,
)

SRC = "stacks/Pulumi.prod.yaml"
#: "PULUMI_CONFIG=" and the terminating NUL, counted by the kernel with the value.
OVERHEAD = len(CONFIG_VAR) + 2


def value_of(total: int) -> str:
    """A PULUMI_CONFIG value whose environment string takes ``total`` bytes."""
    return "x" * (total - OVERHEAD)


def test_size_counts_the_name_the_equals_sign_and_the_nul() -> None:
    assert config_env_bytes("{}") == len("PULUMI_CONFIG={}") + 1


def test_size_counts_utf8_bytes_not_characters() -> None:
    assert config_env_bytes("é") == OVERHEAD + 2


def test_no_warning_below_three_quarters_of_the_limit() -> None:
    assert config_size_warning(value_of(ENV_STRING_LIMIT * 3 // 4 - 1), source=SRC) is None
    assert config_size_warning(None, source=SRC) is None


def test_warning_at_three_quarters_names_size_limit_and_the_way_out() -> None:
    size = ENV_STRING_LIMIT * 3 // 4
    warning = config_size_warning(value_of(size), source=SRC)
    assert warning is not None
    assert warning.startswith(
        f"{SRC}: the stack config takes {size:,} bytes, 75% of the 131,072 bytes"
    )
    assert "argument list too long" in warning
    assert "split the agents into several stacks" in warning
    assert "drop the optional notes" in warning
