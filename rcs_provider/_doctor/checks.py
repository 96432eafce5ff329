"""What ``rcs-testers doctor`` checks at the pod: DNS, TCP, TLS, latency, whether the
credentials and the register path are accepted, whether the pod knows each declared agent
(the list call, read-only, in every lookup mode), and whether the tester list works and is
understood, hence which lookup mode ``kaleyra:lookup auto`` will use. It registers nothing:
the register path is checked with an empty JSON body, which Kaleyra must refuse. Secrets and
phone numbers never appear in its output."""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from .._kaleyra.client import KaleyraClient
from .._kaleyra.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    KaleyraError,
)
from .._kaleyra.paging import TesterList
from .._kaleyra.settings import ClientSettings, is_loopback
from .._lookup import LOOKUP_KEY, unusable_list_reason
from .._phones import mask_text
from .._provider_config import settings_from_config
from .report import Report
from .stack import FleetCheck

__all__ = ["AgentProbe", "diagnose", "probe_agents"]

ConfigGetter = Callable[[str], Any]
_EMPTY_BODY_NOTE = (
    "checked with a register call whose body is empty, which Kaleyra must refuse: "
    "nothing was registered"
)


def diagnose(
    get: ConfigGetter,
    *,
    stack: str | None = None,
    agent: str | None = None,
    fleet: FleetCheck | None = None,
) -> Report:
    """Run every check for the config ``get`` returns (``kaleyra:*`` keys, as ``pulumi``):
    the stack's testers as ``fleet`` found them, then the pod. Each agent of ``fleet`` (or
    ``agent`` alone) is listed to see whether the pod knows it; ``agent`` (default: the
    first one the pod lists) is the one whose list is read for the lookup mode."""
    report = Report(stack)
    if fleet is not None:
        fleet.report_to(report)
    try:
        settings = settings_from_config(get)
    except ConfigurationError as err:
        report.add("config", "fail", str(err).replace("\n", " "), "Fix the keys named above.")
        return report
    report.lookup = settings.lookup
    client = KaleyraClient(settings)
    report.base_url = client.base_url
    report.add(
        "config",
        "ok",
        f"sid {mask_text(settings.sid)}, api-key set, {LOOKUP_KEY} {settings.lookup}",
    )
    report.add("base url", "ok", client.base_url)
    declared = fleet.agents if fleet is not None else []
    agents = [*declared, *([agent] if agent and agent not in declared else [])]
    with client:
        if _network(report, client.base_url, settings) and _register_probe(report, client):
            probe = probe_agents(client, agents)
            listed = agent or next(iter([*probe.known, *agents]), None)
            _tester_list(report, client, settings, listed)
            probe.report_to(report)
    if report.lookup == "auto" and report.auto_uses:
        report.add("lookup", "ok", f"{LOOKUP_KEY} auto will use: {report.auto_uses}")
    if report.timings:
        measured = ", ".join(f"{name} {took}" for name, took in report.timings.items())
        report.add("latency", "ok", measured)
    return report


def _network(report: Report, base_url: str, settings: ClientSettings) -> bool:
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})
    except OSError as err:
        report.add(
            "dns",
            "fail",
            f"{host} does not resolve ({err.strerror or err})",
            "Check kaleyra:pod / kaleyra:baseUrl and the network's DNS.",
        )
        return False
    report.add("dns", "ok", f"{host} -> {', '.join(addresses[:3])}")
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=settings.connect_timeout)
    except OSError as err:
        reason = "timed out" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        report.add(
            "tcp",
            "fail",
            f"cannot connect to {host}:{port} ({reason})",
            f"Check network access to {host}:{port} (proxy, firewall) and kaleyra:baseUrl.",
        )
        return False
    with sock:
        report.timings["connect"] = _ms(started)
        report.add("tcp", "ok", f"{host}:{port} connected")
        if parts.scheme != "https":
            report.add("tls", "skip", "plain http:// (accepted for loopback hosts only)")
            return True
        return _tls(report, sock, host, settings)


def _tls(report: Report, sock: socket.socket, host: str, settings: ClientSettings) -> bool:
    context = ssl.create_default_context(cafile=_ca_bundle(host))
    started = time.monotonic()
    try:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            tls.settimeout(settings.connect_timeout)
            cert = tls.getpeercert() or {}
            version = tls.version()
    except (ssl.SSLError, OSError) as err:
        reason = getattr(err, "verify_message", None) or getattr(err, "reason", None) or err
        report.add(
            "tls",
            "fail",
            f"the certificate of {host} could not be verified ({reason})",
            "Check kaleyra:baseUrl and the CA certificates (REQUESTS_CA_BUNDLE); "
            "verification cannot be disabled.",
        )
        return False
    expires = cert.get("notAfter", "unknown")
    report.timings["tls"] = _ms(started)
    report.add("tls", "ok", f"{version}, certificate valid until {expires}")
    return True


def _ca_bundle(host: str) -> str:
    """The CA bundle ``requests`` would use for ``host`` (loopback ignores the environment)."""
    loopback = is_loopback(host)
    env = (
        None if loopback else os.environ.get("REQUESTS_CA_BUNDLE", os.environ.get("CURL_CA_BUNDLE"))
    )
    return env or DEFAULT_CA_BUNDLE_PATH


