"""The typed error tree and the one status -> error map (rcs_provider._kaleyra.errors)."""

from __future__ import annotations

import ast
import json
import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

import rcs_provider._kaleyra.errors as errors_module
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
from rcs_provider._kaleyra.parsing import extract_code_and_message
from rcs_provider._kaleyra.retries import format_seconds, parse_retry_after
from rcs_provider._kaleyra.statuses import error_from_response

ACTION = "register tester qa-alice for agent 48900"
URL = "https://rcs-api.in.kaleyra.io/v1/SID1/rcs/agenttester/register?agent_number=48900"
API_KEY = "SECRET-KEY-123456789abcdef"


def response(
    status: int,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw_body: bytes | None = None,
    method: str = "POST",
) -> requests.Response:
    """A finished ``requests.Response`` as the client hands it to error_from_response."""
    resp = requests.Response()
    resp.status_code = status
    resp._content = raw_body if raw_body is not None else json.dumps(body).encode()
    resp.headers = CaseInsensitiveDict(headers or {})
    resp.url = URL
    resp.request = requests.Request(method, URL, headers={"api-key": API_KEY}).prepare()
    return resp


def err(status: int, body: Any = None, **kwargs: Any) -> KaleyraError:
    return error_from_response(response(status, body, **kwargs), action=ACTION)


# -- exact wording -------------------------------------------------------------------------


def test_401_text_is_pinned() -> None:
    e = err(401, {"code": 401, "message": "Invalid API key"})
    assert type(e) is AuthenticationError
    assert str(e) == (
        "Unable to register tester qa-alice for agent 48900: Kaleyra rejected the api-key (401). "
        "Set kaleyra:apiKey to the account's api-key."
    )


def test_400_rcs904_text_is_pinned() -> None:
    e = err(400, {"code": "RCS904", "message": "Agent Not Found", "data": {}, "error": {}})
    assert type(e) is InvalidRequestError
    assert str(e) == (
        "Unable to register tester qa-alice for agent 48900: Kaleyra reported a missing or "
        "invalid field, or an unknown agent (400 RCS904: Agent Not Found). Check the agent "
        "number (the agent's service code in the Kaleyra console) and the phone number."
    )


def test_429_text_is_pinned() -> None:
    e = err(429, {"message": "Throttling"}, headers={"Retry-After": "120"})
    assert type(e) is RateLimitedError
    assert e.retry_after == 120.0
    assert str(e) == (
        "Unable to register tester qa-alice for agent 48900: Kaleyra is throttling requests "
        "(429: Throttling); the agent may have used its daily tester invitation quota (Google "
        "RBM allows 20 new testers per agent per day). Retry in 2 min; if the daily quota is "
        "used up, retry tomorrow or spread new testers over several days."
    )


def test_503_text_names_the_request_id() -> None:
    e = err(503, {"message": "Temporal error, try again later"}, headers={"X-Request-Id": "r-1"})
    assert type(e) is ServerError
    assert e.request_id == "r-1"
    assert str(e) == (
        "Unable to register tester qa-alice for agent 48900: Kaleyra is temporarily unavailable "
        "(503: Temporal error, try again later). Retry later; if it persists, contact Kaleyra "
        "support quoting request id r-1."
    )


# -- status map -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls", "fragment"),
    [
        (400, {"code": "RCS904", "message": "Missing field"}, InvalidRequestError, "agent number"),
        (400, {"code": "RCS601", "message": "x"}, InvalidRequestError, "Contact your Kaleyra"),
        (400, {"code": "RCS701", "message": "bad json"}, InvalidRequestError, "not parse"),
        (400, {"message": "nope"}, InvalidRequestError, "rejected the request (400: nope)"),
        (401, {}, AuthenticationError, "kaleyra:apiKey"),
        (403, {}, AuthenticationError, "lacks permission"),
        (403, {}, AuthenticationError, "RCS channel is not enabled"),
        (404, {}, InvalidRequestError, "kaleyra:baseUrl"),
        (404, {"code": "RCS904", "message": "Agent Not Found"}, InvalidRequestError, "agent"),
        (405, {"code": "RCS405"}, InvalidRequestError, "does not allow POST"),
        (409, {"message": "Conflict"}, AlreadyRegisteredError, "already a tester"),
        (413, {}, InvalidRequestError, "too large"),
        (418, {}, InvalidRequestError, "rejected the request (418)"),
        (422, {}, InvalidRequestError, "rejected the request (422)"),
        (429, {}, RateLimitedError, "20 new testers per agent per day"),
        (500, {"code": "RCS500"}, ServerError, "internal error (500 RCS500)"),
        (501, {}, ServerError, "internal error (501)"),
        (502, {"code": "RCS502"}, ServerError, "gateway"),
        (503, {}, ServerError, "temporarily unavailable"),
        (504, {}, ServerError, "timed out"),
        (302, {}, UnparseableResponseError, "redirects are not followed"),
        (101, {}, UnparseableResponseError, "unexpected HTTP status"),
    ],
)
def test_status_map(status: int, body: Any, cls: type[KaleyraError], fragment: str) -> None:
    e = err(status, body)
    assert type(e) is cls
    assert e.status == status
    assert str(e).startswith(f"Unable to {ACTION}: ")
    assert fragment in str(e)


def test_tree() -> None:
    assert issubclass(AlreadyRegisteredError, InvalidRequestError)
    for cls in (
        AuthenticationError,
        InvalidRequestError,
        RateLimitedError,
        ServerError,
        TransportError,
        UnparseableResponseError,
    ):
        assert issubclass(cls, KaleyraError)
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(ConfigurationError, KaleyraError), "one root for everything the client raises"


