"""``kaleyra:lookup`` through the provider and the real client over ``responses``: every
branch of ``list``, ``register-only`` and ``auto``, and the one "already registered" table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import responses
from pulumi.dynamic import Config, ConfigureRequest
from responses import matchers

from rcs_devtools.lock_arrivals import ArrivalCountingLock, same_lock_for_every_key
from rcs_provider._kaleyra.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    KaleyraError,
    ServerError,
    TransportError,
)
from rcs_provider._tester_lists import TesterListCache
from rcs_provider.provider import ProviderError, TesterProvider

PHONE = "919530000092"
OTHER_PHONE = "919530000093"
AGENT = "48900"
BASE = "https://rcs-api.in.kaleyra.io"
REGISTER_URL = f"{BASE}/v1/SID1/rcs/agenttester/register"
LIST_URL = f"{BASE}/v1/SID1/rcs/agenttester/testersbyagent"
LISTED_ID = "b8a32010-dfef-4fa2-bdb3-98b5aaaaa857"
NEW_ID = "c0ffee00-dfef-4fa2-bdb3-98b5bbbbb111"
DETERMINISTIC_ID = f"adopted:{AGENT}:qa-alice"


def provider_for(mode: str | None) -> TesterProvider:
    config = {
        "kaleyra:sid": "SID1",
        "kaleyra:apiKey": "k" * 16,
        "kaleyra:pod": "in",
        "kaleyra:maxRetries": "0",
        "kaleyra:backoffFactor": "0",
    }
    if mode is not None:
        config["kaleyra:lookup"] = mode
    provider = TesterProvider(tester_lists=TesterListCache())
    provider.configure(ConfigureRequest(Config(config, "rcs-testers")))
    return provider


def props(label: str = "qa-alice", phone: str = PHONE) -> dict[str, Any]:
    return {"agent_no": AGENT, "phoneno": phone, "label": label}


def recorded(label: str = "qa-alice", phone: str = PHONE) -> dict[str, Any]:
    return {**props(label, phone), "registration_id": LISTED_ID, "status": "Pending"}


def listed(*phones: str, status: str = "Pending") -> dict[str, Any]:
    testers = [{"phoneno": p, "id": LISTED_ID, "status": status} for p in phones]
    return {"code": "RCS903", "data": {"testers": testers}}


def registered() -> dict[str, Any]:
    data = {"phoneno": PHONE, "agent_no": AGENT, "id": NEW_ID, "override_dcs_check": False}
    return {"code": "RCS902", "message": "sent", "data": data, "error": {}}


def expect_list(mocked: responses.RequestsMock, body: Any = None, **kwargs: Any) -> None:
    if body is None and "status" not in kwargs:
        body = listed()
    mocked.get(LIST_URL, json=body, **kwargs)


def expect_register(mocked: responses.RequestsMock, body: Any = None, **kwargs: Any) -> None:
    if body is None and "status" not in kwargs:
        body = registered()
    if isinstance(body, str):
        kwargs.setdefault("content_type", "text/plain")
        mocked.post(REGISTER_URL, body=body, **kwargs)
    else:
        mocked.post(
            REGISTER_URL,
            json=body,
            match=[matchers.json_params_matcher({"phoneno": PHONE, "agent_no": AGENT})],
            **kwargs,
        )


class Mock(responses.RequestsMock):
    """All registered requests must be made; ``methods`` keeps the calls' order after exit."""

    methods: list[str]

    def __init__(self) -> None:
        super().__init__(assert_all_requests_are_fired=True)
        self.methods = []

    def __exit__(self, *exc: Any) -> Any:
        self.methods = [str(call.request.method) for call in self.calls]
        return super().__exit__(*exc)


def mock() -> Mock:
    return Mock()


# -- the setting ----------------------------------------------------------------------------


def test_the_default_is_auto() -> None:
    assert provider_for(None)._lookup_mode == "auto"


@pytest.mark.parametrize("mode", ["auto", "list", "register-only"])
def test_each_mode_is_accepted(mode: str) -> None:
    assert provider_for(mode)._lookup_mode == mode


@pytest.mark.parametrize("value", ["registeronly", "LIST", "none"])
def test_an_unknown_mode_names_the_key_and_the_allowed_values_with_no_call(value: str) -> None:
    with mock(), pytest.raises(ConfigurationError) as info:
        provider_for(value)
    text = str(info.value)
    assert f"kaleyra:lookup: must be one of auto, list, register-only, got {value!r}" in text
    assert "`pulumi config set kaleyra:lookup auto`" in text


