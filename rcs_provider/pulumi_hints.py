"""Pulumi's wording for the client's errors: where the client says what to check, a person
running ``pulumi up`` is told the command to run. Applied at the provider boundary."""

from __future__ import annotations

from typing import Final

from .kaleyra.errors import (
    MAY_HAVE_REGISTERED_HINT,
    REJECTED_KEY_HINT,
    UNCONFIRMED_REGISTRATION_HINT,
    KaleyraError,
)

__all__ = ["PULUMI_HINTS", "with_pulumi_hint"]

#: The client's hint -> what to do with Pulumi.
PULUMI_HINTS: Final[dict[str, str]] = {
    REJECTED_KEY_HINT: "Set it with `pulumi config set --secret kaleyra:apiKey <key>`.",
    MAY_HAVE_REGISTERED_HINT: (
        "The registration may have reached Kaleyra; run `pulumi up` again, which checks the "
        "agent's tester list before registering again."
    ),
    UNCONFIRMED_REGISTRATION_HINT: (
        "The tester may or may not be registered; check the agent's testers in the Kaleyra "
        "console, then run `pulumi up` again (it adopts an existing registration)."
    ),
}


def with_pulumi_hint(err: KaleyraError) -> KaleyraError:
    """``err`` with its hint in Pulumi's terms, where there is one (changed in place)."""
    hint = PULUMI_HINTS.get(err.hint)
    if hint is not None:
        err.hint = hint
        err.args = (err._text(),)
    return err
