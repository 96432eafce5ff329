"""What reading the last deployment for renames costs: the no-change preview and ``up`` of a big
stack, with the program as shipped and with the read switched off, alternating in the same run.

The program reads its stack's tester resources through the engine once per run (to alias label
renames, ``rcs_provider._renames``). Switched off, a copy of the project's ``__main__.py`` makes
``read_previous_testers`` answer nothing; everything else is the same code. Also measures one
rename on the stack, with and without the read: the calls it makes and its wall time.

    .venv/bin/python bench/rename_read.py [--testers 900] [--agents 5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from facts import load_average
from measure import Spread, pulumi_timed
from workload import Fleet, Stack, engine_environ, fresh_stack, prepare_sandbox

from rcs_devtools.fleet_data import agents_block
from rcs_provider.sandbox import running_sandbox

NO_READ_MAIN = '''"""The shipped program, the read of the last deployment switched off (bench)."""
import pulumi

from rcs_provider import _program as program

program.read_previous_testers = lambda _stack: []
pulumi.export("agents", program.declare_testers(pulumi.Config()))
'''
NOOP_PREVIEW = ("preview", "--expect-no-changes")
NOOP_UP = ("up", "--yes", "--skip-preview", "--expect-no-changes")


def _switch(stack: Stack, read: bool, shipped: str) -> None:
    (Path(stack.project.root) / "__main__.py").write_text(shipped if read else NO_READ_MAIN)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testers", type=int, default=900)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    fleet = Fleet(args.testers, args.agents)
    env = engine_environ()
    load_before = load_average()
    walls: dict[tuple[str, bool], list[float]] = {}
    renames: dict[bool, dict[str, float]] = {}
    with running_sandbox(agents=fleet.agent_numbers()) as sandbox:
        prepare_sandbox(sandbox, latency_ms=0)
        with fresh_stack(env, sandbox, fleet) as stack:
            shipped = (Path(stack.project.root) / "__main__.py").read_text()
            pulumi_timed(stack, "up", "--yes", "--skip-preview").ok()
            for _ in range(args.repeats):
                for read in (True, False):
                    _switch(stack, read, shipped)
                    for name, command in (("preview", NOOP_PREVIEW), ("up", NOOP_UP)):
                        walls.setdefault((name, read), []).append(
                            pulumi_timed(stack, *command).ok().wall_s
                        )
            layout = fleet.layout()
            first_agent = next(iter(layout))
            for read in (True, False):
                _switch(stack, read, shipped)
                testers = layout[first_agent]
                suffix = "-r" if read else "-n"
                layout[first_agent] = [(f"{testers[0][0]}{suffix}", testers[0][1]), *testers[1:]]
                stack.set_agents(agents_block(layout))
                before = sandbox.stats()
                run = pulumi_timed(stack, "up", "--yes", "--skip-preview").ok()
                after = sandbox.stats()
                renames[read] = {
                    "wall_s": run.wall_s,
                    "register_calls": after["register_calls"] - before["register_calls"],
                    "list_calls": after["list_calls"] - before["list_calls"],
                }
    result = {
        "testers": args.testers,
        "agents": args.agents,
        "repeats": args.repeats,
        "load_before": load_before,
        "load_after": load_average(),
        "noop": {
            name: {
                "with_read_s": Spread.of(walls[(name, True)]).median,
                "without_read_s": Spread.of(walls[(name, False)]).median,
                "ratio": Spread.of(walls[(name, True)]).median
                / Spread.of(walls[(name, False)]).median,
            }
            for name in ("preview", "up")
        },
        "rename": {"with_read": renames[True], "without_read": renames[False]},
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
