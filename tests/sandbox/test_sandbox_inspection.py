"""The /_sandbox/ inspection API and the running_sandbox helper built on it."""

from __future__ import annotations

import pytest
import requests

AGENT = "48900"
PHONE = "919530000092"
OTHER = "919530000093"


def test_registrations_lists_every_registration_and_filters_by_agent(kaleyra, sandbox):
    kaleyra.register(PHONE, "48900")
    kaleyra.register(OTHER, "20700")

    everything = sandbox.registrations()
    only_48900 = sandbox.registrations("48900")

    assert [(r["agent_no"], r["phoneno"]) for r in everything] == [
        ("48900", PHONE),
        ("20700", OTHER),
    ]
    assert set(everything[0]) == {
        "agent_no",
        "phoneno",
        "id",
        "status",
        "status_source",
        "created_at",
    }
    assert [r["phoneno"] for r in only_48900] == [PHONE]


def test_stats_has_every_documented_counter(sandbox):
    stats = sandbox.stats()

    assert stats["register_calls"] == stats["register_created"] == stats["list_calls"] == 0
    assert stats["errors_injected"] == {
        "5xx": 0,
        "429": 0,
        "dropped": 0,
        "quota": 0,
        "forced": 0,
        "lost": 0,
    }
    assert stats["registrations"] == 0


def test_inspection_calls_are_not_counted(sandbox):
    sandbox.registrations()
    sandbox.faults()
    sandbox.add_registration(AGENT, PHONE)

    stats = sandbox.stats()
    assert stats["register_calls"] == stats["list_calls"] == stats["register_created"] == 0
    assert stats["registrations"] == 1


def test_reset_clears_registrations_stats_faults_agents_and_clock(kaleyra, sandbox):
    kaleyra.register()
    sandbox.set_faults(latency_ms=5, daily_quota=3, script=[503])
    sandbox.set_agents(["1"])
    sandbox.set_clock(0, 0)

    sandbox.reset()

    assert sandbox.registrations() == []
    assert sandbox.stats()["register_calls"] == 0
    faults = sandbox.faults()
    assert (faults["latency_ms"], faults["daily_quota"], faults["script"]) == (0, 0, [])
    assert sandbox.info()["agents"] == ["20700", "48900"]
    kaleyra.register()
    assert sandbox.registrations()[0]["status"] == "Unverified"


def test_reset_can_keep_registrations(kaleyra, sandbox):
    kaleyra.register()

    sandbox.reset(keep_registrations=True)

    assert len(sandbox.registrations()) == 1
    assert sandbox.stats()["register_calls"] == 0


def test_reset_without_a_body_clears_everything(kaleyra, sandbox, http):
    kaleyra.register()

    response = http.post(f"{sandbox.url}/_sandbox/reset", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"reset": True, "kept_registrations": False}
    assert sandbox.registrations() == []


def test_out_of_band_registration_is_listed_and_blocks_a_register(kaleyra, sandbox):
    added = sandbox.add_registration(AGENT, PHONE, "Approved")

    listed = kaleyra.list(AGENT).json()["data"]["testers"]
    again = kaleyra.register(PHONE, AGENT)

    assert added["status"] == "Approved"
    assert added["status_source"] == "manual"
    assert [(t["id"], t["status"]) for t in listed] == [(added["id"], "Approved")]
    assert again.status_code == 409
    assert again.json()["data"]["id"] == added["id"]
    assert sandbox.stats()["register_created"] == 0


def test_out_of_band_add_rejects_duplicates_unknown_agents_and_bad_input(sandbox):
    sandbox.add_registration(AGENT, PHONE)

    with pytest.raises(requests.HTTPError, match="409"):
        sandbox.add_registration(AGENT, PHONE)
    with pytest.raises(requests.HTTPError, match=r"400 .*Unknown agent 11111"):
        sandbox.add_registration("11111", PHONE)
    with pytest.raises(requests.HTTPError, match="422"):
        sandbox.add_registration(AGENT, "+" + PHONE)
    with pytest.raises(requests.HTTPError, match="422"):
        sandbox.add_registration(AGENT, OTHER, "Maybe")


