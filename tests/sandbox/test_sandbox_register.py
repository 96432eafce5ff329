"""Register Tester: success body, auth, JSON and field errors, duplicates, both paths."""

from __future__ import annotations

import uuid

import pytest

AGENT = "48900"
PHONE = "919530000092"
AUTH_401 = {"code": 401, "message": "Missing or invalid authorization"}


@pytest.mark.parametrize("alias", [False, True], ids=["agenttester/register", "registerTester"])
def test_register_answers_the_documented_success_body(kaleyra, sandbox, alias):
    response = kaleyra.register(PHONE, AGENT, alias=alias)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    registration_id = body["data"].pop("id")
    assert body == {
        "code": "RCS902",
        "message": "Tester registration request sent successfully",
        "data": {"phoneno": PHONE, "agent_no": AGENT, "override_dcs_check": False},
        "error": {},
    }
    assert uuid.UUID(registration_id).version == 4
    [stored] = sandbox.registrations()
    assert stored["id"] == registration_id
    assert (stored["agent_no"], stored["phoneno"], stored["status"]) == (AGENT, PHONE, "Unverified")
    assert sandbox.stats()["register_created"] == 1


def test_content_type_is_case_insensitive_and_may_carry_a_charset(kaleyra, sandbox):
    headers = {"Content-Type": "application/JSON; charset=utf-8", "api-key": sandbox.api_key}

    response = kaleyra.register(
        headers=headers, data=f'{{"phoneno":"{PHONE}","agent_no":"{AGENT}"}}'
    )

    assert response.status_code == 200


def test_same_number_can_be_a_tester_of_two_agents(kaleyra, sandbox):
    assert kaleyra.register(PHONE, "48900").status_code == 200
    assert kaleyra.register(PHONE, "20700").status_code == 200
    assert len(sandbox.registrations()) == 2


def test_duplicate_registration_is_409_naming_the_existing_id_not_the_phone(kaleyra, sandbox):
    first = kaleyra.register(PHONE, AGENT).json()["data"]["id"]

    again = kaleyra.register(PHONE, AGENT, alias=True)

    assert again.status_code == 409
    assert again.json() == {
        "code": "RCS409",
        "message": "Tester already registered for this agent",
        "data": {"agent_no": AGENT, "id": first},
        "error": {"phoneno": "already registered as a tester of this agent"},
    }
    assert PHONE not in again.text
    stats = sandbox.stats()
    assert (stats["register_calls"], stats["register_created"], stats["register_conflicts"]) == (
        2,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("sid", "headers", "reason"),
    [
        (
            "WRONGSID",
            {"Content-Type": "application/json", "api-key": "sandbox-api-key"},
            "unknown sid",
        ),
        (None, {"Content-Type": "application/json"}, "api-key header is missing"),
        (None, {"Content-Type": "application/json", "api-key": ""}, "api-key header is missing"),
        (
            None,
            {"Content-Type": "application/json", "api-key": "not-the-key"},
            "api-key is not valid for this sid",
        ),
    ],
    ids=["wrong-sid", "missing-key", "empty-key", "wrong-key"],
)
def test_authentication_failures_are_401(sandbox, http, sid, headers, reason):
    url = sandbox.register_url()
    if sid is not None:
        url = url.replace(f"/v1/{sandbox.sid}/", f"/v1/{sid}/")

    response = http.post(
        url, headers=headers, json={"phoneno": PHONE, "agent_no": AGENT}, timeout=10
    )

    assert response.status_code == 401
    assert response.json() == {**AUTH_401, "error": {"reason": reason}}
    assert sandbox.registrations() == []
    assert sandbox.stats()["register_calls"] == 1


@pytest.mark.parametrize(
    ("content_type", "data", "detail"),
    [
        (
            "text/plain",
            f'{{"phoneno":"{PHONE}","agent_no":"{AGENT}"}}',
            "Content-Type must be application/json, got 'text/plain'",
        ),
        (
            None,
            f'{{"phoneno":"{PHONE}","agent_no":"{AGENT}"}}',
            "Content-Type must be application/json, got 'none'",
        ),
        ("application/json", '{"phoneno": "9195', "request body is not valid JSON"),
        ("application/json", "", "request body is not valid JSON"),
        ("application/json", b"\xff\xfe", "request body is not valid JSON"),
    ],
    ids=["text-plain", "no-content-type", "truncated", "empty", "not-utf8"],
)
def test_wrong_content_type_or_invalid_json_is_400_rcs701(
    kaleyra, sandbox, content_type, data, detail
):
    headers = {"api-key": sandbox.api_key}
    if content_type:
        headers["Content-Type"] = content_type

    response = kaleyra.register(headers=headers, data=data)

    assert response.status_code == 400
    assert response.json() == {
        "code": "RCS701",
        "message": "Invalid JSON",
        "error": {"detail": detail},
    }


