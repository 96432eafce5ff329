"""Build ``pulumi stack export`` documents in a test, shaped as the engine writes them (the
resource types, URNs, secret envelopes and timestamps of a real export), small enough to read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rcs_devtools.fleet_data import phone as full_phone
from rcs_devtools.pulumi_cli import SECRET_SIG
from rcs_provider._phones import mask_phone

TESTER_TYPE = "pulumi-python:dynamic/kaleyra:RcsTester"
UP_TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
#: Pulumi's marker of an output whose value was not known.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class T:
    """A tester of the export: ``n`` picks its number (``rcs_devtools.fleet_data.phone(n)``)."""

    agent: str
    label: str
    n: int
    status: str | None
    created: datetime | None = UP_TIME


def _secret(text: str) -> dict[str, str]:
    return {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": f"v1:enc:{text}"}


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000000489Z")  # nanoseconds, as Pulumi writes


def export_document(
    testers: list[T],
    *,
    stack: str = "dev",
    last_update: datetime | None = UP_TIME,
    lookup: str | None = "auto",
    shape: str = "by_label",
    phones: dict[str, Any] | None = None,
    clear_phoneno: bool = False,
) -> dict[str, Any]:
    """A stack's export holding ``testers``. ``lookup`` ``None`` leaves the dynamic provider
    out (as an export written before any tester); ``shape`` is the ``agents`` output's:
    ``by_label`` ({agent: {label: row}}) or ``list`` ({agent: [row]}); ``phones`` overrides
    the phone shown per label; ``clear_phoneno`` writes each tester's full number in clear in
    its ``phoneno`` output (which the report must never use)."""
    project = "rcs-testers"
    stack_urn = f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"
    rows: dict[str, Any] = {}
    resources: list[dict[str, Any]] = []
    provider_urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:pulumi-python::default"
    if lookup is not None:
        config = {"kaleyra:pod": "sandbox", "kaleyra:apiKey": _secret("key")}
        if lookup != "auto":
            config["kaleyra:lookup"] = lookup
        resources.append(
            {"urn": provider_urn, "custom": True, "id": "p1",
             "type": "pulumi:providers:pulumi-python", "inputs": config, "outputs": config}
        )  # fmt: skip
    for tester in testers:
        phone = full_phone(tester.n)
        shown = (phones or {}).get(tester.label, mask_phone(phone))
        row = {"phone": shown, "registration_id": f"id-{tester.n}", "status": tester.status}
        if shape == "list":
            rows.setdefault(tester.agent, []).append({"label": tester.label, **row})
        else:
            rows.setdefault(tester.agent, {})[tester.label] = row
        outputs: dict[str, Any] = {
            "agent_no": tester.agent,
            "label": tester.label,
            "phoneno": phone if clear_phoneno else _secret(phone),
            "registration_id": f"id-{tester.n}",
        }
        if tester.status is not None:
            outputs["status"] = tester.status
        resource: dict[str, Any] = {
            "urn": f"urn:pulumi:{stack}::{project}::rcs-testers:index:AgentTesters$"
            f"{TESTER_TYPE}::{tester.agent}-{tester.label}",
            "custom": True,
            "type": TESTER_TYPE,
            "outputs": outputs,
            "provider": f"{provider_urn}::p1",
        }
        if tester.created is not None:
            resource["created"] = resource["modified"] = _time(tester.created)
        resources.append(resource)
    resources.insert(
        0, {"urn": stack_urn, "type": "pulumi:pulumi:Stack", "outputs": {"agents": rows}}
    )
    manifest = {"time": _time(last_update)} if last_update else {}
    return {"version": 3, "deployment": {"manifest": manifest, "resources": resources}}
