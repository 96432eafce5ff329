"""The stack's testers: the config model and its validation. Pure: no Pulumi, no HTTP.

Stack config (``stacks/Pulumi.<env>.yaml``)::

    rcs-testers:agents:
      - agent: "48900"
        testers:
          - label: qa-alice
            phone: "+91 95300 00092"      # or a secret: pulumi config set --secret --path ...
            note: Alice's Pixel 8          # optional, for people; changes nothing

The whole config is validated before any resource is declared, and every problem is reported
at once with its path, so a bad pull request fails ``pulumi preview`` with zero API calls.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._line_type import ALLOW_NON_MOBILE_KEY, line_type_problem, line_type_warning
from .._phones import (
    MAX_TESTERS_PER_AGENT,
    mask_phone,
    normalize_agent,
    normalize_phone,
    redact_digits,
    validate_label,
)
from .phone import checked_phone, is_placeholder_phone, scalar_text, type_name

#: The config key of the testers in this project (``<project>:agents``).
AGENTS_KEY = "rcs-testers:agents"
AGENT_KEYS = ("agent", "name", "testers")
TESTER_KEYS = ("label", "phone", "note", ALLOW_NON_MOBILE_KEY)


@dataclass(frozen=True)
class TesterSpec:
    """One declared tester: its label, normalised phone (E.164 digits) and optional note.

    ``allow_non_mobile`` (``allowNonMobile: true``) accepts a phone whatever its line type,
    for numbers that phonenumbers' metadata classifies wrongly; reviews should show it."""

    label: str
    phone: str = field(repr=False)
    note: str | None = None
    allow_non_mobile: bool = False
    #: Declared as a reference to the stack's phonebook (``rcs-testers:testers``), not inline;
    #: the same tester either way.
    from_phonebook: bool = field(default=False, compare=False)

    @property
    def masked(self) -> str:
        return mask_phone(self.phone)


@dataclass(frozen=True)
class AgentSpec:
    """One agent and its testers, in declaration order."""

    agent_no: str
    testers: tuple[TesterSpec, ...]
    name: str | None = None


