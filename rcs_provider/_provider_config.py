"""The provider's ``kaleyra:`` and ``rcs-testers:`` stack config, read into client settings,
with errors that say which ``pulumi config set`` command fixes each problem."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ._kaleyra.errors import ConfigurationError
from ._kaleyra.settings import (
    CONFIG_KEYS,
    ENV_FALLBACKS,
    ClientSettings,
    settings_from_values,
)
from ._phones import DAILY_INVITATION_LIMIT

__all__ = [
    "BUDGET_KEY",
    "DEFAULT_CREDENTIAL_SOURCES",
    "DEFAULT_NEW_TESTER_BUDGET",
    "SettingsCheck",
    "config_fix",
    "credential_sources",
    "new_tester_budget_from_config",
    "settings_from_config",
    "settings_problems",
]

#: A preview warns when one change adds more new testers than this to one agent.
DEFAULT_NEW_TESTER_BUDGET = DAILY_INVITATION_LIMIT
BUDGET_KEY = "rcs-testers:newTesterBudget"

ConfigGetter = Callable[[str], Any]

#: The value shown in each key's ``pulumi config set`` command; numbers show their default.
_EXAMPLES: dict[str, str] = {
    "sid": "<account SID>",
    "api_key": "<key>",
    "pod": "in",
    "list_method": "GET",
    "lookup": "auto",
}
_DEFAULTS: dict[str, object] = {f.name: f.default for f in dataclasses.fields(ClientSettings)}


def _example(name: str) -> str:
    default = _DEFAULTS.get(name)
    if isinstance(default, int | float):
        return format(default, "g")
    return _EXAMPLES.get(name, "<value>")


def config_fix(key: str) -> str:
    """The command that sets ``key`` (a ``kaleyra:`` key), with its environment fallback."""
    names = {v: k for k, v in CONFIG_KEYS.items()}
    name = names.get(key)
    if name is None:
        return f"`pulumi config set {key} <value>`"
    secret = "--secret " if name == "api_key" else ""
    command = f"`pulumi config set {secret}{key} {_example(name)}`"
    if name in ENV_FALLBACKS and name != "pod":
        command += f" (or export {ENV_FALLBACKS[name]})"
    return command


def settings_from_config(
    get: ConfigGetter, environ: Mapping[str, str] | None = None
) -> ClientSettings:
    """Client settings from a config getter such as ``pulumi.dynamic.Config.get``.

    Every missing or malformed value is reported at once, each with the command that fixes it.
    """
    try:
        return settings_from_values(get, environ)
    except ConfigurationError as err:
        raise ConfigurationError(
            "Unable to configure the Kaleyra provider:\n  - " + "\n  - ".join(_lines(err)),
            key=err.key,
            problems=err.problems,
        ) from None


class SettingsCheck(NamedTuple):
    """:func:`settings_problems`' answer: ``problems`` stop any run; ``missing_api_key`` (the
    line naming the fix) stops a run that calls Kaleyra (``pulumi up``), not a preview."""

    problems: list[str]
    missing_api_key: str | None


def settings_problems(get: ConfigGetter, environ: Mapping[str, str] | None = None) -> SettingsCheck:
    """Every problem of the ``kaleyra:`` settings, each with its command, for a program to list
    beside its own problems; a missing api-key apart, since only calls to Kaleyra need it (a
    preview makes none)."""
    try:
        settings_from_values(get, environ)
    except ConfigurationError as err:
        missing_key = (CONFIG_KEYS["api_key"], "is not set")
        rest = [problem for problem in err.problems if problem != missing_key]
        key_line = _line(*missing_key) if missing_key in err.problems else None
        return SettingsCheck([_line(*problem) for problem in rest], key_line)
    return SettingsCheck([], None)


def _line(key: str, message: str) -> str:
    return f"{key}: {message}; set it with {config_fix(key)}"


def _lines(err: ConfigurationError) -> list[str]:
    return [_line(key, message) for key, message in err.problems]


#: Where the account SID and the api-key are read from when both are in the stack config.
DEFAULT_CREDENTIAL_SOURCES: Mapping[str, str] = {
    "sid": CONFIG_KEYS["sid"],
    "api_key": CONFIG_KEYS["api_key"],
}


def credential_sources(
    get: ConfigGetter, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Where the account SID and the api-key came from: their ``kaleyra:`` key, or the
    environment variable read in its absence (as :func:`settings_from_config` reads them)."""
    env = os.environ if environ is None else environ
    sources = dict(DEFAULT_CREDENTIAL_SOURCES)
    for name, key in DEFAULT_CREDENTIAL_SOURCES.items():
        if get(key) in (None, "") and env.get(ENV_FALLBACKS[name]):
            sources[name] = ENV_FALLBACKS[name]
    return sources


def new_tester_budget_from_config(get: ConfigGetter) -> int:
    """How many new testers one change may add to one agent before a warning is shown."""
    raw = get(BUDGET_KEY)
    if raw in (None, ""):
        return DEFAULT_NEW_TESTER_BUDGET
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(
            f"Unable to configure the Kaleyra provider: {BUDGET_KEY} must be a whole number "
            f"of at least 1, got {str(raw)[:20]!r}: "
            f"`pulumi config set {BUDGET_KEY} {DEFAULT_NEW_TESTER_BUDGET}`",
            key=BUDGET_KEY,
        )
    return value
