"""The stack config model: parse and validate ``rcs-testers:agents`` and the phonebook
``rcs-testers:testers``, pure (no Pulumi, no HTTP), and read what only the stack file's text
shows."""

from .model import (
    ALLOW_CLEAR_PHONES_KEY,
    AgentSpec,
    FleetConfigError,
    TesterSpec,
    clear_phone_problems,
    fleet_warnings,
    parse_fleet,
)
from .phonebook import PHONEBOOK_NAME, StackTesters, parse_stack_testers
from .stack import declared_agents, read_stack_file, read_stack_testers, stack_file_path
from .stackfile import (
    clear_api_key_problems,
    clear_phone_paths,
    compose_stack_text,
    phonebook_clear_phones,
    phonebook_yaml_number_problems,
    stack_file_problems,
    yaml_number_problems,
)

__all__ = [
    "ALLOW_CLEAR_PHONES_KEY",
    "PHONEBOOK_NAME",
    "AgentSpec",
    "FleetConfigError",
    "StackTesters",
    "TesterSpec",
    "clear_api_key_problems",
    "clear_phone_paths",
    "clear_phone_problems",
    "compose_stack_text",
    "declared_agents",
    "fleet_warnings",
    "parse_fleet",
    "parse_stack_testers",
    "phonebook_clear_phones",
    "phonebook_yaml_number_problems",
    "read_stack_file",
    "read_stack_testers",
    "stack_file_path",
    "stack_file_problems",
    "yaml_number_problems",
]
