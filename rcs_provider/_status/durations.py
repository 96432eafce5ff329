"""The times a status report is given and shows: ``--pending-after 7d``, ``--as-of`` and ages.

Durations are written as people write them in a job file (``36h``, ``7d``, ``2w``, or
``1d12h``); ages are shown the same way, to the hour once they pass a day, because an
invitation's age is read against a limit counted in days.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "DurationError",
    "format_age",
    "format_duration",
    "format_time",
    "parse_duration",
    "parse_time",
]

_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_UNITS["m"] = timedelta(minutes=1)
_PART = re.compile(r"(\d{1,6})([wdhm])")
_WHOLE = re.compile(r"(?:\d{1,6}[wdhm])+")


class DurationError(ValueError):
    """A duration or a time given on the command line cannot be read."""


def parse_duration(text: str) -> timedelta:
    """``"7d"`` -> 7 days. Units ``w``, ``d``, ``h``, ``m``, combined largest first or not
    (``1d12h``); the total must be more than zero."""
    compact = text.strip().lower()
    if not _WHOLE.fullmatch(compact):
        raise DurationError(
            f"{text!r} is not a duration: write a number and a unit, w (weeks), d (days), "
            "h (hours) or m (minutes), e.g. 7d, 36h or 2w"
        )
    total = sum((int(count) * _UNITS[unit] for count, unit in _PART.findall(compact)), timedelta())
    if total <= timedelta():
        raise DurationError(f"{text!r} is no time at all: give a duration over zero, e.g. 7d")
    return total


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-12-11T18:00:00Z``, ``2026-12-11``); without a UTC offset it is
    taken as UTC, as every time in a Pulumi state is."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DurationError(
            f"{text!r} is not an ISO 8601 time: write e.g. 2026-12-11T18:00:00Z or 2026-12-11"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def format_duration(span: timedelta) -> str:
    """A duration in the largest units that say it exactly: ``7d``, ``36h``, ``1d12h``."""
    minutes = int(span.total_seconds() // 60)
    parts = []
    for unit, size in (("d", 24 * 60), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"


def format_age(age: timedelta) -> str:
    """An age as a report shows it: ``8d 2h`` past a day, ``5h 3m`` past an hour, else ``12m``
    (seconds and a future creation, from a clock ahead of ``--as-of``, show as ``0m``)."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def format_time(when: datetime) -> str:
    """A time as a report shows it, in UTC to the minute: ``2026-12-03 18:41 UTC``."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
