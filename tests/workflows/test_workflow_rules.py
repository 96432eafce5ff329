"""The rules every workflow in .github/workflows keeps, read from the files themselves:

- no job triggered by a pull request can read a secret outside an approval-gated environment
  (``preview-*``: the README has a team give those required reviewers), and none gets the
  Kaleyra api-key at all; no secret sits in a pull-request workflow's top-level ``env``;
- ``pulumi up`` runs only on a push to main, in an environment, one run per stack at a time;
- every workflow denies all permissions at the top and every job asks for its own;
- every checkout leaves no credentials behind, every action is pinned by a full commit SHA
  with its version beside it, and no ``${{ }}`` is pasted into a shell script.

Each rule is also tried on a small workflow that breaks it, so that it can fail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rcs_devtools.workflow_runner import EXPRESSION, load_workflow, workflow_files

FILES = workflow_files()
PULL_REQUEST_TRIGGERS = ("pull_request", "pull_request_target")
#: Environments a pull request's job may use: the README has teams give them required
#: reviewers, so their secrets reach pull-request code only after a person approves.
APPROVAL_GATED = re.compile(r"^preview-")
SECRET = re.compile(r"\bsecrets\b")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
PINNED_LINE = re.compile(r"uses:\s*\S+@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*\s*$")


def triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on}
    return set(on)


def strings(value: Any) -> Iterator[str]:
    """Every key and string value inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def reads_secrets(value: Any) -> bool:
    """Whether an expression anywhere in ``value`` reads the ``secrets`` context."""
    return any(SECRET.search(m[1]) for s in strings(value) for m in EXPRESSION.finditer(s))


