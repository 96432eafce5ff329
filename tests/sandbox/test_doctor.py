"""``doctor`` against the sandbox in every personality, refused credentials, a certificate
no one trusts and a closed port: what it reports, and that it registers nothing."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from rcs_provider._doctor import Report, diagnose
from rcs_provider._doctor.stack import FleetCheck
from rcs_provider.sandbox import SandboxProcess

AGENT = "48900"
PHONES = ["919530000090", "919530000091", "919530000092"]


def config(sandbox: SandboxProcess, **extra: str) -> dict[str, str]:
    return {
        "kaleyra:pod": "sandbox",
        "kaleyra:baseUrl": sandbox.url,
        "kaleyra:sid": sandbox.sid,
        "kaleyra:apiKey": sandbox.api_key,
        "kaleyra:maxRetries": "0",
        **{f"kaleyra:{key}": value for key, value in extra.items()},
    }


def run(settings: dict[str, str], agent: str | None = AGENT) -> Report:
    return diagnose(settings.get, stack="dev", agent=agent)


def statuses(report: Report) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def everything(report: Report) -> str:
    return report.as_table() + json.dumps(report.as_json())


@pytest.fixture
def with_testers(sandbox: SandboxProcess) -> SandboxProcess:
    for phone in PHONES:
        sandbox.add_registration(AGENT, phone)
    return sandbox


@pytest.mark.parametrize(
    ("personality", "auto_uses", "list_status"),
    [
        ("documented", "list", "ok"),
        ("bare-conflict", "list", "ok"),
        ("paged-list", "list", "ok"),
        ("root-list", "list", "ok"),
        ("no-list", "register-only", "warn"),
        ("masked-list", "register-only", "warn"),
    ],
)
def test_every_personality_is_ready_and_says_which_mode_auto_uses(
    with_testers: SandboxProcess, personality: str, auto_uses: str, list_status: str
) -> None:
    sandbox = with_testers
    sandbox.set_personality(personality)

    report = run(config(sandbox))

    assert report.ok
    assert report.auto_uses == auto_uses
    found = statuses(report)
    assert {k: found[k] for k in ("config", "dns", "tcp", "credentials")} == dict.fromkeys(
        ("config", "dns", "tcp", "credentials"), "ok"
    )
    assert found["tls"] == "skip" and found["list"] == list_status
    text = everything(report)
    assert f"kaleyra:lookup auto will use: {auto_uses}" in text
    assert "a register call whose body is empty, which Kaleyra must refuse" in text
    stats = sandbox.stats()
    assert stats["register_created"] == 0 and len(sandbox.registrations()) == 3
    assert sandbox.api_key not in text
    assert all(phone not in text for phone in PHONES)


def test_paging_signs_are_reported(with_testers: SandboxProcess) -> None:
    with_testers.set_personality("paged-list")

    report = run(config(with_testers))

    [listed] = [c for c in report.checks if c.name == "list"]
    assert "3 testers understood, 2 page(s)" in listed.detail
    assert "pagination signs: page, per_page, total, total_pages, next" in listed.detail


def test_masking_is_reported(with_testers: SandboxProcess) -> None:
    with_testers.set_personality("masked-list")

    report = run(config(with_testers))

    [listed] = [c for c in report.checks if c.name == "list"]
    assert "3 of 3 numbers masked" in listed.detail
    assert "91953XXXXX90" not in everything(report), "not even masked numbers are shown"


def test_a_list_mode_stack_fails_when_the_list_cannot_be_used(sandbox: SandboxProcess) -> None:
    sandbox.set_personality("no-list")

    report = run(config(sandbox, lookup="list"))

    assert not report.ok
    [listed] = [c for c in report.checks if c.name == "list"]
    assert listed.status == "fail"
    assert "`pulumi config set kaleyra:lookup auto`" in listed.next_step
    assert "next steps:" in report.as_table()


def fleet_of(*agents: str) -> FleetCheck:
    return FleetCheck("stacks/Pulumi.dev.yaml", agents=list(agents), testers=len(agents))


def test_register_only_lists_each_agent_only_to_check_the_pod_knows_it(
    sandbox: SandboxProcess,
) -> None:
    report = diagnose(
        config(sandbox, lookup="register-only").get, stack="dev", fleet=fleet_of(AGENT, "20700")
    )

    assert report.ok and report.verdict == "ready"
    assert statuses(report)["list"] == "skip", "the run itself uses no list"
    [agents] = [c for c in report.checks if c.name == "agents"]
    assert (agents.status, agents.detail) == ("ok", "48900, 20700: listed by the pod")
    assert sandbox.stats()["list_calls"] == 2


@pytest.mark.parametrize("lookup", ["register-only", "auto", "list"])
def test_an_agent_the_pod_does_not_know_fails_in_every_mode(
    sandbox: SandboxProcess, lookup: str
) -> None:
    """The checklist's own advice (register-only) no longer hides an unknown agent: every
    declared agent is listed, not only the first, and the list row reads a known one."""
    report = diagnose(
        config(sandbox, lookup=lookup).get, stack="dev", fleet=fleet_of(AGENT, "55500")
    )

    assert not report.ok and report.verdict == "a run would fail"
    [unknown] = [c for c in report.checks if c.name == "agents" and c.status == "fail"]
    assert unknown.detail.startswith("agent 55500: the pod refused it (")
    assert "Agent Not Found" in unknown.detail
    assert "each of its testers would fail" in unknown.next_step
    assert statuses(report)["list"] == ("skip" if lookup == "register-only" else "ok")
    assert report.as_table().endswith("a run would fail (stack dev)")


def test_agents_no_read_only_call_can_check_are_unchecked_not_ready(
    sandbox: SandboxProcess,
) -> None:
    sandbox.set_personality("no-list")

    report = diagnose(
        config(sandbox, lookup="register-only").get, stack="dev", fleet=fleet_of(AGENT, "55500")
    )

    assert report.ok, "nothing is known to fail"
    assert report.verdict == "agents unchecked" and report.unchecked_agents == [AGENT, "55500"]
    [agents] = [c for c in report.checks if c.name == "agents"]
    assert agents.status == "warn"
    assert agents.detail.startswith("48900, 55500: unchecked, the list call cannot tell")
    last = report.as_table().splitlines()[-1]
    assert last.startswith("agents unchecked (stack dev): no read-only call of this pod shows ")
    assert "ready (stack" not in report.as_table()
    assert report.as_json()["verdict"] == "agents unchecked"


def test_the_stack_problems_fail_before_the_pod_is_asked(sandbox: SandboxProcess) -> None:
    problem = "stacks/Pulumi.dev.yaml: agents[0].testers[0].phone: phone number is invalid"
    fleet = FleetCheck("stacks/Pulumi.dev.yaml", problems=[problem], agents=[AGENT])

    report = diagnose(config(sandbox).get, stack="dev", fleet=fleet)

    assert not report.ok
    assert report.checks[0].name == "stack" and report.checks[0].detail == problem
    assert "`pulumi preview` fails with the same ones" in report.checks[0].next_step


def test_refused_credentials_fail_with_the_command_that_fixes_them(
    sandbox: SandboxProcess,
) -> None:
    settings = config(sandbox)
    settings["kaleyra:apiKey"] = "wrong-key-0123456789"

    report = run(settings)

    assert not report.ok
    [credentials] = [c for c in report.checks if c.name == "credentials"]
    assert credentials.status == "fail" and "401" in credentials.detail
    assert "pulumi config set --secret kaleyra:apiKey <key>" in credentials.next_step
    assert "list" not in statuses(report), "nothing further is tried"
    assert "wrong-key-0123456789" not in everything(report)


def test_a_wrong_register_path_fails(sandbox: SandboxProcess) -> None:
    report = run(config(sandbox, registerPath="/v1/{sid}/rcs/nope"))

    assert not report.ok
    [credentials] = [c for c in report.checks if c.name == "credentials"]
    assert "404" in credentials.detail and "kaleyra:registerPath" in credentials.next_step


def test_bad_config_fails_naming_the_key() -> None:
    report = run({"kaleyra:pod": "mars", "kaleyra:sid": "S", "kaleyra:apiKey": "k" * 12})

    assert not report.ok and [c.name for c in report.checks] == ["config"]
    assert "kaleyra:pod: " in report.checks[0].detail


def test_an_unknown_lookup_value_fails_with_no_call(sandbox: SandboxProcess) -> None:
    report = run(config(sandbox, lookup="sometimes"))

    assert not report.ok
    assert "kaleyra:lookup: must be one of auto, list, register-only" in report.checks[0].detail
    stats = sandbox.stats()
    assert stats["register_calls"] == 0 and stats["list_calls"] == 0


def test_a_closed_port_fails_at_tcp() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = {
        "kaleyra:pod": "sandbox",
        "kaleyra:baseUrl": f"http://127.0.0.1:{port}",
        "kaleyra:sid": "SID1",
        "kaleyra:apiKey": "k" * 16,
    }

    report = run(settings)

    assert not report.ok
    assert statuses(report) == {"config": "ok", "base url": "ok", "dns": "ok", "tcp": "fail"}
    [tcp] = [c for c in report.checks if c.name == "tcp"]
    assert f"cannot connect to 127.0.0.1:{port}" in tcp.detail
    assert "firewall" in tcp.next_step


class _Quiet(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # pragma: no cover - the handshake fails first
        self.send_response(400)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def untrusted_https() -> Iterator[str]:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda *args: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_untrusted_certificate_fails_at_tls(untrusted_https: str) -> None:
    settings = {
        "kaleyra:pod": "in",
        "kaleyra:baseUrl": untrusted_https,
        "kaleyra:sid": "SID1",
        "kaleyra:apiKey": "k" * 16,
    }

    report = run(settings)

    assert not report.ok
    assert statuses(report)["tls"] == "fail" and "credentials" not in statuses(report)
    [tls] = [c for c in report.checks if c.name == "tls"]
    assert "could not be verified" in tls.detail
    assert "verification cannot be disabled" in tls.next_step


def test_json_carries_the_same_checks(with_testers: SandboxProcess) -> None:
    report = run(config(with_testers))

    document = json.loads(json.dumps(report.as_json()))

    assert document["ok"] is True and document["auto_uses"] == "list"
    assert [c["name"] for c in document["checks"]] == [c.name for c in report.checks]
    assert set(document["timings"]) == {"connect", "register", "list"}


def test_errors_inside_200s_are_a_refused_probe_and_a_failed_list(sandbox: SandboxProcess) -> None:
    """A Kaleyra that reports its errors inside 200s: the empty register body is refused with
    RCS904 (the credentials passed), and the list row fails naming the code."""
    sandbox.set_faults(error_in_body=400)

    report = run(config(sandbox))

    found = statuses(report)
    assert (found["credentials"], found["list"]) == ("ok", "fail")
    text = everything(report)
    assert "accepted (register answered RCS904 inside a 200)" in text
    assert "agent 48900: Kaleyra reported an unknown agent (RCS904 inside a 200 answer" in text
    assert not report.ok
    assert sandbox.registrations() == []
