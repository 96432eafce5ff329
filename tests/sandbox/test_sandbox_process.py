"""The sandbox as a process: CLI flags, the listening line, signals, restarts, OpenAPI."""

from __future__ import annotations

import os
import re
import signal
import sqlite3

import pytest
import requests

from rcs_provider.sandbox import SandboxStartError, running_sandbox
from rcs_provider.sandbox.app import bind_socket
from rcs_provider.sandbox.cli import build_parser, parse_config

AGENT = "48900"
PHONE = "919530000092"


def register(sandbox, http, phone=PHONE, agent=AGENT):
    body = {"phoneno": phone, "agent_no": agent}
    return http.post(sandbox.register_url(), json=body, headers=sandbox.headers(), timeout=10)


def test_prints_exactly_the_listening_line_with_the_bound_port(sandbox):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.url)
    assert sandbox.port != 0
    assert sandbox.stdout() == f"listening on {sandbox.url}\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_exits_with_code_0_on_sigterm_and_sigint(sig):
    with running_sandbox() as sandbox:
        os.kill(sandbox.pid, sig)
        code = sandbox.wait(10)

    assert code == 0
    assert "Traceback" not in sandbox.stderr()


def test_registrations_persist_across_restarts_in_a_file_database(tmp_path, http):
    db = tmp_path / "kaleyra.db"
    with running_sandbox(db=db, status_clock=0.2) as sandbox:
        created = register(sandbox, http).json()["data"]
        sandbox.add_registration("20700", "919530000093", "Declined")
        url = sandbox.url
        assert sandbox.info()["journal_mode"] == "wal"

        sandbox.restart()

        assert sandbox.url == url  # same port after a restart
        stored = {(r["agent_no"], r["phoneno"]): r for r in sandbox.registrations()}
        assert stored[(AGENT, PHONE)]["id"] == created["id"]
        assert stored[(AGENT, PHONE)]["status"] == "Pending"  # clock ran from the stored time
        assert stored[("20700", "919530000093")]["status"] == "Declined"
        again = register(sandbox, http)
        assert again.status_code == 409
        assert again.json()["data"]["id"] == created["id"]
        assert sandbox.stats()["register_calls"] == 1  # stats are per process

    with sqlite3.connect(db) as check:
        assert check.execute("SELECT COUNT(*) FROM registrations").fetchone() == (2,)
    check.close()


def test_memory_database_starts_empty_after_a_restart(http):
    with running_sandbox() as sandbox:
        register(sandbox, http)
        sandbox.restart()
        assert sandbox.registrations() == []


def test_default_database_is_created_under_dot_sandbox_in_the_working_directory(tmp_path, http):
    with running_sandbox(db=None, cwd=tmp_path) as sandbox:
        register(sandbox, http)
        assert sandbox.info()["db"] == str(tmp_path / ".sandbox" / "kaleyra.db")

    assert (tmp_path / ".sandbox" / "kaleyra.db").is_file()


def test_account_clock_log_and_fault_flags(http):
    options = {
        "sid": "ACME0001",
        "api_key": "k-123",
        "agents": ["11111", "22222"],
        "status_clock": 0,
        "auto_approve": 0,
        "retry_after": 9,
        "daily_quota": 5,
        "seed": 11,
        "echo_request_in_errors": True,
        "log_level": "info",
        "access_log": True,
    }
    with running_sandbox(**options) as sandbox:
        assert sandbox.register_url().startswith(f"{sandbox.url}/v1/ACME0001/")
        assert register(sandbox, http, agent="11111").status_code == 200
        assert register(sandbox, http, agent=AGENT).json()["message"] == "Agent Not Found"
        wrong = http.post(
            sandbox.register_url(),
            json={"phoneno": PHONE, "agent_no": "11111"},
            headers={"api-key": "sandbox-api-key"},
            timeout=10,
        )
        assert wrong.status_code == 401
        assert sandbox.registrations()[0]["status"] == "Approved"
        faults = sandbox.faults()
        assert (faults["retry_after"], faults["daily_quota"], faults["seed"]) == (9, 5, 11)
        assert faults["echo_request_in_errors"] is True
        logged = sandbox.stderr()

    assert "POST /v1/ACME0001/rcs/agenttester/register" in logged


