"""API personalities: each variant of Kaleyra's tester API, on real HTTP."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from rcs_provider.sandbox import running_sandbox

AGENT = "48900"
PHONE = "919530000092"
PERSONALITIES = ["documented", "no-list", "bare-conflict", "masked-list", "paged-list", "root-list"]


def phones(count: int) -> list[str]:
    return [str(919_530_000_100 + i) for i in range(count)]


def test_the_default_personality_is_documented_and_reset_returns_to_it(sandbox):
    assert sandbox.personality() == "documented"
    sandbox.set_personality("no-list")
    assert sandbox.personality() == "no-list"
    assert sandbox.info()["personality"] == "no-list"

    sandbox.reset()

    assert sandbox.personality() == "documented"


def test_an_unknown_personality_is_refused_at_run_time(sandbox, http):
    response = http.put(f"{sandbox.url}/_sandbox/personality", json={"personality": "chatty"})

    assert response.status_code == 422
    assert sandbox.personality() == "documented"


@pytest.mark.parametrize("personality", PERSONALITIES)
def test_every_personality_registers_as_kaleyra_documents(kaleyra, sandbox, personality):
    sandbox.set_personality(personality)

    response = kaleyra.register()

    assert response.status_code == 200
    assert response.json()["code"] == "RCS902"
    assert response.json()["data"]["phoneno"] == PHONE
    assert sandbox.stats()["register_created"] == 1


# -- no-list: the Kaleyra that serves only the documented register call --------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("alias", [False, True], ids=["agenttester", "agent"])
def test_no_list_answers_404_on_the_list_paths(kaleyra, sandbox, method, alias):
    sandbox.set_personality("no-list")
    kaleyra.register()

    response = kaleyra.list(AGENT, method=method, alias=alias)

    assert response.status_code == 404
    assert sandbox.stats()["list_calls"] == 1


def test_no_list_answers_404_on_the_register_alias(kaleyra, sandbox):
    sandbox.set_personality("no-list")

    response = kaleyra.register(alias=True)

    assert response.status_code == 404
    assert sandbox.registrations() == []


def test_no_list_answers_a_duplicate_with_the_error_tables_409_and_no_id(kaleyra, sandbox):
    sandbox.set_personality("no-list")
    kaleyra.register()

    response = kaleyra.register()

    assert response.status_code == 409
    assert response.json() == {"message": "Conflict (Subject already)"}
    assert sandbox.stats()["register_conflicts"] == 1
    assert len(sandbox.registrations()) == 1


def test_no_list_still_checks_credentials_on_the_register_path(kaleyra, sandbox):
    sandbox.set_personality("no-list")

    response = kaleyra.register(headers={"Content-Type": "application/json", "api-key": "wrong"})

    assert response.status_code == 401


# -- bare-conflict ------------------------------------------------------------------------


def test_bare_conflict_answers_a_duplicate_with_plain_text_and_no_id(kaleyra, sandbox):
    sandbox.set_personality("bare-conflict")
    kaleyra.register()

    response = kaleyra.register()

    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == "Tester already exists"
    assert kaleyra.list(AGENT).json()["data"]["testers"][0]["phoneno"] == PHONE


# -- masked-list --------------------------------------------------------------------------


def test_masked_list_shows_numbers_masked(kaleyra, sandbox):
    sandbox.set_personality("masked-list")
    registration_id = kaleyra.register().json()["data"]["id"]

    [tester] = kaleyra.list(AGENT).json()["data"]["testers"]

    assert tester["phoneno"] == "91953XXXXX92"
    assert tester["id"] == registration_id
    assert sandbox.registrations()[0]["phoneno"] == PHONE


# -- paged-list ---------------------------------------------------------------------------


def test_paged_list_answers_two_per_page_with_next_links_to_the_end(kaleyra, sandbox, http):
    sandbox.set_personality("paged-list")
    numbers = phones(5)
    for phone in numbers:
        kaleyra.register(phone)

    seen: list[str] = []
    pages = []
    body = kaleyra.list(AGENT).json()
    while True:
        data = body["data"]
        pages.append({k: data[k] for k in ("page", "per_page", "total", "total_pages")})
        seen += [t["phoneno"] for t in data["testers"]]
        if data["next"] is None:
            break
        body = http.get(f"{sandbox.url}{data['next']}", headers=sandbox.headers(), timeout=10)
        body = body.json()

    assert seen == numbers
    assert pages == [
        {"page": 1, "per_page": 2, "total": 5, "total_pages": 3},
        {"page": 2, "per_page": 2, "total": 5, "total_pages": 3},
        {"page": 3, "per_page": 2, "total": 5, "total_pages": 3},
    ]
    assert sandbox.stats()["list_calls"] == 3


def test_paged_list_next_link_keeps_the_path_and_agent(kaleyra, sandbox):
    sandbox.set_personality("paged-list")
    for phone in phones(3):
        kaleyra.register(phone)

    data = kaleyra.list(AGENT, alias=True).json()["data"]

    assert data["next"] == f"/v1/{sandbox.sid}/rcs/agent/testersbyagent?agent_number={AGENT}&page=2"


@pytest.mark.parametrize("page", ["0", "x", "4"])
def test_paged_list_refuses_a_page_out_of_range(kaleyra, sandbox, page):
    sandbox.set_personality("paged-list")
    for phone in phones(5):
        kaleyra.register(phone)

    response = kaleyra.http.get(
        kaleyra.sandbox.list_url(),
        params={"agent_number": AGENT, "page": page},
        headers=sandbox.headers(),
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["code"] == "RCS904"


def test_paged_list_of_an_agent_without_testers_is_one_empty_page(kaleyra, sandbox):
    sandbox.set_personality("paged-list")

    data = kaleyra.list(AGENT).json()["data"]

    assert data["testers"] == [] and data["next"] is None and data["total"] == 0


# -- root-list ----------------------------------------------------------------------------


def test_root_list_is_the_whole_body(kaleyra, sandbox):
    sandbox.set_personality("root-list")
    registration_id = kaleyra.register().json()["data"]["id"]

    body = kaleyra.list(AGENT).json()

    assert isinstance(body, list)
    assert [(t["phoneno"], t["id"]) for t in body] == [(PHONE, registration_id)]


# -- the flag -----------------------------------------------------------------------------


def test_the_personality_flag_sets_the_start_up_personality():
    with running_sandbox(personality="no-list") as sandbox:
        headers = sandbox.headers()
        listed = requests.get(
            sandbox.list_url(), params={"agent_number": AGENT}, headers=headers, timeout=10
        )
        sandbox.set_personality("documented")
        sandbox.reset()

        assert listed.status_code == 404
        assert sandbox.personality() == "no-list"


def test_an_unknown_personality_flag_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "rcs_provider.sandbox", "--personality", "chatty"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "--personality" in result.stderr and "no-list" in result.stderr
