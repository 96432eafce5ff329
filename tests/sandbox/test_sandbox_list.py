"""Get Tester By Agent: GET and POST, both paths, agent_number from query or body."""

from __future__ import annotations

import re

import pytest

AGENT = "48900"
PHONE = "919530000092"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.mark.parametrize("alias", [False, True], ids=["agenttester", "agent"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_list_answers_rcs903_with_data_testers(kaleyra, sandbox, method, alias):
    registration_id = kaleyra.register(PHONE, AGENT).json()["data"]["id"]
    kaleyra.register("919530000093", "20700")

    response = kaleyra.list(AGENT, method=method, alias=alias)

    assert response.status_code == 200
    body = response.json()
    [tester] = body["data"]["testers"]
    created_at = tester.pop("created_at")
    assert ISO_UTC.fullmatch(created_at)
    assert body == {
        "code": "RCS903",
        "message": "Testers fetched successfully",
        "data": {
            "testers": [
                {
                    "phoneno": PHONE,
                    "agent_no": AGENT,
                    "id": registration_id,
                    "status": "Unverified",
                    "device_status": "RCS Enabled",
                }
            ]
        },
        "error": {},
    }
    assert sandbox.stats()["list_calls"] == 1


def test_testers_are_listed_oldest_first(kaleyra):
    phones = ["919530000095", "919530000091", "919530000093"]
    for phone in phones:
        kaleyra.register(phone, AGENT)

    testers = kaleyra.list(AGENT).json()["data"]["testers"]

    assert [t["phoneno"] for t in testers] == phones


def test_an_agent_without_testers_lists_an_empty_list(kaleyra):
    response = kaleyra.list("20700")

    assert response.status_code == 200
    assert response.json()["data"] == {"testers": []}


@pytest.mark.parametrize("key", ["agent_number", "agent_no"])
def test_post_takes_agent_number_from_the_json_body(kaleyra, key):
    kaleyra.register(PHONE, AGENT)

    response = kaleyra.list(None, method="POST", json={key: AGENT})

    assert response.status_code == 200
    assert [t["phoneno"] for t in response.json()["data"]["testers"]] == [PHONE]


def test_post_query_parameter_wins_over_the_body(kaleyra):
    kaleyra.register(PHONE, AGENT)

    response = kaleyra.list(AGENT, method="POST", json={"agent_number": "20700"})

    assert len(response.json()["data"]["testers"]) == 1


def test_post_with_an_empty_body_needs_no_content_type(kaleyra, sandbox):
    response = kaleyra.list(AGENT, method="POST", headers={"api-key": sandbox.api_key})

    assert response.status_code == 200


def test_post_with_a_non_json_body_is_rcs701(kaleyra, sandbox):
    headers = {"api-key": sandbox.api_key, "Content-Type": "application/json"}

    response = kaleyra.list(None, method="POST", headers=headers, data="agent_number=48900")

    assert response.status_code == 400
    assert response.json()["code"] == "RCS701"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_missing_agent_number_is_rcs904(kaleyra, method):
    response = kaleyra.list(None, method=method)

    assert response.status_code == 400
    assert response.json() == {
        "code": "RCS904",
        "message": "Missing or invalid fields",
        "error": {"agent_number": "is required"},
    }


def test_malformed_agent_number_is_rcs904(kaleyra):
    response = kaleyra.list("48 900")

    assert response.status_code == 400
    assert response.json()["error"] == {"agent_number": "must be a string of digits"}


def test_unknown_agent_is_agent_not_found(kaleyra):
    response = kaleyra.list("11111")

    assert response.status_code == 400
    assert response.json()["message"] == "Agent Not Found"


def test_list_needs_the_api_key(kaleyra):
    response = kaleyra.list(AGENT, headers={})

    assert response.status_code == 401
    assert response.json()["message"] == "Missing or invalid authorization"


def test_list_calls_counts_every_request_on_a_list_path(kaleyra, sandbox):
    kaleyra.list(AGENT)
    kaleyra.list(AGENT, method="POST", alias=True)
    kaleyra.list("11111")
    kaleyra.list(AGENT, headers={})

    stats = sandbox.stats()
    assert stats["list_calls"] == 4
    assert stats["register_calls"] == 0