def _register_probe(report: Report, client: KaleyraClient) -> bool:
    """Check credentials and the register path; False when nothing further can work."""
    started = time.monotonic()
    error = client.probe_register()
    took = report.timings["register"] = _ms(started)
    if error is None:
        report.add(
            "credentials",
            "warn",
            f"the register call accepted an empty body ({took}), which Kaleyra must refuse",
            "Check kaleyra:baseUrl and kaleyra:registerPath point at Kaleyra's Register "
            "Tester call.",
        )
        return True
    if isinstance(error, AuthenticationError):
        report.add(
            "credentials",
            "fail",
            f"refused: {error.why} ({took})",
            "Set them: `pulumi config set kaleyra:sid <sid>` and "
            "`pulumi config set --secret kaleyra:apiKey <key>` (the same account).",
        )
        return False
    # A refusal is a 400, or an error inside a 2xx body that means one (or no known status).
    if error.effective_status == 400 or (error.in_body and error.status_meant is None):
        said = " ".join(str(p) for p in (error.status, error.code) if p)
        if error.in_body:
            said = f"{error.code or 'an error'} inside a {error.status}"
        report.add("credentials", "ok", f"accepted (register answered {said}); {_EMPTY_BODY_NOTE}")
        return True
    report.add(
        "credentials",
        "fail",
        f"the register call failed: {error.why} ({took}); {_EMPTY_BODY_NOTE}",
        "Check kaleyra:baseUrl and kaleyra:registerPath against Kaleyra's Register Tester page.",
    )
    return False


def _tester_list(
    report: Report, client: KaleyraClient, settings: ClientSettings, agent: str | None
) -> None:
    if settings.lookup == "register-only":
        report.add("list", "skip", f"not used: {LOOKUP_KEY} is register-only")
        report.auto_uses = None
        return
    if agent is None:
        report.add("list", "skip", "no agent in the stack to list", "Pass --agent <number>.")
        return
    started = time.monotonic()
    try:
        listing = client.tester_list(agent)
    except KaleyraError as err:
        reason = unusable_list_reason(err)
        if reason is None:
            report.add("list", "fail", f"agent {agent}: {err.why}", err.hint)
            return
        _list_unusable(report, settings, f"agent {agent}: {reason}")
        return
    report.timings["list"] = f"{_ms(started)} ({listing.pages} page(s))"
    _list_read(report, settings, agent, listing)


def _list_read(report: Report, settings: ClientSettings, agent: str, listing: TesterList) -> None:
    keys = dict.fromkeys(sign.split("=", 1)[0] for sign in listing.signs)
    signs = ", ".join(keys) or "none"
    count = len(listing.records) + listing.masked
    if listing.masked:
        _list_unusable(
            report, settings, f"agent {agent}: {listing.masked} of {count} numbers masked"
        )
        return
    report.auto_uses = "list"
    report.add(
        "list",
        "ok",
        f"agent {agent}: {count} testers understood, {listing.pages} page(s), no masked "
        f"numbers; pagination signs: {signs}",
    )
    if listing.incomplete is not None:
        report.add(
            "paging",
            "warn",
            f"the list could not be read whole: {listing.incomplete}",
            "Refresh keeps testers it cannot see; report the list's paging fields.",
        )


def _list_unusable(report: Report, settings: ClientSettings, seen: str) -> None:
    if settings.lookup == "list":
        report.add(
            "list",
            "fail",
            f"cannot be used ({seen})",
            f"Set {LOOKUP_KEY} to auto (or register-only): `pulumi config set {LOOKUP_KEY} auto`.",
        )
        return
    report.auto_uses = "register-only"
    report.add(
        "list",
        "warn",
        f"cannot be used ({seen}); auto will run register-only: adoption through Kaleyra's "
        "409, and refresh cannot see testers removed in the console",
        f"Nothing to do; or set {LOOKUP_KEY} register-only to skip the list call.",
    )


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"


class TesterLister(Protocol):
    """The read-only call an agent is checked with (a ``KaleyraClient``)."""

    def tester_list(self, agent_no: str, *, label: str | None = None) -> TesterList: ...


@dataclass
class AgentProbe:
    """Each declared agent as the pod's list call shows it: ``known`` (listed), ``unknown``
    (refused: agent and why), or ``unchecked`` (the call cannot tell: agent and why)."""

    known: list[str] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)

    def report_to(self, report: Report) -> None:
        for agent, why in self.unknown:
            report.add(
                "agents",
                "fail",
                f"agent {agent}: the pod refused it ({why})",
                f"Check agent {agent}'s service code in the stack file and that this account "
                "(kaleyra:sid) owns it: each of its testers would fail.",
            )
        if self.unchecked:
            agents = ", ".join(agent for agent, _ in self.unchecked)
            reasons = "; ".join(dict.fromkeys(why for _, why in self.unchecked))
            report.add(
                "agents",
                "warn",
                f"{agents}: unchecked, the list call cannot tell whether the pod knows them "
                f"({reasons})",
                "Nothing to check them with before a run: the first `pulumi up` does.",
            )
            report.unchecked_agents = [agent for agent, _ in self.unchecked]
        if self.known:
            report.add("agents", "ok", f"{', '.join(self.known)}: listed by the pod")


def probe_agents(client: TesterLister, agents: Sequence[str]) -> AgentProbe:
    """List each agent once (read-only) and sort it by what the answer shows."""
    probe = AgentProbe()
    for agent in agents:
        try:
            client.tester_list(agent)
        except KaleyraError as err:
            reason = unusable_list_reason(err)
            if reason is None and isinstance(err, InvalidRequestError) and err.status == 400:
                probe.unknown.append((agent, err.why))
            else:
                probe.unchecked.append((agent, reason or err.why))
        else:
            probe.known.append(agent)
    return probe
