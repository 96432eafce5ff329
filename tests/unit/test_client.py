"""KaleyraClient: URLs, headers, parsing and errors with ``responses``; retries, timeouts
and body limits against a scripted stdlib HTTP server on 127.0.0.1 (urllib3's Retry only
runs with real sockets)."""

from __future__ import annotations

import itertools
import json
import logging
import re
import socket
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses
import urllib3.connection
from responses import matchers

from rcs_provider import __version__
from rcs_provider._kaleyra import transport
from rcs_provider._kaleyra.client import KaleyraClient
from rcs_provider._kaleyra.errors import (
    AlreadyRegisteredError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    KaleyraError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnparseableResponseError,
)
from rcs_provider._kaleyra.parsing import Registration, TesterRecord
from rcs_provider._kaleyra.settings import (
    CONFIG_KEYS,
    DEFAULT_LIST_PATH,
    DEFAULT_REGISTER_PATH,
    POD_BASE_URLS,
    ClientSettings,
)
from rcs_provider._phones import PhoneNumberError

#: Hex letters only, like a real key may be: no run of digits, so phone masking cannot hide it
#: and only the api-key scrub keeps it out of errors and logs.
API_KEY = "fedcbaabcdeffacebeadcafebabedeaf"
PHONE = "919530000092"
AGENT = "48900"
BASE = "https://rcs-api.in.kaleyra.io"
REGISTER_URL = f"{BASE}/v1/SID1/rcs/agenttester/register"
LIST_URL = f"{BASE}/v1/SID1/rcs/agenttester/testersbyagent"
SUCCESS = {
    "code": "RCS902",
    "message": "Tester registration request sent successfully",
    "data": {
        "phoneno": "91953XXXXX92",
        "agent_no": AGENT,
        "id": "b8a32010-dfef-4fa2-bdb3-98b5aaaaa857",
        "override_dcs_check": False,
    },
    "error": {},
}
HEADERS = {
    "api-key": API_KEY,
    "Content-Type": "application/json",
    "Accept": "application/json",
    "User-Agent": f"rcs-testers/{__version__}",
}


def settings(**overrides: Any) -> ClientSettings:
    values: dict[str, Any] = {"sid": "SID1", "api_key": API_KEY, "pod": "in"}
    values.update(overrides)
    return ClientSettings(**values)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[KaleyraClient]:
    with KaleyraClient(settings()) as c:
        yield c


def register_ok(rsps: responses.RequestsMock, body: Any = None, status: int = 200) -> None:
    rsps.post(
        REGISTER_URL,
        json=SUCCESS if body is None else body,
        status=status,
        match=[
            matchers.header_matcher(HEADERS),
            matchers.json_params_matcher({"phoneno": PHONE, "agent_no": AGENT}),
        ],
    )


def list_reply(rsps: responses.RequestsMock, **kwargs: Any) -> None:
    rsps.get(
        LIST_URL,
        match=[
            matchers.header_matcher(HEADERS),
            matchers.query_param_matcher({"agent_number": AGENT}),
        ],
        **kwargs,
    )


# -- register: success ----------------------------------------------------------------------


def test_register_success(rsps: responses.RequestsMock, client: KaleyraClient) -> None:
    register_ok(rsps)
    reg = client.register_tester(AGENT, PHONE, label="qa-alice")
    assert reg == Registration(
        id="b8a32010-dfef-4fa2-bdb3-98b5aaaaa857",
        phoneno=PHONE,
        agent_no=AGENT,
        override_dcs_check=False,
        code="RCS902",
        message="Tester registration request sent successfully",
    )
    assert PHONE not in repr(reg)
    assert "91953XXXXX92" in repr(reg)


def test_register_sends_canonical_digits(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    register_ok(rsps)
    assert client.register_tester(AGENT, "+91 95300 00092").phoneno == PHONE


@pytest.mark.parametrize(
    ("data", "status", "expected_id", "override"),
    [
        ({"id": 12345, "override_dcs_check": True}, 200, "12345", True),
        ({"id": "abc", "override_dcs_check": "true"}, 201, "abc", True),
        ({"id": "abc", "override_dcs_check": None}, 202, "abc", False),
        ({"id": "abc"}, 200, "abc", False),
    ],
)
def test_register_success_variants(
    rsps: responses.RequestsMock,
    client: KaleyraClient,
    data: dict[str, Any],
    status: int,
    expected_id: str,
    override: bool,
) -> None:
    register_ok(rsps, {"data": data}, status=status)
    reg = client.register_tester(AGENT, PHONE)
    assert (reg.id, reg.override_dcs_check, reg.code, reg.message) == (
        expected_id,
        override,
        None,
        None,
    )


def test_register_accepts_top_level_id(rsps: responses.RequestsMock, client: KaleyraClient) -> None:
    register_ok(rsps, {"id": "top"})
    assert client.register_tester(AGENT, PHONE).id == "top"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"code": "RCS902", "data": {}}, "without a registration id (RCS902)"),
        ({"data": {"id": ""}}, "without a registration id"),
        ({"data": {"id": True}}, "without a registration id"),
        ({"code": "RCS902", "message": "sent"}, "without a registration id (RCS902 sent)"),
        ([], "without a registration id"),
    ],
)
def test_register_2xx_without_id_is_unparseable(
    rsps: responses.RequestsMock, client: KaleyraClient, body: Any, fragment: str
) -> None:
    register_ok(rsps, body)
    with pytest.raises(UnparseableResponseError) as info:
        client.register_tester(AGENT, PHONE, label="qa-alice")
    assert fragment in str(info.value)
    assert info.value.status == 200


def test_register_malformed_json(rsps: responses.RequestsMock, client: KaleyraClient) -> None:
    rsps.post(REGISTER_URL, body=b'{"data": {"id": ', status=200)
    with pytest.raises(UnparseableResponseError) as info:
        client.register_tester(AGENT, PHONE, label="qa-alice")
    assert str(info.value) == (
        "Unable to register tester qa-alice for agent 48900: Kaleyra answered 200 with a body "
        "that is not JSON. The tester may or may not be registered; check the agent's testers "
        "in the Kaleyra console before registering again."
    )


