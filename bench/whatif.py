"""What-if evidence for RESULTS.md: what the per-agent output tables and the SDK's stack
traces cost. Not part of ``make bench``.

Runs a creating and a no-op ``pulumi up`` of N testers twice: with the real ``__main__.py``,
and with a variant that declares the same resources but exports no tables (no per-tester
``Output.all(...).apply`` in AgentTesters, no stack output). Prints, per program, wall and
program CPU, and the exported state per tester: as printed, without ``stackTrace`` /
``sourcePosition``, and compact without them.

    .venv/bin/python bench/whatif.py [--testers 200] [--skip-checkpoints]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from measure import pulumi_timed
from suite import NOOP_UP, UP
from workload import Fleet, engine_environ, fresh_stack, prepare_sandbox

from rcs_provider.sandbox import running_sandbox

VARIANT = """\
import json

import pulumi
from pulumi.runtime.config import get_config

from rcs_provider._config import parse_fleet
from rcs_provider._resource import RcsTester, RcsTesterArgs, tester_logical_name

source = f"stacks/Pulumi.{pulumi.get_stack()}.yaml"
raw = get_config(f"{pulumi.get_project()}:agents")
for spec in parse_fleet(json.loads(raw), source=source):
    parent = pulumi.ComponentResource(
        "rcs-testers:index:AgentTesters", f"agent-{spec.agent_no}", None
    )
    for t in spec.testers:
        RcsTester(
            tester_logical_name(spec.agent_no, t.label),
            RcsTesterArgs(agent_no=spec.agent_no, phoneno=t.phone, label=t.label),
            pulumi.ResourceOptions(parent=parent),
        )
    parent.register_outputs({})
"""


def _state_per_tester(printed: str, testers: int) -> tuple[float, float, float]:
    """Bytes per tester: as printed, re-printed without stack traces, compact without."""
    data: dict[str, Any] = json.loads(printed)
    for resource in data["deployment"]["resources"]:
        resource.pop("stackTrace", None)
        resource.pop("sourcePosition", None)
    bare = len(json.dumps(data, indent=4))
    compact = len(json.dumps(data, separators=(",", ":")))
    return len(printed) / testers, bare / testers, compact / testers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testers", type=int, default=200)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--skip-checkpoints", action="store_true")
    args = parser.parse_args()
    fleet = Fleet(args.testers, args.agents)
    env = engine_environ()
    print("| program | create s | its program CPU s | no-op up s | its program CPU s | "
          "state B/tester | without stack traces | compact, without |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    with running_sandbox(agents=fleet.agent_numbers()) as sandbox:
        for name in ("real __main__.py", "variant: no output tables"):
            prepare_sandbox(sandbox, args.latency_ms)
            with fresh_stack(env, sandbox, fleet) as stack:
                if args.skip_checkpoints:
                    stack.project.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
                if name.startswith("variant"):
                    (stack.project.root / "__main__.py").write_text(VARIANT)
                create = pulumi_timed(stack, *UP).ok()
                if sandbox.stats()["register_created"] != fleet.testers:
                    raise SystemExit(f"{name}: not every tester was registered")
                noop = pulumi_timed(stack, *NOOP_UP).ok()
                printed = stack.run("stack", "export").ok().stdout
                state = _state_per_tester(printed, fleet.testers)
            print(
                f"| {name} | {create.wall_s:.2f} | {create.usage.cpu_s.get('program', 0):.1f} "
                f"| {noop.wall_s:.2f} | {noop.usage.cpu_s.get('program', 0):.1f} | "
                + " | ".join(f"{b:,.0f}" for b in state)
                + " |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
