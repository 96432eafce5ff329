"""The review's tests run at a fixed moment: the base's age in every output is then the same
on every run (commits are dated 2026-01-01, see rcs_devtools.git_repo)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rcs_provider._review import build

#: Three days after the commits of rcs_devtools.git_repo.
REVIEWED_AT = datetime(2026, 1, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_review_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "_now", lambda: REVIEWED_AT)