# -- list -----------------------------------------------------------------------------------


def test_list_adopts_a_listed_number_without_registering() -> None:
    with mock() as mocked:
        expect_list(mocked, listed(PHONE))
        result = provider_for("list").create(props())
    assert (result.id, result.outs["status"]) == (
        LISTED_ID,
        "Pending",
    )


def test_list_registers_a_number_it_does_not_list() -> None:
    with mock() as mocked:
        expect_list(mocked, listed(OTHER_PHONE))
        expect_register(mocked)
        result = provider_for("list").create(props())
    assert (result.id, result.outs["status"]) == (
        NEW_ID,
        "Unverified",
    )


@pytest.mark.parametrize("status", [404, 405, 501])
def test_list_fails_when_the_list_call_is_missing(status: int) -> None:
    with mock() as mocked:
        expect_list(mocked, {"code": status, "message": "nope"}, status=status)
        with pytest.raises((InvalidRequestError, ServerError)):
            provider_for("list").create(props())


def test_list_refuses_to_look_up_in_a_masked_list() -> None:
    with mock() as mocked:
        expect_list(mocked, listed("91953XXXXX92"))
        with pytest.raises(ProviderError) as info:
            provider_for("list").create(props())
    assert "1 of its numbers are masked" in str(info.value)
    assert "Set kaleyra:lookup to auto or register-only" in str(info.value)
    assert PHONE not in str(info.value)


def test_list_adopts_on_409_with_the_listed_registration() -> None:
    with mock() as mocked:
        expect_list(mocked, listed())
        expect_register(mocked, {"code": "RCS409", "data": {"id": "from-409"}}, status=409)
        expect_list(mocked, listed(PHONE, status="Approved"))
        result = provider_for("list").create(props())
    assert (result.id, result.outs["status"]) == (
        LISTED_ID,
        "Approved",
    )


def test_list_adopts_on_409_even_when_the_list_does_not_show_it() -> None:
    with mock() as mocked:
        expect_list(mocked, listed())
        expect_register(mocked, {"code": "RCS409", "data": {"id": "from-409"}}, status=409)
        expect_list(mocked, listed())
        result = provider_for("list").create(props())
    assert (result.id, result.outs["status"]) == ("from-409", "Registered")


def test_list_settles_an_unknown_outcome_by_looking_again_never_posting_twice() -> None:
    with mock() as mocked:
        expect_list(mocked, listed())
        expect_register(mocked, {"code": 504}, status=504)
        expect_list(mocked, listed())
        with pytest.raises(ProviderError, match="does not show 91953XXXXX92"):
            provider_for("list").create(props())
    assert mocked.methods.count("POST") == 1


# -- register-only ------------------------------------------------------------------------


def test_register_only_registers_without_any_list_call() -> None:
    with mock() as mocked:
        expect_register(mocked)
        result = provider_for("register-only").create(props())
    assert (result.id, result.outs["status"]) == (
        NEW_ID,
        "Unverified",
    )
    assert mocked.methods == ["POST"]


ALREADY_REGISTERED_ANSWERS: list[tuple[str, int, Any, str]] = [
    ("409 RCS409 with id", 409, {"code": "RCS409", "data": {"id": "id-9"}}, "id-9"),
    ("409 error table", 409, {"message": "Conflict (Subject already)"}, DETERMINISTIC_ID),
    ("409 plain text", 409, "Tester already exists", DETERMINISTIC_ID),
    ("409 empty", 409, "", DETERMINISTIC_ID),
    ("409 top-level id", 409, {"id": 77}, "77"),
    ("400 RCS409", 400, {"code": "RCS409", "message": "Conflict"}, DETERMINISTIC_ID),
    (
        "400 already",
        400,
        {"code": "RCS904", "message": "Tester already registered"},
        DETERMINISTIC_ID,
    ),
    ("400 exists", 400, {"error": {"message": "Subject exists"}}, DETERMINISTIC_ID),
    ("400 duplicate", 400, {"message": "Duplicate tester"}, DETERMINISTIC_ID),
]