def test_a_port_in_use_fails_with_a_clear_message():
    taken = bind_socket("127.0.0.1", 0)
    try:
        with (
            pytest.raises(SandboxStartError, match="exited with code 1") as caught,
            running_sandbox(port=taken.getsockname()[1]),
        ):
            pass
    finally:
        taken.close()

    assert "cannot listen on 127.0.0.1" in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agents", "48a"], "expected comma-separated digits"),
        (["--error-rate", "2"], "--error-rate: Input should be less than or equal to 1"),
        (["--force-status", "200"], "--force-status"),
        (["--status-clock", "-1"], "expected seconds >= 0"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        parse_config(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_flag_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RCS_SANDBOX_API_KEY", raising=False)

    args, config = parse_config([])

    assert (args.host, args.port, args.log_level, args.access_log) == (
        "127.0.0.1",
        8766,
        "warning",
        False,
    )
    assert (config.sid, config.api_key, config.agents) == (
        "SANDBOXSID0001",
        "sandbox-api-key",
        ("48900", "20700"),
    )
    assert config.db == str(tmp_path / ".sandbox" / "kaleyra.db")
    assert (config.clock.pending_after, config.clock.approve_after) == (120.0, None)
    assert not config.faults.active
    assert "--drop-rate" in build_parser().format_help()


def test_openapi_document_describes_the_kaleyra_and_inspection_paths(sandbox, http):
    document = http.get(f"{sandbox.url}/openapi.json", timeout=10).json()

    paths = document["paths"]
    assert "post" in paths["/v1/{sid}/rcs/agenttester/register"]
    assert "post" in paths["/v1/{sid}/rcs/agent/registerTester"]
    for path in ("/v1/{sid}/rcs/agenttester/testersbyagent", "/v1/{sid}/rcs/agent/testersbyagent"):
        assert {"get", "post"} <= set(paths[path])
    register_body = paths["/v1/{sid}/rcs/agenttester/register"]["post"]["requestBody"]
    assert register_body["content"]["application/json"]["schema"]["required"] == [
        "phoneno",
        "agent_no",
    ]
    assert {"/_sandbox/registrations", "/_sandbox/stats", "/_sandbox/faults"} <= set(paths)


def test_stop_answers_exit_code_0_and_the_port_is_closed(http):
    with running_sandbox() as sandbox:
        url = sandbox.url
        code = sandbox.stop()

    assert code == 0
    with pytest.raises(requests.ConnectionError):
        http.get(f"{url}/_sandbox/stats", timeout=2)


def _conversation(sandbox, http):
    """A mix of Kaleyra calls; each answer as (status, body without ids and times)."""
    headers = sandbox.headers()
    requests_to_send = [
        ("POST", sandbox.register_url(), {"json": {"phoneno": PHONE, "agent_no": AGENT}}),
        ("POST", sandbox.register_url(alias=True), {"json": {"phoneno": PHONE, "agent_no": AGENT}}),
        ("POST", sandbox.register_url(), {"json": {"phoneno": "+1", "agent_no": "4a"}}),
        ("POST", sandbox.register_url(), {"data": "{", "headers": headers}),
        ("POST", sandbox.register_url(), {"data": "{}", "headers": {"api-key": "x"}}),
        ("POST", sandbox.register_url(), {"json": {}, "headers": {"Content-Type": "text/plain"}}),
        ("GET", sandbox.register_url(), {}),
        ("POST", sandbox.register_url(), {"json": {"pad": "x" * 1024 * 1024}}),
        ("GET", sandbox.list_url(), {"params": {"agent_number": AGENT}}),
        ("POST", sandbox.list_url(alias=True), {"json": {"agent_number": AGENT}}),
        ("POST", sandbox.list_url(), {"params": {"agent_number": "1"}}),
        ("GET", sandbox.list_url(), {}),
        (
            "GET",
            sandbox.list_url().replace(sandbox.sid, "OTHER"),
            {"params": {"agent_number": AGENT}},
        ),
    ]
    answers = []
    for method, url, options in requests_to_send:
        options = {"headers": headers, **options}
        response = http.request(method, url, timeout=10, **options)
        text = re.sub(r'"(id|created_at)":"[^"]+"', r'"\1":"-"', response.text)
        answers.append((response.status_code, response.headers["content-type"], text))
    return answers


def test_the_old_no_fast_path_flag_still_starts_and_changes_nothing(sandbox, http):
    # The Kaleyra calls have one path now; the flag stays so that older command lines run.
    with running_sandbox(no_fast_path=True) as routed:
        assert _conversation(routed, http) == _conversation(sandbox, http)
        assert routed.stats() | {"since": 0} == sandbox.stats() | {"since": 0}