class FleetConfigError(ValueError):
    """The stack config is invalid; ``problems`` lists every one as ``path: what to fix``."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  {source}: {p}" for p in self.problems)
        super().__init__(
            f"Unable to read the testers of {source}: {len(self.problems)} problem(s); "
            f"nothing was registered.\n{lines}"
        )


class _ReportedEntry:
    """Stands in a testers list for an entry whose problem is already reported (a phonebook
    reference that could not be resolved): parsing skips it without a second problem."""

    def __repr__(self) -> str:
        return "REPORTED_ENTRY"


REPORTED_ENTRY = _ReportedEntry()


def unknown_key_problems(node: Mapping[str, Any], allowed: Sequence[str], path: str) -> list[str]:
    """A problem per key of ``node`` not in ``allowed``, with a "did you mean"."""
    problems = []
    for key in node:
        if key in allowed:
            continue
        shown = json.dumps(redact_digits(str(key)))[:40]
        hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
        fix = f"did you mean '{hint[0]}'?" if hint else f"allowed keys: {', '.join(allowed)}"
        problems.append(f"{path}: unknown key {shown}: {fix}")
    return problems


def parse_fleet(
    raw: object, *, source: str, extra_problems: Sequence[str] = (), key: str = AGENTS_KEY
) -> tuple[AgentSpec, ...]:
    """Validate ``rcs-testers:agents`` (the config ``key``) and return it normalised, or raise
    FleetConfigError listing every problem (``extra_problems`` first, e.g. from
    :func:`yaml_number_problems`). No phone number appears in a message, only masked."""
    problems: list[str] = list(extra_problems)
    if raw is None:
        raise FleetConfigError(
            source,
            [*problems, f"agents: not set: add `{key}:` with a list of agents and testers"],
        )
    if not isinstance(raw, list):
        raise FleetConfigError(
            source, [*problems, f"agents: must be a list of agents, got {type_name(raw)}"]
        )
    if not raw:
        raise FleetConfigError(source, [*problems, "agents: is empty: declare at least one agent"])

    agents: list[AgentSpec] = []
    seen_agents: dict[str, str] = {}
    for i, node in enumerate(raw):
        path = f"agents[{i}]"
        if not isinstance(node, dict):
            problems.append(f"{path}: must be a map with agent and testers, got {type_name(node)}")
            continue
        problems += unknown_key_problems(node, AGENT_KEYS, path)
        agent_no: str | None = None
        if "agent" not in node:
            problems.append(
                f'{path}.agent: missing: the agent\'s service code, e.g. agent: "48900"'
            )
        else:
            text = scalar_text(node["agent"], f"{path}.agent", "agent", problems)
            if text is not None:
                try:
                    agent_no = normalize_agent(text)
                except ValueError as err:
                    problems.append(f"{path}.agent: {err}")
        if agent_no is not None:
            if agent_no in seen_agents:
                problems.append(
                    f"{path}.agent: agent {agent_no} is already declared at "
                    f"{seen_agents[agent_no]}: merge the two testers lists"
                )
            else:
                seen_agents[agent_no] = path
        name = node.get("name")
        if name is not None and not isinstance(name, str):
            problems.append(f"{path}.name: must be a string, got {type_name(name)}")
            name = None
        testers = _parse_testers(node.get("testers", _MISSING), path, problems, key)
        if agent_no is not None and testers is not None:
            agents.append(AgentSpec(agent_no, testers, name))
    if problems:
        raise FleetConfigError(source, problems)
    return tuple(agents)


_MISSING = object()


def _parse_testers(
    raw: object, agent_path: str, problems: list[str], config_key: str
) -> tuple[TesterSpec, ...] | None:
    path = f"{agent_path}.testers"
    if raw is _MISSING:
        problems.append(f"{path}: missing: list the agent's testers (label and phone each)")
        return None
    if not isinstance(raw, list):
        problems.append(f"{path}: must be a list of testers, got {type_name(raw)}")
        return None
    if not raw:
        problems.append(f"{path}: is empty: declare at least one tester or remove the agent")
        return None
    if len(raw) > MAX_TESTERS_PER_AGENT:
        problems.append(
            f"{path}: {len(raw)} testers; an agent can have at most {MAX_TESTERS_PER_AGENT} "
            "(Google RBM's limit behind Kaleyra): split them across agents or remove some"
        )
        return None
    testers: list[TesterSpec] = []
    labels: dict[str, str] = {}
    phones: dict[str, str] = {}
    ok = True
    for j, node in enumerate(raw):
        tpath = f"{path}[{j}]"
        if node is REPORTED_ENTRY:
            ok = False
            continue
        if not isinstance(node, dict):
            problems.append(f"{tpath}: must be a map with label and phone, got {type_name(node)}")
            ok = False
            continue
        problems += unknown_key_problems(node, TESTER_KEYS, tpath)
        label = _required_label(node, tpath, problems)
        phone = checked_phone(
            node, tpath, problems, config_path=f"{config_key}{tpath.removeprefix('agents')}.phone"
        )
        note = node.get("note")
        if note is not None and not isinstance(note, str):
            problems.append(f"{tpath}.note: must be a string, got {type_name(note)}")
        allow_non_mobile = _allow_non_mobile(node, tpath, problems)
        if phone is not None:
            unreachable = line_type_problem(phone, allow_non_mobile=allow_non_mobile)
            if unreachable is not None:
                problems.append(f"{tpath}.phone: {unreachable}")
                phone = None
        if label is not None:
            key = label.lower()
            if key in labels:
                problems.append(f"{tpath}.label: duplicate label {label!r}, also at {labels[key]}")
                label = None
            else:
                labels[key] = f"{tpath}.label"
        if phone is not None:
            if phone in phones:
                problems.append(
                    f"{tpath}.phone: {mask_phone(phone)} is already declared at {phones[phone]}"
                )
                phone = None
            else:
                phones[phone] = f"{tpath}.phone"
        if label is None or phone is None:
            ok = False
            continue
        testers.append(
            TesterSpec(label, phone, note if isinstance(note, str) else None, allow_non_mobile)
        )
    return tuple(testers) if ok else None


def _allow_non_mobile(node: Mapping[str, Any], path: str, problems: list[str]) -> bool:
    value = node.get(ALLOW_NON_MOBILE_KEY, False)
    if isinstance(value, bool):
        return value
    problems.append(
        f"{path}.{ALLOW_NON_MOBILE_KEY}: must be true or false (unquoted), got {type_name(value)}"
    )
    return False


def fleet_warnings(agents: Sequence[AgentSpec]) -> list[str]:
    """Warnings about a valid fleet, by config path: phones whose line type is unknown."""
    warnings = []
    for i, spec in enumerate(agents):
        for j, tester in enumerate(spec.testers):
            if tester.from_phonebook:
                continue  # warned about once, at its phonebook entry
            warning = line_type_warning(tester.phone, allow_non_mobile=tester.allow_non_mobile)
            if warning is not None:
                warnings.append(f"agents[{i}].testers[{j}].phone: {warning}")
    return warnings


def _required_label(node: Mapping[str, Any], path: str, problems: list[str]) -> str | None:
    if "label" not in node:
        problems.append(f"{path}.label: missing: a short unique name such as qa-alice")
        return None
    value = node["label"]
    if not isinstance(value, str):
        problems.append(f"{path}.label: must be a string, got {type_name(value)}")
        return None
    try:
        return validate_label(value)
    except ValueError as err:
        problems.append(f"{path}.label: {err}")
        return None


#: Stack config key that accepts phones written in clear outside the sandbox (with a warning).
ALLOW_CLEAR_PHONES_KEY = "allowClearPhones"


def clear_phone_problems(
    paths: Sequence[str],
    raw: object,
    *,
    key: str,
    allowed: bool,
    masked: Mapping[str, str] | None = None,
) -> tuple[list[str], str | None]:
    """Problems for phones written in clear (``paths``), or with ``allowed`` a warning instead.

    Outside the sandbox pod a clear phone is refused: it sits in git, and the engine records
    the stack config in the state and in every history file of the backend. ``masked`` gives
    the masked phone of paths outside ``agents`` (the phonebook's). Placeholders are left out:
    :func:`parse_fleet` reports each with the same command."""
    paths = [path for path in paths if not _placeholder_at(raw, path)]
    if not paths:
        return [], None
    namespace = key.split(":", 1)[0]
    if allowed:
        shown = ", ".join(f"{p} ({_masked_phone_at(raw, p, masked)})" for p in paths)
        return [], (
            f"{len(paths)} phone(s) are written in clear ({shown}), so they are stored in clear "
            f"in git and in the state; {namespace}:{ALLOW_CLEAR_PHONES_KEY} accepts that. Set "
            "each with `pulumi config set --secret --path "
            f"'{namespace}:{paths[0]}' '<number>'` to keep it secret."
        )
    problems = [
        f"{path}: {_masked_phone_at(raw, path, masked)} is written in clear; outside the "
        "sandbox a phone must be a secret (the engine stores the stack config in the state): "
        f"run `pulumi config set --secret --path '{namespace}:{path}' '<number>'`, or set "
        f"{namespace}:{ALLOW_CLEAR_PHONES_KEY}: true to accept clear phones"
        for path in paths
    ]
    return problems, None


def _phone_at(raw: object, path: str) -> object:
    """The value at ``agents[i].testers[j].phone`` of the decoded config (None if absent)."""
    indices = [int(n) for n in re.findall(r"\[([0-9]+)\]", path)]
    try:
        return raw[indices[0]]["testers"][indices[1]]["phone"]  # type: ignore[index]
    except (LookupError, TypeError):
        return None


def _placeholder_at(raw: object, path: str) -> bool:
    value = _phone_at(raw, path) if path.startswith("agents[") else None
    return isinstance(value, str) and is_placeholder_phone(value)


def _masked_phone_at(raw: object, path: str, masked: Mapping[str, str] | None = None) -> str:
    """The masked phone at ``agents[i].testers[j].phone`` of the decoded config."""
    if masked is not None and path in masked:
        return masked[path]
    try:
        return mask_phone(normalize_phone(_phone_at(raw, path)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "an invalid number"
