"""The stack config model: parse and validate ``rcs-testers:agents``, pure (no Pulumi, no HTTP),
and read what only the stack file's text shows."""

from .model import (
    ALLOW_CLEAR_PHONES_KEY,
    AgentSpec,
    FleetConfigError,
    TesterSpec,
    clear_phone_problems,
    parse_fleet,
)
from .stackfile import clear_phone_paths, yaml_number_problems

__all__ = [
    "ALLOW_CLEAR_PHONES_KEY",
    "AgentSpec",
    "FleetConfigError",
    "TesterSpec",
    "clear_phone_paths",
    "clear_phone_problems",
    "parse_fleet",
    "yaml_number_problems",
]
