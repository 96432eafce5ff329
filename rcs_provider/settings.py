"""Provider settings: read the ``kaleyra:`` stack config (and environment fallbacks) into a
:class:`~rcs_provider.client.ClientSettings`, with errors that name the key to set."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any, cast

from .client import (
    CONFIG_KEYS,
    DEFAULT_LIST_PATH,
    DEFAULT_REGISTER_PATH,
    LOOKUP_MODES,
    POD_BASE_URLS,
    ClientSettings,
)
from .errors import ConfigurationError

__all__ = [
    "BUDGET_KEY",
    "DEFAULT_NEW_TESTER_BUDGET",
    "PODS",
    "SANDBOX_BASE_URL",
    "new_tester_budget_from_config",
    "settings_from_config",
]

#: Pods a stack may name in ``kaleyra:pod``.
PODS = (*POD_BASE_URLS, "sandbox")
#: Where ``make sandbox`` and ``make demo`` serve the local Kaleyra-compatible API.
SANDBOX_BASE_URL = "http://127.0.0.1:8766"

#: Google RBM (behind Kaleyra) accepts 20 new tester invitations per agent per day.
DEFAULT_NEW_TESTER_BUDGET = 20
BUDGET_KEY = "rcs-testers:newTesterBudget"

ConfigGetter = Callable[[str], Any]

#: Numeric client settings read from ``kaleyra:*`` (key names in ``CONFIG_KEYS``), by type.
_NUMBERS: dict[str, type[int] | type[float]] = {
    "connect_timeout": float,
    "read_timeout": float,
    "total_timeout": float,
    "max_retries": int,
    "backoff_factor": float,
    "backoff_max": float,
    "max_retry_after": float,
    "max_response_bytes": int,
}
#: Defaults live once, on ClientSettings.
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(ClientSettings)}


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
            f"of at least 1, got {str(raw)[:20]!r}: `pulumi config set {BUDGET_KEY} 20`",
            key=BUDGET_KEY,
        )
    return value


def settings_from_config(
    get: ConfigGetter, environ: dict[str, str] | None = None
) -> ClientSettings:
    """Build client settings from a config getter such as ``pulumi.dynamic.Config.get``.

    ``kaleyra:sid`` and ``kaleyra:apiKey`` fall back to ``KALEYRA_SID`` / ``KALEYRA_API_KEY``.
    Every missing or malformed value is reported at once, each with the command that fixes it.
    """
    env = os.environ if environ is None else environ
    problems: list[str] = []  # each starts with the config key it is about

    def text(key: str, env_name: str | None = None) -> str | None:
        value = get(f"kaleyra:{key}")
        if value in (None, "") and env_name:
            value = env.get(env_name) or None
        if value is None:
            return None
        if not isinstance(value, str):
            problems.append(f"kaleyra:{key} must be a string, got {type(value).__name__}")
            return None
        return value.strip() or None

    def number(name: str, *, integer: bool = False) -> float:
        """A numeric setting from its string in config; ClientSettings checks its range."""
        key = CONFIG_KEYS[name].removeprefix("kaleyra:")
        default = float(_DEFAULTS[name])
        raw = get(f"kaleyra:{key}")
        if raw in (None, ""):
            return default
        try:
            value = int(str(raw)) if integer else float(str(raw))
        except ValueError:
            kind = "a whole number" if integer else "a number of seconds"
            problems.append(
                f"kaleyra:{key} must be {kind}, got {str(raw)[:20]!r}: "
                f"`pulumi config set kaleyra:{key} {int(default) if integer else default}`"
            )
            return default
        if value < 0:
            problems.append(f"kaleyra:{key} must be positive, got {raw}")
            return default
        return value

    sid = text("sid", "KALEYRA_SID")
    api_key = text("apiKey", "KALEYRA_API_KEY")
    pod = text("pod", "KALEYRA_POD")
    base_url = text("baseUrl")
    if sid is None:
        problems.append(
            "kaleyra:sid is not set: `pulumi config set kaleyra:sid <account SID>` "
            "(or export KALEYRA_SID)"
        )
    if api_key is None:
        problems.append(
            "kaleyra:apiKey is not set: `pulumi config set --secret kaleyra:apiKey <key>` "
            "(or export KALEYRA_API_KEY)"
        )
    if pod is None and base_url is None:
        problems.append(
            "kaleyra:pod is not set: `pulumi config set kaleyra:pod in` "
            f"(one of {', '.join(PODS)}; or set kaleyra:baseUrl)"
        )
    elif pod is not None and pod not in PODS:
        problems.append(
            f"kaleyra:pod must be one of {', '.join(PODS)}, got {pod!r}: "
            "`pulumi config set kaleyra:pod in`"
        )
    if pod == "sandbox" and base_url is None:
        base_url = SANDBOX_BASE_URL
    list_method = (text("listMethod") or "GET").upper()
    if list_method not in ("GET", "POST"):
        problems.append(f"kaleyra:listMethod must be GET or POST, got {list_method!r}")

    lookup = text("lookup") or "auto"
    if lookup not in LOOKUP_MODES:
        problems.append(
            f"kaleyra:lookup must be one of {', '.join(LOOKUP_MODES)}, got {lookup[:20]!r}: "
            "`pulumi config set kaleyra:lookup auto`"
        )
    register_path = text("registerPath") or DEFAULT_REGISTER_PATH
    list_path = text("listPath") or DEFAULT_LIST_PATH
    numbers = {name: number(name, integer=kind is int) for name, kind in _NUMBERS.items()}

    if problems:
        raise ConfigurationError(
            "Unable to configure the Kaleyra provider:\n  - " + "\n  - ".join(problems),
            key=problems[0].split(" ", 1)[0],
        )
    assert sid is not None and api_key is not None
    return ClientSettings(
        sid=sid,
        api_key=api_key,
        pod=None if pod == "sandbox" else pod,
        base_url=base_url,
        register_path=register_path,
        list_path=list_path,
        list_method=list_method,
        lookup=lookup,
        **cast(dict[str, Any], {name: _NUMBERS[name](v) for name, v in numbers.items()}),
    )
