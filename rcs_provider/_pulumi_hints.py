"""Pulumi's wording for the client's errors: where the client says what to check, a person
running ``pulumi up`` is told the command to run. Applied at the provider boundary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._kaleyra.errors import (
    MAY_HAVE_REGISTERED_HINT,
    REJECTED_KEY_HINT,
    UNCONFIRMED_REGISTRATION_HINT,
    KaleyraError,
)
from ._kaleyra.settings import CONFIG_KEYS

__all__ = ["PULUMI_HINTS", "rejected_key_hint", "with_pulumi_hint"]

#: The client's hint -> what to do with Pulumi (the 401 hint depends on the credentials'
#: sources: :func:`rejected_key_hint`).
PULUMI_HINTS: Final[dict[str, str]] = {
    MAY_HAVE_REGISTERED_HINT: (
        "The registration may have reached Kaleyra; run `pulumi up` again, which looks the "
        "number up in the agent's tester list before registering again (without a list, "
        "Kaleyra answers 409 for a number already registered, and that is adopted)."
    ),
    UNCONFIRMED_REGISTRATION_HINT: (
        "The tester may or may not be registered; check the agent's testers in the Kaleyra "
        "console, then run `pulumi up` again (it adopts an existing registration)."
    ),
}


def rejected_key_hint(sources: Mapping[str, str]) -> str:
    """What to do about a 401, naming where the api-key and the SID were read from
    (``sources``: ``sid`` / ``api_key`` -> a ``kaleyra:`` key or an environment variable)."""
    key_source = sources.get("api_key", CONFIG_KEYS["api_key"])
    sid_source = sources.get("sid", CONFIG_KEYS["sid"])
    return (
        f"The api-key came from {_described(key_source)} and the account SID from "
        f"{_described(sid_source)}; Kaleyra answers 401 to a wrong SID too. Check both: "
        f"{_fix(key_source, '<key>', secret=True)}, {_fix(sid_source, '<account SID>')}. "
        "After changing them, refresh with `pulumi refresh --run-program` (a plain refresh "
        "uses the values of the last `pulumi up`)."
    )


def _described(source: str) -> str:
    return source if ":" in source else f"the environment variable {source}"


def _fix(source: str, example: str, *, secret: bool = False) -> str:
    if ":" not in source:
        return f"export {source}={example}"
    return f"`pulumi config set {'--secret ' if secret else ''}{source} {example}`"


def with_pulumi_hint(
    err: KaleyraError, *, sources: Mapping[str, str] | None = None
) -> KaleyraError:
    """``err`` with its hint in Pulumi's terms, where there is one (changed in place)."""
    if err.hint == REJECTED_KEY_HINT:
        hint: str | None = rejected_key_hint(sources or {})
    else:
        hint = PULUMI_HINTS.get(err.hint)
    if hint is not None:
        err.hint = hint
        err.args = (err._text(),)
    return err
