"""rcs-testers: Kaleyra RCS agent testers as Pulumi resources, for any Pulumi Python program.

The public API is the names in ``__all__``; they keep their meaning across 0.x releases::

    import pulumi
    from rcs_provider import RcsTester, RcsTesterArgs, declare_testers

    declare_testers(pulumi.Config("qa"))             # every agent and tester of qa:agents
    RcsTester("48900-qa-lead", RcsTesterArgs(agent_no="48900", label="qa-lead",
              phoneno=pulumi.Config().require_secret("leadPhone")))

Of an :class:`RcsTester`'s outputs only ``registration_id`` and ``status`` are promised; the
others are informational and may go. Every other module is private by name (``rcs_provider._*``)
and may change in any release, with two exceptions: ``rcs_provider.provider.TesterProvider``
keeps that import path, because existing states hold it pickled by reference, and
``rcs_provider.sandbox`` is the sandbox command (``python -m rcs_provider.sandbox``, the
``sandbox`` extra).

Names are imported on first use, so ``import rcs_provider`` stays cheap (the sandbox, an
extra, imports this package too).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any


def _version() -> str:
    """The installed distribution's version; from a source tree that is not installed (an
    old commit checked out and run in place), its ``pyproject.toml``, else ``0+unknown``."""
    try:
        return importlib.metadata.version("rcs-testers")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
        return str(project["project"]["version"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return "0+unknown"


__version__ = _version()

if TYPE_CHECKING:
    from ._components import AgentTesters
    from ._config import AgentSpec, FleetConfigError, TesterSpec, parse_fleet
    from ._program import declare_testers
    from ._resource import RcsTester, RcsTesterArgs

__all__ = [
    "AgentSpec",
    "AgentTesters",
    "FleetConfigError",
    "RcsTester",
    "RcsTesterArgs",
    "TesterSpec",
    "__version__",
    "declare_testers",
    "parse_fleet",
]

_HOMES = {
    "AgentSpec": "_config",
    "AgentTesters": "_components",
    "FleetConfigError": "_config",
    "RcsTester": "_resource",
    "RcsTesterArgs": "_resource",
    "TesterSpec": "_config",
    "declare_testers": "_program",
    "parse_fleet": "_config",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
