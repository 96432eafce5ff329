"""kaleyra:* stack config -> ClientSettings, with every problem named by its key."""

from __future__ import annotations

from typing import Any

import pytest

from rcs_provider._kaleyra.errors import ConfigurationError
from rcs_provider._kaleyra.settings import DEFAULT_LIST_PATH, SANDBOX_BASE_URL
from rcs_provider._provider_config import settings_from_config


def getter(values: dict[str, Any]) -> Any:
    return values.get


BASE = {"kaleyra:sid": "SID1", "kaleyra:apiKey": "secret-key-1234", "kaleyra:pod": "in"}


def test_minimal_config() -> None:
    s = settings_from_config(getter(BASE), environ={})
    assert (s.sid, s.api_key, s.pod, s.base_url) == ("SID1", "secret-key-1234", "in", None)
    assert s.list_path == DEFAULT_LIST_PATH and s.list_method == "GET"
    assert "secret-key-1234" not in repr(s)


def test_environment_fallbacks() -> None:
    s = settings_from_config(
        getter({"kaleyra:pod": "na"}), environ={"KALEYRA_SID": "S", "KALEYRA_API_KEY": "K"}
    )
    assert (s.sid, s.api_key) == ("S", "K")


def test_sandbox_pod_defaults_to_the_local_sandbox() -> None:
    s = settings_from_config(getter({**BASE, "kaleyra:pod": "sandbox"}), environ={})
    assert s.base_url == SANDBOX_BASE_URL and s.pod is None


def test_overrides() -> None:
    s = settings_from_config(
        getter(
            {
                **BASE,
                "kaleyra:baseUrl": "https://rcs-api.na.kaleyra.ai",
                "kaleyra:registerPath": "/v1/{sid}/rcs/agent/registerTester",
                "kaleyra:listPath": "/v1/{sid}/rcs/agent/testersbyagent",
                "kaleyra:listMethod": "post",
                "kaleyra:connectTimeout": "2",
                "kaleyra:readTimeout": "7.5",
                "kaleyra:totalTimeout": "60",
                "kaleyra:maxRetries": "2",
            }
        ),
        environ={},
    )
    assert s.base_url == "https://rcs-api.na.kaleyra.ai"
    assert s.register_path.endswith("registerTester") and s.list_method == "POST"
    assert (s.connect_timeout, s.read_timeout, s.total_timeout, s.max_retries) == (
        2.0,
        7.5,
        60.0,
        2,
    )


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_from_config(
            getter(
                {
                    "kaleyra:pod": "eu",
                    "kaleyra:readTimeout": "soon",
                    "kaleyra:maxRetries": "-1",
                    "kaleyra:listMethod": "PUT",
                }
            ),
            environ={},
        )
    text = str(info.value)
    assert text.startswith("Unable to configure the Kaleyra provider:")
    for part in (
        "kaleyra:sid: is not set; set it with `pulumi config set kaleyra:sid <account SID>` "
        "(or export KALEYRA_SID)",
        "kaleyra:apiKey: is not set; set it with `pulumi config set --secret kaleyra:apiKey <key>`",
        "kaleyra:pod: must be one of in, na, sandbox, got 'eu'",
        "kaleyra:readTimeout: must be a number of seconds, got 'soon'",
        "kaleyra:maxRetries: must be a whole number, 0 or more, got -1",
        "kaleyra:listMethod: must be GET or POST, got 'PUT'; set it with "
        "`pulumi config set kaleyra:listMethod GET`",
    ):
        assert part in text
    assert info.value.key == "kaleyra:sid"


def test_missing_pod_and_base_url() -> None:
    with pytest.raises(ConfigurationError, match="kaleyra:pod: is not set"):
        settings_from_config(getter({"kaleyra:sid": "S", "kaleyra:apiKey": "K"}), environ={})


def test_non_string_values_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="kaleyra:sid: must be a string, got int"):
        settings_from_config(getter({**BASE, "kaleyra:sid": 12}), environ={})


def test_ranges_are_checked_once_by_client_settings() -> None:
    """ClientSettings owns the ranges and the defaults; the provider adds the command."""
    s = settings_from_config(getter({**BASE, "kaleyra:backoffFactor": "0"}), environ={})
    assert s.backoff_factor == 0 and s.read_timeout == 30.0
    with pytest.raises(ConfigurationError) as info:
        settings_from_config(getter({**BASE, "kaleyra:readTimeout": "0"}), environ={})
    assert str(info.value) == (
        "Unable to configure the Kaleyra provider:\n"
        "  - kaleyra:readTimeout: must be a positive number of seconds, got 0.0; set it with "
        "`pulumi config set kaleyra:readTimeout 30`"
    )


@pytest.mark.parametrize("sid", ["REPLACE-WITH-ACCOUNT-SID", "<account SID>", "replace-with-sid"])
def test_a_placeholder_sid_is_named_as_one(sid: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_from_config(getter({**BASE, "kaleyra:sid": sid}), environ={})
    assert info.value.problems == [
        ("kaleyra:sid", f"is the placeholder {sid!r}, not an account SID")
    ]


def test_a_placeholder_api_key_is_named_without_its_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_from_config(getter({**BASE, "kaleyra:apiKey": "<key>"}), environ={})
    assert info.value.problems == [("kaleyra:apiKey", "is a placeholder, not an api-key")]


@pytest.mark.parametrize("sid", ["HXAB12CD34EF5678", "SANDBOXSID0001", "ACME-REPLACE-01"])
def test_real_looking_sids_are_not_placeholders(sid: str) -> None:
    assert settings_from_config(getter({**BASE, "kaleyra:sid": sid}), environ={}).sid == sid
