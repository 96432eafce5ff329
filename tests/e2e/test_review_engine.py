"""The review beside the real engine: its problems read exactly as `pulumi preview` prints
them, and ``--decrypt`` lets the engine decrypt both versions of a stack, so a re-encrypted
number is no change and a new number shows masked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from rcs_devtools.fleet_data import formatted, phone
from rcs_devtools.git_repo import StackRepo
from rcs_devtools.pulumi_cli import REPO, Project, Stack


def review(project: Project, *args: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run(
        [sys.executable, "-m", "rcs_provider", "review", "--format", "json", *args],
        cwd=project.root,
        env={**project.env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    data = json.loads(result.stdout) if result.stdout else {}
    return result.returncode, data, result.stderr


def changes(data: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [
        (c["kind"], c["label"], c["phone"], c.get("from_phone"))
        for s in data["stacks"]
        for a in s["agents"]
        for c in a["changes"]
    ]


def test_decrypt_compares_numbers_not_ciphertexts(project: Project) -> None:
    (project.root / ".gitignore").write_text(".venv\n.pulumi-state/\n.pulumi-home/\n")
    project.pulumi("stack", "init", "prod", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "prod")
    stack.set_kaleyra(pod="in", sid="SID")
    stack.set_secret_phones({"48900": [("qa-a", 1), ("qa-b", 2)]})
    repo = StackRepo(project.root)
    repo.commit("prod with two secret phones")
    repo.branch("change")
    path = "rcs-testers:agents[0].testers[{}].phone"
    stack.run("config", "set", "--secret", "--path", path.format(0), formatted(1)).ok()
    stack.run("config", "set", "--secret", "--path", path.format(1), formatted(3)).ok()
    repo.commit("qa-a encrypted again, qa-b gets a new number")

    status, by_ciphertext, _ = review(project)
    assert status == 0
    assert changes(by_ciphertext) == [
        ("phone_changed", "qa-a", "secret", "secret"),
        ("phone_changed", "qa-b", "secret", "secret"),
    ]
    assert len(by_ciphertext["notes"]) == 1

    status, by_number, err = review(project, "--decrypt")
    assert (status, err) == (0, "")
    assert by_number["decrypted"] is True
    assert changes(by_number) == [("phone_changed", "qa-b", "91980XXXXX03", "91980XXXXX02")]
    assert by_number["notes"] == []
    for number in (phone(1), phone(2), phone(3)):
        assert number not in json.dumps(by_number)


def test_decrypt_without_the_passphrase_is_a_usage_error(project: Project) -> None:
    (project.root / ".gitignore").write_text(".venv\n.pulumi-state/\n.pulumi-home/\n")
    project.pulumi("stack", "init", "prod", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "prod")
    stack.set_kaleyra(pod="in", sid="SID")
    stack.set_secret_phones({"48900": [("qa-a", 1)]})
    repo = StackRepo(project.root)
    repo.commit("prod")
    repo.branch("change")
    stack.set_secret_phones({"48900": [("qa-a", 1), ("qa-b", 2)]})
    del project.env["PULUMI_CONFIG_PASSPHRASE"]
    status, data, err = review(project, "--decrypt")
    assert (status, data) == (2, {})
    assert err.startswith("error: Unable to decrypt stack prod (base version): "), err
    assert "passphrase" in err.split(". Log in")[0]
    assert "make its secrets provider available (e.g. PULUMI_CONFIG_PASSPHRASE)" in err


def test_problems_read_exactly_as_preview_prints_them(project: Project) -> None:
    (project.root / ".gitignore").write_text(".venv\n.pulumi-state/\n.pulumi-home/\n")
    project.pulumi("stack", "init", "prod", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "prod")
    stack.set_kaleyra(pod="in", sid="SID")
    stack.set_secret_phones({"48900": [("qa-a", 1)]})
    repo = StackRepo(project.root)
    repo.commit("prod with a secret phone")
    repo.branch("broken")
    agents = stack._load()["config"]["rcs-testers:agents"]
    agents[0]["testers"] += [
        {"label": "qa-a", "phone": {"secure": agents[0]["testers"][0]["phone"]["secure"]}},
        {"label": "qa-b", "phoneNo": formatted(2)},
        {"label": "qa-c", "phone": formatted(3)},
    ]
    agents.append({"agent": "20700", "testers": []})
    stack.set_agents(agents)
    repo.commit("broken testers")

    preview = stack.preview()
    assert preview.returncode != 0
    printed = re.findall(r"(stacks/Pulumi\.prod\.yaml: agents\[.*?)\s*$", preview.output, re.M)
    assert len(printed) == 6
    status, decrypted, _ = review(project, "--decrypt")
    assert status == 1
    assert decrypted["stacks"][0]["problems"] == printed
    # Without the secrets, a copied ciphertext is named as such instead of by its mask.
    status, by_ciphertext, _ = review(project)
    assert status == 1
    assert by_ciphertext["stacks"][0]["problems"] == [
        line.replace("91980XXXXX01 is already", "the same secret phone is already")
        for line in printed
    ]


def test_phonebook_problems_read_exactly_as_preview_prints_them(project: Project) -> None:
    """Secret phonebook phones, a reference to an unknown label and a fixed line."""
    (project.root / ".gitignore").write_text(".venv\n.pulumi-state/\n.pulumi-home/\n")
    project.pulumi("stack", "init", "prod", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "prod")
    stack.set_kaleyra(pod="in", sid="SID")
    stack.set_agents([{"agent": "48900", "testers": ["qa-alice", "qa-bob"]}])
    for label, n in (("qa-alice", 1), ("qa-bob", 2)):
        path = f"rcs-testers:testers.{label}.phone"
        stack.run("config", "set", "--secret", "--path", path, formatted(n)).ok()
    repo = StackRepo(project.root)
    repo.commit("prod testers by reference")
    repo.branch("broken")
    path = "rcs-testers:testers.qa-desk.phone"
    stack.run("config", "set", "--secret", "--path", path, "+44 20 7946 0018").ok()
    stack.set_agents([{"agent": "48900", "testers": ["qa-alice", "qa-bobb", "qa-desk"]}])
    repo.commit("broken references")

    preview = stack.preview()
    assert preview.returncode != 0
    printed = re.findall(
        r"(stacks/Pulumi\.prod\.yaml: (?:agents|testers)\S*: .*?)\s*$", preview.output, re.M
    )
    assert len(printed) == 3, preview.output
    status, decrypted, _ = review(project, "--decrypt")
    assert status == 1
    assert decrypted["stacks"][0]["problems"] == printed
    # Without the secrets, the fixed line is not seen; the unknown label is, in preview's words.
    status, by_ciphertext, _ = review(project)
    assert status == 1
    assert by_ciphertext["stacks"][0]["problems"] == [p for p in printed if "qa-bobb" in p]


def test_a_clear_api_key_reads_exactly_as_preview_prints_it(project: Project) -> None:
    (project.root / ".gitignore").write_text(".venv\n.pulumi-state/\n.pulumi-home/\n")
    project.pulumi("stack", "init", "prod", "--secrets-provider", "passphrase").ok()
    stack = Stack(project, "prod")
    stack.set_kaleyra(pod="in", sid="SID")
    stack.set_secret_phones({"48900": [("qa-a", 1)]})
    stack.run("config", "set", "--secret", "kaleyra:apiKey", "PLAINTEXTKEY999").ok()
    repo = StackRepo(project.root)
    repo.commit("prod, its api-key a secret")
    repo.branch("leak")
    stack.set_kaleyra(apiKey="PLAINTEXTKEY999", baseUrl="https://kaleyra-proxy.attacker.example")
    repo.commit("the key in clear, sent to another host")

    preview = stack.preview()
    assert preview.returncode != 0
    printed = re.findall(
        r"(stacks/Pulumi\.prod\.yaml: kaleyra:apiKey: .*?)\s*$", preview.output, re.M
    )
    assert len(printed) == 1, preview.output
    status, data, _ = review(project)
    assert status == 1
    assert data["stacks"][0]["problems"] == printed
    assert data["stacks"][0]["connection"] == [
        {"setting": "kaleyra:baseUrl", "from": None, "to": "https://kaleyra-proxy.attacker.example"}
    ]
    assert "PLAINTEXTKEY999" not in preview.output + json.dumps(data)