@pytest.mark.parametrize(
    ("status", "body", "expected_id"),
    [a[1:] for a in ALREADY_REGISTERED_ANSWERS],
    ids=[a[0] for a in ALREADY_REGISTERED_ANSWERS],
)
def test_register_only_adopts_every_already_registered_answer(
    status: int, body: Any, expected_id: str
) -> None:
    with mock() as mocked:
        expect_register(mocked, body, status=status)
        result = provider_for("register-only").create(props())
    assert (result.id, result.outs["status"]) == (
        expected_id,
        "Registered",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"code": "RCS904", "message": "Agent Not Found"},
        {"code": "RCS904", "message": "Missing or invalid fields"},
        {"message": "Nonexistent agent"},
    ],
)
def test_register_only_does_not_adopt_other_400s(body: dict[str, str]) -> None:
    with mock() as mocked:
        expect_register(mocked, body, status=400)
        with pytest.raises(InvalidRequestError):
            provider_for("register-only").create(props())


def test_the_deterministic_id_is_the_same_for_the_same_agent_and_label() -> None:
    ids = []
    for _ in range(2):
        with mock() as mocked:
            expect_register(mocked, "", status=409)
            ids.append(provider_for("register-only").create(props()).id)
    assert ids == [DETERMINISTIC_ID, DETERMINISTIC_ID]


@pytest.mark.parametrize("first", [502, 504, "drop"])
def test_register_only_posts_once_more_after_an_unknown_outcome(first: int | str) -> None:
    with mock() as mocked:
        if first == "drop":
            mocked.post(REGISTER_URL, body=requests.ConnectionError("connection reset"))
        else:
            expect_register(mocked, {"code": first}, status=first)
        expect_register(mocked)
        result = provider_for("register-only").create(props())
    assert result.id == NEW_ID
    assert mocked.methods == ["POST", "POST"]


def test_register_only_adopts_a_409_on_the_second_post() -> None:
    with mock() as mocked:
        expect_register(mocked, {"code": 504}, status=504)
        expect_register(mocked, {"message": "Conflict (Subject already)"}, status=409)
        result = provider_for("register-only").create(props())
    assert (result.id, result.outs["status"]) == (
        DETERMINISTIC_ID,
        "Registered",
    )


def test_register_only_fails_with_the_runbook_when_the_second_post_is_unknown_too() -> None:
    with mock() as mocked:
        expect_register(mocked, {"code": 504}, status=504)
        expect_register(mocked, {"code": 502}, status=502)
        with pytest.raises(ProviderError) as info:
            provider_for("register-only").create(props())
    text = str(info.value)
    assert text.startswith("Unable to register tester qa-alice for agent 48900: the outcome is")
    assert "posting it once more left it unknown again" in text
    assert "Run `pulumi up` again: Kaleyra answers 409" in text
    assert len(mocked.methods) == 2


@pytest.mark.parametrize("status", [500, 429, 401])
def test_register_only_does_not_post_again_after_a_certain_failure(status: int) -> None:
    with mock() as mocked:
        expect_register(mocked, {"code": status}, status=status, headers={"Retry-After": "0"})
        with pytest.raises(KaleyraError):
            provider_for("register-only").create(props())
    assert len(mocked.methods) == 1


def test_register_only_read_keeps_state_and_warns_once_per_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = provider_for("register-only")
    with mock():
        first = provider.read(LISTED_ID, recorded())
        second = provider.read(LISTED_ID, recorded("qa-bob", OTHER_PHONE))
    assert (first.id, first.outs) == (LISTED_ID, recorded())
    assert second.id == LISTED_ID
    err = capsys.readouterr().err
    assert err.count("warning: kaleyra:lookup is register-only: refresh cannot see") == 1


# -- auto ---------------------------------------------------------------------------------


def test_auto_uses_the_list_while_it_works() -> None:
    with mock() as mocked:
        expect_list(mocked, listed(PHONE))
        result = provider_for("auto").create(props())
    assert result.id == LISTED_ID


FALLBACKS: list[tuple[str, int, Any, str]] = [
    ("404", 404, {"code": 404, "message": "Not Found"}, "the list call answered 404"),
    ("405", 405, {"code": "RCS405", "message": "Method not allowed"}, "answered 405 RCS405"),
    ("501", 501, {"code": 501, "message": "Not implemented"}, "the list call answered 501"),
    ("unknown shape", 200, {"weird": True}, "its answer was not understood"),
    ("not JSON", 200, "<html>", "its answer was not understood"),
    ("masked", 200, listed("91953XXXXX92"), "numbers masked (like 91953XXXXX92)"),
]


