"""Kaleyra may report an error inside an HTTP 200. One rule, whatever the status: a body with a
code of the table, an integer code of 400 or more, or a non-empty ``error`` object is an error,
read as the status its code stands for: in the register call, the list (every page), the
doctor's probe, and the pure readers under them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from rcs_provider._kaleyra.client import KaleyraClient
from rcs_provider._kaleyra.codes import (
    ERROR_CODES,
    LIST_SUCCESS,
    REGISTER_SUCCESS,
    is_error_body,
    status_meant,
)
from rcs_provider._kaleyra.errors import (
    AlreadyRegisteredError,
    InvalidRequestError,
    KaleyraError,
    ServerError,
    UnparseableResponseError,
)
from rcs_provider._kaleyra.parsing import registration_from, tester_page
from rcs_provider._kaleyra.settings import ClientSettings

AGENT = "48900"
PHONE = "919530000092"
BASE = "https://rcs-api.in.kaleyra.io/v1/SID1/rcs/agenttester"
REGISTER_URL = f"{BASE}/register"
LIST_URL = f"{BASE}/testersbyagent"
LISTED = [{"phoneno": PHONE, "status": "Approved", "id": "t1"}]

#: The error each code of the table gives, on a register call and on a list call (written out
#: here, not read from the table, so that a code dropped from the table fails its tests).
ON_REGISTER: dict[str, type[KaleyraError]] = {
    "RCS904": InvalidRequestError,
    "RCS601": InvalidRequestError,
    "RCS701": InvalidRequestError,
    "RCS405": InvalidRequestError,
    "RCS409": AlreadyRegisteredError,
    "RCS500": ServerError,
    "RCS502": ServerError,
}
ON_LIST = {**ON_REGISTER, "RCS409": InvalidRequestError}  # no number was sent: nothing to adopt
MEANT = {"RCS904": 400, "RCS601": 400, "RCS701": 400, "RCS405": 405, "RCS409": 409}
MEANT |= {"RCS500": 500, "RCS502": 502}


def test_every_code_of_the_table_is_covered_here() -> None:
    assert ERROR_CODES == MEANT
    assert set(ON_REGISTER) == set(ON_LIST) == set(ERROR_CODES)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[KaleyraClient]:
    with KaleyraClient(ClientSettings(sid="SID1", api_key="k" * 16, pod="in")) as c:
        yield c


def in_a_200(code: str | int, data: Any) -> dict[str, Any]:
    """The shape seen from a Kaleyra stand-in: the error code beside a success-looking data."""
    return {"code": code, "message": "Internal server error", "data": data, "error": {}}


# -- register -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(set(ON_REGISTER) - {"RCS409"}))
def test_each_error_code_inside_a_200_fails_the_register_call_despite_an_id(
    rsps: responses.RequestsMock, client: KaleyraClient, code: str
) -> None:
    rsps.post(REGISTER_URL, json=in_a_200(code, {"id": "would-be-id", "phoneno": PHONE}))

    with pytest.raises(KaleyraError) as info:
        client.register_tester(AGENT, PHONE, label="qa-alice")

    error = info.value
    assert type(error) is ON_REGISTER[code]
    assert (error.status, error.code, error.in_body) == (200, code, True)
    assert error.effective_status == MEANT[code]
    assert f"{code} inside a 200 answer" in str(error)
    assert str(error).startswith("Unable to register tester qa-alice for agent 48900: ")


def test_rcs409_inside_a_200_is_already_registered_with_the_existing_id(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    rsps.post(REGISTER_URL, json=in_a_200("RCS409", {"id": "existing-id"}))

    with pytest.raises(AlreadyRegisteredError) as info:
        client.register_tester(AGENT, PHONE)

    assert info.value.existing_id == "existing-id"
    assert info.value.effective_status == 409


@pytest.mark.parametrize(
    ("body", "cls", "meant"),
    [
        ({"code": 500, "data": {"id": "x"}}, ServerError, 500),
        ({"code": "503", "data": {"id": "x"}}, ServerError, 503),
        ({"code": 404, "data": {"id": "x"}}, InvalidRequestError, 404),
        ({"code": 7001, "data": {"id": "x"}}, UnparseableResponseError, None),
        ({"data": {"id": "x"}, "error": {"phoneno": "invalid"}}, UnparseableResponseError, None),
        ({"data": {"id": "x", "error": {"error_code": "E1"}}}, UnparseableResponseError, None),
        ({"code": "RCS902", "data": {"id": "x"}, "error": {"agent": "?"}}, UnparseableResponseError, None),
    ],
    ids=["int-500", "text-503", "int-404", "int-7001", "error-object", "data-error", "success-code-with-error"],
)  # fmt: skip
def test_other_error_signs_inside_a_200_fail_the_register_call(
    rsps: responses.RequestsMock,
    client: KaleyraClient,
    body: dict[str, Any],
    cls: type[KaleyraError],
    meant: int | None,
) -> None:
    rsps.post(REGISTER_URL, json=body)

    with pytest.raises(cls) as info:
        client.register_tester(AGENT, PHONE)

    assert (info.value.in_body, info.value.status_meant) == (True, meant)


@pytest.mark.parametrize("code", [REGISTER_SUCCESS, "RCS777", 200, None])
def test_a_code_that_is_no_error_with_an_id_is_a_registration(
    rsps: responses.RequestsMock, client: KaleyraClient, code: str | int | None
) -> None:
    rsps.post(REGISTER_URL, json={"code": code, "data": {"id": "new-id"}, "error": {}})

    registration = client.register_tester(AGENT, PHONE)

    assert registration.id == "new-id"
    assert registration.code == (None if code is None else str(code))


# -- list -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [[], {"testers": LISTED}], ids=["empty-list", "a-list"])
@pytest.mark.parametrize("code", sorted(ON_LIST))
@pytest.mark.parametrize("call", ["list_testers", "tester_list"])
def test_each_error_code_inside_a_200_fails_the_list_whatever_list_is_beside_it(
    rsps: responses.RequestsMock, client: KaleyraClient, code: str, data: Any, call: str
) -> None:
    rsps.get(LIST_URL, json=in_a_200(code, data))

    with pytest.raises(KaleyraError) as info:
        getattr(client, call)(AGENT)

    error = info.value
    assert type(error) is ON_LIST[code]
    assert (error.status, error.code, error.in_body) == (200, code, True)
    assert str(error).startswith("Unable to list the testers of agent 48900: ")
    assert f"{code} inside a 200 answer" in str(error)


def test_an_error_on_a_later_page_fails_the_whole_list(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    first = {"code": LIST_SUCCESS, "data": {"testers": LISTED, "next": "/v1/SID1/rcs/p2"}}
    rsps.get(LIST_URL, json=first)
    rsps.get("https://rcs-api.in.kaleyra.io/v1/SID1/rcs/p2", json=in_a_200("RCS500", []))

    with pytest.raises(ServerError) as info:
        client.tester_list(AGENT)

    assert info.value.code == "RCS500"


@pytest.mark.parametrize(
    "body",
    [
        {"code": LIST_SUCCESS, "data": {"testers": LISTED}, "error": {}},
        {"code": 200, "data": LISTED},
        {"data": LISTED, "error": None},
        LISTED,
    ],
)
def test_a_list_without_an_error_sign_is_read(
    rsps: responses.RequestsMock, client: KaleyraClient, body: Any
) -> None:
    rsps.get(LIST_URL, json=body)

    listing = client.tester_list(AGENT)

    assert [r.phoneno for r in listing.records] == [PHONE]
    assert listing.unknown_code is None


def test_a_list_with_a_code_neither_error_nor_success_is_read_and_the_code_kept(
    rsps: responses.RequestsMock, client: KaleyraClient
) -> None:
    rsps.get(LIST_URL, json={"code": "RCS777", "data": {"testers": LISTED}})

    listing = client.tester_list(AGENT)

    assert ([r.phoneno for r in listing.records], listing.unknown_code) == ([PHONE], "RCS777")


# -- doctor's probe -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ({"code": "RCS904", "message": "Missing or invalid fields", "error": {}}, True),
        ({"error": {"phoneno": "required"}}, True),
        ({"code": REGISTER_SUCCESS, "data": {"id": "x"}, "error": {}}, False),
    ],
)
def test_an_error_body_in_a_2xx_is_the_probe_refused(
    rsps: responses.RequestsMock, client: KaleyraClient, body: dict[str, Any], refused: bool
) -> None:
    rsps.post(REGISTER_URL, json=body)

    error = client.probe_register()

    assert (error is not None) == refused
    assert error is None or (error.status, error.in_body) == (200, True)


# -- the pure readers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        {"code": "RCS904", "message": "Agent Not Found", "data": []},
        {"code": "RCS500", "message": "Internal server error", "data": [], "error": {}},
        {"code": 502, "data": {"testers": LISTED}},
        {"data": {"testers": LISTED}, "error": {"agent_number": "unknown"}},
    ],
)
def test_an_error_body_is_never_a_tester_page_nor_a_registration(doc: dict[str, Any]) -> None:
    page = tester_page(doc, status=200)
    registration = registration_from({**doc, "id": "x"}, PHONE, AGENT, status=200)

    assert isinstance(page, str) and page.startswith("Kaleyra answered 200 with an error in")
    assert isinstance(registration, str) and "with an error in its body" in registration


@pytest.mark.parametrize(
    ("doc", "error", "meant"),
    [
        ({"code": "rcs500"}, True, 500),
        ({"error": {"code": "RCS405"}}, True, 405),
        ({"code": "RCS903", "error_code": "RCS409"}, True, 409),
        ({"code": 429}, True, 429),
        ({"code": 400.0}, False, None),
        ({"code": 399}, False, None),
        ({"code": True}, False, None),
        ({"code": "RCS903", "error": {}}, False, None),
        ({"error": "text"}, False, None),
        ({"error": []}, False, None),
        ([{"code": "RCS500"}], False, None),
        ("RCS500", False, None),
    ],
)  # fmt: skip
def test_what_is_an_error_body(doc: Any, error: bool, meant: int | None) -> None:
    assert is_error_body(doc) is error
    assert status_meant(doc) == meant
