"""Ten end-to-end scenarios of the stack config: the real engine, the sandbox on
loopback, a temporary file backend. Each checks Pulumi's result and the sandbox's record."""

from __future__ import annotations

import re
from typing import Any

from rcs_devtools.fleet_data import agents_block, formatted, phone
from rcs_devtools.pulumi_cli import Project, Stack

REMOVE_WARNING = "Remove it in the Kaleyra console"

BASE = {
    "48900": [("qa-alice", 1), ("qa-bob", 2), ("qa-chen", 3)],
    "20700": [("qa-alice", 1), ("qa-dana", 4)],
}


def registered(sandbox: Any) -> dict[tuple[str, str], str]:
    return {(r["agent_no"], r["phoneno"]): r["id"] for r in sandbox.registrations()}


def expected_pairs(layout: dict[str, list[tuple[str, int]]]) -> set[tuple[str, str]]:
    return {(agent, phone(n)) for agent, testers in layout.items() for _, n in testers}


def output_ids(stack: Stack) -> dict[tuple[str, str], str]:
    """(agent, label) -> registration id from the stack outputs."""
    agents = stack.outputs()["agents"]
    return {
        (agent, label): row["registration_id"]
        for agent, rows in agents.items()
        for label, row in rows.items()
    }


def test_up_registers_exactly_the_configured_testers(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(BASE))
    stack.up().ok()

    assert set(registered(sandbox)) == expected_pairs(BASE)
    assert sandbox.stats()["register_calls"] == 5
    ids = registered(sandbox)
    by_label = {(a, label): ids[(a, phone(n))] for a, ts in BASE.items() for label, n in ts}
    assert output_ids(stack) == by_label
    rows = stack.outputs()["agents"]["48900"]
    assert list(rows) == ["qa-alice", "qa-bob", "qa-chen"]
    assert rows["qa-alice"]["phone"] == "91980XXXXX01"
    assert set(rows["qa-alice"]) == {"phone", "registration_id", "status"}
    assert {r["status"] for r in rows.values()} <= {"Unverified", "Pending", "Approved"}