def environment_name(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    if isinstance(environment, dict):
        return str(environment.get("name"))
    return None if environment is None else str(environment)


def secret_violations(workflow: dict[str, Any]) -> list[str]:
    """Where a pull request's code could read a secret without a person's approval."""
    if not triggers(workflow) & set(PULL_REQUEST_TRIGGERS):
        return []
    found = []
    if reads_secrets(workflow.get("env")):
        found.append("top-level env: every job would inherit the secret")
    for job_id, job in workflow["jobs"].items():
        environment = environment_name(job)
        gated = environment is not None and APPROVAL_GATED.match(environment) is not None
        if (reads_secrets(job) or "secrets" in job) and not gated:
            found.append(f"job {job_id}: reads a secret outside an approval-gated environment")
        if "KALEYRA_API_KEY" in set(strings(job)):
            found.append(f"job {job_id}: gets the Kaleyra api-key")
    return found


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def hygiene_violations(workflow: dict[str, Any]) -> list[str]:
    found = []
    if workflow.get("permissions") != {}:
        found.append("top level: permissions is not {}")
    for job_id, job in workflow["jobs"].items():
        if "permissions" not in job:
            found.append(f"job {job_id}: no permissions of its own")
        if "uses" in job and not PINNED.match(job["uses"]):
            found.append(f"job {job_id}: {job['uses']} is not pinned by a commit SHA")
    for job_id, step in steps(workflow):
        uses = step.get("uses")
        if uses is not None and not uses.startswith("./") and not PINNED.match(uses):
            found.append(f"job {job_id}: {uses} is not pinned by a commit SHA")
        checkout = uses is not None and uses.startswith("actions/checkout@")
        if checkout and step.get("with", {}).get("persist-credentials") is not False:
            found.append(f"job {job_id}: checkout without persist-credentials: false")
        if "${{" in step.get("run", ""):
            found.append(f"job {job_id}: an expression inside the script of {step.get('name')}")
    return found


def up_violations(workflow: dict[str, Any]) -> list[str]:
    """`pulumi up` only on a push to main, in an environment, serialised per stack."""
    found = []
    for job_id, job in workflow["jobs"].items():
        if not any("pulumi up" in step.get("run", "") for step in job.get("steps", [])):
            continue
        on = workflow["on"]
        if triggers(workflow) != {"push"} or on["push"].get("branches") != ["main"]:
            found.append(f"job {job_id}: pulumi up runs on more than a push to main")
        environment = environment_name(job)
        if environment is None or APPROVAL_GATED.match(environment):
            found.append(f"job {job_id}: pulumi up runs outside a deployment environment")
        concurrency = job.get("concurrency") or {}
        if (
            "matrix.stack" not in str(concurrency.get("group"))
            or concurrency.get("cancel-in-progress") is not False
        ):
            found.append(f"job {job_id}: up is not one run per stack at a time")
    return found


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_no_pull_request_job_reads_an_ungated_secret(path: Path) -> None:
    assert secret_violations(load_workflow(path)) == []


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_permissions_checkout_pins_and_scripts(path: Path) -> None:
    assert hygiene_violations(load_workflow(path)) == []


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_pin_names_its_version(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if re.search(r"\buses:", line)]
    assert [line for line in lines if not PINNED_LINE.search(line)] == []


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_up_runs_only_from_main_one_at_a_time_per_stack(path: Path) -> None:
    assert up_violations(load_workflow(path)) == []


def test_the_pipeline_previews_on_pull_requests_and_applies_on_main() -> None:
    workflows = [load_workflow(p) for p in FILES]
    runs = [(triggers(w), step.get("run", "")) for w in workflows for _, step in steps(w)]
    assert any("pull_request" in t and "pulumi preview --diff" in r for t, r in runs)
    assert any("pull_request" in t and "rcs-testers review" in r for t, r in runs)
    assert any(t == {"push"} and "pulumi up --yes --continue-on-error" in r for t, r in runs)


# -- each rule fails on a workflow that breaks it ------------------------------------------------

PREVIEW = """
on: {trigger}
permissions: {{}}
{top}
jobs:
  preview:
    runs-on: ubuntu-latest
    permissions: {{contents: read}}
    {job}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with: {{persist-credentials: false}}
      - run: pulumi preview
        env:
          {env}
"""


def preview(
    trigger: str = "pull_request", top: str = "", job: str = "", env: str = "A: b"
) -> dict[str, Any]:
    text = PREVIEW.format(trigger=trigger, top=top, job=job, env=env)
    data = yaml.safe_load(text)
    data["on"] = data.pop(True)
    return dict(data)


@pytest.mark.parametrize(
    ("case", "workflow"),
    [
        ("step env", preview(env="TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}")),
        ("index form", preview(env="TOKEN: ${{ secrets['PULUMI_ACCESS_TOKEN'] }}")),
        ("all secrets", preview(env="ALL: ${{ toJSON(secrets) }}")),
        ("target trigger", preview("pull_request_target", env="T: ${{ secrets.T }}")),
        ("job env", preview(job="env: {T: '${{ secrets.T }}'}")),
        ("production env", preview(job="environment: prod", env="T: ${{ secrets.T }}")),
        (
            "top-level env",
            preview(top="env: {T: '${{ secrets.T }}'}", job="environment: preview-x"),
        ),
        ("api key", preview(job="environment: preview-x", env="KALEYRA_API_KEY: x")),
    ],
)
def test_the_secret_rule_catches(case: str, workflow: dict[str, Any]) -> None:
    assert secret_violations(workflow) != [], case


def test_the_secret_rule_accepts_a_gated_preview_and_the_job_token() -> None:
    assert (
        secret_violations(preview(job="environment: preview-prod", env="T: ${{ secrets.T }}")) == []
    )
    assert secret_violations(preview(env="GH_TOKEN: ${{ github.token }}")) == []
    assert secret_violations(preview("push", env="T: ${{ secrets.T }}")) == []


def test_the_hygiene_rule_catches_each_break() -> None:
    good = preview()
    assert hygiene_violations(good) == []
    no_top = preview()
    del no_top["permissions"]
    no_job = preview()
    del no_job["jobs"]["preview"]["permissions"]
    tag = preview()
    tag["jobs"]["preview"]["steps"][0]["uses"] = "actions/checkout@v7"
    creds = preview()
    del creds["jobs"]["preview"]["steps"][0]["with"]
    injected = preview()
    injected["jobs"]["preview"]["steps"][1]["run"] = "echo ${{ github.head_ref }}"
    for broken in (no_top, no_job, tag, creds, injected):
        assert hygiene_violations(broken) != []


def test_the_up_rule_catches_a_pull_request_and_a_missing_lock() -> None:
    up = preview("push", job="environment: prod")
    up["on"] = {"push": {"branches": ["main"]}}
    up["jobs"]["preview"]["steps"][1]["run"] = "pulumi up --yes"
    assert up_violations(up) != []  # no concurrency group
    up["jobs"]["preview"]["concurrency"] = {
        "group": "up-${{ matrix.stack }}",
        "cancel-in-progress": False,
    }
    assert up_violations(up) == []
    up["on"] = {"push": {"branches": ["main"]}, "pull_request": None}
    assert up_violations(up) != []
