"""Provider called directly for every branch: check, diff, create (adopt on list hit,
adopt on 409, adopt after an ambiguous failure), read (gone, status change, unparseable),
update, delete (warning, renamed label). A fake client stands in for HTTP."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from rcs_provider._kaleyra.errors import (
    AlreadyRegisteredError,
    AuthenticationError,
    ConfigurationError,
    TransportError,
    UnparseableResponseError,
)
from rcs_provider._kaleyra.paging import TesterList
from rcs_provider._kaleyra.parsing import Registration
from rcs_provider._kaleyra.parsing import TesterRecord as Record
from rcs_provider._tester_lists import TesterListCache
from rcs_provider.provider import ProviderError
from rcs_provider.provider import TesterProvider as Provider

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker, as it arrives
PHONE = "919800000001"


class FakeClient:
    """Records calls; answers from a mutable list of testers per agent."""

    def __init__(self) -> None:
        self.testers: dict[str, list[Record]] = {}
        self.register_calls: list[tuple[str, str]] = []
        self.list_calls: list[str] = []
        self.register_error: Exception | None = None
        self.list_error: Exception | None = None
        self.register_lands = True  # whether a failing register still reached "Kaleyra"
        self.lock = threading.Lock()

    def list_testers(self, agent_no: str, *, label: str | None = None) -> list[Record]:
        with self.lock:
            self.list_calls.append(agent_no)
        if self.list_error is not None:
            raise self.list_error
        return list(self.testers.get(agent_no, []))

    def tester_list(self, agent_no: str, *, label: str | None = None) -> TesterList:
        return TesterList(tuple(self.list_testers(agent_no, label=label)))

    def register_tester(
        self, agent_no: str, phoneno: str, *, label: str | None = None
    ) -> Registration:
        with self.lock:
            self.register_calls.append((agent_no, phoneno))
        new_id = f"id-{len(self.register_calls)}"
        if self.register_error is not None:
            if self.register_lands:
                self.testers.setdefault(agent_no, []).append(Record(phoneno, "Unverified", new_id))
            raise self.register_error
        self.testers.setdefault(agent_no, []).append(Record(phoneno, "Unverified", new_id))
        return Registration(new_id, phoneno, agent_no, False, "RCS902", "sent")


@pytest.fixture
def tester_lists() -> TesterListCache:
    """This test's process-wide view: every provider of one test shares it, as in the engine."""
    return TesterListCache()


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient()


@pytest.fixture
def provider(fake: FakeClient, tester_lists: TesterListCache) -> Provider:
    return Provider(client=fake, tester_lists=tester_lists)


def props(label: str = "qa-alice", phone: str = PHONE, agent: str = "48900") -> dict[str, Any]:
    return {"agent_no": agent, "phoneno": phone, "label": label}


def error(cls: type[Exception], status: int | None = None) -> Exception:
    return cls("test failure", action="register tester qa-alice for agent 48900", status=status)  # type: ignore[call-arg]


# -- configure --------------------------------------------------------------------------------


def test_configure_builds_the_client_from_stack_config() -> None:
    p = Provider()
    config = Config(
        {
            "kaleyra:sid": "SID1",
            "kaleyra:apiKey": "k" * 12,
            "kaleyra:pod": "sandbox",
            "kaleyra:baseUrl": "http://127.0.0.1:9",
        },
        "rcs-testers",
    )
    p.configure(ConfigureRequest(config))
    assert p.client.base_url == "http://127.0.0.1:9"