@pytest.mark.parametrize(
    ("status", "body", "seen"), [f[1:] for f in FALLBACKS], ids=[f[0] for f in FALLBACKS]
)
def test_auto_falls_back_to_register_only_for_the_run_and_warns_once(
    status: int, body: Any, seen: str, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = provider_for("auto")
    with mock() as mocked:
        if isinstance(body, str):
            mocked.get(LIST_URL, body=body, status=status, content_type="text/html")
        else:
            expect_list(mocked, body, status=status)
        expect_register(mocked)
        mocked.post(REGISTER_URL, json={"message": "Conflict (Subject already)"}, status=409)
        first = provider.create(props())
        second = provider.create(props("qa-bob", OTHER_PHONE))
    assert first.id == NEW_ID
    assert (second.id, second.outs["status"]) == ("adopted:48900:qa-bob", "Registered")
    assert mocked.methods == ["GET", "POST", "POST"]
    err = capsys.readouterr().err
    assert err.count("warning: kaleyra:lookup is auto and the agent's tester list cannot") == 1
    assert seen in err
    assert "This run goes on in register-only mode" in err
    assert PHONE not in err


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthenticationError), (403, AuthenticationError)]
)
def test_auto_still_fails_on_refused_credentials(status: int, error: type[Exception]) -> None:
    with mock() as mocked:
        expect_list(mocked, {"code": status}, status=status)
        with pytest.raises(error):
            provider_for("auto").create(props())
    assert mocked.methods == ["GET"]


def test_auto_still_fails_on_a_transport_failure() -> None:
    with mock() as mocked:
        mocked.get(LIST_URL, body=requests.ConnectionError("connection refused"))
        with pytest.raises(TransportError):
            provider_for("auto").create(props())
    assert mocked.methods == ["GET"]


def test_auto_still_fails_on_an_unknown_agent() -> None:
    with mock() as mocked:
        expect_list(mocked, {"code": "RCS904", "message": "Agent Not Found"}, status=400)
        with pytest.raises(InvalidRequestError):
            provider_for("auto").create(props())


def test_auto_read_keeps_state_after_the_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    provider = provider_for("auto")
    with mock() as mocked:
        expect_list(mocked, {"code": 404}, status=404)
        first = provider.read(LISTED_ID, recorded())
        second = provider.read(LISTED_ID, recorded("qa-bob", OTHER_PHONE))
    assert (first.id, first.outs, second.id) == (LISTED_ID, recorded(), LISTED_ID)
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "kaleyra:lookup is auto" in err and "refresh keeps state as recorded" in err


def test_auto_read_drops_a_tester_only_a_complete_list_does_not_show(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = provider_for("auto")
    with mock() as mocked:
        expect_list(mocked, listed(OTHER_PHONE, status="Approved"))
        gone = provider.read(LISTED_ID, recorded())
        seen = provider.read(LISTED_ID, recorded("qa-bob", OTHER_PHONE))
    assert gone.id == ""
    assert (seen.id, seen.outs["status"]) == (LISTED_ID, "Approved")
    assert "is no longer listed by Kaleyra" in capsys.readouterr().err


def test_auto_settles_an_unknown_outcome_from_the_list() -> None:
    with mock() as mocked:
        expect_list(mocked, listed())
        expect_register(mocked, {"code": 502}, status=502)
        expect_list(mocked, listed(PHONE))
        result = provider_for("auto").create(props())
    assert result.id == LISTED_ID
    assert mocked.methods == ["GET", "POST", "GET"]


def test_auto_posts_once_more_when_the_list_vanishes_after_an_unknown_outcome() -> None:
    with mock() as mocked:
        expect_list(mocked, listed())
        expect_register(mocked, {"code": 504}, status=504)
        expect_list(mocked, {"code": 404}, status=404)
        expect_register(mocked)
        result = provider_for("auto").create(props())
    assert result.id == NEW_ID
    assert mocked.methods == ["GET", "POST", "GET", "POST"]


def test_auto_gives_the_list_up_once_for_concurrent_creates() -> None:
    """The failing list call answers only once the three other workers are queued on the
    agent's lock (counted there, no sleep): none of them may list again."""
    provider = provider_for("auto")
    agent_lock = ArrivalCountingLock()
    provider.tester_lists._agent_lock = same_lock_for_every_key(agent_lock)  # type: ignore[method-assign]
    numbers = [f"9195300001{i:02d}" for i in range(6)]
    with mock() as mocked:

        def queued_404(_request: Any) -> tuple[int, dict[str, str], str]:
            agent_lock.wait_until(lambda lock: lock.arrived == 4)
            return 404, {}, '{"code": 404}'

        mocked.add_callback("GET", LIST_URL, callback=queued_404)
        mocked.post(REGISTER_URL, json=registered())
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda n: provider.create(props(f"qa-{n[-2:]}", n)), numbers))
    assert all(r.outs["status"] == "Unverified" for r in results), "each one registered"
    assert mocked.methods.count("GET") == 1, "one failed list call, then no more"
    assert mocked.methods.count("POST") == 6


