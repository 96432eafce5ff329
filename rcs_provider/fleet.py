"""Compatibility names: the config model moved to :mod:`rcs_provider.config` and the
components to :mod:`rcs_provider.components`. New code imports from those."""

from .components import AgentTesters, declare_fleet
from .config import (
    ALLOW_CLEAR_PHONES_KEY,
    AgentSpec,
    FleetConfigError,
    TesterSpec,
    clear_phone_paths,
    clear_phone_problems,
    parse_fleet,
    yaml_number_problems,
)
from .domain import MAX_TESTERS_PER_AGENT

__all__ = [
    "ALLOW_CLEAR_PHONES_KEY",
    "MAX_TESTERS_PER_AGENT",
    "AgentSpec",
    "AgentTesters",
    "FleetConfigError",
    "TesterSpec",
    "clear_phone_paths",
    "clear_phone_problems",
    "declare_fleet",
    "parse_fleet",
    "yaml_number_problems",
]
