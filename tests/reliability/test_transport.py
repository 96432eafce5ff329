"""Transport: a non-loopback `http://` base URL is refused; TLS verification cannot be turned
off by configuration or environment; an oversized or slow-drip response is cut off with an
error within the configured bound instead of hanging the pipeline.

Every server here listens on 127.0.0.1 (port 0) and stops by itself; addresses like 10.0.0.1
appear only in URLs that the client must refuse before opening any connection.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import pytest
import requests
import trustme

import rcs_provider._kaleyra.transport as transport_module
from rcs_devtools.fleet_data import agents_block, formatted, phone
from rcs_devtools.pulumi_cli import Stack
from rcs_provider._kaleyra.client import KaleyraClient
from rcs_provider._kaleyra.errors import ConfigurationError, TransportError
from rcs_provider._kaleyra.settings import CONFIG_KEYS, ClientSettings
from rcs_provider._provider_config import settings_from_config

pytestmark = pytest.mark.reliability

SID = "SANDBOXSID0001"
API_KEY = "transport-test-key"
AGENT = "48900"
LIST_BODY = b'{"code":"RCS903","message":"Testers fetched successfully","data":{"testers":[]}}'
LAYOUT = {"48900": [("qa-alice", 1), ("qa-bob", 2)], "20700": [("qa-chen", 3)]}
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
MIB = 1 << 20


def calls(kind: str) -> Callable[[KaleyraClient], object]:
    """The client call for ``kind``: the list (GET) or the register (POST) call."""
    if kind == "list":
        return lambda client: client.list_testers(AGENT)
    return lambda client: client.register_tester(AGENT, formatted(1), label="qa-alice")


def timed(call: Callable[[], object]) -> tuple[BaseException | None, float]:
    """Run ``call``; the exception it raised (None if none) and how long it took."""
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to open a TCP connection."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# -- plain http:// only on loopback ----------------------------------------------------------

NON_LOOPBACK = [
    "http://10.0.0.1:8766",
    "http://192.168.1.20",
    "http://172.16.0.5:8080/api",
    "http://8.8.8.8",
    "http://0.0.0.0:8766",
    "http://rcs-api.in.kaleyra.io",
    "http://127.0.0.1.nip.io:8766",
    "http://localhost.example.com",
    "HTTP://10.0.0.1",
    "http://[fe80::1]:8766",
    "  http://10.0.0.1:8766/  ",
]


@pytest.mark.parametrize("url", NON_LOOPBACK)
def test_client_refuses_plain_http_to_a_non_loopback_host(url: str, no_connections: None) -> None:
    with pytest.raises(ConfigurationError) as caught:
        KaleyraClient(ClientSettings(sid=SID, api_key=API_KEY, base_url=url))
    assert caught.value.key == "kaleyra:baseUrl"
    assert "kaleyra:baseUrl: http:// is only allowed for a loopback host" in str(caught.value)
    assert "use https://" in str(caught.value)


@pytest.mark.parametrize("pod", ["sandbox", "in", "na"])
@pytest.mark.parametrize("url", ["http://10.0.0.1:8766", "http://rcs-api.na.kaleyra.io"])
def test_stack_config_cannot_point_plain_http_at_a_non_loopback_host(
    url: str, pod: str, no_connections: None
) -> None:
    config = {"kaleyra:sid": SID, "kaleyra:apiKey": API_KEY, "kaleyra:pod": pod}
    config["kaleyra:baseUrl"] = url
    with pytest.raises(ConfigurationError) as caught:
        settings_from_config(config.get, environ={})
    assert caught.value.key == "kaleyra:baseUrl"
    assert "http:// is only allowed for a loopback host" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:8766", "http://127.0.0.1:8766"),
        ("http://127.0.0.53:8766/", "http://127.0.0.53:8766"),
        ("http://[::1]:8766", "http://[::1]:8766"),
        ("http://localhost:8766", "http://localhost:8766"),
    ],
)
def test_plain_http_to_loopback_is_accepted_without_connecting(
    url: str, base: str, no_connections: None
) -> None:
    with KaleyraClient(ClientSettings(sid=SID, api_key=API_KEY, base_url=url)) as client:
        assert client.base_url == base


def test_engine_refuses_plain_http_to_a_non_loopback_host(stack: Stack, sandbox: Any) -> None:
    """`pulumi preview` fails in the provider's configure, where the client is built: the
    client refuses the URL at construction, so no request to 10.0.0.1 can follow."""
    stack.set_agents(agents_block(LAYOUT))
    stack.set_kaleyra(baseUrl="http://10.0.0.1:8766")

    result = stack.preview()

    assert result.returncode != 0
    assert (
        "kaleyra:baseUrl: http:// is only allowed for a loopback host (127.0.0.1, ::1, "
        "localhost), not 10.0.0.1; use https://"
    ) in result.output
    stats = sandbox.stats()
    assert stats["register_calls"] == 0 and stats["list_calls"] == 0
    for n in (1, 2, 3):
        assert phone(n) not in result.output
    assert sandbox.api_key not in result.output


# -- TLS verification ------------------------------------------------------------------------


@dataclass
class TlsServer:
    """An HTTPS server on 127.0.0.1 whose certificate comes from a CA nobody trusts."""

    url: str
    ca_file: str
    requests_seen: list[str]


@pytest.fixture
def tls_server(tmp_path: Any) -> Iterator[TlsServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(LIST_BODY)))
            self.end_headers()
            self.wfile.write(LIST_BODY)

        do_GET = do_POST = _answer

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        # Control: the server is a working Kaleyra look-alike for whoever trusts its CA.
        with requests.Session() as session:
            session.trust_env = False  # no proxy: straight to 127.0.0.1
            answer = session.get(f"{url}/v1/{SID}/ping", verify=str(ca_file), timeout=5)
            assert answer.status_code == 200 and answer.json()["code"] == "RCS903"
        seen.clear()
        yield TlsServer(url, str(ca_file), seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(params=["loopback", "real-pod"])
def env_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``real-pod``: the client treats 127.0.0.1 like a Kaleyra pod, so the environment
    (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE...) is consulted as it would be in production.
    Proxies are cleared so nothing leaves the machine."""
    if request.param == "real-pod":
        monkeypatch.setattr(transport_module, "is_loopback", lambda _host: False)
        for name in PROXY_VARS:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("NO_PROXY", "*")
        monkeypatch.setenv("no_proxy", "*")
    return str(request.param)


