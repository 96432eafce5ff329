"""Each fault kind, on real HTTP: latency, 5xx, 429, drops, quota, echo, slow, oversize, forced."""

from __future__ import annotations

import http.client
import time

import pytest
import requests

from rcs_provider.sandbox.faults import FaultInjector, FaultSettings
from rcs_provider.sandbox.store import seconds_to_utc_midnight

AGENT = "48900"
PHONE = "919530000092"


def phones(count: int) -> list[str]:
    return [str(919_530_000_100 + i) for i in range(count)]


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


#: 2025-12-31T23:59:00Z: one minute before a UTC midnight, where the sandbox's time is pinned.
NEAR_MIDNIGHT = 1_767_225_540


def test_latency_delays_kaleyra_calls_only(kaleyra, sandbox):
    """The sandbox counts each delay it injects: the Kaleyra call is delayed, the inspection
    calls around it are not (a count, not a stopwatch)."""
    sandbox.set_faults(latency_ms=300)

    response, elapsed = timed(kaleyra.register)
    sandbox.registrations()
    stats = sandbox.stats()

    assert response.status_code == 200
    assert (stats["delayed_calls"], stats["delay_ms"]) == (1, 300.0)
    assert elapsed >= 0.3 * 0.9  # a floor only: a load can lengthen a sleep, never shorten it


def test_a_request_abandoned_during_the_latency_is_still_processed(kaleyra, sandbox):
    """The body is read before the delay, as a real server holds a request it received whole:
    the client gives up (as one killed while waiting would), the registration is stored."""
    sandbox.set_faults(latency_ms=1500)

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            sandbox.register_url(),
            headers=sandbox.headers(),
            json={"phoneno": PHONE, "agent_no": AGENT},
            timeout=0.5,
        )

    deadline = time.monotonic() + 30
    while not sandbox.registrations():
        assert time.monotonic() < deadline, sandbox.stats()
        time.sleep(0.05)
    assert [(r["agent_no"], r["phoneno"]) for r in sandbox.registrations()] == [(AGENT, PHONE)]
    stats = sandbox.stats()
    assert stats["register_calls"] == 1 and stats["register_created"] == 1
    assert stats["responses_by_status"] == {"200": 1}


def test_jitter_adds_up_to_jitter_ms():
    """Per call, as the dice decide it: a seeded sequence, each in [latency, latency+jitter]."""
    settings = FaultSettings(latency_ms=50, jitter_ms=100, seed=1)
    injector, again = FaultInjector(settings), FaultInjector(settings)
    delays = [injector.delay_seconds() for _ in range(8)]

    assert all(0.05 <= d <= 0.15 for d in delays)
    assert len(set(delays)) == 8, "the jitter is not constant"
    assert [again.delay_seconds() for _ in range(8)] == delays, "the seed repeats them"


def test_jitter_applies_to_kaleyra_calls_as_seeded(kaleyra, sandbox):
    def delays_of_eight_calls():
        sandbox.reset(keep_registrations=True)
        sandbox.set_faults(latency_ms=50, jitter_ms=100, seed=1)
        for _ in range(8):
            assert kaleyra.list(AGENT).status_code == 200
        stats = sandbox.stats()
        return stats["delayed_calls"], stats["delay_ms"]

    first = delays_of_eight_calls()

    assert first == delays_of_eight_calls()
    assert first[0] == 8
    assert 8 * 50 < first[1] <= 8 * 150


def _statuses(kaleyra, count):
    return [kaleyra.list(AGENT).status_code for _ in range(count)]


def test_error_rate_answers_that_fraction_with_5xx_reproducibly(kaleyra, sandbox):
    sandbox.set_faults(error_rate=0.3, seed=42)
    first = _statuses(kaleyra, 200)
    sandbox.set_faults(seed=42)
    second = _statuses(kaleyra, 200)

    errors = [s for s in first if s != 200]
    assert first == second
    assert 0.2 <= len(errors) / len(first) <= 0.4
    assert set(errors) == {500, 502, 503, 504}
    assert sandbox.stats()["errors_injected"]["5xx"] == 2 * len(errors)


def test_injected_5xx_bodies_are_kaleyra_shaped_and_nothing_is_created(kaleyra, sandbox):
    sandbox.set_faults(script=[500, 502, 503, 504])

    answers = [kaleyra.register(phone) for phone in phones(4)]

    assert [a.json() for a in answers] == [
        {"code": "RCS500", "message": "Internal server error", "error": {}},
        {"code": "RCS502", "message": "Bad gateway", "error": {}},
        {"code": 503, "message": "Temporal error, try again later", "error": {}},
        {"code": 504, "message": "Gateway timeout", "error": {}},
    ]
    assert sandbox.registrations() == []
    assert sandbox.stats()["register_calls"] == 4


def test_rate_limit_answers_429_with_retry_after(kaleyra, sandbox):
    sandbox.set_faults(rate_limit_rate=1, retry_after=7)

    response = kaleyra.register()

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"code": 429, "message": "Throttling", "error": {"retry_after": 7}}
    assert sandbox.registrations() == []
    assert sandbox.stats()["errors_injected"]["429"] == 1


