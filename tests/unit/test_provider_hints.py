"""What the provider adds at its boundary: Pulumi's wording for the client's errors, and a
pickled provider that carries no instance state (state holds it by reference)."""

from __future__ import annotations

import pickle
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import dill
import pytest
import requests
import responses
from pulumi.dynamic import Config, ConfigureRequest

from rcs_provider._kaleyra.client import KaleyraClient
from rcs_provider._kaleyra.errors import (
    MAY_HAVE_REGISTERED_HINT,
    AuthenticationError,
    InvalidRequestError,
    KaleyraError,
    TransportError,
)
from rcs_provider._kaleyra.settings import ClientSettings
from rcs_provider._pulumi_hints import with_pulumi_hint
from rcs_provider._tester_lists import PROCESS_TESTER_LISTS, TesterListCache
from rcs_provider.provider import TRACEBACKS_ENV
from rcs_provider.provider import TesterProvider as Provider

BASE = "https://rcs-api.in.kaleyra.io/v1/SID1/rcs/agenttester"
PHONE = "919530000092"
EMPTY_LIST = {"code": "RCS903", "data": {"testers": []}}


@pytest.fixture
def provider() -> Iterator[Provider]:
    settings = ClientSettings(sid="SID1", api_key="key-123456", pod="in", max_retries=0)
    with KaleyraClient(settings) as client:
        yield Provider(client=client, tester_lists=TesterListCache())


def props() -> dict[str, str]:
    return {"agent_no": "48900", "phoneno": PHONE, "label": "qa-alice"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"json": {}, "status": 401},
            "Kaleyra rejected the api-key (401). The api-key came from kaleyra:apiKey and the "
            "account SID from kaleyra:sid; Kaleyra answers 401 to a wrong SID too. Check both: "
            "`pulumi config set --secret kaleyra:apiKey <key>`, "
            "`pulumi config set kaleyra:sid <account SID>`. After changing them, refresh with "
            "`pulumi refresh --run-program` (a plain refresh uses the values of the last "
            "`pulumi up`).",
        ),
        (
            {"body": b'{"data": {"id": ', "status": 200},
            "Kaleyra answered 200 with a body that is not JSON. The tester may or may not be "
            "registered; check the agent's testers in the Kaleyra console, then run `pulumi up` "
            "again (it adopts an existing registration).",
        ),
    ],
)
@responses.activate
def test_register_failures_name_the_pulumi_step(
    provider: Provider, answer: dict[str, Any], expected: str
) -> None:
    responses.get(f"{BASE}/testersbyagent", json=EMPTY_LIST)
    responses.post(f"{BASE}/register", **answer)
    with pytest.raises(KaleyraError) as info:
        provider.create(props())
    assert str(info.value) == f"Unable to register tester qa-alice for agent 48900: {expected}"


@responses.activate
def test_a_401_names_the_environment_variable_the_key_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KALEYRA_API_KEY", "key-from-env-123")
    monkeypatch.delenv("KALEYRA_SID", raising=False)
    provider = Provider(tester_lists=TesterListCache())
    config = {"kaleyra:sid": "SID1", "kaleyra:pod": "in", "kaleyra:maxRetries": "0"}
    provider.configure(ConfigureRequest(Config(config, "rcs-testers")))
    responses.get(f"{BASE}/testersbyagent", json={}, status=401)

    with pytest.raises(AuthenticationError) as info:
        provider.read("id-1", props())

    message = str(info.value)
    assert "The api-key came from the environment variable KALEYRA_API_KEY" in message
    assert "the account SID from kaleyra:sid" in message
    assert "401 to a wrong SID too" in message
    assert "export KALEYRA_API_KEY=<key>" in message
    assert "pulumi config set --secret kaleyra:apiKey" not in message
    assert "key-from-env-123" not in message


@responses.activate
def test_without_tracebacks_an_error_is_rendered_as_its_sentence_alone(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the engine prints is the dynamic provider server's ``traceback.format_exc()``."""
    responses.get(f"{BASE}/testersbyagent", json={"code": "RCS904"}, status=400)
    monkeypatch.delenv(TRACEBACKS_ENV)
    monkeypatch.setattr(sys, "tracebacklimit", 0, raising=False)  # as configure() sets it
    try:
        provider.read("id-1", props())
    except Exception:
        shown = traceback.format_exc()
    assert shown == (
        "Unable to look up tester qa-alice in the tester list of agent 48900: Kaleyra reported "
        "an unknown agent (400 RCS904). Check the agent number (the agent's service code in "
        "the Kaleyra console).\n"
    )


@responses.activate
def test_with_tracebacks_the_typed_error_is_kept(provider: Provider) -> None:
    responses.get(f"{BASE}/testersbyagent", json={"code": "RCS904"}, status=400)
    with pytest.raises(InvalidRequestError):
        provider.read("id-1", props())


def test_a_post_that_may_have_landed_says_to_run_pulumi_up_again() -> None:
    err = TransportError(
        "rcs-api.in.kaleyra.io did not answer within the 30s read timeout",
        hint=MAY_HAVE_REGISTERED_HINT,
        action="register tester qa-alice for agent 48900",
        method="POST",
    )
    assert str(with_pulumi_hint(err)) == (
        "Unable to register tester qa-alice for agent 48900: rcs-api.in.kaleyra.io did not "
        "answer within the 30s read timeout. The registration may have reached Kaleyra; run "
        "`pulumi up` again, which looks the number up in the agent's tester list before "
        "registering again (without a list, Kaleyra answers 409 for a number already "
        "registered, and that is adopted)."
    )


@responses.activate
def test_other_hints_are_kept(provider: Provider) -> None:
    responses.get(f"{BASE}/testersbyagent", body=requests.exceptions.ReadTimeout())
    with pytest.raises(TransportError) as info:
        provider.read("id-1", props())
    assert str(info.value).endswith("Retry later; if Kaleyra is slow, raise kaleyra:readTimeout.")
    assert "pulumi" not in str(info.value)


def test_the_pickled_provider_carries_no_instance_state(provider: Provider) -> None:
    blob = dill.dumps(provider, protocol=pickle.DEFAULT_PROTOCOL, recurse=True)
    assert b"rcs_provider.provider" in blob and b"TesterProvider" in blob
    assert blob == dill.dumps(Provider(), protocol=pickle.DEFAULT_PROTOCOL, recurse=True)
    revived = dill.loads(blob)
    assert vars(revived) == {}
    assert revived.tester_lists is PROCESS_TESTER_LISTS, (
        "instances from state share the process tester-list cache"
    )
