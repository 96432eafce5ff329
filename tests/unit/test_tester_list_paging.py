"""Reading a tester list whole: pagination signs followed within a bound, masked numbers
counted, and nothing concluded from a list that was not read whole (``responses``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from pulumi.dynamic import Config, ConfigureRequest
from responses import matchers

from rcs_provider._kaleyra import client as client_module
from rcs_provider._kaleyra.client import KaleyraClient
from rcs_provider._kaleyra.parsing import is_masked
from rcs_provider._kaleyra.settings import ClientSettings
from rcs_provider._tester_lists import TesterListCache
from rcs_provider.provider import TesterProvider

AGENT = "48900"
BASE = "https://rcs-api.in.kaleyra.io"
LIST_URL = f"{BASE}/v1/SID1/rcs/agenttester/testersbyagent"
PHONES = [str(919_530_000_100 + i) for i in range(5)]


@pytest.fixture
def client() -> Iterator[KaleyraClient]:
    settings = ClientSettings(sid="SID1", api_key="k" * 16, pod="in", max_retries=0)
    with KaleyraClient(settings) as kaleyra:
        yield kaleyra


def testers(*phones: str) -> list[dict[str, str]]:
    return [{"phoneno": p, "id": f"id-{p[-3:]}", "status": "Pending"} for p in phones]


def page(query: dict[str, str], body: Any) -> dict[str, Any]:
    return {"url": LIST_URL, "json": body, "match": [matchers.query_param_matcher(query)]}


def mock() -> responses.RequestsMock:
    return responses.RequestsMock(assert_all_requests_are_fired=True)


def test_an_answer_without_pagination_signs_is_the_whole_list(client: KaleyraClient) -> None:
    with mock() as mocked:
        mocked.get(**page({"agent_number": AGENT}, {"data": {"testers": testers(*PHONES)}}))
        listing = client.tester_list(AGENT)
    assert [r.phoneno for r in listing.records] == PHONES
    assert listing.complete and listing.signs == () and listing.pages == 1


def test_next_links_are_followed_to_the_last_page(client: KaleyraClient) -> None:
    path = "/v1/SID1/rcs/agenttester/testersbyagent"
    with mock() as mocked:
        for number, chunk in enumerate((PHONES[:2], PHONES[2:4], PHONES[4:]), start=1):
            following = f"{path}?agent_number={AGENT}&page={number + 1}" if number < 3 else None
            data = {"testers": testers(*chunk), "page": number, "total": 5, "next": following}
            query = {"agent_number": AGENT} | ({"page": str(number)} if number > 1 else {})
            mocked.get(**page(query, {"data": data}))
        listing = client.tester_list(AGENT)
    assert [r.phoneno for r in listing.records] == PHONES
    assert listing.complete and listing.pages == 3
    assert "total=5" in listing.signs and "page=1" in listing.signs


def test_an_absolute_next_link_on_the_same_host_is_followed(client: KaleyraClient) -> None:
    with mock() as mocked:
        following = f"{LIST_URL}?agent_number={AGENT}&cursor=abc"
        mocked.get(**page({"agent_number": AGENT}, {"data": testers(PHONES[0]), "next": following}))
        mocked.get(**page({"agent_number": AGENT, "cursor": "abc"}, {"data": testers(PHONES[1])}))
        listing = client.tester_list(AGENT)
    assert listing.complete and len(listing.records) == 2


def test_page_and_total_pages_fields_are_followed_with_a_page_parameter(
    client: KaleyraClient,
) -> None:
    with mock() as mocked:
        first = {"testers": testers(*PHONES[:3]), "current_page": 1, "last_page": 2}
        second = {"testers": testers(*PHONES[3:]), "current_page": 2, "last_page": 2}
        mocked.get(**page({"agent_number": AGENT}, {"data": first}))
        mocked.get(**page({"agent_number": AGENT, "page": "2"}, {"data": second}))
        listing = client.tester_list(AGENT)
    assert listing.complete and [r.phoneno for r in listing.records] == PHONES


def test_a_cursor_is_sent_back(client: KaleyraClient) -> None:
    with mock() as mocked:
        mocked.get(
            **page({"agent_number": AGENT}, {"data": testers(PHONES[0]), "nextPageToken": "t2"})
        )
        mocked.get(**page({"agent_number": AGENT, "pageToken": "t2"}, {"data": testers(PHONES[1])}))
        listing = client.tester_list(AGENT)
    assert listing.complete and len(listing.records) == 2


def test_an_offset_and_total_are_followed(client: KaleyraClient) -> None:
    with mock() as mocked:
        first = {"data": testers(*PHONES[:3]), "offset": 0, "total": 5}
        mocked.get(**page({"agent_number": AGENT}, first))
        second = {"data": testers(*PHONES[3:]), "offset": 3, "total": 5}
        mocked.get(**page({"agent_number": AGENT, "offset": "3"}, second))
        listing = client.tester_list(AGENT)
    assert listing.complete and len(listing.records) == 5


INCOMPLETE: list[tuple[str, dict[str, Any], str]] = [
    (
        "has_more without a way on",
        {"data": testers(PHONES[0]), "has_more": True},
        "no way to fetch",
    ),
    ("full page under a limit", {"data": testers(*PHONES[:2]), "limit": 2}, "no way to fetch"),
    ("total beyond the page", {"data": testers(PHONES[0]), "total": 3}, "no way to fetch"),
    ("total below the page", {"data": testers(*PHONES[:2]), "total": 1}, "said total=1 but 2"),
    (
        "next link to another host",
        {"data": testers(PHONES[0]), "next": "https://evil.example/list?page=2"},
        "points away from the configured pod",
    ),
    (
        "next link back to the first page",
        {"data": testers(PHONES[0]), "next": f"{LIST_URL}?agent_number={AGENT}"},
        "did not move on",
    ),
]


@pytest.mark.parametrize(
    ("body", "why"), [i[1:] for i in INCOMPLETE], ids=[i[0] for i in INCOMPLETE]
)
def test_a_list_that_cannot_be_read_whole_is_marked_incomplete(
    client: KaleyraClient, body: dict[str, Any], why: str
) -> None:
    with mock() as mocked:
        mocked.get(LIST_URL, json=body)
        listing = client.tester_list(AGENT)
    assert not listing.complete
    assert listing.incomplete is not None and why in listing.incomplete
    assert listing.records  # what was read is kept


def test_pages_are_followed_only_up_to_the_bound(
    client: KaleyraClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_LIST_PAGES", 3)
    with mock() as mocked:
        for number in range(1, 4):
            query = {"agent_number": AGENT} | ({"page": str(number)} if number > 1 else {})
            data = {"testers": testers(PHONES[number]), "page": number, "total_pages": 9}
            mocked.get(**page(query, {"data": data}))
        listing = client.tester_list(AGENT)
    assert listing.incomplete == "it has more than 3 pages"
    assert listing.pages == 3


def test_masked_numbers_are_counted_not_matched(client: KaleyraClient) -> None:
    body = {"data": [*testers(PHONES[0]), {"phoneno": "91953XXXXX01", "id": "x"}]}
    with mock() as mocked:
        mocked.get(LIST_URL, json=body)
        listing = client.tester_list(AGENT)
    assert [r.phoneno for r in listing.records] == [PHONES[0]]
    assert listing.masked == 1 and not listing.complete


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("91953XXXXX92", True),
        ("*******0092", True),
        ("+91 953** ***92", True),
        ("919530000092", False),
        ("+91 95300 00092", False),
        ("", False),
        ("unknown", False),
    ],
)
def test_is_masked(text: str, masked: bool) -> None:
    assert is_masked(text) is masked


# -- read never drops a tester from a list it could not read whole ------------------------


def provider(mode: str = "list") -> TesterProvider:
    config = {
        "kaleyra:sid": "SID1",
        "kaleyra:apiKey": "k" * 16,
        "kaleyra:pod": "in",
        "kaleyra:maxRetries": "0",
        "kaleyra:lookup": mode,
    }
    p = TesterProvider(tester_lists=TesterListCache())
    p.configure(ConfigureRequest(Config(config, "rcs-testers")))
    return p


def recorded(phone: str, label: str) -> dict[str, Any]:
    return {"agent_no": AGENT, "phoneno": phone, "label": label, "registration_id": "r"}


@pytest.mark.parametrize("mode", ["list", "auto"])
def test_read_keeps_testers_a_partial_list_does_not_show_and_warns_once(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    p = provider(mode)
    with mock() as mocked:
        mocked.get(LIST_URL, json={"data": testers(PHONES[0]), "has_more": True})
        shown = p.read("r", recorded(PHONES[0], "qa-a"))
        kept = [p.read("r", recorded(phone, f"qa-{i}")) for i, phone in enumerate(PHONES[1:3])]
    assert shown.id == "r" and shown.outs["status"] == "Pending"
    assert [k.id for k in kept] == ["r", "r"]
    err = capsys.readouterr().err
    assert err.count("could not be read whole (it shows more testers but no way to fetch") == 1
    assert "no longer listed" not in err


def test_read_keeps_testers_a_masked_list_may_hide_in_list_mode(
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = provider("list")
    with mock() as mocked:
        mocked.get(LIST_URL, json={"data": [{"phoneno": "91953XXXXX00", "id": "x"}]})
        kept = p.read("r", recorded(PHONES[0], "qa-a"))
    assert kept.id == "r"
    assert "1 of its numbers are masked" in capsys.readouterr().err


def test_read_drops_a_tester_only_after_every_page_was_read() -> None:
    p = provider("list")
    with mock() as mocked:
        first = {"testers": testers(PHONES[0]), "page": 1, "total_pages": 2}
        second = {"testers": testers(PHONES[1]), "page": 2, "total_pages": 2}
        mocked.get(**page({"agent_number": AGENT}, {"data": first}))
        mocked.get(**page({"agent_number": AGENT, "page": "2"}, {"data": second}))
        on_second_page = p.read("r", recorded(PHONES[1], "qa-b"))
        gone = p.read("r", recorded(PHONES[2], "qa-c"))
    assert on_second_page.id == "r"
    assert gone.id == ""