def test_drop_closes_the_connection_without_any_response(kaleyra, sandbox):
    sandbox.set_faults(drop_rate=1)

    with pytest.raises(requests.ConnectionError) as caught:
        kaleyra.register()

    text = repr(caught.value)
    reason = caught.value.args[0].args[1]  # urllib3 ProtocolError("Connection aborted.", why)
    assert isinstance(reason, http.client.RemoteDisconnected | ConnectionResetError)
    assert "500" not in text
    sandbox.set_faults(drop_rate=0)
    assert kaleyra.register().status_code == 200  # the server lives on
    assert sandbox.stats()["errors_injected"]["dropped"] == 1
    assert "Traceback" not in sandbox.stderr()
    assert "without starting response" not in sandbox.stderr()


def test_drop_happens_before_the_call_takes_effect(kaleyra, sandbox):
    sandbox.set_faults(drop_rate=1)
    for phone in phones(3):
        with pytest.raises(requests.ConnectionError):
            kaleyra.register(phone)

    assert sandbox.registrations() == []
    assert sandbox.stats()["register_calls"] == 3


def test_drop_rate_with_a_seed_drops_a_reproducible_fraction(kaleyra, sandbox):
    def outcomes():
        result = []
        for _ in range(40):
            try:
                result.append(kaleyra.list(AGENT).status_code)
            except requests.ConnectionError:
                result.append("dropped")
        return result

    sandbox.set_faults(drop_rate=0.25, seed=5)
    first = outcomes()
    sandbox.set_faults(seed=5)

    assert outcomes() == first
    assert 3 <= first.count("dropped") <= 20


def test_daily_quota_answers_429_until_the_next_utc_midnight(kaleyra, sandbox):
    sandbox.set_time(NEAR_MIDNIGHT)
    sandbox.set_faults(daily_quota=2)
    first, second, third = phones(3)
    assert kaleyra.register(first).status_code == 200
    assert kaleyra.register(second).status_code == 200

    refused = kaleyra.register(third)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    body = refused.json()
    assert body["message"] == "Daily tester registration quota exceeded (2 per agent per day)"
    assert body["error"]["quota"] == "daily_tester_registrations"
    assert (body["error"]["limit"], body["error"]["agent_no"]) == (2, AGENT)
    assert third not in refused.text
    assert kaleyra.register(first).status_code == 409  # duplicates are not new registrations
    assert kaleyra.register(third, "20700").status_code == 200  # the quota is per agent
    assert sandbox.stats()["errors_injected"]["quota"] == 1
    assert len(sandbox.registrations()) == 3

    sandbox.set_time(NEAR_MIDNIGHT + 59)
    assert kaleyra.register(third).headers["Retry-After"] == "1"
    sandbox.set_time(NEAR_MIDNIGHT + 60)  # the next UTC day

    assert kaleyra.register(third).status_code == 200


def test_resetting_the_quota_is_a_new_day(kaleyra, sandbox):
    sandbox.set_time(NEAR_MIDNIGHT)
    sandbox.set_faults(daily_quota=1)
    first, second = phones(2)
    kaleyra.register(first)
    assert kaleyra.register(second).status_code == 429

    sandbox.reset_quota()

    assert kaleyra.register(second).status_code == 200


def test_quota_counts_registrations_made_before_it_was_set(kaleyra, sandbox):
    for phone in phones(2):
        kaleyra.register(phone)

    sandbox.set_faults(daily_quota=2)

    assert kaleyra.register(PHONE).status_code == 429


def test_seconds_to_utc_midnight():
    assert seconds_to_utc_midnight(0.0) == 86400
    assert seconds_to_utc_midnight(86400 - 0.5) == 1
    assert seconds_to_utc_midnight(86400 * 3 + 3600) == 82800


def test_echo_request_in_errors_puts_headers_and_body_into_error_bodies(kaleyra, sandbox):
    kaleyra.register()
    sandbox.set_faults(echo_request_in_errors=True)

    conflict = kaleyra.register()
    ok = kaleyra.register("919530000093")

    echoed = conflict.json()["request"]
    assert echoed["method"] == "POST"
    assert echoed["path"] == f"/v1/{sandbox.sid}/rcs/agenttester/register"
    assert echoed["headers"]["api-key"] == sandbox.api_key
    assert PHONE in echoed["body"]
    assert conflict.json()["code"] == "RCS409"
    assert "request" not in ok.json()


def test_echo_applies_to_injected_errors_too(kaleyra, sandbox):
    sandbox.set_faults(echo_request_in_errors=True, force_status=503)

    response = kaleyra.register()

    assert response.status_code == 503
    assert response.json()["request"]["headers"]["api-key"] == sandbox.api_key


def test_slow_body_drips_the_response(kaleyra, sandbox):
    sandbox.set_faults(slow_body_bytes_per_sec=1000)

    response, elapsed = timed(lambda: kaleyra.register())

    assert response.status_code == 200
    assert len(response.content) > 200
    assert elapsed >= len(response.content) / 1000 * 0.8
    assert response.json()["code"] == "RCS902"


