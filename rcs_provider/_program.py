"""Declaring a stack's testers from any Pulumi program: the config namespace is a parameter, so
a program that already holds other infrastructure declares its testers with one call, e.g.
``declare_testers(pulumi.Config("qa"))`` for ``qa:agents``."""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import pulumi
from pulumi.runtime.config import get_config
from pulumi.runtime.settings import get_monitor, get_root_resource

from ._checkpoints import skip_checkpoints_hint
from ._components import declare_fleet
from ._config import (
    ALLOW_CLEAR_PHONES_KEY,
    PHONEBOOK_NAME,
    AgentSpec,
    FleetConfigError,
    read_stack_file,
    read_stack_testers,
    stack_file_path,
)
from ._config_size import CONFIG_VAR, config_size_warning
from ._kaleyra.settings import SANDBOX_POD
from ._provider_config import settings_problems
from ._renames import PreviousTester, plan_aliases, read_previous_testers

__all__ = ["declare_testers"]


@dataclass
class _ProgramRun:
    """What the fleets of one program run share: the agents declared so far, with the key that
    declared each (a second declaration would collide on the component's name), and the last
    deployment's testers, read once whatever the number of fleets."""

    agents: dict[str, str] = field(default_factory=dict)
    previous: list[PreviousTester] | None = None


#: Program runs by their resource monitor: one per ``pulumi`` command, several in a test process.
_RUNS: weakref.WeakKeyDictionary[Any, _ProgramRun] = weakref.WeakKeyDictionary()


class _ProgramConfigError(FleetConfigError, pulumi.RunError):
    """A :class:`FleetConfigError` that the engine prints as an error, without a traceback."""


@overload
def declare_testers(
    config: pulumi.Config,
    *,
    stack_file: str | os.PathLike[str] | None = None,
    by_label: Literal[False] = False,
) -> dict[str, pulumi.Output[list[dict[str, Any]]]]: ...


@overload
def declare_testers(
    config: pulumi.Config,
    *,
    stack_file: str | os.PathLike[str] | None = None,
    by_label: Literal[True],
) -> dict[str, dict[str, dict[str, Any]]]: ...