def test_second_up_and_preview_change_nothing(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    before = sandbox.stats()["register_calls"]

    stack.preview("--expect-no-changes").ok()
    second = stack.up("--expect-no-changes").ok()

    assert sandbox.stats()["register_calls"] == before
    assert "8 unchanged" in second.output  # the stack, 2 components, 5 testers
    assert REMOVE_WARNING not in second.output


def test_adding_one_tester_registers_one_and_removing_one_warns(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    before = sandbox.stats()["register_calls"]

    grown = {**BASE, "20700": [*BASE["20700"], ("qa-erin", 5)]}
    stack.set_agents(agents_block(grown))
    stack.up().ok()
    assert sandbox.stats()["register_calls"] == before + 1
    assert (("20700", phone(5))) in registered(sandbox)

    shrunk = {**grown, "48900": [("qa-alice", 1), ("qa-chen", 3)]}
    stack.set_agents(agents_block(shrunk))
    removed = stack.up().ok()
    assert REMOVE_WARNING in removed.output
    assert "tester qa-bob of agent 48900 (91980XXXXX02)" in removed.output
    labels = {t["outputs"]["label"] for t in stack.testers_in_state()}
    assert "qa-bob" not in labels
    assert ("48900", phone(2)) in registered(sandbox), "Kaleyra cannot deregister: it stays there"
    assert sandbox.stats()["register_calls"] == before + 1


def test_reorder_note_and_label_rename_send_nothing(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    before = sandbox.stats()["register_calls"]

    reordered = agents_block({"20700": BASE["20700"][::-1], "48900": BASE["48900"][::-1]})
    reordered[1]["testers"][0]["note"] = "now with a note"
    stack.set_agents(reordered)
    stack.preview("--expect-no-changes").ok()
    stack.up("--expect-no-changes").ok()

    renamed = {**BASE, "48900": [("qa-alice", 1), ("qa-robert", 2), ("qa-chen", 3)]}
    stack.set_agents(agents_block(renamed))
    result = stack.up().ok()
    assert REMOVE_WARNING not in result.output
    assert sandbox.stats()["register_calls"] == before
    labels = {t["outputs"]["label"] for t in stack.testers_in_state()}
    assert "qa-robert" in labels and "qa-bob" not in labels
    assert output_ids(stack)[("48900", "qa-robert")] == registered(sandbox)[("48900", phone(2))]


def test_invalid_config_fails_preview_listing_every_problem(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(
        [
            {
                "agent": "48900",
                "testers": [
                    {"label": "qa-alice", "phone": "+91 98000 00001"},
                    {"label": "qa-alice", "phone": "not a phone"},
                    {"label": "qa-x", "phoneNo": formatted(7)},
                    {"label": "qa-float", "phone": 9.5},
                ],
            },
            {"agent": "48900", "testers": []},
            {"agent": True, "tester": []},
        ]
    )
    result = stack.preview()
    assert result.returncode != 0
    text = result.output
    for expected in (
        "stacks/Pulumi.dev.yaml: agents[0].testers[1].label: duplicate label 'qa-alice'",
        "agents[0].testers[1].phone:",
        "agents[0].testers[2]: unknown key \"phoneNo\": did you mean 'phone'?",
        "agents[0].testers[2].phone: missing",
        "agents[0].testers[3].phone: phone must be a string, got float",
        "agents[1].agent: agent 48900 is already declared at agents[0]",
        "agents[1].testers: is empty",
        "agents[2].agent: agent must be a string, got bool",
        "agents[2]: unknown key \"tester\": did you mean 'testers'?",
    ):
        assert expected in text, f"missing {expected!r} in:\n{text}"
    stats = sandbox.stats()
    assert stats["register_calls"] == 0 and stats["list_calls"] == 0
    assert stack.testers_in_state() == []


def test_refresh_follows_the_sandbox(stack: Stack, sandbox: Any) -> None:
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    sandbox.remove("48900", phone(3))
    sandbox.set_status("20700", phone(4), "Declined")
    lists_before = sandbox.stats()["list_calls"]

    refreshed = stack.refresh().ok()

    assert sandbox.stats()["list_calls"] - lists_before == 2, "one list call per agent"
    assert "qa-chen of agent 48900" in refreshed.output
    state = {
        t["outputs"]["label"] + "@" + t["outputs"]["agent_no"]: t for t in stack.testers_in_state()
    }
    assert "qa-chen@48900" not in state
    assert state["qa-dana@20700"]["outputs"]["status"] == "Declined"

    registers_before = sandbox.stats()["register_calls"]
    stack.up().ok()
    assert sandbox.stats()["register_calls"] == registers_before + 1
    assert ("48900", phone(3)) in registered(sandbox)
    assert stack.outputs()["agents"]["20700"]["qa-dana"]["status"] == "Declined"


def test_refresh_with_run_program_reads_the_stack_files_current_api_key(
    stack: Stack, sandbox: Any
) -> None:
    """The README's refresh: `--run-program` configures the provider from the stack file as
    it is now; a plain refresh uses the settings recorded by the last `up`."""
    stack.set_agents(agents_block({"48900": [("qa-alice", 1)]}))
    stack.up().ok()
    stack.run("config", "set", "--secret", "kaleyra:apiKey", "a-revoked-key").ok()

    plain = stack.run("refresh", "--yes", "--skip-preview").ok()
    assert "401" not in plain.output, "a plain refresh still uses the recorded api-key"
    refused = stack.refresh()
    assert refused.returncode != 0 and "rejected the api-key (401)" in refused.output

    stack.run("config", "set", "--secret", "kaleyra:apiKey", sandbox.api_key).ok()
    stack.refresh().ok()


def test_number_registered_out_of_band_is_adopted(stack: Stack, sandbox: Any) -> None:
    existing = sandbox.add_registration("48900", phone(2))
    stack.set_agents(agents_block(BASE))
    stack.up().ok()

    assert sandbox.stats()["register_calls"] == 4
    assert len([k for k in registered(sandbox) if k == ("48900", phone(2))]) == 1
    assert output_ids(stack)[("48900", "qa-bob")] == existing["id"]
    bob = [t for t in stack.testers_in_state() if t["outputs"]["label"] == "qa-bob"]
    assert bob[0]["outputs"]["registration_id"] == existing["id"]


def test_destroy_warns_and_the_stack_can_be_removed(
    project: Project, stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(agents_block(BASE))
    stack.up().ok()

    destroyed = stack.destroy().ok()
    warned = set(
        re.findall(r"tester (qa-\w+) of agent (\d+) \(\w+\) was removed", destroyed.output)
    )
    assert warned == {(label, a) for a, ts in BASE.items() for label, _ in ts}
    assert REMOVE_WARNING in destroyed.output
    # One warning per tester: the closing Diagnostics list names each tester once.
    diagnostics = destroyed.output.split("Diagnostics:", 1)[1]
    assert diagnostics.count(REMOVE_WARNING) == 5
    assert stack.testers_in_state() == []
    assert len(registered(sandbox)) == 5
    project.pulumi("stack", "rm", "dev", "--yes").ok()
    assert "dev" not in project.pulumi("stack", "ls").ok().stdout


def test_two_stacks_keep_independent_state(project: Project, stack: Stack, sandbox: Any) -> None:
    staging = project.stack("staging", sandbox.url, sid=sandbox.sid, api_key=sandbox.api_key)
    stack.set_agents(agents_block({"48900": [("qa-alice", 1)]}))
    staging.set_agents(agents_block({"48900": [("qa-alice", 11)], "20700": [("qa-zed", 12)]}))

    stack.up().ok()
    staging.up().ok()

    assert {t["outputs"]["label"] for t in stack.testers_in_state()} == {"qa-alice"}
    assert len(staging.testers_in_state()) == 2
    assert set(registered(sandbox)) == {
        ("48900", phone(1)),
        ("48900", phone(11)),
        ("20700", phone(12)),
    }
    stack.set_agents(agents_block({"48900": [("qa-alice", 1), ("qa-bea", 13)]}))
    stack.up().ok()
    staging.up("--expect-no-changes").ok()
    assert len(staging.testers_in_state()) == 2


def test_preview_diff_and_state_hold_no_phone_and_no_api_key(stack: Stack, sandbox: Any) -> None:
    """Phones kept as secrets in config (the documented way) appear nowhere in clear:
    not in preview --diff, not in the exported state, not in any backend file."""
    stack.set_secret_phones(BASE)
    previewed = stack.preview("--diff").ok()
    stack.up().ok()
    more = {**BASE, "20700": [*BASE["20700"], ("qa-erin", 5)]}
    stack.set_secret_phones(more)
    diff = stack.preview("--diff").ok()
    exported = stack.run("stack", "export").ok().stdout
    backend = "\n".join(
        p.read_text(errors="replace") for p in stack.project.state_dir.rglob("*") if p.is_file()
    )

    everything = previewed.output + diff.output + exported + backend
    for n in range(1, 6):
        digits = phone(n)
        assert digits not in everything
        assert formatted(n) not in everything
        assert digits[-10:] not in everything
    assert sandbox.api_key not in everything
    assert "qa-erin" in diff.output


def test_forced_replace_of_one_tester_sends_nothing_and_warns_nothing(
    stack: Stack, sandbox: Any
) -> None:
    stack.set_agents(agents_block(BASE))
    stack.up().ok()
    before = sandbox.stats()
    bob = next(r for r in stack.testers_in_state() if r["urn"].endswith("::48900-qa-bob"))

    replaced = stack.up("--replace", bob["urn"]).ok()

    assert "1 replaced" in replaced.output
    assert REMOVE_WARNING not in replaced.output, "qa-bob is still declared"
    assert sandbox.stats()["register_calls"] == before["register_calls"]
    assert registered(sandbox)[("48900", phone(2))] == bob["outputs"]["registration_id"]
    stack.up("--expect-no-changes").ok()