def test_patch_pins_a_status_and_null_hands_it_back_to_the_clock(kaleyra, sandbox):
    kaleyra.register(PHONE, AGENT)

    declined = sandbox.set_status(AGENT, PHONE, "Declined")
    listed = kaleyra.list(AGENT).json()["data"]["testers"][0]["status"]
    back = sandbox.set_status(AGENT, PHONE, None)

    assert (declined["status"], declined["status_source"]) == ("Declined", "manual")
    assert listed == "Declined"
    assert (back["status"], back["status_source"]) == ("Unverified", "clock")


def test_patch_and_delete_of_a_missing_registration_are_404(sandbox):
    with pytest.raises(requests.HTTPError, match="404"):
        sandbox.set_status(AGENT, PHONE, "Approved")
    with pytest.raises(requests.HTTPError, match="404"):
        sandbox.remove(AGENT, PHONE)


def test_delete_removes_one_registration_so_it_can_be_registered_again(kaleyra, sandbox):
    first = kaleyra.register(PHONE, AGENT).json()["data"]["id"]
    kaleyra.register(OTHER, AGENT)

    sandbox.remove(AGENT, PHONE)
    again = kaleyra.register(PHONE, AGENT)

    assert again.status_code == 200
    assert again.json()["data"]["id"] != first
    assert len(sandbox.registrations()) == 2


def test_put_agents_changes_which_agents_exist(kaleyra, sandbox):
    assert sandbox.set_agents(["11111", "22222"]) == ["11111", "22222"]

    assert kaleyra.register(PHONE, "11111").status_code == 200
    assert kaleyra.register(PHONE, AGENT).json()["message"] == "Agent Not Found"
    assert kaleyra.list(AGENT).status_code == 400
    with pytest.raises(requests.HTTPError, match="422"):
        sandbox.set_agents(["12a"])


def test_faults_get_and_put_merge_and_validate(sandbox):
    assert sandbox.faults()["error_rate"] == 0

    after = sandbox.set_faults(error_rate=0.25, seed=3)
    merged = sandbox.set_faults(latency_ms=1)

    assert (after["error_rate"], after["seed"]) == (0.25, 3)
    assert (merged["error_rate"], merged["latency_ms"], merged["seed"]) == (0.25, 1, 3)
    assert sandbox.set_faults(seed=None)["seed"] is None
    for bad in (
        {"error_rate": 1.5},
        {"latency_ms": -1},
        {"force_status": 200},
        {"error_in_body": 200},
        {"unknown_knob": 1},
        {"script": [302]},
        {"script": ["explode"]},
    ):
        with pytest.raises(requests.HTTPError, match="422"):
            sandbox.set_faults(**bad)


def test_time_is_pinned_until_released_or_reset(sandbox, http):
    pinned = 1_767_225_540.0  # 2025-12-31T23:59:00Z
    sandbox.set_time(pinned)

    row = sandbox.add_registration(AGENT, PHONE, age_seconds=60)
    shown = http.get(f"{sandbox.url}/_sandbox/time", timeout=30).json()
    sandbox.reset()
    released = http.get(f"{sandbox.url}/_sandbox/time", timeout=30).json()

    assert row["created_at"] == "2025-12-31T23:58:00.000Z"
    assert (shown, released) == ({"now": pinned}, {"now": None})
    with pytest.raises(requests.HTTPError, match="422"):
        sandbox.set_time(-1)


def test_info_names_sid_agents_and_database_but_not_the_api_key(sandbox):
    info = sandbox.info()

    assert info["sid"] == sandbox.sid
    assert info["db"] == ":memory:"
    assert sandbox.api_key not in str(info)


def test_helper_refuses_calls_when_not_running():
    from rcs_provider.sandbox import SandboxProcess

    process = SandboxProcess()
    try:
        with pytest.raises(RuntimeError, match="not running"):
            process.stats()
    finally:
        process.close()
