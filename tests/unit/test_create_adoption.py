"""Adoption after a register call whose outcome is unknown, through the real client over
``responses``: a 502 or 504 on register may come back after Kaleyra stored the number, so
create must look the number up again and adopt it, with exactly one POST and no error."""

from __future__ import annotations

import pytest
import responses
from pulumi.dynamic import Config, ConfigureRequest
from responses import matchers

from rcs_provider._tester_lists import TesterListCache
from rcs_provider.provider import ProviderError, TesterProvider

PHONE = "919530000092"
AGENT = "48900"
BASE = "https://rcs-api.in.kaleyra.io"
REGISTER_URL = f"{BASE}/v1/SID1/rcs/agenttester/register"
LIST_URL = f"{BASE}/v1/SID1/rcs/agenttester/testersbyagent"
REGISTERED_ID = "b8a32010-dfef-4fa2-bdb3-98b5aaaaa857"


def tester_list(*phones: str) -> dict[str, object]:
    testers = [
        {"phoneno": p, "agent_no": AGENT, "id": REGISTERED_ID, "status": "Unverified"}
        for p in phones
    ]
    return {"code": "RCS903", "data": {"testers": testers}}


@pytest.fixture
def provider() -> TesterProvider:
    config = {"kaleyra:sid": "SID1", "kaleyra:apiKey": "k" * 16, "kaleyra:pod": "in"}
    provider = TesterProvider(tester_lists=TesterListCache())
    provider.configure(ConfigureRequest(Config(config, "rcs-testers")))
    return provider


def expect_list(mocked: responses.RequestsMock, *phones: str) -> None:
    mocked.get(
        LIST_URL,
        json=tester_list(*phones),
        match=[matchers.query_param_matcher({"agent_number": AGENT})],
    )


@pytest.mark.parametrize("gateway_status", [502, 504])
def test_create_adopts_a_number_stored_behind_a_gateway_error(
    provider: TesterProvider, gateway_status: int
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        expect_list(mocked)  # before registering: not there yet
        post = mocked.post(
            REGISTER_URL,
            status=gateway_status,
            json={"message": "upstream timed out"},
            match=[matchers.json_params_matcher({"phoneno": PHONE, "agent_no": AGENT})],
        )
        expect_list(mocked, PHONE)  # the fresh look-up: Kaleyra stored it after all

        result = provider.create({"agent_no": AGENT, "phoneno": PHONE, "label": "qa-alice"})

        assert post.call_count == 1, "never a second POST"
        assert [c.request.method for c in mocked.calls] == ["GET", "POST", "GET"]
    assert result.id == REGISTERED_ID
    assert result.outs is not None and result.outs["registration_id"] == REGISTERED_ID


@pytest.mark.parametrize("gateway_status", [502, 504])
def test_create_fails_with_the_runbook_when_a_gateway_error_left_nothing(
    provider: TesterProvider, gateway_status: int
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        expect_list(mocked)
        post = mocked.post(REGISTER_URL, status=gateway_status, json={"message": "bad gateway"})
        expect_list(mocked)

        with pytest.raises(ProviderError) as info:
            provider.create({"agent_no": AGENT, "phoneno": PHONE, "label": "qa-alice"})

        assert post.call_count == 1, "an unknown outcome is never posted twice"
    text = str(info.value)
    assert text.startswith("Unable to register tester qa-alice for agent 48900")
    assert "Run `pulumi up` again" in text
    assert PHONE not in text


def test_a_plain_500_on_register_is_reported_without_a_second_look_up(
    provider: TesterProvider,
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        expect_list(mocked)
        mocked.post(REGISTER_URL, status=500, json={"message": "internal error"})

        with pytest.raises(Exception, match="Unable to register tester") as info:
            provider.create({"agent_no": AGENT, "phoneno": PHONE, "label": "qa-alice"})

        assert [c.request.method for c in mocked.calls] == ["GET", "POST"]
    assert PHONE not in str(info.value)
