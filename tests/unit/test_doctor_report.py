"""Doctor's reading of a tester list and its report shapes, without the network (list calls
answered through ``responses``)."""

from __future__ import annotations

import responses

from rcs_provider._doctor.checks import _list_read, _tester_list
from rcs_provider._doctor.report import Report
from rcs_provider._kaleyra.client import KaleyraClient
from rcs_provider._kaleyra.paging import TesterList
from rcs_provider._kaleyra.parsing import TesterRecord
from rcs_provider._kaleyra.settings import ClientSettings

SETTINGS = ClientSettings(sid="SID1", api_key="k" * 16, pod="in")
RECORD = TesterRecord("919530000092", "Pending", "id-1")


def test_a_list_not_read_whole_warns_but_auto_still_uses_it() -> None:
    report = Report("dev")
    listing = TesterList(
        (RECORD,), "it shows more testers but no way to fetch them", 0, ("has_more=True",)
    )

    _list_read(report, SETTINGS, "48900", listing)

    assert report.ok and report.auto_uses == "list"
    [_, paging] = report.checks
    assert (paging.name, paging.status) == ("paging", "warn")
    assert "could not be read whole: it shows more testers" in paging.detail
    assert "pagination signs: has_more" in report.checks[0].detail
    assert "919530000092" not in report.as_table()


def test_the_table_lists_next_steps_and_the_verdict() -> None:
    report = Report("prod")
    report.add("tcp", "fail", "cannot connect", "Check the firewall.")

    table = report.as_table()

    assert table.splitlines()[0].split() == ["check", "result", "detail"]
    assert "next steps:\n  - tcp: Check the firewall." in table
    assert table.endswith("a run would fail (stack prod)")


def _list_row(body: dict[str, object], lookup: str) -> Report:
    """Doctor's list row for a list call answered 200 with ``body``."""
    settings = ClientSettings(sid="SID1", api_key="k" * 16, pod="in", lookup=lookup)
    report = Report("dev")
    with responses.RequestsMock() as rsps, KaleyraClient(settings) as client:
        rsps.get(f"{client.base_url}{settings.list_path.replace('{sid}', 'SID1')}", json=body)
        _tester_list(report, client, settings, "48900")
    return report


def test_an_error_inside_a_200_fails_the_list_row_naming_the_code() -> None:
    body = {"code": "RCS500", "message": "Internal server error", "data": [], "error": {}}

    report = _list_row(body, "auto")

    [row] = report.checks
    assert (row.name, row.status) == ("list", "fail")
    assert "agent 48900" in row.detail and "RCS500 inside a 200 answer" in row.detail
    assert report.auto_uses is None and not report.ok


def test_a_no_list_code_inside_a_200_is_a_list_auto_does_without() -> None:
    report = _list_row({"code": "RCS405", "message": "Method not allowed", "data": []}, "auto")

    [row] = report.checks
    assert (row.name, row.status) == ("list", "warn")
    assert "the list call answered RCS405 inside a 200 answer" in row.detail
    assert report.auto_uses == "register-only"


def test_the_json_report_keeps_its_keys() -> None:
    report = Report("prod")
    report.add("tcp", "fail", "cannot connect", "Check the firewall.")

    document = report.as_json()

    assert list(document) == [
        "stack",
        "base_url",
        "lookup",
        "auto_uses",
        "timings",
        "ok",
        "verdict",
        "unchecked_agents",
        "checks",
    ]
    assert document["checks"] == [
        {"name": "tcp", "status": "fail", "detail": "cannot connect", "next": "Check the firewall."}
    ]
