"""What the provider adds at its boundary: Pulumi's wording for the client's errors, and a
pickled provider that carries no instance state (state holds it by reference)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import dill
import pytest
import requests
import responses

from rcs_provider.kaleyra.client import KaleyraClient
from rcs_provider.kaleyra.errors import (
    MAY_HAVE_REGISTERED_HINT,
    KaleyraError,
    TransportError,
)
from rcs_provider.kaleyra.settings import ClientSettings
from rcs_provider.provider import TesterProvider as Provider
from rcs_provider.pulumi_hints import with_pulumi_hint
from rcs_provider.roster import PROCESS_ROSTER, Roster

BASE = "https://rcs-api.in.kaleyra.io/v1/SID1/rcs/agenttester"
PHONE = "919530000092"
EMPTY_LIST = {"code": "RCS903", "data": {"testers": []}}


@pytest.fixture
def provider() -> Iterator[Provider]:
    settings = ClientSettings(sid="SID1", api_key="key-123456", pod="in", max_retries=0)
    with KaleyraClient(settings) as client:
        yield Provider(client=client, roster=Roster())


def props() -> dict[str, str]:
    return {"agent_no": "48900", "phoneno": PHONE, "label": "qa-alice"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"json": {}, "status": 401},
            "Kaleyra rejected the api-key (401). "
            "Set it with `pulumi config set --secret kaleyra:apiKey <key>`.",
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
        "`pulumi up` again, which checks the agent's tester list before registering again."
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
    assert revived.roster is PROCESS_ROSTER, "instances from state share the process roster"