def declare_testers(
    config: pulumi.Config,
    *,
    stack_file: str | os.PathLike[str] | None = None,
    by_label: bool = False,
) -> dict[str, Any]:
    """Declare every agent and tester of ``<namespace>:agents`` (``config.name`` is the
    namespace), with its phonebook ``<namespace>:testers``: one :class:`AgentTesters` component
    per agent, one :class:`RcsTester` per tester.

    Returns ``{agent: [{label, phone (masked), registration_id, status}, ...]}`` to export;
    with ``by_label=True``, ``{agent: {label: {phone, registration_id, status}}}``, each
    value an output of its own, so that a preview shows a removed tester as one removal.
    ``registration_id`` and ``status`` are ``None`` for a tester the run did not create (a
    ``pulumi refresh --run-program`` creates nothing).

    Raises :class:`FleetConfigError` (a ``pulumi.RunError`` too) listing every problem by its
    path before anything is declared, the ``kaleyra:`` settings' problems among them.
    ``stack_file`` is the stack's config file, read for what only its text shows (unquoted
    numbers YAML changed, phones and the api-key written in clear); by default
    ``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir``.

    The stack's last deployment is read once per program run (the engine's
    ``readStackResourceOutputs``), so that a label rename updates the tester in place with no
    API call; each agent may be declared by one namespace only.
    """
    key = f"{config.name}:agents"
    phonebook_key = f"{config.name}:{PHONEBOOK_NAME}"
    path = Path(stack_file) if stack_file is not None else _default_stack_file()
    source = str(path)
    size_warning = config_size_warning(
        os.environ.get(CONFIG_VAR), source=source, phonebook_key=phonebook_key
    )
    if size_warning:
        _warn(size_warning)
    decoded: dict[str, Any] = {}
    for name in (key, phonebook_key):
        raw = get_config(name)  # decrypted; phones become secrets in RcsTester
        try:
            decoded[name] = json.loads(raw) if raw is not None else None
        except json.JSONDecodeError as err:
            short = name.split(":", 1)[1]
            raise _ProgramConfigError(
                source, [f"{short}: is not valid YAML/JSON: {err.msg}"]
            ) from None

    settings = settings_problems(get_config)
    # A preview makes no Kaleyra call, so a pipeline previews pull requests without the key;
    # `pulumi up` (and a refresh, which lists) cannot go far without it.
    key_problem = [] if pulumi.runtime.is_dry_run() else [settings.missing_api_key or ""]
    if settings.missing_api_key and pulumi.runtime.is_dry_run():
        _warn(f"{source}: {settings.missing_api_key}: `pulumi up` needs it (a preview does not)")
    try:
        testers = read_stack_testers(
            decoded[key],
            decoded[phonebook_key],
            stack_text=read_stack_file(path),
            source=source,
            key=key,
            outside_sandbox=pulumi.Config("kaleyra").get("pod") != SANDBOX_POD,
            allow_clear_phones=bool(config.get_bool(ALLOW_CLEAR_PHONES_KEY)),
            # What the provider would refuse later, listed with the rest at once.
            extra_problems=[*settings.problems, *filter(None, key_problem)],
        )
    except FleetConfigError as err:
        raise _ProgramConfigError(err.source, err.problems) from None
    run = _this_run()
    _claim_agents(run, testers.agents, key, source)
    for warning in testers.warnings:
        _warn(f"{source}: {warning}")
    hint = skip_checkpoints_hint(sum(len(spec.testers) for spec in testers.agents), os.environ)
    if hint and pulumi.runtime.is_dry_run():
        pulumi.log.info(hint, resource=get_root_resource())
    if run.previous is None:
        run.previous = read_previous_testers(_this_stack_names())
    aliases = plan_aliases(run.previous, testers.agents)
    return declare_fleet(testers.agents, aliases, by_label=by_label)


def _warn(message: str) -> None:
    """A warning about the stack's config, shown at the stack. Logged with the stack as its
    resource, the engine prints it once it has shown the stack's own step: a log then shows
    it once where it happens and once under Diagnostics (logged with no resource, it can
    arrive first and be printed a second time when the stack's row changes)."""
    pulumi.log.warn(message, resource=get_root_resource())


def _this_run() -> _ProgramRun:
    monitor = get_monitor()
    if monitor is None:  # not in a Pulumi program: nothing to share
        return _ProgramRun()
    return _RUNS.setdefault(monitor, _ProgramRun())


def _claim_agents(run: _ProgramRun, agents: Sequence[AgentSpec], key: str, source: str) -> None:
    """Record ``agents`` as declared by ``key`` in this program run, or refuse the whole fleet
    when one of them already is (before anything of it is declared)."""
    problems = [
        f"agents[{i}].agent: {spec.agent_no} is already declared by "
        + (
            f"an earlier declare_testers call for {key} in this program: call it once per namespace"
            if run.agents[spec.agent_no] == key
            else f"{run.agents[spec.agent_no]} in this program: an agent's testers live under "
            f"one namespace (both would declare the component agent-{spec.agent_no}); remove "
            "it from one of them"
        )
        for i, spec in enumerate(agents)
        if spec.agent_no in run.agents
    ]
    if problems:
        raise _ProgramConfigError(source, problems)
    run.agents.update((spec.agent_no, key) for spec in agents)


def _this_stack_names() -> list[str]:
    """The running stack's names as the engine's stack reads take them, the fully qualified
    one first (``organization`` is the organization of a self-managed backend)."""
    stack = pulumi.get_stack()
    organization = pulumi.get_organization()
    qualified = [f"{organization}/{pulumi.get_project()}/{stack}"] if organization else []
    return [*qualified, stack]


def _default_stack_file() -> Path:
    """``<stackConfigDir>/Pulumi.<stack>.yaml`` of the project the program runs in."""
    return stack_file_path(Path.cwd(), pulumi.get_stack())
