"""Bytes of state per tester, by part: what a ``pulumi stack export`` holds for each RcsTester.

Compact JSON (no spaces), as the targets count it. The stack trace is split by where each frame
comes from, so it shows what our call path adds beside what the SDK and Python always add.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from typing import Any

__all__ = ["TesterBytes", "tester_bytes"]

#: Frame origins, first match wins (the path as the engine records it, project-relative).
_ORIGINS = (
    ("ours", ("/rcs_provider/", "project:///__main__.py")),
    ("Pulumi SDK", ("/site-packages/pulumi/", "pulumi-language-python-exec")),
)


def _compact(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _origin(frame: dict[str, Any]) -> str:
    where = str(frame.get("sourcePosition", ""))
    if not where:
        return "no position"
    for name, markers in _ORIGINS:
        if any(marker in where for marker in markers):
            return name
    return "Python (asyncio, runpy)"


@dataclass(frozen=True)
class TesterBytes:
    """Median compact bytes of one RcsTester in state, by part and by output key."""

    testers: int
    total: float
    parts: dict[str, float]
    outputs: dict[str, float]
    frames: dict[str, float]
    frame_bytes: dict[str, float]


def tester_bytes(deployment: dict[str, Any]) -> TesterBytes:
    """Measure every RcsTester of an exported deployment; medians over the testers."""
    testers = [r for r in deployment.get("resources") or [] if r["type"].endswith("RcsTester")]
    if not testers:
        raise ValueError("the stack holds no RcsTester")
    totals, inputs, outputs, traces = [], [], [], []
    keys: dict[str, list[int]] = {}
    origins: dict[str, list[int]] = {}
    origin_bytes: dict[str, list[int]] = {}
    for res in testers:
        totals.append(_compact(res))
        inputs.append(
            _compact(res.get("inputs", {})) + _compact(res.get("propertyDependencies", {}))
        )
        outputs.append(_compact(res.get("outputs", {})))
        frames = res.get("stackTrace") or []
        traces.append(_compact(frames) + _compact(res.get("sourcePosition", "")))
        for key, value in (res.get("outputs") or {}).items():
            keys.setdefault(key, []).append(_compact({key: value}) - 1)
        counts: dict[str, int] = {}
        sizes: dict[str, int] = {}
        for frame in frames:
            origin = _origin(frame)
            counts[origin] = counts.get(origin, 0) + 1
            sizes[origin] = sizes.get(origin, 0) + _compact(frame) + 1
        for origin in {name for name, _ in _ORIGINS} | set(counts) | {"no position"}:
            origins.setdefault(origin, []).append(counts.get(origin, 0))
            origin_bytes.setdefault(origin, []).append(sizes.get(origin, 0))

    def med(values: list[int]) -> float:
        return float(statistics.median(values))

    parts = {
        "inputs + propertyDependencies": med(inputs),
        "outputs": med(outputs),
        "stackTrace + sourcePosition": med(traces),
    }
    rest = [t - i - o - s for t, i, o, s in zip(totals, inputs, outputs, traces, strict=True)]
    parts["urn, ids, type, parent, provider, flags, dates"] = med(rest)
    return TesterBytes(
        testers=len(testers),
        total=med(totals),
        parts=parts,
        outputs={k: med(v) for k, v in sorted(keys.items())},
        frames={k: med(v) for k, v in origins.items()},
        frame_bytes={k: med(v) for k, v in origin_bytes.items()},
    )
