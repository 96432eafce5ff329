"""Where and how a stack sends its api-key, compared between two versions of its stack file:
each change is one item for a person, with the old and new value and the host the key goes to."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from rcs_provider._review.connection import connection_changes
from rcs_provider._review.stack_version import StackVersion, read_stack_version

ATTACKER = "https://kaleyra-proxy.attacker.example"
AGENTS = [{"agent": "48900", "testers": []}]


def version(**kaleyra: Any) -> StackVersion:
    config = {f"kaleyra:{k}": v for k, v in kaleyra.items()} | {"rcs-testers:agents": AGENTS}
    text = yaml.safe_dump({"config": config}, sort_keys=False)
    return read_stack_version("prod", "stacks/Pulumi.prod.yaml", text, project="rcs-testers")


def actions(base: StackVersion | None, head: StackVersion | None) -> list[str]:
    return [item.action for item in connection_changes(base, head)]


def test_a_new_base_url_shows_the_old_and_new_host_of_the_key() -> None:
    assert actions(version(pod="in"), version(pod="in", baseUrl=ATTACKER)) == [
        f"check where the api-key goes: `pulumi up` will send it to `{ATTACKER}` instead of "
        "`https://rcs-api.in.kaleyra.io` (kaleyra:baseUrl not set -> "
        f"`{ATTACKER}`); merge only if that is Kaleyra's API or your own proxy"
    ]


def test_a_pod_change_resolves_each_pod_to_its_host() -> None:
    assert actions(version(pod="in"), version(pod="na")) == [
        "check where the api-key goes: `pulumi up` will send it to "
        "`https://rcs-api.na.kaleyra.io` instead of `https://rcs-api.in.kaleyra.io` "
        "(kaleyra:pod `in` -> `na`); merge only if that is Kaleyra's API or your own proxy"
    ]


def test_a_pod_change_under_a_base_url_says_the_key_still_goes_there() -> None:
    url = "http://127.0.0.1:8766"
    assert actions(version(pod="sandbox", baseUrl=url), version(pod="in", baseUrl=url)) == [
        f"check kaleyra:pod `sandbox` -> `in`: the api-key still goes to `{url}`"
    ]


def test_sandbox_pod_alone_means_the_local_sandbox() -> None:
    (action,) = actions(version(pod="sandbox"), version(pod="in"))
    assert "instead of `http://127.0.0.1:8766`" in action


@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("registerPath", "/v2/x", "kaleyra:registerPath `/v1/{sid}/rcs/agenttester/register` "
         "(default) -> `/v2/x`"),
        ("listPath", "/v2/y", "kaleyra:listPath `/v1/{sid}/rcs/agenttester/testersbyagent` "
         "(default) -> `/v2/y`"),
        ("listMethod", "POST", "kaleyra:listMethod `GET` (default) -> `POST`"),
        ("lookup", "register-only", "kaleyra:lookup `auto` (default) -> `register-only`"),
    ],
)  # fmt: skip
def test_each_call_setting_is_an_item(setting: str, value: str, shown: str) -> None:
    assert actions(version(pod="na"), version(pod="na", **{setting: value})) == [
        f"check {shown}: it changes the calls that carry the api-key to "
        "`https://rcs-api.na.kaleyra.io`"
    ]


def test_a_removed_setting_shows_the_default_it_falls_back_to() -> None:
    (action,) = actions(version(pod="na", listMethod="POST"), version(pod="na"))
    assert action.startswith("check kaleyra:listMethod `POST` -> `GET` (default):")


def test_unchanged_settings_and_other_keys_are_no_item() -> None:
    same = {"pod": "in", "baseUrl": ATTACKER, "lookup": "list"}
    assert actions(version(**same), version(**same, readTimeout="60")) == []


def test_a_new_stack_is_an_item_only_when_it_sets_a_base_url() -> None:
    assert actions(None, version(pod="in")) == []
    assert actions(None, version(pod="in", baseUrl=ATTACKER)) == [
        f"check where the api-key goes: this new stack sends it to `{ATTACKER}` "
        f"(kaleyra:baseUrl not set -> `{ATTACKER}`); merge only if that is Kaleyra's API or "
        "your own proxy"
    ]
    assert actions(version(pod="in", baseUrl=ATTACKER), None) == []


def test_credentials_and_query_of_a_url_are_never_shown() -> None:
    url = "https://user:HUNTER2PW@proxy.example:8443/kaleyra?token=QUERYSECRET#frag"
    (item,) = connection_changes(version(pod="in"), version(pod="in", baseUrl=url))

    assert "HUNTER2PW" not in item.action and "QUERYSECRET" not in item.action
    assert item.settings[0].after == "https://proxy.example:8443/kaleyra"
    assert "nowhere known (kaleyra:baseUrl is invalid (must not contain credentials" in item.action


def test_a_secret_base_url_is_shown_as_secret() -> None:
    secret = {"secure": "v1:AAAAbase-url-ciphertext"}
    (item,) = connection_changes(version(pod="in"), version(pod="in", baseUrl=secret))
    assert "v1:" not in item.action
    assert "to a secret kaleyra:baseUrl instead of" in item.action
    assert item.settings[0].after == "a secret value"
    assert "(kaleyra:baseUrl not set -> a secret value)" in item.action


def test_a_value_cannot_break_out_of_its_code_span() -> None:
    (action,) = actions(version(pod="na"), version(pod="na", listPath="/x`[link](https://e.x)\n"))
    assert "`/x?[link](https://e.x)?`" in action


def test_an_unknown_or_missing_pod_is_nowhere_known() -> None:
    (unknown,) = actions(version(pod="in"), version(pod="eu"))
    assert "send it to nowhere known (kaleyra:pod is not a known pod)" in unknown
    (missing,) = actions(version(pod="in"), version())
    assert "nowhere known (no pod in the stack file: $KALEYRA_POD decides)" in missing
