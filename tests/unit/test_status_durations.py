"""The durations and times of `rcs-testers status`: what --pending-after and --as-of accept,
and how ages are shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rcs_provider._status.durations import (
    DurationError,
    format_age,
    format_duration,
    format_time,
    parse_duration,
    parse_time,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("36h", timedelta(hours=36)),
        ("2w", timedelta(weeks=2)),
        ("90m", timedelta(minutes=90)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_durations_people_write(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7 days", "1.5d", "-7d", "7y", "7d-"])
def test_other_durations_are_refused_with_the_way_to_write_one(text: str) -> None:
    with pytest.raises(DurationError, match=r"e\.g\. 7d, 36h or 2w"):
        parse_duration(text)


def test_a_zero_duration_is_refused() -> None:
    with pytest.raises(DurationError, match="over zero"):
        parse_duration("0d0h")


@pytest.mark.parametrize("span", [timedelta(days=7), timedelta(hours=36), timedelta(minutes=5)])
def test_a_duration_reads_back_as_written(span: timedelta) -> None:
    assert parse_duration(format_duration(span)) == span


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(days=8, hours=2, minutes=59), "8d 2h"),
        (timedelta(hours=5, minutes=3, seconds=50), "5h 3m"),
        (timedelta(minutes=12, seconds=59), "12m"),
        (timedelta(seconds=-30), "0m"),
    ],
)
def test_ages(age: timedelta, shown: str) -> None:
    assert format_age(age) == shown


def test_times_without_an_offset_are_utc() -> None:
    assert parse_time("2026-12-11") == datetime(2026, 12, 11, tzinfo=UTC)
    assert parse_time("2026-12-11T18:00:00Z") == datetime(2026, 12, 11, 18, tzinfo=UTC)
    india = parse_time("2026-12-11T23:30:00+05:30")
    assert india == datetime(2026, 12, 11, 18, tzinfo=UTC)
    assert format_time(india) == "2026-12-11 18:00 UTC"
    assert india.tzinfo == timezone(timedelta(hours=5, minutes=30))


def test_a_time_that_is_not_iso_8601_is_refused() -> None:
    with pytest.raises(DurationError, match="not an ISO 8601 time"):
        parse_time("next tuesday")
