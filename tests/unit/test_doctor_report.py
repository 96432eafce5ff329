"""Doctor's reading of a tester list and its report shapes, without the network."""

from __future__ import annotations

from rcs_provider._doctor import Report, _list_read
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