def test_register_rejects_bad_phone_before_any_request(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    with pytest.raises(PhoneNumberError):
        client.register_tester(AGENT, "+91 9530O 00092")
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("agent", ["", "  ", "48 900", None, True])
def test_agent_number_is_checked(client: KaleyraClient, agent: Any) -> None:
    with pytest.raises(ValueError, match="agent number"):
        client.register_tester(agent, PHONE)
    with pytest.raises(ValueError, match="agent number"):
        client.list_testers(agent)


# -- register: error statuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (
            400,
            {"code": "RCS904", "message": "Missing or invalid fields"},
            InvalidRequestError,
            "RCS904",
        ),
        (400, {"code": "RCS601", "message": "RCS not enabled"}, InvalidRequestError, "RCS601"),
        (400, {"code": "RCS701", "message": "Invalid JSON"}, InvalidRequestError, "RCS701"),
        (401, {"code": 401, "message": "Unauthorized"}, AuthenticationError, "401"),
        (403, {"error": {"code": "E403", "message": "Forbidden"}}, AuthenticationError, "E403"),
        (404, {"code": "RCS904", "message": "Agent Not Found"}, InvalidRequestError, "RCS904"),
        (409, {"message": "Conflict (Subject already)"}, AlreadyRegisteredError, None),
        (413, {}, InvalidRequestError, None),
        (429, {"message": "Throttling"}, RateLimitedError, None),
        (500, {"code": "RCS500"}, ServerError, "RCS500"),
        (502, {"code": "RCS502"}, ServerError, "RCS502"),
        (503, {"message": "Temporal error, try again later"}, ServerError, None),
        (504, {}, ServerError, None),
    ],
)
def test_register_error_statuses(
    rsps: responses.RequestsMock,
    client: KaleyraClient,
    status: int,
    body: dict[str, Any],
    cls: type[KaleyraError],
    code: str | None,
) -> None:
    rsps.post(REGISTER_URL, json=body, status=status, headers={"X-Request-Id": "req-9"})
    with pytest.raises(cls) as info:
        client.register_tester(AGENT, PHONE, label="qa-alice")
    e = info.value
    assert type(e) is cls
    assert (e.status, e.code, e.method, e.request_id) == (status, code, "POST", "req-9")
    assert e.path == "/v1/SID1/rcs/agenttester/register"
    assert str(e).startswith("Unable to register tester qa-alice for agent 48900: ")


def test_register_403_text(rsps: responses.RequestsMock, client: KaleyraClient) -> None:
    rsps.post(REGISTER_URL, json={}, status=403)
    with pytest.raises(AuthenticationError) as info:
        client.register_tester(AGENT, PHONE, label="qa-alice")
    assert str(info.value) == (
        "Unable to register tester qa-alice for agent 48900: Kaleyra refused access (403): the "
        "api-key lacks permission for this account or the RCS channel is not enabled. Check "
        "kaleyra:sid and kaleyra:apiKey belong to the same account; to enable RCS, contact your "
        "Kaleyra representative."
    )


