"""No api-key and no full phone number in anything the provider raises, prints or logs, on
every path, with a real KaleyraClient whose (fake) server echoes both back."""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from pulumi.dynamic import Config, ConfigureRequest

from rcs_provider._tester_lists import TesterListCache
from rcs_provider.provider import TesterProvider as Provider

#: No digit in it: the phone mask cannot hide it, only the api-key scrub can (checked below).
API_KEY = "SECRET-KEY-" + "".join(random.Random(26).choices("abcdefABCDEF", k=24))
PHONE = "919530000092"
BASE = "https://rcs-api.in.kaleyra.io/v1/SID1/rcs/agenttester"
ECHO = {
    "message": f"bad {PHONE} +91 95300 00092 key {API_KEY}",
    "error": {"phoneno": PHONE, "api-key": API_KEY},
}


def test_the_key_has_no_digit_for_the_phone_mask_to_hide() -> None:
    assert not re.search(r"[0-9]", API_KEY)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    p = Provider(tester_lists=TesterListCache())
    p.configure(
        ConfigureRequest(
            Config(
                {
                    "kaleyra:sid": "SID1",
                    "kaleyra:apiKey": API_KEY,
                    "kaleyra:pod": "in",
                    "kaleyra:maxRetries": "0",
                    "kaleyra:lookup": "list",
                },
                "rcs-testers",
            )
        )
    )
    yield p


def props() -> dict[str, Any]:
    return {"agent_no": "48900", "phoneno": PHONE, "label": "qa-alice"}


def state() -> dict[str, Any]:
    return {**props(), "registration_id": "id-1", "status": "Pending", "adopted": False}


SCENARIOS: list[tuple[str, list[tuple[str, int, Any]]]] = [
    ("register 401", [("GET", 200, []), ("POST", 401, ECHO)]),
    ("register 400", [("GET", 200, []), ("POST", 400, {**ECHO, "code": "RCS904"})]),
    ("register 429", [("GET", 200, []), ("POST", 429, ECHO)]),
    ("register 500", [("GET", 200, []), ("POST", 500, ECHO)]),
    (
        "register 504 then list without it",
        [("GET", 200, []), ("POST", 504, ECHO), ("GET", 200, [])],
    ),
    ("register unparseable", [("GET", 200, []), ("POST", 200, f"<html>{PHONE} {API_KEY}</html>")]),
    ("list 403", [("GET", 403, ECHO)]),
    ("list unparseable", [("GET", 200, {"weird": f"{PHONE} {API_KEY}"})]),
]


@pytest.mark.parametrize(("name", "steps"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_create_paths_never_leak(
    provider: Provider,
    name: str,
    steps: list[tuple[str, int, Any]],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        for method, status, body in steps:
            url = f"{BASE}/register" if method == "POST" else f"{BASE}/testersbyagent"
            payload = body if isinstance(body, str) else json.dumps(body)
            rsps.add(method, url, body=payload, status=status, content_type="application/json")
        with pytest.raises(Exception) as info:
            provider.create(props())
    seen = [
        str(info.value),
        repr(info.value),
        *map(str, info.value.args),
        capsys.readouterr().err,
        caplog.text,
    ]
    assert "Unable to" in seen[0]
    for text in seen:
        assert API_KEY not in text and PHONE not in text and "95300 00092" not in text


def test_adoption_after_an_echoing_409_never_leaks(
    provider: Provider, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add("GET", f"{BASE}/testersbyagent", json=[])
        rsps.add("POST", f"{BASE}/register", json=ECHO, status=409)
        rsps.add("GET", f"{BASE}/testersbyagent", json=[])
        result = provider.create(props())
    assert result.id.startswith("adopted:"), "adopted: the 409 carried no id of its own"
    for text in (
        result.id,
        repr({k: v for k, v in result.outs.items() if k != "phoneno"}),
        capsys.readouterr().err,
        caplog.text,
    ):
        assert API_KEY not in text and PHONE not in text and "95300 00092" not in text


def test_read_and_delete_warnings_never_leak(
    provider: Provider, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.add("GET", f"{BASE}/testersbyagent", json={"data": {"testers": []}})
        assert provider.read("id-1", state()).id == ""
    provider.delete("id-1", state())
    text = capsys.readouterr().err + caplog.text
    assert "91953XXXXX92" in text
    assert API_KEY not in text and PHONE not in text


def test_check_failures_never_leak(provider: Provider) -> None:
    result = provider.check(
        {}, {"agent_no": "48 900", "phoneno": PHONE + "99999", "label": f"qa-{PHONE}"}
    )
    reasons = " ".join(f.reason for f in result.failures)
    assert len(result.failures) == 3
    assert PHONE not in reasons