def tls_config(server: TlsServer, **extra: str) -> dict[str, str]:
    return {
        "kaleyra:sid": SID,
        "kaleyra:apiKey": API_KEY,
        "kaleyra:baseUrl": server.url,
        "kaleyra:maxRetries": "0",
        "kaleyra:readTimeout": "5",
        **extra,
    }


def test_untrusted_tls_certificate_is_refused(tls_server: TlsServer, env_mode: str) -> None:
    settings = settings_from_config(tls_config(tls_server).get, environ={})
    with KaleyraClient(settings) as client:
        error, elapsed = timed(lambda: client.list_testers(AGENT))

    assert isinstance(error, TransportError), repr(error)
    host = tls_server.url.removeprefix("https://")
    assert f"the TLS certificate of {host} could not be verified" in str(error)
    assert "certificate verification cannot be disabled" in str(error)
    assert tls_server.requests_seen == []
    assert elapsed < CUT_OFF_BOUND_S


TLS_SWITCHES = {
    "kaleyra:insecure": ({"kaleyra:insecure": "true"}, {}),
    "kaleyra:verify": ({"kaleyra:verify": "false"}, {}),
    "kaleyra:verifySsl": ({"kaleyra:verifySsl": "false"}, {}),
    "kaleyra:tlsSkipVerify": ({"kaleyra:tlsSkipVerify": "true"}, {}),
    "kaleyra:caBundle-empty": ({"kaleyra:caBundle": ""}, {}),
    "REQUESTS_CA_BUNDLE-empty": ({}, {"REQUESTS_CA_BUNDLE": ""}),
    "CURL_CA_BUNDLE-empty": ({}, {"CURL_CA_BUNDLE": ""}),
    "PYTHONHTTPSVERIFY-0": ({}, {"PYTHONHTTPSVERIFY": "0"}),
    "SSL_CERT_FILE-missing": ({}, {"SSL_CERT_FILE": "/nonexistent/ca.pem"}),
}


