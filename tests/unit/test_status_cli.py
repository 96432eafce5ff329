"""`rcs-testers status` on the command line, with a stand-in `pulumi` on PATH that serves
exports built in the test and records how it was called (the real CLI: tests/e2e)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from rcs_devtools.exported_state import UP_TIME, T, export_document
from rcs_provider._cli import main as cli_main
from rcs_provider._status.command import main

AS_OF = (UP_TIME + timedelta(days=8)).isoformat()
FAKE_PULUMI = """#!{python}
import json, pathlib, sys
here = pathlib.Path(__file__).parent
with open(here / "calls.jsonl", "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
stack = sys.argv[sys.argv.index("--stack") + 1]
served = here / f"{{stack}}.json"
if served.exists():
    sys.stdout.write(served.read_text())
elif (here / f"{{stack}}.err").exists():
    sys.stderr.write((here / f"{{stack}}.err").read_text())
    sys.exit(255)
else:
    sys.stderr.write(f"error: no stack named '{{stack}}' found\\n")
    sys.exit(255)
"""


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `pulumi` that answers `stack export` with ``<stack>.json`` of its folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(FAKE_PULUMI.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "envs").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: rcs-testers\nruntime: python\nstackConfigDir: envs\n")
    (root / "envs" / "Pulumi.qa.yaml").write_text("config:\n  kaleyra:pod: in\n")
    (root / "envs" / "Pulumi.ro.yaml").write_text("config:\n  kaleyra:lookup: register-only\n")
    return root


def serve(bin_dir: Path, stack: str, testers: list[T], **options: object) -> dict:
    doc = export_document(testers, stack=stack, **options)  # type: ignore[arg-type]
    (bin_dir / f"{stack}.json").write_text(json.dumps(doc))
    return doc


def status(project: Path, *args: str) -> int:
    return main(["--project", str(project), "--as-of", AS_OF, "--format", "json", *args])


def test_every_stack_of_the_stack_config_dir_is_read_without_secrets(
    fake_pulumi: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(fake_pulumi, "qa", [T("48900", "qa-a", 1, "Approved")])
    serve(fake_pulumi, "ro", [T("48900", "qa-b", 2, "Unverified")], lookup=None)
    assert status(project) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(s["stack"], s["status_visible"]) for s in data["stacks"]] == [
        ("qa", True),
        ("ro", False),  # from its stack file: the export records no provider run
    ]
    calls = [json.loads(line) for line in (fake_pulumi / "calls.jsonl").read_text().splitlines()]
    assert calls == [
        ["stack", "export", "--stack", "qa", "--non-interactive"],
        ["stack", "export", "--stack", "ro", "--non-interactive"],
    ]


def test_exit_1_when_an_invitation_is_overdue(
    fake_pulumi: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(fake_pulumi, "qa", [T("48900", "qa-a", 1, "Pending")])
    assert status(project, "--stack", "qa") == 1
    assert json.loads(capsys.readouterr().out)["actions"][0]["reason"] == "overdue"
    assert status(project, "--stack", "qa", "--pending-after", "9d") == 0


def test_a_stack_the_backend_does_not_have_is_reported_not_deployed(
    fake_pulumi: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status(project, "--stack", "qa", "--format", "text") == 0
    assert "Not deployed: the backend has no stack qa." in capsys.readouterr().out


def test_an_export_that_fails_is_a_usage_error_naming_the_stack_and_the_fix(
    fake_pulumi: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fake_pulumi / "qa.err").write_text(
        "warning: something\nerror: failed to load checkpoint: access denied for 919800000001\n"
    )
    assert status(project, "--stack", "qa") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: Unable to read the last deployment of stack qa: `pulumi stack export` failed: "
        "error: failed to load checkpoint: access denied for 91980XXXXX01. Run it in the "
        "project folder, logged in to the stack's backend (`pulumi login`, or "
        "PULUMI_BACKEND_URL).\n"
    )


def test_no_pulumi_on_path_is_a_usage_error(
    tmp_path: Path,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert status(project, "--stack", "qa") == 2
    assert "the pulumi CLI is not on PATH" in capsys.readouterr().err


def test_no_project_is_a_usage_error(
    fake_pulumi: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status(tmp_path / "bin") == 2
    assert "no Pulumi.yaml in" in capsys.readouterr().err


def test_dropped_since_an_export_taken_before(
    fake_pulumi: Path, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = T("48900", "qa-a", 1, "Approved")
    before = tmp_path / "before.json"
    before.write_text(
        json.dumps(export_document([kept, T("48900", "qa-b", 2, "Approved")], stack="qa"))
    )
    serve(fake_pulumi, "qa", [kept])
    assert status(project, "--stack", "qa", "--dropped-since", str(before)) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["stacks"][0]["dropped"] == [
        {"agent": "48900", "label": "qa-b", "phone": "91980XXXXX02"}
    ]


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        ([], None, "2 stacks are reported. Name the stack with --stack."),
        (["--stack", "qa"], "not json", "it is not JSON"),
        (["--stack", "qa"], None, "No such file or directory"),
        (["--stack", "qa"], "[]", "it is not a `pulumi stack export` document"),
        (["--stack", "qa"], "other-stack", "it is an export of stack ro, not qa"),
    ],
)
def test_dropped_since_refuses_what_it_cannot_compare(
    fake_pulumi: Path,
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    content: str | None,
    message: str,
) -> None:
    serve(fake_pulumi, "qa", [])
    serve(fake_pulumi, "ro", [])
    before = tmp_path / "before.json"
    if content == "other-stack":
        content = json.dumps(export_document([T("1", "x", 1, "Approved")], stack="ro"))
    if content is not None:
        before.write_text(content)
    serve(fake_pulumi, "qa", [T("2", "y", 2, "Approved")])
    assert status(project, *args, "--dropped-since", str(before)) == 2
    assert message in capsys.readouterr().err


def test_bad_options_are_usage_errors(project: Path) -> None:
    for bad in (["--pending-after", "a week"], ["--as-of", "tomorrow"], ["--format", "html"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--project", str(project), *bad])
        assert exit_info.value.code == 2


def test_the_console_script_runs_it_and_output_goes_to_a_file(
    fake_pulumi: Path, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(fake_pulumi, "qa", [T("48900", "qa-a", 1, "Declined")])
    out = tmp_path / "report.md"
    argv = ["status", "--project", str(project), "--stack", "qa", "--output", str(out)]
    assert cli_main(argv) == 1
    assert capsys.readouterr().out == ""
    assert out.read_text().startswith("### RCS tester invitations\n")
    assert cli_main([*argv[:-1], str(tmp_path / "no" / "such" / "folder.md")]) == 2