def test_configure_without_credentials_names_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KALEYRA_SID", raising=False)
    monkeypatch.delenv("KALEYRA_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as info:
        Provider().configure(ConfigureRequest(Config({}, "rcs-testers")))
    text = str(info.value)
    assert (
        "kaleyra:sid: is not set; set it with `pulumi config set kaleyra:sid <account SID>`" in text
    )
    assert "`pulumi config set --secret kaleyra:apiKey <key>`" in text
    assert "kaleyra:pod: is not set" in text


def test_without_an_api_key_preview_calls_work_and_create_and_read_name_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pull request's preview runs without the key: check, diff, update and delete call no
    Kaleyra API; create and read need the key and say how to set it."""
    monkeypatch.delenv("KALEYRA_API_KEY", raising=False)
    p = Provider(tester_lists=TesterListCache())
    p.configure(ConfigureRequest(Config({"kaleyra:sid": "S", "kaleyra:pod": "in"}, "rcs-testers")))

    checked = p.check({}, props())
    assert checked.failures == []
    assert p.diff("id-1", state(), props(label="qa-alice-2")).changes is True
    p.update("id-1", state(), props(label="qa-alice-2"))
    p.delete("id-1", state())
    fix = "kaleyra:apiKey: is not set; set it with `pulumi config set --secret kaleyra:apiKey <key>` (or export KALEYRA_API_KEY)"
    with pytest.raises(ConfigurationError) as created:
        p.create(checked.inputs)
    assert fix in str(created.value)
    with pytest.raises(ConfigurationError) as read:
        p.read("id-1", state())
    assert fix in str(read.value)


def test_an_api_key_missing_beside_another_problem_still_fails_configure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KALEYRA_API_KEY", raising=False)
    config = Config({"kaleyra:sid": "S", "kaleyra:pod": "eu"}, "rcs-testers")
    with pytest.raises(ConfigurationError, match="kaleyra:pod"):
        Provider().configure(ConfigureRequest(config))


def test_client_before_configure_is_a_clear_bug() -> None:
    with pytest.raises(RuntimeError, match="before configure"):
        _ = Provider().client


# -- check --------------------------------------------------------------------------------------


def test_check_normalises_agent_and_phone(provider: Provider) -> None:
    result = provider.check(
        {}, {"agent_no": 48900, "phoneno": "+91 (98000) 000-01", "label": "qa-alice"}
    )
    assert result.failures == []
    assert result.inputs["agent_no"] == "48900"
    assert result.inputs["phoneno"] == PHONE


@pytest.mark.parametrize(
    ("news", "prop", "reason"),
    [
        ({"agent_no": 4.5}, "agent_no", "agent_no must be a string of digits, got float"),
        ({"agent_no": True}, "agent_no", "agent_no must be a string of digits, got bool"),
        ({"agent_no": "48 900"}, "agent_no", "agent_no must be the agent's service code"),
        ({"phoneno": ""}, "phoneno", "phoneno"),
        ({"phoneno": 9.5}, "phoneno", "phoneno"),
        ({"label": "qa alice"}, "label", "label must be 1-64 characters"),
        ({"label": "qa-\x1b[31m"}, "label", "label must be 1-64 characters"),
        ({"label": "qa-919800000001"}, "label", "must not contain 7 or more digits in a row"),
        ({"label": "qa-98450-12345"}, "label", "even split by '-', '.' or '_'"),
        ({"label": "qa-48900.17"}, "label", "must not contain 7 or more digits"),
        ({"label": None}, "label", "label must be a string, got NoneType"),
    ],
)
def test_check_rejects_bad_values_naming_the_property(
    provider: Provider, news: dict[str, Any], prop: str, reason: str
) -> None:
    result = provider.check({}, {**props(), **news})
    assert [f.property for f in result.failures] == [prop]
    assert reason in result.failures[0].reason
    assert PHONE not in result.failures[0].reason


def test_check_lets_unknown_values_through_during_preview(provider: Provider) -> None:
    result = provider.check({}, {"agent_no": UNKNOWN, "phoneno": UNKNOWN, "label": UNKNOWN})
    assert result.failures == []
    assert result.inputs["phoneno"] == UNKNOWN


def test_check_lets_the_sdks_unknown_objects_through_during_preview(provider: Provider) -> None:
    """pulumi.dynamic deserialises check inputs with keep_unknowns: unknowns arrive as
    ``Unknown`` objects, e.g. a label computed from another resource's output."""
    from pulumi.output import Unknown

    news = {"agent_no": "48900", "phoneno": PHONE, "label": Unknown()}
    result = provider.check({}, news)
    assert result.failures == []
    result = provider.check({}, {"agent_no": Unknown(), "phoneno": Unknown(), "label": "qa-a"})
    assert result.failures == []
    assert provider.diff("id-1", state(), {**props(), "phoneno": Unknown()}).replaces == ["phoneno"]


# -- diff ---------------------------------------------------------------------------------------


def test_formatting_only_phone_change_is_no_change(provider: Provider) -> None:
    diff = provider.diff(
        "id", {**props(), "__provider": "a"}, {**props(phone="+91 98000 00001"), "__provider": "b"}
    )
    assert diff.changes is False
    assert diff.replaces == []


def test_phone_or_agent_change_replaces(provider: Provider) -> None:
    assert provider.diff("id", props(), props(phone="919800000002")).replaces == ["phoneno"]
    assert provider.diff("id", props(), props(agent="20700")).replaces == ["agent_no"]
    assert provider.diff("id", props(), {**props(), "phoneno": UNKNOWN}).replaces == ["phoneno"]


def test_label_change_is_an_in_place_update(provider: Provider) -> None:
    diff = provider.diff("id", props(), props(label="qa-alicia"))
    assert diff.changes is True
    assert diff.replaces == []


def test_unreadable_old_state_replaces(provider: Provider) -> None:
    assert provider.diff("id", {"label": "qa-alice"}, props()).replaces == ["agent_no", "phoneno"]


# -- create -------------------------------------------------------------------------------------


def test_create_registers_a_new_number(provider: Provider, fake: FakeClient) -> None:
    result = provider.create(props())
    assert fake.register_calls == [("48900", PHONE)]
    assert result.id == "id-1"
    assert result.outs == {
        "agent_no": "48900",
        "phoneno": PHONE,
        "label": "qa-alice",
        "registration_id": "id-1",
        "status": "Unverified",
    }


def test_create_adopts_a_listed_number_without_registering(
    provider: Provider, fake: FakeClient
) -> None:
    fake.testers["48900"] = [Record(PHONE, "Approved", "existing")]
    result = provider.create(props())
    assert fake.register_calls == []
    assert result.id == "existing"
    assert result.outs is not None and result.outs["registration_id"] == "existing"
    assert result.outs["status"] == "Approved"


def test_create_adopts_on_409(provider: Provider, fake: FakeClient) -> None:
    fake.list_error = None
    fake.register_error = error(AlreadyRegisteredError, 409)
    result = provider.create(props())
    assert fake.list_calls == ["48900", "48900"], "a fresh list after the 409"
    assert len(fake.register_calls) == 1, "never a second POST"
    assert result.id == "id-1"


def test_create_adopts_after_a_transport_failure_that_reached_kaleyra(
    provider: Provider, fake: FakeClient
) -> None:
    fake.register_error = error(TransportError)
    result = provider.create(props())
    assert len(fake.register_calls) == 1, "never a second POST"
    assert fake.list_calls == ["48900", "48900"], "a fresh list after the failure"
    assert result.id == "id-1"


def test_create_fails_clearly_when_the_outcome_stays_unknown(
    provider: Provider, fake: FakeClient
) -> None:
    fake.register_error = error(TransportError)
    fake.register_lands = False
    with pytest.raises(ProviderError) as info:
        provider.create(props())
    text = str(info.value)
    assert "Unable to register tester qa-alice for agent 48900" in text
    assert "91980XXXXX01" in text and PHONE not in text
    assert "Run `pulumi up` again" in text
    assert len(fake.register_calls) == 1


def test_create_propagates_other_errors(provider: Provider, fake: FakeClient) -> None:
    fake.register_error = error(AuthenticationError, 401)
    fake.register_lands = False
    with pytest.raises(AuthenticationError):
        provider.create(props())


def test_create_lists_each_agent_once_for_many_testers(
    provider: Provider, fake: FakeClient
) -> None:
    for n in range(1, 9):
        provider.create(props(label=f"qa-{n}", phone=f"9198000000{n:02d}"))
    assert fake.list_calls == ["48900"]
    assert len(fake.register_calls) == 8


def test_create_with_a_list_entry_without_id_gets_a_stable_id(
    provider: Provider, fake: FakeClient
) -> None:
    fake.testers["48900"] = [Record(PHONE, None, None)]
    result = provider.create(props())
    assert result.id == "adopted:48900:qa-alice"
    assert result.outs is not None and result.outs["status"] == "Unknown"


# -- read ---------------------------------------------------------------------------------------


def state(
    label: str = "qa-alice", phone: str = PHONE, status: str = "Unverified"
) -> dict[str, Any]:
    return {
        **props(label, phone),
        "registration_id": "id-1",
        "status": status,
        "adopted": False,
        "phone_masked": "x",
        "override_dcs_check": False,
    }


def test_read_updates_status(provider: Provider, fake: FakeClient) -> None:
    fake.testers["48900"] = [Record(PHONE, "Approved", "id-1")]
    result = provider.read("id-1", state())
    assert result.id == "id-1"
    assert result.outs is not None and result.outs["status"] == "Approved"


def test_read_takes_a_new_id_from_the_list(provider: Provider, fake: FakeClient) -> None:
    fake.testers["48900"] = [Record(PHONE, "Pending", "id-9")]
    result = provider.read("id-1", state())
    assert result.outs is not None and result.outs["registration_id"] == "id-9"


def test_read_of_a_number_gone_from_the_list_removes_it(
    provider: Provider, fake: FakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.testers["48900"] = []
    result = provider.read("id-1", state())
    assert result.id == ""
    err = capsys.readouterr().err
    assert "tester qa-alice of agent 48900 (91980XXXXX01) is no longer listed" in err
    assert PHONE not in err


def test_read_keeps_state_when_the_list_is_not_understood(
    provider: Provider, fake: FakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    provider._lookup_mode = "list"
    fake.list_error = error(UnparseableResponseError, 200)
    old = state()
    result = provider.read("id-1", old)
    assert result.id == "id-1" and result.outs == old
    assert "Kept the testers of agent 48900 as recorded in state" in capsys.readouterr().err


def test_read_lists_each_agent_once(provider: Provider, fake: FakeClient) -> None:
    fake.testers["48900"] = [
        Record(f"9198000000{n:02d}", "Pending", f"id-{n}") for n in range(1, 6)
    ]
    fake.testers["20700"] = [Record(PHONE, "Pending", "id-x")]
    for n in range(1, 6):
        provider.read(f"id-{n}", state(label=f"qa-{n}", phone=f"9198000000{n:02d}"))
    provider.read("id-x", {**state(), "agent_no": "20700"})
    assert sorted(fake.list_calls) == ["20700", "48900"]


def test_read_without_identity_returns_state(provider: Provider, fake: FakeClient) -> None:
    assert provider.read("id-1", {"label": "x"}).outs == {"label": "x"}
    assert fake.list_calls == []


# -- update / delete ----------------------------------------------------------------------------


def test_update_changes_the_label_without_api_calls(provider: Provider, fake: FakeClient) -> None:
    result = provider.update("id-1", state(status="Approved"), props(label="qa-alicia"))
    assert result.outs is not None
    assert result.outs["label"] == "qa-alicia"
    assert result.outs["status"] == "Approved"
    # state() holds what an earlier release recorded: an update writes only today's outputs.
    assert set(result.outs) == {"agent_no", "phoneno", "label", "registration_id", "status"}
    assert fake.register_calls == [] and fake.list_calls == []


def test_delete_warns_to_use_the_console(
    provider: Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    provider.delete("id-1", state(label="qa-bob"))
    err = capsys.readouterr().err
    assert err.startswith("warning: tester qa-bob of agent 48900 (91980XXXXX01) was removed")
    assert "Remove it in the Kaleyra console" in err
    assert PHONE not in err


def test_delete_after_a_label_rename_is_silent(
    provider: Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    provider.check({}, props(label="qa-robert"))
    provider.delete("id-1", state(label="qa-bob"))
    assert capsys.readouterr().err == ""


def test_delete_of_a_replaced_number_still_warns(
    provider: Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    provider.check({}, props(label="qa-bob", phone="919800000002"))
    provider.delete("id-1", state(label="qa-bob"))
    assert "Remove it in the Kaleyra console" in capsys.readouterr().err


def test_delete_with_incomplete_state_still_warns(
    provider: Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    provider.delete("id-1", {"label": "qa-bob"})
    assert "(unknown number)" in capsys.readouterr().err


# -- new-tester budget --------------------------------------------------------------------------


def test_a_change_beyond_the_daily_budget_warns_once_per_agent(
    provider: Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    provider._budget = 3
    for n in range(1, 6):
        provider.check({}, props(label=f"qa-{n}", phone=f"9198000000{n:02d}"))
    provider.check(props(), props())  # an existing tester does not count
    err = capsys.readouterr().err
    assert err.count("warning: this change adds more than 3 new testers to agent 48900") == 1
    assert "(rcs-testers:newTesterBudget is 3; its default, 20, is Google RBM's daily limit" in err
    assert "the testers beyond 3 may fail with 429 until tomorrow" in err
    assert "accepts 20" not in err, "the limit in force is the configured one"


def test_within_the_budget_no_warning(
    provider: Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(1, 21):
        provider.check({}, props(label=f"qa-{n}", phone=f"9198000000{n:02d}"))
    assert capsys.readouterr().err == ""


def test_budget_from_config() -> None:
    p = Provider()
    config = {"kaleyra:sid": "S", "kaleyra:apiKey": "K", "kaleyra:pod": "in"}
    p.configure(
        ConfigureRequest(Config({**config, "rcs-testers:newTesterBudget": "50"}, "rcs-testers"))
    )
    assert p._budget == 50
    with pytest.raises(
        ConfigurationError, match="rcs-testers:newTesterBudget must be a whole number"
    ):
        p.configure(
            ConfigureRequest(
                Config({**config, "rcs-testers:newTesterBudget": "lots"}, "rcs-testers")
            )
        )


def test_delete_after_a_forced_replace_of_the_same_tester_is_silent(
    provider: Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    provider.check(state(label="qa-bob"), props(label="qa-bob"))  # `pulumi up --replace`
    provider.delete("id-1", state(label="qa-bob"))
    assert capsys.readouterr().err == ""