@pytest.mark.parametrize(("config", "environ"), TLS_SWITCHES.values(), ids=list(TLS_SWITCHES))
def test_no_setting_turns_tls_verification_off(
    tls_server: TlsServer,
    env_mode: str,
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, str],
    environ: dict[str, str],
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = settings_from_config(tls_config(tls_server, **config).get, environ=environ)
    with KaleyraClient(settings) as client:
        error, _ = timed(lambda: client.register_tester(AGENT, formatted(1)))

    assert error is not None, "the untrusted certificate was accepted"
    assert tls_server.requests_seen == [], "a request went through"
    assert isinstance(error, TransportError), repr(error)
    assert "could not be verified" in str(error)


def test_client_settings_have_no_switch_for_tls_verification() -> None:
    names = {f.name.lower() for f in fields(ClientSettings)}
    keys = {key.lower() for key in CONFIG_KEYS.values()}
    for word in ("verify", "insecure", "ssl", "tls", "ca_bundle", "cabundle"):
        assert not any(word in n for n in names), names
        assert not any(word in k for k in keys), keys


def test_unreadable_ca_bundle_is_a_transport_error(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REQUESTS_CA_BUNDLE naming a missing file (real pod): refused, as a TransportError."""
    monkeypatch.setattr(transport_module, "is_loopback", lambda _host: False)
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    settings = settings_from_config(tls_config(tls_server).get, environ={})
    with KaleyraClient(settings) as client:
        error, _ = timed(lambda: client.list_testers(AGENT))

    assert error is not None and tls_server.requests_seen == []
    assert isinstance(error, TransportError), repr(error)
    assert "REQUESTS_CA_BUNDLE" in str(error)


# -- a tiny raw HTTP server for what the sandbox cannot do ------------------------------------

Handler = Callable[[socket.socket, Callable[[], bool]], None]
SERVE_LIMIT_S = 20.0  # no handler runs longer: a client that hangs is seen, and then let go
#: A client with a 1 s read timeout and a 2 s total budget that is "cut off" returns well
#: within this bound, and a client that waits for a server holding it SERVE_LIMIT_S does not:
#: a wide margin on both sides, so a loaded machine cannot turn the outcome.
CUT_OFF_BOUND_S = SERVE_LIMIT_S / 2.5


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], str]]:
    """Start servers on 127.0.0.1 that answer every connection with ``handler(conn, done)``
    (``done()``: stop now); returns their base URL. Everything stops at teardown."""
    stop = threading.Event()
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def serve(handler: Handler) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)
        listeners.append(listener)

        def connection(conn: socket.socket) -> None:
            deadline = time.monotonic() + SERVE_LIMIT_S
            with conn:
                conn.settimeout(SERVE_LIMIT_S)
                try:
                    request = b""
                    while b"\r\n\r\n" not in request and len(request) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        request += chunk
                    handler(conn, lambda: stop.is_set() or time.monotonic() > deadline)
                except OSError:
                    pass

        def accept() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                worker = threading.Thread(target=connection, args=(conn,), daemon=True)
                threads.append(worker)
                worker.start()

        acceptor = threading.Thread(target=accept, daemon=True)
        threads.append(acceptor)
        acceptor.start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    try:
        yield serve
    finally:
        stop.set()
        for thread in list(threads):
            thread.join(SERVE_LIMIT_S + 2)
        for listener in listeners:
            listener.close()


def drip(conn: socket.socket, done: Callable[[], bool], pieces: list[bytes], pause: float) -> None:
    for piece in pieces:
        if done():
            return
        conn.sendall(piece)
        time.sleep(pause)


def drip_status_line(conn: socket.socket, done: Callable[[], bool]) -> None:
    """The status line, one byte every 0.4 s (a complete answer would take ~20 s)."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + LIST_BODY
    drip(conn, done, [bytes([b]) for b in answer], 0.4)


def drip_header_lines(conn: socket.socket, done: Callable[[], bool]) -> None:
    """A prompt status line, then an endless stream of headers, one line every 0.4 s."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    drip(conn, done, [b"X-Pad-%d: a\r\n" % i for i in range(100)], 0.4)


def silent(conn: socket.socket, done: Callable[[], bool]) -> None:
    """Accept the request and never answer."""
    while not done():
        time.sleep(0.05)


def client_for(url: str, **options: Any) -> KaleyraClient:
    settings: dict[str, Any] = {"max_retries": 0, "read_timeout": 1.0, "total_timeout": 2.0}
    return KaleyraClient(
        ClientSettings(sid=SID, api_key=API_KEY, base_url=url, **(settings | options))
    )


def assert_cut_at_the_cap(url: str) -> None:
    """A list call against ``url`` fails at the 1 MiB cap, fast, without holding the body."""
    tracemalloc.start()
    try:
        with client_for(url) as client:
            error, elapsed = timed(lambda: client.list_testers(AGENT))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert isinstance(error, TransportError), repr(error)
    assert "the response was larger than 1048576 bytes" in str(error)
    assert elapsed < CUT_OFF_BOUND_S
    assert peak < 8 * MIB, f"{peak / MIB:.1f} MiB held while reading"


# -- oversize ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["list", "register"])
def test_oversize_response_from_the_sandbox_is_cut_off_at_the_cap(sandbox: Any, kind: str) -> None:
    sandbox.set_faults(oversize_body_bytes=2_000_000)
    with client_for(sandbox.url, read_timeout=2.0) as client:
        error, elapsed = timed(lambda: calls(kind)(client))

    assert isinstance(error, TransportError), repr(error)
    assert "the response was larger than 1048576 bytes" in str(error)
    assert "kaleyra:maxResponseBytes" in str(error)
    assert elapsed < CUT_OFF_BOUND_S


def test_configured_cap_applies(sandbox: Any) -> None:
    sandbox.set_faults(oversize_body_bytes=8192)
    with client_for(sandbox.url, max_response_bytes=4096) as client:
        error, elapsed = timed(lambda: client.list_testers(AGENT))

    assert isinstance(error, TransportError), repr(error)
    assert "the response was larger than 4096 bytes" in str(error)
    assert elapsed < CUT_OFF_BOUND_S


def test_response_cap_can_be_set_in_stack_config() -> None:
    """The oversize error tells people to raise kaleyra:maxResponseBytes: the key must work."""
    config = {
        "kaleyra:sid": SID,
        "kaleyra:apiKey": API_KEY,
        "kaleyra:pod": "in",
        "kaleyra:maxResponseBytes": "4096",
    }
    assert settings_from_config(config.get, environ={}).max_response_bytes == 4096


def test_chunked_oversize_response_is_cut_off_without_buffering_it(
    raw_server: Callable[[Handler], str],
) -> None:
    chunk = b" " * 65536

    def endless_chunks(conn: socket.socket, done: Callable[[], bool]) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(160):  # 10 MiB, no Content-Length
            if done():
                return
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.sendall(b"0\r\n\r\n")

    url = raw_server(endless_chunks)
    assert_cut_at_the_cap(url)


def test_compressed_response_is_capped_after_decompression(
    raw_server: Callable[[Handler], str],
) -> None:
    """64 MiB of JSON padding gzipped to ~64 KB: the cap counts decompressed bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    pad = b" " * MIB
    bomb = (
        b"".join([packer.compress(LIST_BODY[:-1]), *(packer.compress(pad) for _ in range(64))])
        + packer.compress(b"}")
        + packer.flush()
    )
    assert len(bomb) < MIB

    def gzip_bomb(conn: socket.socket, done: Callable[[], bool]) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(bomb) + bomb
        )

    url = raw_server(gzip_bomb)
    assert_cut_at_the_cap(url)


