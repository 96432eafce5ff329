"""The review scenario behind the golden outputs (and the README's example): three
environments at the base, a branch that touches each, and a stack the base lacks."""

from __future__ import annotations

from pathlib import Path

from rcs_devtools.fleet_data import formatted, phone
from rcs_devtools.git_repo import StackRepo, secret, stack_config

#: Every full number the scenario uses; none may appear in any output.
NUMBERS = [phone(n) for n in range(1, 13)]


def build_scenario(root: Path) -> StackRepo:
    repo = StackRepo(root)
    repo.write_stack(
        "dev",
        stack_config(
            [
                {
                    "agent": "48900",
                    "name": "Acme support bot",
                    "testers": [
                        {"label": "qa-alice", "phone": formatted(1), "note": "Pixel 8"},
                        {"label": "qa-bob", "phone": formatted(2)},
                    ],
                }
            ],
            pod="sandbox",
        ),
    )
    repo.write_stack(
        "staging",
        stack_config(
            [
                {
                    "agent": "48900",
                    "testers": [
                        {"label": "qa-lead", "phone": secret("lead")},
                        {"label": "qa-chen", "phone": secret("chen")},
                    ],
                },
                {"agent": "20700", "testers": [{"label": "qa-dana", "phone": secret("dana")}]},
                {"agent": "31500", "testers": [{"label": "qa-omar", "phone": secret("omar")}]},
            ]
        ),
    )
    repo.write_stack(
        "prod",
        stack_config(
            [
                {
                    "agent": "61200",
                    "name": "Support bot",
                    "testers": [{"label": "release-manager", "phone": secret("rm")}],
                }
            ],
            pod="na",
        ),
    )
    repo.commit("stacks at the base")
    repo.branch("tester-changes")

    # dev: one added, one note-only change.
    repo.write_stack(
        "dev",
        stack_config(
            [
                {
                    "agent": "48900",
                    "name": "Acme support bot",
                    "testers": [
                        {"label": "qa-alice", "phone": formatted(1), "note": "Pixel 9"},
                        {"label": "qa-bob", "phone": formatted(2)},
                        {"label": "qa-eve", "phone": formatted(5)},
                    ],
                }
            ],
            pod="sandbox",
        ),
    )
    repo.commit("dev: add qa-eve, note for qa-alice")
    # staging: rename, phone change (re-encrypted), move, agent removed, agent added.
    repo.write_stack(
        "staging",
        stack_config(
            [
                {
                    "agent": "48900",
                    "testers": [
                        {"label": "qa-lead-2", "phone": secret("lead")},
                        {"label": "qa-chen", "phone": secret("chen-new")},
                    ],
                },
                {
                    "agent": "20700",
                    "testers": [
                        {"label": "qa-dana", "phone": secret("dana")},
                        {"label": "qa-omar", "phone": secret("omar")},
                    ],
                },
                {"agent": "55500", "testers": [{"label": "qa-fay", "phone": secret("fay")}]},
            ]
        ),
    )
    repo.commit("staging: rename, new phone, move, agents")
    # prod: one removed, one added in clear (accepted by allowClearPhones, with a warning).
    repo.write_stack(
        "prod",
        stack_config(
            [
                {
                    "agent": "61200",
                    "name": "Support bot",
                    "testers": [{"label": "qa-night", "phone": formatted(9)}],
                }
            ],
            pod="na",
            **{"rcs-testers:allowClearPhones": True},
        ),
    )
    repo.commit("prod: replace the release manager")
    # qa: a stack the base lacks.
    repo.write_stack(
        "qa",
        stack_config(
            [{"agent": "48900", "testers": [{"label": "qa-gus", "phone": secret("gus")}]}],
            pod="in",
        ),
    )
    repo.commit("qa stack")
    return repo
