"""The project's KaleyraClient against the sandbox: retries get it through injected faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from rcs_provider._kaleyra.client import KaleyraClient
from rcs_provider._kaleyra.errors import (
    AlreadyRegisteredError,
    AuthenticationError,
    InvalidRequestError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from rcs_provider._kaleyra.parsing import Registration
from rcs_provider._kaleyra.settings import ClientSettings

AGENT = "48900"
PHONE = "919530000092"


@pytest.fixture
def make_client(sandbox) -> Iterator[Any]:
    """Build clients for the sandbox (fast backoff); all are closed after the test."""
    clients: list[KaleyraClient] = []

    def make(**overrides: Any) -> KaleyraClient:
        options: dict[str, Any] = {
            "sid": sandbox.sid,
            "api_key": sandbox.api_key,
            "base_url": sandbox.url,
            "max_retries": 5,
            "backoff_factor": 0.01,
            "backoff_max": 0.05,
            "read_timeout": 5.0,
            **overrides,
        }
        client = KaleyraClient(ClientSettings(**options))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client) -> KaleyraClient:
    return make_client()


def test_register_and_list_round_trip(client, sandbox):
    registration = client.register_tester(AGENT, PHONE)
    [record] = client.list_testers(AGENT)

    assert isinstance(registration, Registration)
    assert (registration.phoneno, registration.agent_no, registration.code) == (
        PHONE,
        AGENT,
        "RCS902",
    )
    assert registration.override_dcs_check is False
    assert registration.id == sandbox.registrations()[0]["id"]
    assert (record.phoneno, record.status, record.id) == (PHONE, "Unverified", registration.id)


@pytest.mark.parametrize("list_method", ["GET", "POST"])
def test_alias_paths_and_post_listing(make_client, sandbox, list_method):
    client = make_client(
        register_path="/v1/{sid}/rcs/agent/registerTester",
        list_path="/v1/{sid}/rcs/agent/testersbyagent",
        list_method=list_method,
    )
    sandbox.add_registration(AGENT, "919530000093", "Approved")

    client.register_tester(AGENT, PHONE)
    records = {r.phoneno: r.status for r in client.list_testers(AGENT)}

    assert records == {"919530000093": "Approved", PHONE: "Unverified"}


def test_register_gets_through_injected_503s(client, sandbox):
    sandbox.set_faults(script=[503, 503, 503])

    registration = client.register_tester(AGENT, PHONE)

    stats = sandbox.stats()
    assert (stats["register_calls"], stats["register_created"]) == (4, 1)
    assert stats["errors_injected"]["5xx"] == 3
    assert sandbox.registrations()[0]["id"] == registration.id


def test_register_gets_through_429s_honouring_retry_after(client, sandbox, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)  # urllib3's wait, recorded, not slept
    sandbox.set_faults(script=[429], retry_after=1)

    client.register_tester(AGENT, PHONE)

    assert waits == [1.0], "waited for Retry-After: 1, nothing else"
    assert sandbox.stats()["errors_injected"]["429"] == 1
    assert len(sandbox.registrations()) == 1


def test_register_gets_through_random_throttling(client, sandbox):
    sandbox.set_faults(rate_limit_rate=0.4, retry_after=0, seed=3)
    phones = [str(919_530_000_100 + i) for i in range(10)]

    for phone in phones:
        client.register_tester(AGENT, phone)

    stats = sandbox.stats()
    assert stats["register_created"] == 10
    assert stats["errors_injected"]["429"] > 0
    assert stats["register_calls"] == 10 + stats["errors_injected"]["429"]


def test_list_gets_through_502_503_504_and_dropped_connections(client, sandbox):
    sandbox.add_registration(AGENT, PHONE)
    sandbox.set_faults(script=[502, 503, "drop", 504, 429], retry_after=0)

    [record] = client.list_testers(AGENT)

    assert record.phoneno == PHONE
    assert sandbox.stats()["list_calls"] == 6


def test_too_many_503s_end_in_server_error(make_client, sandbox):
    client = make_client(max_retries=2)
    sandbox.set_faults(force_status=503)

    with pytest.raises(ServerError) as caught:
        client.register_tester(AGENT, PHONE)

    assert caught.value.status == 503
    assert sandbox.stats()["register_calls"] == 3
    assert sandbox.registrations() == []


def test_dropped_register_is_not_resent_and_surfaces_as_transport_error(client, sandbox):
    sandbox.set_faults(script=["drop"])

    with pytest.raises(TransportError) as caught:
        client.register_tester(AGENT, PHONE)

    assert sandbox.stats()["register_calls"] == 1  # a POST that may have landed is not re-sent
    assert PHONE not in str(caught.value)


def test_lost_registration_is_not_resent_and_then_conflicts(client, sandbox):
    sandbox.set_faults(script=["lost"])

    with pytest.raises(ServerError) as lost:
        client.register_tester(AGENT, PHONE)
    with pytest.raises(AlreadyRegisteredError) as again:
        client.register_tester(AGENT, PHONE)

    assert lost.value.status == 504
    assert sandbox.stats()["register_calls"] == 2
    assert again.value.status == 409
    assert PHONE not in str(again.value)
    assert [r.id for r in client.list_testers(AGENT)] == [sandbox.registrations()[0]["id"]]


def test_wrong_api_key_is_authentication_error(make_client):
    client = make_client(api_key="wrong-key")

    with pytest.raises(AuthenticationError) as caught:
        client.list_testers(AGENT)

    assert caught.value.status == 401
    assert "wrong-key" not in str(caught.value)


def test_unknown_agent_is_invalid_request_error(client):
    with pytest.raises(InvalidRequestError) as caught:
        client.register_tester("11111", PHONE)

    assert (caught.value.status, caught.value.code) == (400, "RCS904")
    assert not isinstance(caught.value, AlreadyRegisteredError)


def test_daily_quota_is_rate_limited_error_with_retry_after(make_client, sandbox):
    client = make_client(max_retries=0)
    sandbox.set_time(1_767_225_540)  # 2025-12-31T23:59:00Z, a minute before the UTC midnight
    sandbox.set_faults(daily_quota=1)
    client.register_tester(AGENT, PHONE)

    with pytest.raises(RateLimitedError) as caught:
        client.register_tester(AGENT, "919530000093")

    assert caught.value.status == 429
    assert caught.value.retry_after == 60
    assert "Retry in 1 min" in str(caught.value)


def test_errors_never_repeat_echoed_secrets_or_phone_numbers(make_client, sandbox):
    client = make_client(max_retries=0)
    sandbox.set_faults(echo_request_in_errors=True, force_status=400)

    with pytest.raises(InvalidRequestError) as caught:
        client.register_tester(AGENT, PHONE)

    assert caught.value.status == 400
    for text in (str(caught.value), repr(caught.value), caught.value.message):
        assert sandbox.api_key not in text
        assert PHONE not in text


def test_oversized_answer_is_transport_error(make_client, sandbox):
    client = make_client(max_response_bytes=2000)
    sandbox.set_faults(oversize_body_bytes=5000)

    with pytest.raises(TransportError, match="larger than 2000 bytes"):
        client.list_testers(AGENT)


def test_answer_dripping_past_the_read_timeout_is_transport_error(make_client, sandbox):
    client = make_client(read_timeout=0.3, max_retries=0)
    sandbox.set_faults(slow_body_bytes_per_sec=100, oversize_body_bytes=300)

    with pytest.raises(TransportError, match="too slowly"):
        client.list_testers(AGENT)


def test_errors_inside_200s_fail_as_their_status_would(client, sandbox):
    sandbox.add_registration(AGENT, PHONE)
    sandbox.set_faults(error_in_body=500)

    with pytest.raises(ServerError) as listing:
        client.tester_list(AGENT)
    sandbox.set_faults(error_in_body=409)
    with pytest.raises(AlreadyRegisteredError) as registering:
        client.register_tester(AGENT, "919530000093")

    assert (listing.value.status, listing.value.code) == (200, "RCS500")
    assert (registering.value.status, registering.value.code) == (200, "RCS409")
    assert len(sandbox.registrations()) == 1