# -- slow drip -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["list", "register"])
def test_slow_drip_body_from_the_sandbox_is_cut_off_within_the_read_timeout(
    sandbox: Any, kind: str
) -> None:
    sandbox.set_faults(slow_body_bytes_per_sec=5)  # a ~150-byte answer would take ~30 s
    with client_for(sandbox.url, total_timeout=5.0) as client:
        error, elapsed = timed(lambda: calls(kind)(client))

    assert isinstance(error, TransportError), repr(error)
    assert "sent the response too slowly (not complete within the 1s read timeout)" in str(error)
    assert elapsed < CUT_OFF_BOUND_S


@pytest.mark.parametrize(
    ("handler", "kind"),
    [(drip_status_line, "list"), (drip_header_lines, "register")],
    ids=["status-line-list", "header-lines-register"],
)
def test_slow_drip_before_the_body_is_cut_off_within_the_timeouts(
    raw_server: Callable[[Handler], str], handler: Handler, kind: str
) -> None:
    """read timeout 1 s, total timeout 2 s: a server that keeps the status line or the
    headers coming, a little at a time, must not hold the client for longer."""
    url = raw_server(handler)
    with client_for(url) as client:
        error, elapsed = timed(lambda: calls(kind)(client))

    assert elapsed < CUT_OFF_BOUND_S, (
        f"the client was held {elapsed:.1f}s (the server gave up first)"
    )
    assert isinstance(error, TransportError), repr(error)


