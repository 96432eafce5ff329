"""The sandbox stays on this machine: loopback binds only unless --allow-remote (which warns),
loopback Host names only (DNS rebinding), a private database file, and an api-key that is not
on the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rcs_provider.sandbox import app as sandbox_app
from rcs_provider.sandbox import running_sandbox
from rcs_provider.sandbox.app import LoopbackHostGuard, is_loopback_host_header
from rcs_provider.sandbox.cli import main, parse_config
from rcs_provider.sandbox.store import RegistrationStore

AGENT = "48900"
PHONE = "919530000092"
FOREIGN_HOSTS = ["rebind.attacker.example", "rebind.attacker.example:8766", "127.0.0.1.nip.io"]


# -- --host and --allow-remote -----------------------------------------------------------------


def test_python_m_sandbox_refuses_a_non_loopback_host_with_a_usage_error() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "rcs_provider.sandbox", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,  # the old sandbox served here until killed
        stdin=subprocess.DEVNULL,
    )

    assert run.returncode == 2
    assert run.stdout == "", "nothing was bound, so no listening line"
    assert "Unable to listen on 0.0.0.0: it is not a loopback address" in run.stderr
    assert "lists every registration with its full phone number" in run.stderr
    assert "pass --allow-remote to expose it anyway" in run.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "sandbox.example"])
def test_every_non_loopback_host_is_refused(capsys, host):
    with pytest.raises(SystemExit) as exited:
        parse_config(["--host", host])

    assert exited.value.code == 2
    assert f"Unable to listen on {host}" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_need_no_flag(host):
    args, _ = parse_config(["--host", host])
    assert args.host == host


@pytest.fixture
def served(monkeypatch):
    """What ``main`` would serve, and where, without binding anything (a test binds loopback
    only); the signal handlers ``main`` installs are put back afterwards."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    served = {}

    def fake_serve(app, *, host, **_):
        served.update(host=host, app=app)
        return 0

    monkeypatch.setattr(sandbox_app, "serve", fake_serve)
    yield served
    if "app" in served:
        served["app"].state.sandbox.close()
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_allow_remote_binds_anyway_and_warns_what_the_inspection_api_exposes(served, capsys):
    code = main(["--host", "0.0.0.0", "--allow-remote", "--db", ":memory:"])

    assert code == 0
    assert served["host"] == "0.0.0.0"
    warning = capsys.readouterr().err
    assert warning.startswith("warning: --allow-remote: the sandbox listens on 0.0.0.0")
    assert "full phone number (GET /_sandbox/registrations)" in warning
    assert "unauthenticated write calls" in warning
    assert "no DNS-rebinding check" in warning
    assert not any(m.cls is LoopbackHostGuard for m in served["app"].user_middleware)


def test_a_loopback_sandbox_prints_no_warning_and_checks_hosts(served, capsys):
    assert main(["--db", ":memory:"]) == 0

    assert capsys.readouterr().err == ""
    assert any(m.cls is LoopbackHostGuard for m in served["app"].user_middleware)


# -- Host header ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["127.0.0.1", "127.0.0.1:8766", "127.9.8.7:1", "localhost", "LocalHost:8766", "[::1]:8766"],
)
def test_loopback_host_headers(value):
    assert is_loopback_host_header(value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        *FOREIGN_HOSTS,
        "0.0.0.0:8766",
        "::1",  # an IPv6 address in a Host header is bracketed
        "[127.0.0.1]",
        "localhost:99999",
        "localhost:http",
        "evil@127.0.0.1",
        "localhost.attacker.example",
        "128.0.0.1",
    ],
)
def test_other_host_headers(value):
    assert not is_loopback_host_header(value)


def test_the_guard_refuses_two_host_headers():
    sent = []

    async def inner(scope, receive, send):  # pragma: no cover - must not be reached
        raise AssertionError("the request went through")

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "headers": [(b"host", b"127.0.0.1"), (b"host", b"evil.example")]}
    asyncio.run(LoopbackHostGuard(inner)(scope, None, send))

    assert sent[0]["status"] == 403


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_name_is_refused_on_every_route(sandbox, http, host):
    inspection = http.get(
        f"{sandbox.url}/_sandbox/registrations", headers={"Host": host}, timeout=10
    )
    reset = http.post(f"{sandbox.url}/_sandbox/reset", json={}, headers={"Host": host}, timeout=10)
    register = http.post(
        sandbox.register_url(),
        json={"phoneno": PHONE, "agent_no": AGENT},
        headers={**sandbox.headers(), "Host": host},
        timeout=10,
    )

    for answer in (inspection, reset, register):
        assert answer.status_code == 403
        assert answer.json()["message"] == "Host not allowed"
        assert answer.json()["error"]["host"] == host
        assert "DNS rebinding" in answer.json()["error"]["reason"]
    assert sandbox.registrations() == []
    assert sandbox.stats()["register_calls"] == 0, "a refused call is not counted"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2:1", "[::1]"])
