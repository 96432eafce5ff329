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
#: From bench/RESULTS.md ("Daily workload", 900 testers + 100 new, two full runs on a loaded
#: 2-core machine): the change's `pulumi up` 409 -> 220 s and 433 -> 127 s; its preview
#: 165 -> 153 s and 168 -> 111 s.
MEASURED_UP_SPEEDUP = "1.9-3.4x"
MEASURED_PREVIEW_SPEEDUP = "1.1-1.5x"


def _truthy(value: str | None) -> bool:
    """The engine's reading of a boolean variable: ``1`` or ``true`` in any case."""
    return value is not None and (value == "1" or value.lower() == "true")


def skip_checkpoints_hint(testers: int, environ: Mapping[str, str]) -> str | None:
    """The hint for a stack declaring ``testers``, or None when it is small or already set."""
    if testers <= BIG_STACK_TESTERS or _truthy(environ.get(SKIP_CHECKPOINTS_ENV)):
        return None
    return (
        f"{testers} testers: set {SKIP_CHECKPOINTS_ENV}=true in the pipeline. The engine then "
        "writes the state once at the end instead of after every step: measured on 900 "
        f"testers + 100 new, `pulumi up` {MEASURED_UP_SPEEDUP} and its preview "
        f"{MEASURED_PREVIEW_SPEEDUP} faster (bench/RESULTS.md). It is safe with this provider: "
        "create looks the number up and adopts an existing registration before it registers, "
        "so if a run dies before saving its state, the next `pulumi up` adopts what was "
        "registered and sends no invitation twice."
    )
