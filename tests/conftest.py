"""Shared test set-up: make ``tests/support`` importable as ``support``."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Provider code run in-process by unit tests keeps full tracebacks (see TRACEBACKS_ENV);
# engine subprocesses started by the e2e harness drop this variable.
os.environ.setdefault("RCS_TESTERS_TRACEBACKS", "1")
