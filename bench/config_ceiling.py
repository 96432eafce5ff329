"""How many testers fit in one stack: the stack-config size ceiling, measured on the real engine.

Pulumi's Python language host passes the whole stack config, secrets decrypted, to the
program in the ``PULUMI_CONFIG`` environment variable, and Linux refuses an environment string
over 131,072 bytes (``argument list too long``). This script finds, for each way of writing
testers, the largest N that still starts the program:

1. two probe previews (N1, N2 testers, spread over agents of 200) report the config size
   through the program's own size warning; the slope gives the predicted ceiling;
2. previews at the prediction and one above confirm it: the last N whose preview reaches the
   program, the first one that fails with ``argument list too long``;
3. one full ``pulumi preview`` of the ceiling stack, valid, confirms that it previews.

Probe stacks carry one duplicate label (same size) so that the program stops at validation
instead of planning thousands of resources; the confirming preview in step 3 is valid.

    .venv/bin/python bench/config_ceiling.py            # all variants, ~10 min on 2 cores
    .venv/bin/python bench/config_ceiling.py --variant clear
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rcs_devtools.fleet_data import formatted
from rcs_devtools.pulumi_cli import Project, Stack, engine_environ
from rcs_provider._config_size import ENV_STRING_LIMIT
from rcs_provider.sandbox import running_sandbox

REPO = Path(__file__).resolve().parents[1]

PER_AGENT = 200
FIRST_AGENT = 48900
NOTE = "Pixel 8 Pro, QA lab 3"  # a typical short note: 21 characters
SIZE = re.compile(r"the stack config takes ([0-9,]+) bytes")
#: The engine's error when the program cannot be started (the warning quotes only its end).
TOO_LONG = re.compile(r"could not run language executor\): fork/exec \S+: argument list too long")


@dataclass(frozen=True)
class Variant:
    name: str
    secret: bool
    note: bool


VARIANTS = (
    Variant("clear", secret=False, note=False),
    Variant("clear-notes", secret=False, note=True),
    Variant("secret", secret=True, note=False),
    Variant("secret-notes", secret=True, note=True),
)  # the secret ones take hours on 2 cores (see secret_cost); --secret-cost answers in a minute


def layout(n: int, *, probe: bool) -> list[dict[str, Any]]:
    """N testers in agents of 200; a probe repeats one label (same length) to stop early."""
    agents: list[dict[str, Any]] = []
    for i in range(n):
        if i % PER_AGENT == 0:
            agents.append({"agent": str(FIRST_AGENT + i // PER_AGENT), "testers": []})
        agents[-1]["testers"].append({"label": f"qa-{i + 1:05d}"})
    if probe:
        agents[-1]["testers"][-1]["label"] = agents[-1]["testers"][0]["label"]
    return agents


def write_stack(stack: Stack, n: int, variant: Variant, *, probe: bool) -> None:
    agents = layout(n, probe=probe)
    numbered = [t for a in agents for t in a["testers"]]
    for k, tester in enumerate(numbered, start=1):
        if not variant.secret:
            tester["phone"] = formatted(k)
        if variant.note:
            tester["note"] = NOTE
    stack.set_agents(agents)
    if variant.secret:
        pairs = []
        for i, agent in enumerate(agents):
            for j in range(len(agent["testers"])):
                k = i * PER_AGENT + j + 1
                pairs += ["--secret", f"rcs-testers:agents[{i}].testers[{j}].phone={formatted(k)}"]
        stack.run("config", "set-all", "--path", *pairs, timeout=600).ok()


@dataclass
class Probe:
    n: int
    fits: bool
    size: int | None


def probe(stack: Stack, n: int, variant: Variant) -> Probe:
    write_stack(stack, n, variant, probe=True)
    out = stack.preview().output
    if TOO_LONG.search(out):
        return Probe(n, False, None)
    found = SIZE.search(out)
    if "duplicate label" not in out:
        raise SystemExit(f"probe of {n} testers did not reach validation:\n{out[-3000:]}")
    return Probe(n, True, int(found.group(1).replace(",", "")) if found else None)


def first_guess(variant: Variant) -> int:
    """Testers per limit from one tester's JSON, escaped once more as a config value: only
    picks the probe points, which must land past the warning threshold and under the limit."""
    tester = {"label": "qa-00001", "phone": formatted(1)} | ({"note": NOTE} if variant.note else {})
    return int(ENV_STRING_LIMIT / len(json.dumps(json.dumps(tester, separators=(",", ":")))))


def measure(stack: Stack, variant: Variant) -> dict[str, Any]:
    guess = first_guess(variant)
    a, b = probe(stack, guess * 80 // 100, variant), probe(stack, guess * 88 // 100, variant)
    if not (a.size and b.size):
        raise SystemExit(f"{variant.name}: no size reported by the probes: {a} {b}")
    per_tester = (b.size - a.size) / (b.n - a.n)
    n = a.n + int((ENV_STRING_LIMIT - a.size) // per_tester)
    # Walk to the exact boundary: the last N that fits, the first that does not.
    while not probe(stack, n, variant).fits:
        n -= 1
    while probe(stack, n + 1, variant).fits:
        n += 1
    last = probe(stack, n, variant)
    write_stack(stack, n, variant, probe=False)
    started = time.monotonic()
    full = stack.preview()
    full_s = time.monotonic() - started
    if full.returncode != 0:
        raise SystemExit(
            f"{variant.name}: the valid {n}-tester preview failed:\n{full.output[-3000:]}"
        )
    return {
        "variant": variant.name,
        "ceiling": n,
        "bytes_per_tester": round(per_tester, 1),
        "size_at_ceiling": last.size,
        "warning_from": int((0.75 * ENV_STRING_LIMIT - a.size) // per_tester) + a.n,
        "full_preview_s": round(full_s, 1),
    }


def secret_cost(stack: Stack, n: int = 100) -> dict[str, int]:
    """Config size of N testers with clear and with secret phones, padded by a 100,000-byte
    note so that the program reports its size. ``config set-all --path --secret`` slows down
    with every value it writes (minutes for a thousand), so secret ceilings are not bisected:
    equal sizes here mean equal ceilings."""
    sizes = {}
    for variant in (Variant("clear", secret=False, note=False), Variant("secret", True, False)):
        agents = layout(n, probe=True)
        agents[0]["testers"][0]["note"] = "p" * 100_000
        for k, tester in enumerate(agents[0]["testers"], start=1):
            if not variant.secret:
                tester["phone"] = formatted(k)
        stack.set_agents(agents)
        if variant.secret:
            pairs = []
            for j in range(n):
                path = f"rcs-testers:agents[0].testers[{j}].phone={formatted(j + 1)}"
                pairs += ["--secret", path]
            stack.run("config", "set-all", "--path", *pairs, timeout=900).ok()
        out = stack.preview().output
        found = SIZE.search(out)
        if not found:
            raise SystemExit(f"no size reported for {variant.name}:\n{out[-3000:]}")
        sizes[variant.name] = int(found.group(1).replace(",", ""))
    return sizes


def phonebook_cost(stack: Stack) -> dict[str, int]:
    """Config size of the phonebook form (``rcs-testers:testers``, people keyed by label;
    agents list labels), padded like :func:`secret_cost`: 100 people on one agent, 200 people
    on one agent, 100 people on two agents. The differences give the bytes per person and per
    reference; the ceiling follows from them (not bisected)."""
    sizes = {}
    for name, people, agents in (("p100a1", 100, 1), ("p200a1", 200, 1), ("p100a2", 100, 2)):
        book = {f"qa-{k:05d}": {"phone": formatted(k)} for k in range(1, people + 1)}
        book["qa-00001"]["note"] = "p" * 100_000
        labels = list(book)
        refs = [
            {"agent": str(FIRST_AGENT + i), "testers": [*labels, labels[0]]} for i in range(agents)
        ]
        stack.set_config("rcs-testers:testers", book)
        stack.set_agents(refs)  # a repeated reference: the program stops at validation
        out = stack.preview().output
        found = SIZE.search(out)
        if not found:
            raise SystemExit(f"no size reported for {name}:\n{out[-3000:]}")
        sizes[name] = int(found.group(1).replace(",", ""))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=[v.name for v in VARIANTS], action="append")
    parser.add_argument(
        "--secret-cost", action="store_true", help="compare 100 clear and 100 secret phones"
    )
    parser.add_argument(
        "--phonebook-cost", action="store_true", help="bytes per person and per reference"
    )
    args = parser.parse_args()
    if args.phonebook_cost:
        with tempfile.TemporaryDirectory() as tmp, running_sandbox(db=":memory:") as sandbox:
            project = Project.create(Path(tmp) / "book", engine_environ())
            stack = project.stack("book", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
            sizes = phonebook_cost(stack)
        person = (sizes["p200a1"] - sizes["p100a1"]) / 100
        reference = (sizes["p100a2"] - sizes["p100a1"]) / 100
        print(
            f"{sizes}: {person:.1f} B per person on one agent, "
            f"{reference:.1f} B per extra reference"
        )
        return
    if args.secret_cost:
        env = engine_environ()
        with tempfile.TemporaryDirectory() as tmp, running_sandbox(db=":memory:") as sandbox:
            project = Project.create(Path(tmp) / "cost", env)
            stack = project.stack("cost", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
            sizes = secret_cost(stack)
        print(
            f"100 testers + a 100,000-byte note: {sizes} "
            f"(difference {sizes['secret'] - sizes['clear']} B)"
        )
        return
    chosen = [v for v in VARIANTS if not args.variant or v.name in args.variant]
    env = engine_environ()
    env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    with tempfile.TemporaryDirectory() as tmp, running_sandbox(db=":memory:") as sandbox:
        print(
            f"limit {ENV_STRING_LIMIT:,} bytes; note {NOTE!r}; labels qa-00001; "
            "phones +91 98000 00001"
        )
        print(
            "| variant | testers that fit | bytes/tester | config at the ceiling "
            "| warning from | valid preview |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for variant in chosen:
            project = Project.create(Path(tmp) / variant.name, env)
            stack = project.stack(
                variant.name, sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key
            )
            r = measure(stack, variant)
            print(
                f"| {r['variant']} | {r['ceiling']:,} | {r['bytes_per_tester']} | "
                f"{r['size_at_ceiling']:,} B | {r['warning_from']:,} testers | "
                f"{r['full_preview_s']} s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
