"""What a stack's last deployment says about its testers, read from ``pulumi stack export``.

The export is read as it is, without decrypting anything: a tester's phone is a secret there,
so the masked phone comes from the stack's ``agents`` output (written by the program), and the
status, label, agent and ``created`` time from each tester resource. The output has had two
shapes: a list of rows per agent (``{agent: [{label, phone, ...}]}``) and rows keyed by label
(``{agent: {label: {phone, ...}}}``); both are read, as older states hold the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pulumi.runtime.rpc import UNKNOWN

from .._kaleyra.settings import CONFIG_KEYS
from .._phones import redact_digits
from .._renames import RCS_TESTER_TYPE

__all__ = ["ExportError", "ExportedStack", "ExportedTester", "parse_export"]

AGENTS_OUTPUT = "agents"
#: The provider that runs dynamic resources; its inputs are the stack config of the last run.
DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-python"
LOOKUP_KEY = CONFIG_KEYS["lookup"]
#: The status the provider records when Kaleyra showed none.
UNKNOWN_STATUS = "Unknown"


class ExportError(ValueError):
    """The text given is not a ``pulumi stack export`` of a stack."""


@dataclass(frozen=True)
class ExportedTester:
    """One tester of the last deployment. ``phone`` is the masked phone of the ``agents``
    output, or ``None`` when the output does not show it (then the label names the tester)."""

    urn: str
    agent: str
    label: str
    status: str
    created: datetime | None
    phone: str | None


@dataclass(frozen=True)
class ExportedStack:
    """A stack's last deployment: when it was written, the ``kaleyra:lookup`` it ran with
    (``None`` when the export does not record a run of the provider) and its testers."""

    stack: str | None
    last_update: datetime | None
    lookup: str | None
    testers: tuple[ExportedTester, ...] = field(default=())


def parse_export(data: object) -> ExportedStack:
    """Read a ``pulumi stack export`` document (already JSON-decoded)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("deployment"), Mapping | None):
        raise ExportError("it is not a `pulumi stack export` document (no deployment)")
    deployment: Mapping[str, Any] = data.get("deployment") or {}
    resources = [r for r in deployment.get("resources") or [] if isinstance(r, Mapping)]
    manifest = deployment.get("manifest")
    stack_resource = next((r for r in resources if r.get("type") == "pulumi:pulumi:Stack"), {})
    outputs = stack_resource.get("outputs")
    phones = _masked_phones(outputs.get(AGENTS_OUTPUT) if isinstance(outputs, Mapping) else None)
    testers = [
        _tester(resource, phones)
        for resource in resources
        if resource.get("type") == RCS_TESTER_TYPE and not resource.get("delete")
    ]
    return ExportedStack(
        stack=_stack_name(stack_resource.get("urn")),
        last_update=_time(manifest.get("time")) if isinstance(manifest, Mapping) else None,
        lookup=_lookup(resources),
        testers=tuple(sorted(testers, key=lambda t: (t.agent, t.label))),
    )


def _tester(resource: Mapping[str, Any], phones: Mapping[tuple[str, str], str]) -> ExportedTester:
    urn = str(resource.get("urn", ""))
    outputs = resource.get("outputs")
    inputs = resource.get("inputs")
    outs: Mapping[str, Any] = outputs if isinstance(outputs, Mapping) else {}
    ins: Mapping[str, Any] = inputs if isinstance(inputs, Mapping) else {}
    agent = _text(outs.get("agent_no")) or _text(ins.get("agent_no")) or "?"
    name = urn.rsplit("::", 1)[-1]
    label = _text(outs.get("label")) or _text(ins.get("label")) or name
    status = _text(outs.get("status")) or UNKNOWN_STATUS
    return ExportedTester(
        urn=urn,
        agent=agent,
        label=redact_digits(label),
        status=redact_digits(status),
        created=_time(resource.get("created")),
        phone=phones.get((agent, label)),
    )


def _masked_phones(table: object) -> dict[tuple[str, str], str]:
    """``{(agent, label): masked phone}`` from the ``agents`` output, in either shape. Rows
    without a known phone are left out; any long digit run is masked again, in case a
    program exported a number in full."""
    found: dict[tuple[str, str], str] = {}
    if not isinstance(table, Mapping):
        return found
    for agent, rows in table.items():
        if isinstance(rows, list):
            pairs = [(row.get("label"), row) for row in rows if isinstance(row, Mapping)]
        elif isinstance(rows, Mapping):
            pairs = [(label, row) for label, row in rows.items() if isinstance(row, Mapping)]
        else:
            continue
        for label, row in pairs:
            phone = _text(row.get("phone"))
            if isinstance(label, str) and phone:
                found[(str(agent), label)] = redact_digits(phone)
    return found


def _lookup(resources: list[Mapping[str, Any]]) -> str | None:
    """``kaleyra:lookup`` as the dynamic provider last ran with it (``auto`` when unset), from
    the default provider first; ``None`` when the export holds no such provider."""
    providers = [r for r in resources if r.get("type") == DYNAMIC_PROVIDER_TYPE]
    providers.sort(key=lambda r: not str(r.get("urn", "")).endswith("::default"))
    for provider in providers:
        inputs = provider.get("inputs")
        if isinstance(inputs, Mapping):
            value = inputs.get(LOOKUP_KEY, "auto")
            return value if isinstance(value, str) else None  # a secret: not readable here
    return None


def _stack_name(urn: object) -> str | None:
    """``dev`` of ``urn:pulumi:dev::project::pulumi:pulumi:Stack::project-dev``."""
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        return None
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0] or None


def _text(value: object) -> str | None:
    """A plain, known string value of the state (a secret or an unknown one is ``None``)."""
    if isinstance(value, str) and value and value != UNKNOWN:
        return value
    return None


def _time(value: object) -> datetime | None:
    """A time of the state (RFC 3339, nanoseconds included), or ``None`` when absent."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