@pytest.mark.parametrize("kind", ["list", "register"])
def test_silent_server_fails_naming_the_read_timeout(
    raw_server: Callable[[Handler], str], kind: str
) -> None:
    url = raw_server(silent)
    with client_for(url) as client:
        error, elapsed = timed(lambda: calls(kind)(client))

    assert isinstance(error, TransportError), repr(error)
    assert "did not answer within the 1s read timeout" in str(error)
    assert elapsed < CUT_OFF_BOUND_S


# -- through the engine ----------------------------------------------------------------------

ENGINE_BOUND_S = 60.0  # engine start-up and teardown on a loaded machine + kaleyra:totalTimeout 5 s


def slow_stack(stack: Stack) -> None:
    stack.set_kaleyra(readTimeout="1", totalTimeout="5", maxRetries="0")
    stack.set_agents(agents_block(LAYOUT))


def test_up_against_a_slow_drip_sandbox_fails_within_the_bound(stack: Stack, sandbox: Any) -> None:
    slow_stack(stack)
    sandbox.set_faults(slow_body_bytes_per_sec=2)  # a ~150-byte answer would take ~75 s

    started = time.monotonic()
    result = stack.run("up", "--yes", "--skip-preview", timeout=120)
    elapsed = time.monotonic() - started

    assert result.returncode != 0
    assert elapsed < ENGINE_BOUND_S, f"pulumi up took {elapsed:.1f}s"
    assert "sent the response too slowly (not complete within the 1s read timeout)" in (
        result.output
    )
    assert sandbox.stats()["register_calls"] == 0
    for n in (1, 2, 3):
        assert phone(n) not in result.output
    assert sandbox.api_key not in result.output


def test_up_against_an_oversize_sandbox_fails_with_the_cap(stack: Stack, sandbox: Any) -> None:
    slow_stack(stack)
    sandbox.set_faults(oversize_body_bytes=2_000_000)

    started = time.monotonic()
    result = stack.run("up", "--yes", "--skip-preview", timeout=120)
    elapsed = time.monotonic() - started

    assert result.returncode != 0
    assert elapsed < ENGINE_BOUND_S, f"pulumi up took {elapsed:.1f}s"
    assert "the response was larger than 1048576 bytes" in result.output
    assert sandbox.stats()["register_calls"] == 0
    for n in (1, 2, 3):
        assert phone(n) not in result.output