@pytest.mark.parametrize("mode", ["auto", "list"])
def test_a_refused_list_fails_the_first_read_of_the_agent_and_is_not_asked_again(
    mode: str,
) -> None:
    """Refresh with a wrong key: one list call per agent and one error; the agent's other
    testers stay as recorded (the run fails on the first one's error anyway)."""
    provider = provider_for(mode)
    with mock() as mocked:
        expect_list(mocked, {"code": 401, "message": "Unauthorized"}, status=401)
        with pytest.raises(AuthenticationError, match="look up tester qa-alice"):
            provider.read(LISTED_ID, recorded())
        kept = provider.read(LISTED_ID, recorded("qa-bob", OTHER_PHONE))
    assert mocked.methods == ["GET"]
    assert (kept.id, kept.outs) == (LISTED_ID, recorded("qa-bob", OTHER_PHONE))


def test_concurrent_reads_of_a_refused_agent_make_one_list_call_and_one_error() -> None:
    """The refused list call answers only once the three other workers are queued on the
    agent's lock (counted there, no sleep): none of them may list again."""
    provider = provider_for("auto")
    agent_lock = ArrivalCountingLock()
    provider.tester_lists._agent_lock = same_lock_for_every_key(agent_lock)  # type: ignore[method-assign]
    numbers = [f"9195300001{i:02d}" for i in range(6)]
    with mock() as mocked:

        def slow_401(_request: Any) -> tuple[int, dict[str, str], str]:
            agent_lock.wait_until(lambda lock: lock.arrived == 4)
            return 401, {}, '{"code": 401, "message": "Unauthorized"}'

        mocked.add_callback(responses.GET, LIST_URL, callback=slow_401)

        def read(phone: str) -> str:
            try:
                provider.read(LISTED_ID, recorded(f"qa-{phone[-2:]}", phone))
            except AuthenticationError:
                return "error"
            return "kept"

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(read, numbers))
    assert mocked.methods == ["GET"]
    assert sorted(outcomes) == ["error", *["kept"] * 5]


def test_a_refused_list_fails_later_creates_of_the_agent_without_another_call() -> None:
    provider = provider_for("auto")
    with mock() as mocked:
        expect_list(mocked, {"code": 401, "message": "Unauthorized"}, status=401)
        with pytest.raises(AuthenticationError):
            provider.create(props())
        with pytest.raises(AuthenticationError) as again:
            provider.create(props("qa-bob", OTHER_PHONE))
    assert mocked.methods == ["GET"]
    said = str(again.value)
    assert said.startswith(f"Unable to look up tester qa-bob in the tester list of agent {AGENT}: ")
    assert f"(the answer to this run's list call of agent {AGENT})" in said


# -- errors inside a 200 --------------------------------------------------------------------


def in_a_200(code: str, data: Any = None) -> dict[str, Any]:
    return {"code": code, "message": "Internal server error", "data": data or [], "error": {}}


def test_an_error_inside_a_200_on_register_is_a_failure_even_with_an_id() -> None:
    with mock() as mocked:
        expect_register(mocked, in_a_200("RCS904", {"id": "not-a-registration"}))
        with pytest.raises(InvalidRequestError, match="RCS904 inside a 200 answer"):
            provider_for("register-only").create(props())
    assert mocked.methods == ["POST"]


def test_rcs409_inside_a_200_on_register_is_adopted_with_its_id() -> None:
    with mock() as mocked:
        expect_register(mocked, in_a_200("RCS409", {"id": "existing-id"}))
        result = provider_for("register-only").create(props())
    assert (result.id, result.outs["status"]) == ("existing-id", "Registered")