def test_loopback_host_names_are_answered(sandbox, http, kaleyra, host):
    kaleyra.register(PHONE, AGENT, headers={**sandbox.headers(), "Host": host})

    answer = http.get(f"{sandbox.url}/_sandbox/registrations", headers={"Host": host}, timeout=10)

    assert answer.status_code == 200
    assert [r["phoneno"] for r in answer.json()["registrations"]] == [PHONE]


def test_allow_remote_answers_any_host_name(http):
    with running_sandbox(allow_remote=True) as sandbox:
        answer = http.get(
            f"{sandbox.url}/_sandbox/stats", headers={"Host": "sandbox.ci.example:8766"}, timeout=10
        )
        warned = sandbox.stderr()

    assert answer.status_code == 200
    assert "warning: --allow-remote" in warned


# -- database file -------------------------------------------------------------------------------


@pytest.fixture
def usual_umask():
    """The umask most accounts have (022): files are created world-readable unless told."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_its_wal_files_and_its_new_folder_are_private(tmp_path, http, usual_umask):
    db = tmp_path / "new-folder" / "kaleyra.db"
    with running_sandbox(db=db) as sandbox:
        answer = http.post(
            sandbox.register_url(),
            json={"phoneno": PHONE, "agent_no": AGENT},
            headers=sandbox.headers(),
            timeout=10,
        )
        assert answer.status_code == 200
        files = sorted(db.parent.iterdir())
        modes = {path.name: mode(path) for path in files}

    assert {"kaleyra.db", "kaleyra.db-wal", "kaleyra.db-shm"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)
    assert mode(db.parent) == 0o700


def test_an_existing_readable_database_is_narrowed_to_its_owner(tmp_path, usual_umask):
    db = tmp_path / "kaleyra.db"
    RegistrationStore(db).close()
    db.chmod(0o644)
    (tmp_path / "kaleyra.db-journal").write_text("")
    (tmp_path / "kaleyra.db-journal").chmod(0o644)

    store = RegistrationStore(db)
    store.add(AGENT, PHONE, created_at=0.0)
    try:
        assert mode(db) == 0o600
        assert mode(tmp_path / "kaleyra.db-journal") == 0o600
        assert mode(tmp_path / "kaleyra.db-wal") == 0o600
    finally:
        store.close()


# -- api-key -------------------------------------------------------------------------------------


def test_the_harness_passes_the_api_key_out_of_sight_of_ps(http):
    key = "k-not-in-ps-8c1f"
    with running_sandbox(api_key=key) as sandbox:
        command_line = Path(f"/proc/{sandbox.pid}/cmdline").read_bytes()
        body = {"phoneno": PHONE, "agent_no": AGENT}
        with_key = http.post(
            sandbox.register_url(), json=body, headers=sandbox.headers(), timeout=10
        )
        with_demo_key = http.post(
            sandbox.register_url(),
            json=body,
            headers={"Content-Type": "application/json", "api-key": "sandbox-api-key"},
            timeout=10,
        )

    assert key.encode() not in command_line
    assert b"--api-key" not in command_line
    assert with_key.status_code == 200
    assert with_demo_key.status_code == 401


def test_the_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RCS_SANDBOX_API_KEY", "k-from-env")
    assert parse_config([])[1].api_key == "k-from-env"
    assert parse_config(["--api-key", "k-from-flag"])[1].api_key == "k-from-flag"


def test_the_api_key_comes_from_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RCS_SANDBOX_API_KEY", "k-from-env")
    key_file = tmp_path / "key"
    key_file.write_text("k-from-file\n")

    assert parse_config(["--api-key-file", str(key_file)])[1].api_key == "k-from-file"


def test_without_any_the_api_key_is_the_demo_key(monkeypatch):
    monkeypatch.delenv("RCS_SANDBOX_API_KEY", raising=False)
    assert parse_config([])[1].api_key == "sandbox-api-key"


@pytest.mark.parametrize(
    ("content", "argv_extra", "message"),
    [
        (None, [], "--api-key-file: Unable to read"),
        ("\n", [], "is empty. Write the api-key on its first line"),
        ("k", ["--api-key", "other"], "not allowed with argument"),
    ],
)
def test_a_bad_api_key_file_is_a_usage_error(tmp_path, capsys, content, argv_extra, message):
    key_file = tmp_path / "key"
    if content is not None:
        key_file.write_text(content)

    with pytest.raises(SystemExit) as exited:
        parse_config(["--api-key-file", str(key_file), *argv_extra])

    assert exited.value.code == 2
    assert message in capsys.readouterr().err
