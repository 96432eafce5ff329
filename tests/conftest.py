"""Shared test set-up: make ``tests/support`` importable as ``support``."""

import os
import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Provider code run in-process by unit tests keeps full tracebacks (see TRACEBACKS_ENV);
# engine subprocesses started by the e2e harness drop this variable.
os.environ.setdefault("RCS_TESTERS_TRACEBACKS", "1")

# Machines here are shared and noisy: no per-example deadline (speed is measured in bench/).
settings.register_profile("rcs-testers", deadline=None)
settings.load_profile("rcs-testers")
