"""The stack config's size against the limit of the variable that carries it to the program.

Pulumi's Python language host hands the whole stack config (secrets decrypted) to the program
in one environment variable, ``PULUMI_CONFIG``. Linux caps one environment string
(``NAME=value`` and its terminating NUL) at ``MAX_ARG_STRLEN``, 32 pages of 4 KiB: past it the
program cannot even start, and ``pulumi preview`` fails with ``fork/exec ...: argument list too
long`` before any validation of ours can speak. This module measures the string the program
was started with and words the warning that comes before that wall.
"""

from __future__ import annotations

import os

__all__ = [
    "CONFIG_VAR",
    "ENV_STRING_LIMIT",
    "WARN_SHARE",
    "config_env_bytes",
    "config_size_warning",
]

#: The environment variable through which the language host passes the stack config.
CONFIG_VAR = "PULUMI_CONFIG"
#: Linux's MAX_ARG_STRLEN (32 * 4096 bytes), the most one environment string may hold.
ENV_STRING_LIMIT = 131_072
#: Warn once the config takes this share of the limit.
WARN_SHARE = 0.75


def config_env_bytes(value: str) -> int:
    """Bytes the kernel counts for ``PULUMI_CONFIG=<value>``, the terminating NUL included."""
    return len(CONFIG_VAR) + 1 + len(os.fsencode(value)) + 1


def config_size_warning(
    value: str | None, *, source: str, phonebook_key: str = "rcs-testers:testers"
) -> str | None:
    """The warning for a stack config (the ``PULUMI_CONFIG`` value) near the limit, else None;
    ``phonebook_key`` is the phonebook of the fleet being read, which the advice names."""
    if value is None:
        return None
    size = config_env_bytes(value)
    if size < WARN_SHARE * ENV_STRING_LIMIT:
        return None
    return (
        f"{source}: the stack config takes {size:,} bytes, {size * 100 // ENV_STRING_LIMIT}% of "
        f"the {ENV_STRING_LIMIT:,} bytes that Linux allows the {CONFIG_VAR} environment variable "
        "through which Pulumi hands it to this program. Past the limit `pulumi preview` and "
        "`pulumi up` fail before the program starts, with 'argument list too long'. Make room "
        "before you add testers: split the agents into several stacks (one stack file per agent "
        f"or group of agents), list people once in the {phonebook_key} phonebook when they "
        "test several agents, drop the optional notes, keep names and labels short."
    )