def test_register_without_label_shows_masked_phone(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    rsps.post(REGISTER_URL, json={}, status=401)
    with pytest.raises(AuthenticationError) as info:
        client.register_tester(AGENT, PHONE)
    assert str(info.value) == (
        "Unable to register tester 91953XXXXX92 for agent 48900: Kaleyra rejected the api-key "
        "(401). Set kaleyra:apiKey to the account's api-key."
    )


def test_register_429_carries_retry_after(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    rsps.post(REGISTER_URL, json={}, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as info:
        client.register_tester(AGENT, PHONE, label="qa-alice")
    assert info.value.retry_after == 3600.0
    assert "Retry in 1 h;" in str(info.value)


def test_redirect_is_not_followed(rsps: responses.RequestsMock, client: KaleyraClient) -> None:
    rsps.post(REGISTER_URL, status=301, headers={"Location": "https://evil.example/steal"})
    with pytest.raises(UnparseableResponseError, match="redirects are not followed"):
        client.register_tester(AGENT, PHONE)
    assert len(rsps.calls) == 1


# -- transport errors (responses raises them from the adapter) ------------------------------


@pytest.mark.parametrize(
    ("exc", "method", "text"),
    [
        (
            requests.exceptions.ConnectTimeout(),
            "POST",
            "Unable to register tester qa-alice for agent 48900: could not connect to "
            "rcs-api.in.kaleyra.io within the 5s connect timeout. Check network access to "
            "https://rcs-api.in.kaleyra.io (proxy, firewall, DNS) and kaleyra:pod / "
            "kaleyra:baseUrl.",
        ),
        (
            requests.exceptions.ReadTimeout(),
            "POST",
            "Unable to register tester qa-alice for agent 48900: rcs-api.in.kaleyra.io did not "
            "answer within the 30s read timeout. The registration may have reached Kaleyra; "
            "check the agent's tester list before registering again.",
        ),
        (
            requests.exceptions.ReadTimeout(),
            "GET",
            "Unable to list the testers of agent 48900: rcs-api.in.kaleyra.io did not answer "
            "within the 30s read timeout. Retry later; if Kaleyra is slow, raise "
            "kaleyra:readTimeout.",
        ),
        (
            requests.exceptions.SSLError(),
            "GET",
            "Unable to list the testers of agent 48900: the TLS certificate of "
            "rcs-api.in.kaleyra.io could not be verified. Check kaleyra:baseUrl and the system "
            "CA certificates (REQUESTS_CA_BUNDLE); certificate verification cannot be disabled.",
        ),
        (
            requests.exceptions.ConnectionError(ConnectionResetError()),
            "GET",
            "Unable to list the testers of agent 48900: the connection to rcs-api.in.kaleyra.io "
            "failed (connection reset). Retry later; if Kaleyra is slow, raise "
            "kaleyra:readTimeout.",
        ),
        (
            requests.exceptions.ChunkedEncodingError(),
            "GET",
            "Unable to list the testers of agent 48900: the request to rcs-api.in.kaleyra.io "
            "failed (ChunkedEncodingError). Retry later; if Kaleyra is slow, raise "
            "kaleyra:readTimeout.",
        ),
    ],
)
def test_transport_errors(
    rsps: responses.RequestsMock,
    client: KaleyraClient,
    exc: Exception,
    method: str,
    text: str,
) -> None:
    with pytest.raises(TransportError) as info:
        if method == "POST":
            rsps.post(REGISTER_URL, body=exc)
            client.register_tester(AGENT, PHONE, label="qa-alice")
        else:
            rsps.get(LIST_URL, body=exc)
            client.list_testers(AGENT)
    assert str(info.value) == text
    assert info.value.status is None
    assert info.value.method == method
    assert info.value.__cause__ is exc


# -- body limits ----------------------------------------------------------------------------


def test_response_at_the_limit_is_read(rsps: responses.RequestsMock) -> None:
    body = json.dumps({"data": {"id": "x" * 50}}).encode()
    rsps.post(REGISTER_URL, body=body)
    with KaleyraClient(settings(max_response_bytes=len(body))) as c:
        assert c.register_tester(AGENT, PHONE).id == "x" * 50


def test_response_too_large(rsps: responses.RequestsMock) -> None:
    body = json.dumps({"data": {"id": "x" * 50}}).encode()
    rsps.post(REGISTER_URL, body=body)
    with (
        KaleyraClient(settings(max_response_bytes=len(body) - 1)) as c,
        pytest.raises(TransportError) as info,
    ):
        c.register_tester(AGENT, PHONE, label="qa-alice")
    assert str(info.value) == (
        f"Unable to register tester qa-alice for agent 48900: the response was larger than "
        f"{len(body) - 1} bytes. Check kaleyra:baseUrl points at the Kaleyra RCS API; raise "
        "kaleyra:maxResponseBytes if the answer is legitimately that large."
    )


def test_declared_content_length_too_large(rsps: responses.RequestsMock) -> None:
    list_reply(rsps, body=b"[]", headers={"Content-Length": "2000000"})
    with KaleyraClient(settings()) as c, pytest.raises(TransportError, match="larger than"):
        c.list_testers(AGENT)


def test_error_bodies_are_capped_too(rsps: responses.RequestsMock) -> None:
    rsps.post(REGISTER_URL, status=500, body=b"x" * 5000)
    with (
        KaleyraClient(settings(max_response_bytes=1000)) as c,
        pytest.raises(TransportError, match="larger than 1000 bytes") as info,
    ):
        c.register_tester(AGENT, PHONE)
    assert info.value.status == 500


# -- list -----------------------------------------------------------------------------------

APPROVED = TesterRecord(phoneno=PHONE, status="Approved", id="t1")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([{"phoneno": PHONE, "status": "Approved", "id": "t1"}], [APPROVED]),
        (
            {"data": [{"phone_no": "+91 95300 00092", "test_status": "Pending"}]},
            [TesterRecord(PHONE, "Pending", None)],
        ),
        (
            {"data": {"testers": [{"phone": int(PHONE), "device_status": "X", "tester_id": 7}]}},
            [TesterRecord(PHONE, "X", "7")],
        ),
        (
            {
                "testers": [
                    {
                        "msisdn": "91-95300-00092",
                        "tester_status": "Approved",
                        "registration_id": "r",
                    }
                ]
            },
            [TesterRecord(PHONE, "Approved", "r")],
        ),
        ({"data": {"items": [{"number": "(+91) 95300.00092"}]}}, [TesterRecord(PHONE, None, None)]),
        (
            {
                "code": "RCS200",
                "message": "ok",
                "data": [{"phoneno": PHONE, "status": "Approved", "id": "t1"}],
            },
            [APPROVED],
        ),
        (
            [{"phoneno": None, "phone": PHONE, "status": 3, "id": True}],
            [TesterRecord(PHONE, "3", None)],
        ),
        ([{"phoneno": "9530000092"}], [TesterRecord("9530000092", None, None)]),
        (
            [{"phoneno": PHONE}, {"phoneno": "+44 20 7946 0958", "status": "Pending"}],
            [TesterRecord(PHONE, None, None), TesterRecord("442079460958", "Pending", None)],
        ),
        ([], []),
        ({"data": []}, []),
        ({"data": {"testers": []}}, []),
        ({"testers": []}, []),
    ],
)
def test_list_body_variants(
    rsps: responses.RequestsMock, client: KaleyraClient, body: Any, expected: list[TesterRecord]
) -> None:
    list_reply(rsps, json=body)
    assert client.list_testers(AGENT) == expected


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "with a body that is not JSON"),
        (b"<html>oops</html>", "with a body that is not JSON"),
        (b"{}", "without a tester list"),
        (b'{"data": {}}', "without a tester list"),
        (b'{"data": null}', "without a tester list"),
        (b'"testers"', "without a tester list"),
        (b"42", "without a tester list"),
        (b'{"code": "RCS903", "message": "fetched"}', "without a tester list (RCS903 fetched)"),
        (b"[1, 2]", "item 0 of the tester list is a JSON int, not an object"),
        (b'[["919530000092"]]', "item 0 of the tester list is a JSON list, not an object"),
        (b'[{"status": "Approved"}]', "item 0 of the tester list has no phone number"),
        (b'[{"phoneno": "91953XXXXX92"}]', "masked or malformed"),
        (b'[{"phoneno": true}]', "masked or malformed"),
        (b'[{"phoneno": ""}]', "masked or malformed"),
        (b'[{"phoneno": {"n": 1}}]', "masked or malformed"),
        (b'[{"phoneno": "919530000092"}, {"id": 2}]', "item 1 of the tester list has no phone"),
    ],
)
def test_list_unparseable_bodies(
    rsps: responses.RequestsMock, client: KaleyraClient, body: bytes, fragment: str
) -> None:
    list_reply(rsps, body=body)
    with pytest.raises(UnparseableResponseError) as info:
        client.list_testers(AGENT, label="qa-alice")
    assert str(info.value).startswith(
        "Unable to look up tester qa-alice in the tester list of agent 48900: "
    )
    assert info.value.status == 200
    assert fragment in str(info.value)
    assert PHONE not in str(info.value)