# -- lenient body parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"code": "RCS904", "message": "m"}, "RCS904", "m"),
        ({"code": 400, "message": "m"}, "400", "m"),
        ({"error": {"code": "RCS601", "message": "not enabled"}}, "RCS601", "not enabled"),
        ({"error": {"code": 4001, "message": "m"}}, "4001", "m"),
        (
            {"data": {"error": {"error_code": "E110", "error_message": "bad agent"}}},
            "E110",
            "bad agent",
        ),
        ({"error": "plain error text"}, None, "plain error text"),
        ({"code": 400, "error": {"code": "RCS904", "message": "m"}}, "RCS904", "m"),
        ({"code": True, "message": ""}, None, ""),
        ("just a string", None, "just a string"),
        ([1, 2], None, ""),
        (None, None, ""),
    ],
)
def test_body_shapes(body: Any, code: str | None, message: str) -> None:
    assert extract_code_and_message(body) == (code, message)
    e = err(400, body)
    assert e.code == code
    assert e.message == message


def test_non_json_body_is_tolerated() -> None:
    e = err(502, raw_body=b"<html><body>Bad Gateway</body></html>")
    assert type(e) is ServerError
    assert e.message == ""
    assert e.code is None


def test_invalid_utf8_body_is_tolerated() -> None:
    assert err(500, raw_body=b"\xff\xfe{").message == ""


def test_context_fields() -> None:
    e = err(
        404,
        {"code": "RCS904", "message": "Agent Not Found"},
        headers={"x-kaleyra-request-id": "abc-123"},
    )
    assert (e.method, e.path, e.request_id, e.action) == (
        "POST",
        "/v1/SID1/rcs/agenttester/register",
        "abc-123",
        ACTION,
    )
    assert e.retry_after is None
    assert e.attempts == 1
    assert "agent_number" not in repr(e)


@pytest.mark.parametrize("header", ["X-Request-Id", "X-Kaleyra-Request-Id", "Request-Id"])
def test_request_id_headers(header: str) -> None:
    assert err(500, headers={header: " id-7 "}).request_id == "id-7"


def test_request_id_is_sanitised() -> None:
    assert err(500, headers={"X-Request-Id": "a b\tc<script>"}).request_id == "abcscript"


def test_message_is_redacted_and_shortened() -> None:
    body = {"message": f"phone 919530000092 with key {API_KEY} " + "x" * 500}
    e = err(400, body)
    assert "919530000092" not in e.message
    assert "91953XXXXX92" in e.message
    assert API_KEY not in e.message
    assert "[redacted]" in e.message
    assert len(e.message) <= 200


def test_code_is_redacted() -> None:
    e = err(400, {"code": 919530000092, "message": "x"})
    assert e.code == "91953XXXXX92"
    assert "919530000092" not in str(e)
    assert err(400, {"code": API_KEY}).code == "[redacted]"


def test_extra_secrets_are_redacted() -> None:
    resp = response(400, {"message": "token hunter2 is wrong"})
    e = error_from_response(resp, action=ACTION, secrets=["hunter2"])
    assert "hunter2" not in str(e)


def test_action_is_redacted() -> None:
    e = error_from_response(response(401), action="register tester 919530000092 for agent 48900")
    assert "919530000092" not in str(e)
    assert e.action == "register tester 91953XXXXX92 for agent 48900"


# -- Retry-After ----------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    soon = datetime.now(UTC) + timedelta(seconds=90)
    assert 80 <= (parse_retry_after(format_datetime(soon, usegmt=True)) or 0) <= 91
    past = datetime.now(UTC) - timedelta(days=1)
    assert parse_retry_after(format_datetime(past, usegmt=True)) == 0.0


def test_429_without_retry_after_says_later() -> None:
    e = err(429)
    assert e.retry_after is None
    assert "Retry later;" in str(e)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.5, "0.5s"), (5.0, "5s"), (30, "30s"), (120, "2 min"), (7200, "2 h")]
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


# -- the error objects themselves -----------------------------------------------------------


def test_str_args_and_repr() -> None:
    e = TransportError(
        "could not connect to host.example within the 5s connect timeout.",
        action="list the testers of agent 48900",
        hint="Check the network.",
        method="GET",
        path="/v1/x",
    )
    assert str(e) == (
        "Unable to list the testers of agent 48900: could not connect to host.example within "
        "the 5s connect timeout. Check the network."
    )
    assert e.args == (str(e),)
    assert repr(e).startswith("TransportError(status=None, code=None, method='GET'")


def test_without_hint() -> None:
    assert str(KaleyraError("it broke", action="do X")) == "Unable to do X: it broke."


def test_errors_pickle() -> None:
    e = err(429, {"code": "RCS429", "message": "slow down"}, headers={"Retry-After": "5"})
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is RateLimitedError
    assert str(back) == str(e)
    assert (back.status, back.code, back.retry_after) == (429, "RCS429", 5.0)


def test_configuration_error_names_the_key() -> None:
    e = ConfigurationError("kaleyra:baseUrl: must use https", key="kaleyra:baseUrl")
    assert e.key == "kaleyra:baseUrl"
    assert "kaleyra:baseUrl" in str(e)


def test_the_error_tree_imports_nothing_from_the_package() -> None:
    """errors.py is the client's leaf: every other module may import it, it imports none."""
    tree = ast.parse(Path(errors_module.__file__ or "").read_text(encoding="utf-8"))
    imported = [
        node.module or "."
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.level or "rcs_provider" in (node.module or ""))
    ]
    imported += [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("rcs_provider")
    ]
    assert imported == []
