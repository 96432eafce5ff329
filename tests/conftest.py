"""Shared test set-up: the engine fixtures (from the dev tooling, rcs_devtools), the
e2e / reliability / backends markers by folder, and test settings for this noisy shared machine."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

HERE = Path(__file__).resolve().parent

pytest_plugins = ["rcs_devtools.engine_fixtures"]

# Provider code run in-process by unit tests keeps full tracebacks (see TRACEBACKS_ENV);
# engine subprocesses started by the e2e harness drop this variable.
os.environ.setdefault("RCS_TESTERS_TRACEBACKS", "1")

# Machines here are shared and noisy: no per-example deadline (speed is measured in bench/).
settings.register_profile("rcs-testers", deadline=None)
settings.load_profile("rcs-testers")

MARKERS_BY_FOLDER = {
    "e2e": pytest.mark.e2e,
    "reliability": pytest.mark.reliability,
    "backends": pytest.mark.backends,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e, tests/reliability and tests/backends (for `-m`)."""
    for item in items:
        folder = Path(str(item.fspath)).relative_to(HERE).parts[0]
        if folder in MARKERS_BY_FOLDER:
            item.add_marker(MARKERS_BY_FOLDER[folder])
