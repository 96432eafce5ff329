"""Local Kaleyra-compatible RCS tester API for the demo, the tests and the benchmarks.

Run it with ``python -m rcs_provider.sandbox`` (needs the ``sandbox`` extra); drive it from
Python with :func:`running_sandbox`, which only needs ``requests``.
"""

from rcs_provider.sandbox.process import SandboxProcess, SandboxStartError, running_sandbox

__all__ = ["SandboxProcess", "SandboxStartError", "running_sandbox"]