PHONE_RULE = "must be a string of 8 to 15 digits (E.164 without '+')"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"agent_no": AGENT}, {"phoneno": "is required"}),
        ({"phoneno": PHONE}, {"agent_no": "is required"}),
        ({}, {"phoneno": "is required", "agent_no": "is required"}),
        ({"phoneno": "+" + PHONE, "agent_no": AGENT}, {"phoneno": PHONE_RULE}),
        ({"phoneno": "1234567", "agent_no": AGENT}, {"phoneno": PHONE_RULE}),
        ({"phoneno": "1234567890123456", "agent_no": AGENT}, {"phoneno": PHONE_RULE}),
        ({"phoneno": "91953 000092", "agent_no": AGENT}, {"phoneno": PHONE_RULE}),
        ({"phoneno": 919530000092, "agent_no": AGENT}, {"phoneno": PHONE_RULE}),
        ({"phoneno": "٩١٩٥٣٠٠٠٠٠٩٢", "agent_no": AGENT}, {"phoneno": PHONE_RULE}),
        ({"phoneno": PHONE, "agent_no": "48A00"}, {"agent_no": "must be a string of digits"}),
        ({"phoneno": PHONE, "agent_no": 48900}, {"agent_no": "must be a string of digits"}),
        ([PHONE, AGENT], {"body": "must be a JSON object"}),
    ],
    ids=[
        "no-phone",
        "no-agent",
        "empty",
        "plus",
        "too-short",
        "too-long",
        "space",
        "number-not-string",
        "non-ascii-digits",
        "agent-letters",
        "agent-number",
        "array",
    ],
)
def test_missing_or_invalid_fields_are_400_rcs904(kaleyra, sandbox, body, error):
    response = kaleyra.register(json=body)

    assert response.status_code == 400
    assert response.json() == {
        "code": "RCS904",
        "message": "Missing or invalid fields",
        "error": error,
    }
    assert "91953" not in response.text
    assert sandbox.registrations() == []


def test_boundary_lengths_of_phone_numbers_are_accepted(kaleyra):
    assert kaleyra.register("12345678").status_code == 200
    assert kaleyra.register("123456789012345").status_code == 200


def test_unknown_agent_is_400_agent_not_found(kaleyra, sandbox):
    response = kaleyra.register(PHONE, "11111")

    assert response.status_code == 400
    assert response.json() == {
        "code": "RCS904",
        "message": "Agent Not Found",
        "error": {"agent_no": "no such agent on this account"},
    }
    assert sandbox.registrations() == []


def test_error_bodies_never_echo_the_phone_number(kaleyra, sandbox):
    kaleyra.register(PHONE, AGENT)
    answers = [
        kaleyra.register(PHONE, AGENT),
        kaleyra.register(PHONE, "11111"),
        kaleyra.register("+" + PHONE, AGENT),
        kaleyra.register(headers={"api-key": "nope", "Content-Type": "application/json"}),
    ]

    assert [a.status_code for a in answers] == [409, 400, 400, 401]
    for answer in answers:
        assert "953000" not in answer.text


def test_bodies_over_1_mib_are_413(kaleyra, sandbox):
    body = {"phoneno": PHONE, "agent_no": AGENT, "padding": "x" * (1024 * 1024)}

    response = kaleyra.register(json=body)

    assert response.status_code == 413
    assert response.json() == {"code": 413, "message": "Request entity too large", "error": {}}
    assert sandbox.registrations() == []


def test_other_methods_on_the_register_path_are_405_rcs405(sandbox, http):
    response = http.get(sandbox.register_url(), headers=sandbox.headers(), timeout=10)

    assert response.status_code == 405
    assert response.json() == {"code": "RCS405", "message": "Method not allowed", "error": {}}


def test_unknown_kaleyra_paths_are_404(sandbox, http):
    response = http.get(f"{sandbox.url}/v1/{sandbox.sid}/rcs/nothing", timeout=10)

    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "Not Found", "error": {}}


def test_register_calls_counts_every_request_on_a_register_path(kaleyra, sandbox):
    kaleyra.register()
    kaleyra.register()
    kaleyra.register(json={})
    kaleyra.register(headers={})
    kaleyra.register(alias=True, phoneno="919530000093")

    stats = sandbox.stats()
    assert stats["register_calls"] == 5
    assert stats["register_created"] == 2
    assert stats["list_calls"] == 0
    assert stats["responses_by_status"] == {"200": 2, "400": 1, "401": 1, "409": 1}
