"""`rcs-testers status` on stacks the real engine deployed against the sandbox.

One project for the module: `dev` (passphrase secrets, `kaleyra:lookup list`) with five
secret-phone testers whose statuses the sandbox then moves (Approved, Pending, Unverified,
Declined, and one removed as in the console), saved with `pulumi stack export` and refreshed;
and `ro` (`register-only`), deployed only. The report runs eight days after the `up`, without
the passphrase, and must name exactly the overdue and declined testers, masked, in three
formats that agree, with no Kaleyra call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rcs_devtools.fleet_data import phone, spellings
from rcs_devtools.pulumi_cli import PASSPHRASE, REPO, Project
from rcs_devtools.status_formats import (
    counts_from_json,
    counts_from_markdown,
    counts_from_text,
    rows_from_json,
    rows_from_markdown,
    rows_from_text,
)
from rcs_provider.sandbox import SandboxProcess

DEV = {
    "48900": [("qa-approved", 1), ("qa-pending", 2), ("qa-unverified", 3), ("qa-declined", 4)],
    # Alone at its agent: a refresh that drops a tester leaves its agent's output unknown.
    "20700": [("qa-gone", 5)],
}
RO = {"31337": [("qa-blind", 6)]}
MOVED = {1: "Approved", 2: "Pending", 3: "Unverified", 4: "Declined"}


@dataclass(frozen=True)
class Deployed:
    project: Project
    sandbox: SandboxProcess
    up_started: datetime
    before_refresh: Path


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory,
    engine_env: dict[str, str],
    sandbox_server: SandboxProcess,
) -> Deployed:
    sandbox = sandbox_server
    sandbox.reset()
    root = tmp_path_factory.mktemp("status")
    project = Project.create(root / "project", engine_env)
    dev = project.stack("dev", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    dev.set_kaleyra(lookup="list")
    dev.set_secret_phones(DEV)
    ro = project.stack("ro", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    ro.set_kaleyra(lookup="register-only")
    ro.set_secret_phones(RO)
    up_started = datetime.now(UTC)
    dev.up().ok()
    ro.up().ok()
    for n, status in MOVED.items():
        sandbox.set_status("48900", phone(n), status)
    sandbox.remove("20700", phone(5))  # removed in the console: the list no longer shows it
    before = root / "before-refresh.json"
    dev.run("stack", "export", "--file", str(before)).ok()
    dev.refresh().ok()
    return Deployed(project, sandbox, up_started, before)


def status(deployed: Deployed, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a pipeline runs it: in the project folder, without the passphrase."""
    env = {**deployed.project.env, "PYTHONPATH": str(REPO)}
    env.pop("PULUMI_CONFIG_PASSPHRASE")
    return subprocess.run(
        [sys.executable, "-m", "rcs_provider", "status", *args],
        cwd=deployed.project.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def kaleyra_calls(sandbox: SandboxProcess) -> tuple[int, int]:
    stats = sandbox.stats()
    return stats["register_calls"], stats["list_calls"]


def assert_nothing_secret(text: str, sandbox: SandboxProcess) -> None:
    for n in range(1, 7):
        for spelling in spellings(n):
            assert spelling not in text
    assert sandbox.api_key not in text
    assert PASSPHRASE not in text


def test_eight_days_on_it_names_exactly_the_overdue_and_the_declined(
    deployed: Deployed,
) -> None:
    as_of = (deployed.up_started + timedelta(days=8)).isoformat()
    calls_before = kaleyra_calls(deployed.sandbox)
    runs = {
        fmt: status(deployed, "--pending-after", "7d", "--as-of", as_of, "--format", fmt)
        for fmt in ("json", "markdown", "text")
    }
    assert kaleyra_calls(deployed.sandbox) == calls_before
    for fmt, run in runs.items():
        assert (fmt, run.returncode, run.stderr) == (fmt, 1, "")
        assert_nothing_secret(run.stdout, deployed.sandbox)

    data: dict[str, Any] = json.loads(runs["json"].stdout)
    assert [(a["stack"], a["label"], a["phone"], a["reason"]) for a in data["actions"]] == [
        ("dev", "qa-declined", "91980XXXXX04", "declined"),
        ("dev", "qa-pending", "91980XXXXX02", "overdue"),
        ("dev", "qa-unverified", "91980XXXXX03", "overdue"),
    ]
    dev, ro = data["stacks"]
    assert dev["stack"] == "dev"
    assert dev["agents"][0]["counts"] == {
        "Approved": 1,
        "Pending": 1,
        "Unverified": 1,
        "Declined": 1,
    }
    assert [a["agent"] for a in dev["agents"]] == ["48900"]  # qa-gone left at the refresh
    ages = {t["age_seconds"] for t in dev["agents"][0]["not_approved"]}
    assert all(7 * 86400 < age <= 8 * 86400 for age in ages)
    last_update = datetime.fromisoformat(dev["last_update"])
    assert deployed.up_started < last_update < datetime.now(UTC)
    assert (ro["stack"], ro["status_visible"], ro["lookup"]) == ("ro", False, "register-only")

    rows = rows_from_json(data)
    assert rows_from_markdown(runs["markdown"].stdout) == rows
    assert rows_from_text(runs["text"].stdout) == rows
    counts = counts_from_json(data)
    assert counts_from_markdown(runs["markdown"].stdout) == counts
    assert counts_from_text(runs["text"].stdout) == counts


def test_before_the_limit_only_the_declined_needs_a_person(deployed: Deployed) -> None:
    as_of = (deployed.up_started + timedelta(days=6)).isoformat()
    run = status(deployed, "--stack", "dev", "--as-of", as_of, "--format", "json")
    assert run.returncode == 1
    data = json.loads(run.stdout)
    assert [(a["label"], a["reason"]) for a in data["actions"]] == [("qa-declined", "declined")]
    verdicts = {t["label"]: t["verdict"] for t in data["stacks"][0]["agents"][0]["not_approved"]}
    assert verdicts == {
        "qa-declined": "declined",
        "qa-pending": "waiting",
        "qa-unverified": "waiting",
    }


def test_register_only_says_status_not_visible(deployed: Deployed) -> None:
    as_of = (deployed.up_started + timedelta(days=8)).isoformat()
    run = status(deployed, "--stack", "ro", "--as-of", as_of, "--format", "text")
    assert (run.returncode, run.stderr) == (0, "")
    assert "Status not visible: kaleyra:lookup is register-only" in run.stdout
    assert "agent 31337: 1 tester(s), status not visible" in run.stdout
    assert "Unverified" not in run.stdout.split("\nro:\n", 1)[1]


def test_the_testers_the_refresh_dropped_are_named_masked(deployed: Deployed) -> None:
    run = status(
        deployed,
        *("--stack", "dev", "--format", "json"),
        *("--dropped-since", str(deployed.before_refresh)),
    )
    assert run.returncode == 1
    data = json.loads(run.stdout)
    assert data["stacks"][0]["dropped"] == [
        {"agent": "20700", "label": "qa-gone", "phone": "91980XXXXX05"}
    ]
    assert ("qa-gone", "dropped") in [(a["label"], a["reason"]) for a in data["actions"]]
    assert_nothing_secret(run.stdout, deployed.sandbox)
