"""The one hint a big stack gets at preview: ``PULUMI_SKIP_CHECKPOINTS``.

By default the engine rewrites the whole state after every step, so an ``up`` on a stack of
hundreds of testers spends most of its time serialising state it rewrites again a moment
later. With the variable set it writes the state once, at the end. That is safe with this
provider because ``create`` looks the number up in the agent's list and adopts an existing
registration before it registers: a run that dies before writing its state is repaired by the
next ``up`` without a second invitation.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["BIG_STACK_TESTERS", "SKIP_CHECKPOINTS_ENV", "skip_checkpoints_hint"]

SKIP_CHECKPOINTS_ENV = "PULUMI_SKIP_CHECKPOINTS"
#: Above this many declared testers, a preview prints the hint.
BIG_STACK_TESTERS = 300


def _truthy(value: str | None) -> bool:
    """The engine's reading of a boolean variable: ``1`` or ``true`` in any case."""
    return value is not None and (value == "1" or value.lower() == "true")


def skip_checkpoints_hint(testers: int, environ: Mapping[str, str]) -> str | None:
    """The hint for a stack declaring ``testers``, or None when it is small or already set."""
    if testers <= BIG_STACK_TESTERS or _truthy(environ.get(SKIP_CHECKPOINTS_ENV)):
        return None
    return (
        f"{testers} testers: set {SKIP_CHECKPOINTS_ENV}=true in the pipeline. The engine then "
        "writes the state once at the end instead of after every step, which makes `pulumi up` "
        "and its preview of a big stack faster (bench/RESULTS.md has the figures). It is safe "
        "with this provider: "
        "create looks the number up and adopts an existing registration before it registers, "
        "so if a run dies before saving its state, the next `pulumi up` adopts what was "
        "registered and sends no invitation twice."
    )
