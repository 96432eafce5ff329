"""The stack config model: parse and validate ``rcs-testers:agents``, pure (no Pulumi, no HTTP),
and read what only the stack file's text shows."""

from .model import (
    AGENT_KEYS,
    TESTER_KEYS,
    AgentSpec,
    FleetConfigError,
    TesterSpec,
    clear_phones_warning,
    parse_fleet,
)
from .stackfile import yaml_number_problems

__all__ = [
    "AGENT_KEYS",
    "TESTER_KEYS",
    "AgentSpec",
    "FleetConfigError",
    "TesterSpec",
    "clear_phones_warning",
    "parse_fleet",
    "yaml_number_problems",
]