def test_list_unparseable_text_is_pinned(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    list_reply(rsps, json={"data": {"count": 2}})
    with pytest.raises(UnparseableResponseError) as info:
        client.list_testers(AGENT)
    assert str(info.value) == (
        "Unable to list the testers of agent 48900: Kaleyra answered 200 without a tester list. "
        "Nothing was concluded from it; check kaleyra:listPath and kaleyra:listMethod against "
        "Kaleyra's docs, or report the response shape."
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (404, InvalidRequestError),
        (429, RateLimitedError),
        (503, ServerError),
    ],
)
def test_list_error_statuses(
    rsps: responses.RequestsMock, client: KaleyraClient, status: int, cls: type[KaleyraError]
) -> None:
    list_reply(rsps, json={"code": "RCS904", "message": "Agent Not Found"}, status=status)
    with pytest.raises(cls) as info:
        client.list_testers(AGENT)
    assert info.value.method == "GET"
    assert info.value.path == "/v1/SID1/rcs/agenttester/testersbyagent"
    assert str(info.value).startswith("Unable to list the testers of agent 48900: ")


@pytest.mark.parametrize("list_method", ["get", "post"])
def test_agent_not_found_on_a_list_call_does_not_mention_a_phone(
    rsps: responses.RequestsMock, list_method: str
) -> None:
    reply = getattr(rsps, list_method)
    reply(LIST_URL, json={"code": "RCS904", "message": "Agent Not Found"}, status=400)
    with (
        KaleyraClient(settings(list_method=list_method)) as c,
        pytest.raises(InvalidRequestError) as info,
    ):
        c.list_testers(AGENT)
    assert str(info.value) == (
        "Unable to list the testers of agent 48900: Kaleyra reported an unknown agent "
        "(400 RCS904: Agent Not Found). Check the agent number (the agent's service code in "
        "the Kaleyra console)."
    )