def test_rcs502_inside_a_200_on_register_is_an_unknown_outcome_posted_once_more() -> None:
    with mock() as mocked:
        expect_register(mocked, in_a_200("RCS502"))
        expect_register(mocked)
        result = provider_for("register-only").create(props())
    assert result.id == NEW_ID
    assert mocked.methods == ["POST", "POST"]


def test_rcs500_inside_a_200_on_register_is_not_posted_again() -> None:
    with mock() as mocked:
        expect_register(mocked, in_a_200("RCS500"))
        with pytest.raises(ServerError, match="RCS500 inside a 200 answer"):
            provider_for("register-only").create(props())
    assert mocked.methods == ["POST"]


def test_an_unknown_register_code_with_an_id_is_adopted_with_one_warning_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = provider_for("register-only")
    with mock() as mocked:
        for _ in range(2):
            expect_register(mocked, {**registered(), "code": "RCS777"})
        first = provider.create(props())
        second = provider.create(props())
    assert (first.id, second.id) == (NEW_ID, NEW_ID)
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "registered tester qa-alice for agent 48900 with code RCS777, not RCS902" in err


def test_the_register_success_code_warns_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with mock() as mocked:
        expect_register(mocked)
        provider_for("register-only").create(props())
    assert "warning:" not in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["list", "auto"])
def test_a_transient_rcs500_in_the_list_fails_the_create_and_keeps_the_list(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a 500 does: the call fails, and ``auto`` does not give the list up for the run."""
    provider = provider_for(mode)
    with mock() as mocked:
        expect_list(mocked, in_a_200("RCS500"))
        expect_list(mocked, listed(PHONE))
        with pytest.raises(ServerError, match="RCS500 inside a 200 answer"):
            provider.create(props())
        adopted = provider.create(props())
    assert adopted.id == LISTED_ID
    assert mocked.methods == ["GET", "GET"], "the list is still used, no register call"
    assert "register-only" not in capsys.readouterr().err


def test_auto_falls_back_on_a_no_list_code_inside_a_200_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = provider_for("auto")
    with mock() as mocked:
        expect_list(mocked, in_a_200("RCS405"))
        expect_register(mocked)
        result = provider.create(props())
    assert result.id == NEW_ID
    err = capsys.readouterr().err
    assert "the list call answered RCS405 inside a 200 answer" in err
    assert "This run goes on in register-only mode" in err


@pytest.mark.parametrize("code", ["RCS500", "RCS502", "RCS904", "RCS405"])
def test_list_mode_refresh_fails_on_an_error_inside_a_200_and_drops_nothing(code: str) -> None:
    provider = provider_for("list")
    with mock() as mocked:
        expect_list(mocked, in_a_200(code))
        with pytest.raises(KaleyraError) as info:
            provider.read(LISTED_ID, recorded())
    text = str(info.value)
    assert "in the tester list of agent 48900" in text and f"{code} inside a 200" in text


@pytest.mark.parametrize("code", ["RCS500", "RCS502", "RCS904"])
def test_auto_refresh_keeps_state_on_an_error_inside_a_200_warning_once_naming_it(
    code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = provider_for("auto")
    with mock() as mocked:
        expect_list(mocked, in_a_200(code))
        expect_list(mocked, in_a_200(code))
        first = provider.read(LISTED_ID, recorded())
        second = provider.read(LISTED_ID, recorded("qa-bob", OTHER_PHONE))
    assert (first.id, first.outs) == (LISTED_ID, recorded())
    assert (second.id, second.outs) == (LISTED_ID, recorded("qa-bob", OTHER_PHONE))
    assert mocked.methods == ["GET", "GET"], "not given up: each read asks the list again"
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "tester list of agent 48900" in err and f"{code} inside a 200 answer" in err
    assert "Kept the testers of agent 48900 as recorded in state" in err
    assert "register-only" not in err


def test_an_unknown_list_code_is_read_with_one_warning_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = provider_for("list")
    with mock() as mocked:
        expect_list(mocked, {**listed(PHONE), "code": "RCS777"})
        result = provider.create(props())
        provider.create(props("qa-bob", PHONE))
    assert result.id == LISTED_ID
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "the tester list of agent 48900 answered with code RCS777, not RCS903" in err