def test_slow_body_stream_arrives_in_pieces(sandbox, http):
    sandbox.set_faults(slow_body_bytes_per_sec=500, oversize_body_bytes=400)
    url, headers = sandbox.list_url(), sandbox.headers()

    with http.get(
        url, params={"agent_number": AGENT}, headers=headers, stream=True, timeout=10
    ) as response:
        arrivals = [(time.perf_counter(), len(piece)) for piece in response.iter_content(50)]

    assert sum(size for _, size in arrivals) == 400
    assert arrivals[-1][0] - arrivals[0][0] >= 0.5  # 400 bytes at 500 B/s: about 0.8 s


def test_oversize_pads_json_responses_to_the_size(kaleyra, sandbox):
    normal = kaleyra.register().json()
    sandbox.remove(AGENT, PHONE)
    sandbox.set_faults(oversize_body_bytes=5000)

    response = kaleyra.register()

    assert len(response.content) == 5000
    assert response.headers["Content-Length"] == "5000"
    body = response.json()
    assert body["code"] == normal["code"]
    assert body["data"]["phoneno"] == normal["data"]["phoneno"]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"code": 401, "message": "Missing or invalid authorization", "error": {}}),
        (500, {"code": "RCS500", "message": "Internal server error", "error": {}}),
        (403, {"code": 403, "message": "Forbidden", "error": {}}),
        (418, {"code": 418, "message": "I'm a Teapot", "error": {}}),
    ],
)
def test_force_status_answers_every_kaleyra_call_with_it(kaleyra, sandbox, status, body):
    sandbox.set_faults(force_status=status)

    register = kaleyra.register()
    listing = kaleyra.list(AGENT)

    assert (register.status_code, listing.status_code) == (status, status)
    assert register.json() == body
    assert sandbox.registrations() == []
    assert sandbox.stats()["errors_injected"]["forced"] == 2
    sandbox.set_faults(force_status=None)
    assert kaleyra.register().status_code == 200


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(500, "RCS500", "Internal server error"), (409, "RCS409", "Conflict"), (400, "RCS904", None)],
)
def test_error_in_body_answers_every_kaleyra_call_200_with_that_error(
    kaleyra, sandbox, status, code, message
):
    sandbox.add_registration(AGENT, "919530000093")
    sandbox.set_faults(error_in_body=status)

    answers = [kaleyra.register(), kaleyra.list(AGENT)]

    for answer in answers:
        assert answer.status_code == 200
        body = answer.json()
        assert (body["code"], body["data"], body["error"]) == (code, [], {})
        assert message is None or body["message"] == message
    assert len(sandbox.registrations()) == 1, "nothing stored"
    assert sandbox.stats()["errors_injected"]["forced"] == 2
    sandbox.set_faults(error_in_body=None)
    assert kaleyra.list(AGENT).json()["code"] == "RCS903"


def test_forced_429_carries_retry_after(kaleyra, sandbox):
    sandbox.set_faults(force_status=429, retry_after=3)

    response = kaleyra.register()

    assert response.headers["Retry-After"] == "3"


def test_lost_response_registers_but_answers_504(kaleyra, sandbox):
    sandbox.set_faults(lost_response_rate=1)

    lost = kaleyra.register()
    sandbox.set_faults(lost_response_rate=0)
    again = kaleyra.register()

    assert lost.status_code == 504
    assert lost.json() == {"code": 504, "message": "Gateway timeout", "error": {}}
    [stored] = sandbox.registrations()
    assert again.status_code == 409
    assert again.json()["data"]["id"] == stored["id"]
    assert sandbox.stats()["errors_injected"]["lost"] == 1


def test_script_applies_faults_to_the_next_calls_in_order(kaleyra, sandbox):
    sandbox.set_faults(script=[503, "pass", 429, "lost", "drop", 400])
    assert sandbox.faults()["script"] == [503, "pass", 429, "lost", "drop", 400]

    outcomes = []
    for phone in phones(7):
        try:
            outcomes.append(kaleyra.register(phone).status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")

    assert outcomes == [503, 200, 429, 504, "dropped", 400, 200]
    assert sandbox.faults()["script"] == []
    assert len(sandbox.registrations()) == 3
    assert sandbox.stats()["errors_injected"] == {
        "5xx": 1,
        "429": 1,
        "dropped": 1,
        "quota": 0,
        "forced": 1,
        "lost": 1,
    }


def test_faults_leave_the_inspection_api_and_openapi_alone(sandbox, http):
    sandbox.set_faults(force_status=500, drop_rate=1, latency_ms=3000)

    assert sandbox.registrations() == []  # neither dropped nor answered 500
    openapi = http.get(f"{sandbox.url}/openapi.json", timeout=30)

    assert openapi.status_code == 200
    assert sandbox.stats()["delayed_calls"] == 0, "no call was delayed"