def test_agent_not_found_on_a_register_call_names_agent_and_phone(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    rsps.post(REGISTER_URL, json={"code": "RCS904", "message": "Agent Not Found"}, status=400)
    with pytest.raises(InvalidRequestError) as info:
        client.register_tester(AGENT, PHONE, label="qa-alice")
    assert str(info.value).endswith(
        "Kaleyra reported a missing or invalid field, or an unknown agent "
        "(400 RCS904: Agent Not Found). Check the agent number (the agent's service code in "
        "the Kaleyra console) and the phone number."
    )


def test_list_via_post(rsps: responses.RequestsMock) -> None:
    rsps.post(
        LIST_URL,
        json={"data": [{"phoneno": PHONE}]},
        match=[
            matchers.header_matcher(HEADERS),
            matchers.query_param_matcher({"agent_number": AGENT}),
            matchers.json_params_matcher({"agent_number": AGENT}),
        ],
    )
    with KaleyraClient(settings(list_method="post")) as c:
        assert c.list_testers(AGENT) == [TesterRecord(PHONE, None, None)]


def test_list_get_sends_no_body(rsps: responses.RequestsMock, client: KaleyraClient) -> None:
    list_reply(rsps, json=[])
    client.list_testers(AGENT)
    assert rsps.calls[0].request.body is None


# -- URLs, paths and settings ---------------------------------------------------------------


def test_path_overrides_and_sid_quoting(rsps: responses.RequestsMock) -> None:
    rsps.post("https://rcs-api.na.kaleyra.ai/v1/a%2Fb%20c/rcs/agent/registerTester", json=SUCCESS)
    rsps.get(
        "https://rcs-api.na.kaleyra.ai/wsgw/v1/agent/testersbyagent",
        json=[],
        match=[matchers.query_param_matcher({"agent_number": AGENT})],
    )
    s = settings(
        sid="a/b c",
        pod="na",
        base_url="https://rcs-api.na.kaleyra.ai/",
        register_path="/v1/{sid}/rcs/agent/registerTester",
        list_path="/wsgw/v1/agent/testersbyagent",
    )
    with KaleyraClient(s) as c:
        assert c.register_tester(AGENT, PHONE).id
        assert c.list_testers(AGENT) == []


@pytest.mark.parametrize(
    ("pod", "base_url", "expected"),
    [
        ("in", None, "https://rcs-api.in.kaleyra.io"),
        ("na", None, "https://rcs-api.na.kaleyra.io"),
        (" NA ", None, "https://rcs-api.na.kaleyra.io"),
        ("in", "https://proxy.example/kaleyra/", "https://proxy.example/kaleyra"),
        (None, "https://rcs-api.na.kaleyra.ai", "https://rcs-api.na.kaleyra.ai"),
        ("sandbox", "http://127.0.0.1:8766", "http://127.0.0.1:8766"),
        ("sandbox", "http://127.5.5.5:1", "http://127.5.5.5:1"),
        ("sandbox", "http://[::1]:8766/", "http://[::1]:8766"),
        ("sandbox", "http://localhost:8766", "http://localhost:8766"),
        ("sandbox", "HTTP://LOCALHOST:8766", "http://LOCALHOST:8766"),
        ("sandbox", "https://sandbox.example", "https://sandbox.example"),
    ],
)
def test_base_url_resolution(pod: str | None, base_url: str | None, expected: str) -> None:
    with KaleyraClient(settings(pod=pod, base_url=base_url)) as c:
        assert c.base_url == expected
    assert POD_BASE_URLS == {
        "in": "https://rcs-api.in.kaleyra.io",
        "na": "https://rcs-api.na.kaleyra.io",
    }


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"pod": "sandbox"}, "kaleyra:baseUrl", "needs a base URL"),
        ({"pod": "eu"}, "kaleyra:pod", "must be one of in, na, sandbox"),
        ({"pod": None}, "kaleyra:pod", "set it to one of in, na, sandbox, or set kaleyra:baseUrl"),
        ({"base_url": "http://rcs-api.in.kaleyra.io"}, "kaleyra:baseUrl", "loopback"),
        ({"base_url": "http://10.0.0.1:8080"}, "kaleyra:baseUrl", "not 10.0.0.1"),
        ({"base_url": "http://localhost.evil.example"}, "kaleyra:baseUrl", "loopback"),
        ({"base_url": "ftp://127.0.0.1"}, "kaleyra:baseUrl", "https://"),
        ({"base_url": "rcs-api.in.kaleyra.io"}, "kaleyra:baseUrl", "https://"),
        ({"base_url": "https://u:p@rcs-api.in.kaleyra.io"}, "kaleyra:baseUrl", "credentials"),
        ({"base_url": "https://rcs-api.in.kaleyra.io/?x=1"}, "kaleyra:baseUrl", "query"),
        ({"base_url": "https://rcs-api.in.kaleyra.io:99999"}, "kaleyra:baseUrl", "port"),
        ({"sid": " "}, "kaleyra:sid", "is not set"),
        ({"api_key": ""}, "kaleyra:apiKey", "is not set"),
        ({"api_key": "abc def"}, "kaleyra:apiKey", "cannot be sent in a header"),
        ({"api_key": "abc\r\nX-Evil: 1"}, "kaleyra:apiKey", "cannot be sent in a header"),
        ({"register_path": "v1/register"}, "kaleyra:registerPath", "must start with '/'"),
        ({"list_path": "/v1/list?x=1"}, "kaleyra:listPath", "must start with '/'"),
        ({"list_method": "PUT"}, "kaleyra:listMethod", "GET or POST"),
        ({"connect_timeout": 0}, "kaleyra:connectTimeout", "positive"),
        ({"read_timeout": -1.0}, "kaleyra:readTimeout", "positive"),
        ({"total_timeout": float("inf")}, "kaleyra:totalTimeout", "positive"),
        ({"max_retries": -1}, "kaleyra:maxRetries", "0 or more"),
        ({"max_retries": True}, "kaleyra:maxRetries", "0 or more"),
        ({"backoff_factor": -0.1}, "kaleyra:backoffFactor", "0 or more"),
        ({"backoff_max": float("nan")}, "kaleyra:backoffMax", "0 or more"),
        ({"max_retry_after": -5}, "kaleyra:maxRetryAfter", "0 or more"),
        ({"max_response_bytes": 0}, "kaleyra:maxResponseBytes", "positive"),
    ],
)
def test_invalid_settings(overrides: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings(**overrides)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert fragment in str(info.value)
    assert "abc" not in str(info.value)


def test_sandbox_without_base_url_text() -> None:
    with pytest.raises(ConfigurationError) as info:
        settings(pod="sandbox")
    assert str(info.value) == (
        "kaleyra:baseUrl: is not set: pod 'sandbox' needs a base URL (http://127.0.0.1:<port>)"
    )


def test_http_non_loopback_text() -> None:
    with pytest.raises(ConfigurationError) as info:
        settings(base_url="http://rcs-api.in.kaleyra.io")
    assert str(info.value) == (
        "kaleyra:baseUrl: http:// is only allowed for a loopback host (127.0.0.1, ::1, "
        "localhost), not rcs-api.in.kaleyra.io; use https://"
    )


def test_every_problem_is_listed() -> None:
    with pytest.raises(ConfigurationError) as info:
        settings(sid="", connect_timeout=0, list_method="PUT")
    assert info.value.key == "kaleyra:sid"
    assert str(info.value) == (
        "kaleyra:sid: is not set; "
        "kaleyra:listMethod: must be GET or POST, got 'PUT'; "
        "kaleyra:connectTimeout: must be a positive number of seconds, got 0"
    )


def test_settings_defaults_and_repr() -> None:
    s = settings()
    assert (s.register_path, s.list_path, s.list_method) == (
        DEFAULT_REGISTER_PATH,
        DEFAULT_LIST_PATH,
        "GET",
    )
    assert DEFAULT_REGISTER_PATH == "/v1/{sid}/rcs/agenttester/register"
    assert DEFAULT_LIST_PATH == "/v1/{sid}/rcs/agenttester/testersbyagent"
    assert (s.connect_timeout, s.read_timeout, s.max_retries, s.total_timeout) == (5, 30, 5, 300)
    assert (s.backoff_factor, s.backoff_max, s.max_retry_after) == (0.5, 30, 60)
    assert s.max_response_bytes == 1_048_576
    assert API_KEY not in repr(s)
    assert {f.name for f in fields(ClientSettings)} == set(CONFIG_KEYS)


def test_session_is_safe_by_construction() -> None:
    with KaleyraClient(settings()) as c:
        session = c._transport._session
        adapter = session.get_adapter(BASE)
        retry = adapter.max_retries
        assert session.trust_env is True
        assert retry.total == 5
        assert retry.raise_on_status is False
        assert retry.respect_retry_after_header is True
        assert set(retry.status_forcelist) == {429, 502, 503, 504}
        assert {"GET", "POST"} <= set(retry.allowed_methods)
        assert retry.backoff_jitter > 0
        assert adapter._pool_maxsize >= 8
        assert repr(c) == "KaleyraClient(base_url='https://rcs-api.in.kaleyra.io')"
    with KaleyraClient(settings(base_url="http://127.0.0.1:1")) as c:
        assert c._transport._session.trust_env is False  # env proxies never see loopback traffic


def test_logs_method_path_status(
    rsps: responses.RequestsMock, client: KaleyraClient, caplog: pytest.LogCaptureFixture
) -> None:
    register_ok(rsps)
    with caplog.at_level(logging.DEBUG, logger="rcs_provider.client"):
        client.register_tester(AGENT, PHONE)
    messages = [r.getMessage() for r in caplog.records if r.name == "rcs_provider.client"]
    assert "registering 91953XXXXX92 as a tester of agent 48900" in messages
    assert any(
        m.startswith("POST /v1/SID1/rcs/agenttester/register -> 200 in ") and "(attempt 1)" in m
        for m in messages
    )


# -- no secret or phone number leaks --------------------------------------------------------

ECHO = {
    "code": "RCS904",
    "message": f"bad phoneno {PHONE} for key {API_KEY}",
    "error": {"message": f"{PHONE} / +91 95300 00092 / {API_KEY}"},
    "data": {"phoneno": PHONE, "error": {"error_message": API_KEY}},
}
ECHO_STATUSES = [200, 301, 400, 401, 403, 404, 405, 409, 413, 418, 429, 500, 502, 503, 504]
TRANSPORT = [
    requests.exceptions.ConnectTimeout(),
    requests.exceptions.ReadTimeout(),
    requests.exceptions.ConnectionError(),
    requests.exceptions.SSLError(),
]


def test_the_leak_tests_key_has_no_digit_for_the_phone_mask_to_hide() -> None:
    assert not re.search(r"[0-9]", API_KEY)


def _assert_clean(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    texts = [str(exc), repr(exc), *map(str, exc.args)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(v) for v in vars(exc).values()]
    for text in texts:
        assert PHONE not in text
        assert API_KEY not in text
        assert "95300 00092" not in text


@pytest.mark.parametrize("status", ECHO_STATUSES)
@pytest.mark.parametrize("operation", ["register", "list"])
def test_no_leaks_from_error_responses(
    rsps: responses.RequestsMock,
    client: KaleyraClient,
    caplog: pytest.LogCaptureFixture,
    status: int,
    operation: str,
) -> None:
    headers = {"X-Request-Id": API_KEY, "Retry-After": "5"}
    caplog.set_level(logging.DEBUG)
    if operation == "register":
        rsps.post(REGISTER_URL, json=ECHO, status=status, headers=headers)
        with pytest.raises(KaleyraError) as info:
            client.register_tester(AGENT, "+91 95300 00092")
    else:
        list_reply(rsps, json=ECHO, status=status, headers=headers)
        with pytest.raises(KaleyraError) as info:
            client.list_testers(AGENT)
    _assert_clean(info.value, caplog)


@pytest.mark.parametrize(
    "body",
    [b"not json " + PHONE.encode() + API_KEY.encode(), json.dumps([ECHO]).encode()],
)
def test_no_leaks_from_unparseable_bodies(
    rsps: responses.RequestsMock,
    client: KaleyraClient,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(REGISTER_URL, body=body)
    list_reply(rsps, body=body)
    with pytest.raises(KaleyraError) as info:
        client.register_tester(AGENT, PHONE)
    _assert_clean(info.value, caplog)
    with pytest.raises(KaleyraError) as info:
        client.list_testers(AGENT)
    _assert_clean(info.value, caplog)


@pytest.mark.parametrize("exc", TRANSPORT, ids=lambda e: type(e).__name__)
def test_no_leaks_from_transport_errors(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture, exc: Exception
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(REGISTER_URL, body=exc)
    with KaleyraClient(settings()) as c, pytest.raises(TransportError) as info:
        c.register_tester(AGENT, PHONE)
    _assert_clean(info.value, caplog)


def test_no_leaks_from_oversized_body(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(REGISTER_URL, json=ECHO, status=400)
    with KaleyraClient(settings(max_response_bytes=10)) as c, pytest.raises(TransportError) as info:
        c.register_tester(AGENT, PHONE)
    _assert_clean(info.value, caplog)


def test_no_leaks_over_real_sockets(
    serve: Callable[..., ScriptedServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve(
        reply(503, ECHO, {"Retry-After": "0"}),
        reply(400, ECHO, {"X-Request-Id": PHONE}),
        drop(),
    )
    with KaleyraClient(fast_settings(server.url)) as c:
        with pytest.raises(InvalidRequestError) as bad:
            c.register_tester(AGENT, PHONE)
        with pytest.raises(TransportError) as dropped:
            c.register_tester(AGENT, PHONE)
    assert len(server.seen) == 3
    assert bad.value.request_id == "91953XXXXX92"
    _assert_clean(bad.value, caplog)
    _assert_clean(dropped.value, caplog)


# -- real sockets: a scripted HTTP server on 127.0.0.1 --------------------------------------

Step = Callable[[BaseHTTPRequestHandler, threading.Event], None]


def reply(status: int, body: Any = b"", headers: dict[str, str] | None = None) -> Step:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    def step(h: BaseHTTPRequestHandler, _stop: threading.Event) -> None:
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return step


def drop() -> Step:
    """Close the connection without answering."""

    def step(h: BaseHTTPRequestHandler, _stop: threading.Event) -> None:
        h.close_connection = True

    return step


def hang() -> Step:
    """Answer nothing until the test ends (the client's read timeout fires)."""

    def step(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        stop.wait(5)
        h.close_connection = True

    return step


def drip(interval: float, size: int = 200) -> Step:
    """Send headers, then one byte of the body every ``interval`` seconds."""

    def step(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(size))
        h.end_headers()
        for _ in range(size):
            if stop.wait(interval):
                return
            h.wfile.write(b" ")
            h.wfile.flush()

    return step


def stream_until_close(size: int) -> Step:
    """A body without Content-Length, ended by closing the connection."""

    def step(h: BaseHTTPRequestHandler, _stop: threading.Event) -> None:
        h.send_response(200)
        h.end_headers()
        h.wfile.write(b"[" + b" " * size + b"]")
        h.close_connection = True

    return step


class ScriptedServer:
    """Answers each request with the next scripted step; records what it received."""

    def __init__(self, steps: tuple[Step, ...], default: Step) -> None:
        self.steps = deque(steps)
        self.default = default
        self.seen: list[tuple[str, str, bytes]] = []
        self.stop = threading.Event()
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with lock:
                    outer.seen.append((self.command, self.path, body))
                    step = outer.steps.popleft() if outer.steps else outer.default
                try:
                    step(self, outer.stop)
                except OSError:
                    self.close_connection = True

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def methods(self) -> list[str]:
        return [method for method, _, _ in self.seen]

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(2)


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(*steps: Step, default: Step | None = None) -> ScriptedServer:
        server = ScriptedServer(steps, default or reply(500, {"message": "script exhausted"}))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record urllib3's backoff / Retry-After sleeps instead of sleeping."""
    calls: list[float] = []
    monkeypatch.setattr(time, "sleep", calls.append)
    return calls


def fast_settings(url: str, **overrides: Any) -> ClientSettings:
    """Short backoffs, and timeouts long enough that a loaded machine never trips one: a
    test that needs a timeout injects it (:func:`first_response_times_out`, a fake clock)."""
    values: dict[str, Any] = {
        "pod": "sandbox",
        "base_url": url,
        "connect_timeout": 10.0,
        "read_timeout": 30.0,
        "max_retries": 3,
        "backoff_factor": 0.01,
        "backoff_max": 0.05,
        "max_retry_after": 0.05,
        "total_timeout": 60.0,
    }
    values.update(overrides)
    return settings(**values)


TESTERS = [{"phoneno": PHONE, "status": "Approved", "id": "t1"}]


def test_get_retries_503_then_succeeds(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(reply(503), reply(503), reply(200, TESTERS))
    with KaleyraClient(fast_settings(server.url)) as c:
        assert c.list_testers(AGENT) == [APPROVED]
    assert server.methods == ["GET", "GET", "GET"]
    assert server.seen[0][1] == "/v1/SID1/rcs/agenttester/testersbyagent?agent_number=48900"
    # urllib3 retries the first failure at once, then backs off: 0.01 * 2 + jitter <= 0.01.
    assert len(sleeps) == 1
    assert 0.02 <= sleeps[0] <= 0.03


def test_get_retries_gateway_errors(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(reply(502), reply(504), reply(429), reply(200, []))
    with KaleyraClient(fast_settings(server.url)) as c:
        assert c.list_testers(AGENT) == []
    assert len(server.seen) == 4


def test_post_retries_503_and_429(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(reply(503), reply(429), reply(200, SUCCESS))
    with KaleyraClient(fast_settings(server.url)) as c:
        assert c.register_tester(AGENT, PHONE).id == SUCCESS["data"]["id"]
    assert server.methods == ["POST", "POST", "POST"]
    assert {body for _, _, body in server.seen} == {
        json.dumps({"phoneno": PHONE, "agent_no": AGENT}).encode()
    }


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_is_not_retried_when_kaleyra_may_have_acted(
    serve: Callable[..., ScriptedServer], sleeps: list[float], status: int
) -> None:
    server = serve(reply(status), reply(200, SUCCESS))
    with KaleyraClient(fast_settings(server.url)) as c, pytest.raises(ServerError) as info:
        c.register_tester(AGENT, PHONE)
    assert info.value.status == status
    assert info.value.attempts == 1
    assert len(server.seen) == 1
    server.steps.clear()


def test_retry_after_is_honoured(serve: Callable[..., ScriptedServer], sleeps: list[float]) -> None:
    server = serve(reply(429, {}, {"Retry-After": "2"}), reply(200, []))
    with KaleyraClient(fast_settings(server.url, max_retry_after=60)) as c:
        assert c.list_testers(AGENT) == []
    assert sleeps == [2.0]


def test_retry_after_beyond_the_cap_gives_up_at_once(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    """A daily quota answers Retry-After: hours; waiting inside one call is pointless."""
    server = serve(reply(429, {"message": "daily quota"}, {"Retry-After": "3600"}))
    server.default = reply(200, SUCCESS)
    with (
        KaleyraClient(fast_settings(server.url, max_retry_after=60)) as c,
        pytest.raises(RateLimitedError) as info,
    ):
        c.register_tester(AGENT, PHONE)
    assert sleeps == []
    assert len(server.seen) == 1
    assert info.value.retry_after == 3600
    assert "Retry in 1 h" in str(info.value)


def test_retry_after_beyond_the_cap_gives_up_at_once_with_default_settings(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    """With the defaults the total deadline (300 s) lies beyond the cap (60 s), so only the
    cap can stop the retry: no sleep, one request, the error at once."""
    server = serve(reply(429, {"message": "daily quota"}, {"Retry-After": "3600"}))
    server.default = reply(200, SUCCESS)
    defaults = settings(pod="sandbox", base_url=server.url)
    assert defaults.max_retry_after < defaults.total_timeout, "a capped wait fits the deadline"
    with KaleyraClient(defaults) as c, pytest.raises(RateLimitedError) as info:
        c.register_tester(AGENT, PHONE)
    assert sleeps == []
    assert len(server.seen) == 1
    assert info.value.retry_after == 3600
    server.steps.clear()


def test_retry_after_within_the_cap_is_waited(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(reply(429, {}, {"Retry-After": "1"}), reply(503, {}, {"Retry-After": "2"}))
    server.default = reply(200, SUCCESS)
    with KaleyraClient(fast_settings(server.url, max_retry_after=5)) as c:
        assert c.register_tester(AGENT, PHONE).id
    assert sleeps == [1.0, 2.0]
    assert len(server.seen) == 3


def test_invalid_retry_after_falls_back_to_backoff(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(reply(503, {}, {"Retry-After": "whenever"}), reply(200, []))
    with KaleyraClient(fast_settings(server.url)) as c:
        assert c.list_testers(AGENT) == []
    assert sleeps == []  # first retry: no backoff


def test_413_with_retry_after_is_not_retried(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(reply(413, {}, {"Retry-After": "1"}))
    with KaleyraClient(fast_settings(server.url)) as c, pytest.raises(InvalidRequestError):
        c.list_testers(AGENT)
    assert len(server.seen) == 1


def test_retries_exhausted(serve: Callable[..., ScriptedServer], sleeps: list[float]) -> None:
    server = serve(default=reply(503, {"message": "Temporal error, try again later"}))
    with (
        KaleyraClient(fast_settings(server.url, max_retries=2)) as c,
        pytest.raises(ServerError) as info,
    ):
        c.list_testers(AGENT)
    assert len(server.seen) == 3
    assert info.value.attempts == 3
    assert str(info.value) == (
        "Unable to list the testers of agent 48900: Kaleyra is temporarily unavailable (503: "
        "Temporal error, try again later; after 3 attempts). Retry later; if it persists, "
        "contact Kaleyra support."
    )


def test_no_retries_when_max_retries_is_zero(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(default=reply(503))
    with (
        KaleyraClient(fast_settings(server.url, max_retries=0)) as c,
        pytest.raises(ServerError),
    ):
        c.list_testers(AGENT)
    assert len(server.seen) == 1


def test_total_timeout_stops_retrying(
    serve: Callable[..., ScriptedServer], sleeps: list[float]
) -> None:
    server = serve(reply(429, {}, {"Retry-After": "30"}), reply(200, []))
    s = fast_settings(server.url, max_retry_after=60, total_timeout=1)
    with KaleyraClient(s) as c, pytest.raises(RateLimitedError) as info:
        c.list_testers(AGENT)
    assert info.value.retry_after == 30.0
    assert sleeps == []
    assert len(server.seen) == 1
    server.steps.clear()


def test_dropped_connection_get_is_retried(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(drop(), reply(200, TESTERS))
    with KaleyraClient(fast_settings(server.url)) as c:
        assert c.list_testers(AGENT) == [APPROVED]
    assert len(server.seen) == 2


def test_dropped_connection_post_is_not_resent(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(drop(), reply(200, SUCCESS))
    with KaleyraClient(fast_settings(server.url)) as c, pytest.raises(TransportError) as info:
        c.register_tester(AGENT, PHONE, label="qa-alice")
    assert len(server.seen) == 1
    host = server.url.removeprefix("http://")
    # Depending on timing the client sees a reset or an empty answer.
    assert re.fullmatch(
        rf"Unable to register tester qa-alice for agent 48900: the connection to {host} failed "
        r"\((connection reset|connection closed without a response)\)\. The registration may "
        r"have reached Kaleyra; check the agent's tester list before registering again\.",
        str(info.value),
    )
    server.steps.clear()


@pytest.fixture
def first_response_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first response's status line times out, as a socket read timeout does; no clock
    decides it, so a loaded machine cannot turn it into a pass or a different failure."""
    real = urllib3.connection.HTTPConnection.getresponse
    pending = [TimeoutError("timed out")]

    def getresponse(self: urllib3.connection.HTTPConnection) -> Any:
        if pending:
            raise pending.pop()
        return real(self)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "getresponse", getresponse)


def test_read_timeout_post_is_not_resent(
    serve: Callable[..., ScriptedServer],
    first_response_times_out: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rcs_provider.client")
    server = serve(default=reply(200, SUCCESS))  # a second POST would succeed
    with (
        KaleyraClient(fast_settings(server.url)) as c,
        pytest.raises(TransportError, match=r"did not answer within the 30s read timeout"),
    ):
        c.register_tester(AGENT, PHONE)
    assert not [r for r in caplog.records if r.getMessage().startswith("retrying")]


def test_read_timeout_get_is_retried(
    serve: Callable[..., ScriptedServer],
    first_response_times_out: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rcs_provider.client")
    server = serve(default=reply(200, []))
    with KaleyraClient(fast_settings(server.url)) as c:
        assert c.list_testers(AGENT) == []
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(retries) == 1 and "after ReadTimeoutError" in retries[0]


def test_a_read_timeout_fires_on_a_server_that_never_answers(
    serve: Callable[..., ScriptedServer],
) -> None:
    """The real socket timeout, once: the outcome holds however long the machine takes."""
    server = serve(default=hang())
    with (
        KaleyraClient(fast_settings(server.url, read_timeout=0.2, max_retries=0)) as c,
        pytest.raises(TransportError),
    ):
        c.list_testers(AGENT)


def test_connection_refused_is_retried_then_reported(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.INFO, logger="rcs_provider.client")
    with (
        KaleyraClient(fast_settings(url, max_retries=2)) as c,
        pytest.raises(TransportError) as info,
    ):
        c.register_tester(AGENT, PHONE, label="qa-alice")
    assert str(info.value) == (
        f"Unable to register tester qa-alice for agent 48900: could not connect to "
        f"127.0.0.1:{port} (connection refused). Check network access to {url} (proxy, "
        "firewall, DNS) and kaleyra:pod / kaleyra:baseUrl."
    )
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying POST")]
    assert len(retries) == 2  # a connection that was never made is safe to retry, even a POST


def test_slow_drip_body_is_cut_off(
    serve: Callable[..., ScriptedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body deadline, read on a fake clock that moves 4 s per look: the drip (4 s in
    real time) is cut after a few bytes, decided by the deadline, not by how fast it ran."""
    ticks = itertools.count(step=4.0)
    clock = types.SimpleNamespace(monotonic=lambda: next(ticks))
    monkeypatch.setattr(transport, "time", clock)  # the transport's clock only
    server = serve(drip(0.02))
    with (
        KaleyraClient(fast_settings(server.url, read_timeout=10, max_retries=0)) as c,
        pytest.raises(TransportError) as info,
    ):
        c.list_testers(AGENT)
    assert "sent the response too slowly (not complete within the 10s read timeout)" in str(
        info.value
    )


def test_oversized_streamed_body(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(stream_until_close(5000))
    with (
        KaleyraClient(fast_settings(server.url, max_response_bytes=1000)) as c,
        pytest.raises(TransportError, match="larger than 1000 bytes"),
    ):
        c.list_testers(AGENT)


def test_concurrent_calls_share_one_session(serve: Callable[..., ScriptedServer]) -> None:
    server = serve(default=reply(200, TESTERS))
    with (
        KaleyraClient(fast_settings(server.url)) as c,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        results = list(pool.map(lambda _: c.list_testers(AGENT), range(40)))
    assert results == [[APPROVED]] * 40
    assert len(server.seen) == 40


def test_headers_over_real_sockets(serve: Callable[..., ScriptedServer]) -> None:
    seen: dict[str, str] = {}

    def capture(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        seen.update(h.headers.items())
        reply(200, SUCCESS)(h, stop)

    server = serve(capture)
    with KaleyraClient(fast_settings(server.url)) as c:
        c.register_tester(AGENT, PHONE)
    assert seen["api-key"] == API_KEY
    assert seen["Content-Type"] == "application/json"
    assert seen["Accept"] == "application/json"
    assert seen["User-Agent"] == f"rcs-testers/{__version__}"
    assert "Cookie" not in seen
