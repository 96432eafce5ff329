"""RcsTester: one phone number registered as a tester of one Kaleyra RCS agent."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
from pulumi.dynamic import Resource

from .provider import ALLOW_NON_MOBILE_INPUT, TesterProvider

__all__ = ["RcsTester", "RcsTesterArgs", "tester_logical_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, kw_only=True)
class RcsTesterArgs:
    """Inputs of :class:`RcsTester`. ``phoneno`` is stored as a secret.

    ``allow_non_mobile`` accepts a phone that phonenumbers does not classify as able to
    receive RCS (a fixed line, toll-free...), for numbers its metadata gets wrong."""

    agent_no: pulumi.Input[str]
    phoneno: pulumi.Input[str]
    label: pulumi.Input[str]
    allow_non_mobile: bool = False


def tester_logical_name(agent_no: str, label: str) -> str:
    """Stable, readable logical name ``<agent>-<label>``: independent of list order and
    free of phone digits (validation refuses labels with 7+ digits in a row, separators
    included)."""
    return f"{_UNSAFE.sub('-', str(agent_no))}-{_UNSAFE.sub('-', label)}"


class RcsTester(Resource, module="kaleyra", name="RcsTester"):
    """A tester of a Kaleyra RCS agent (type ``pulumi-python:dynamic/kaleyra:RcsTester``).

    Creating it adopts an existing registration of the number, or registers it (Kaleyra
    sends the invitation). Deleting it cannot deregister: it warns to use the console.

    Of its outputs, ``registration_id`` and ``status`` are promised; ``agent_no``,
    ``phoneno`` (secret) and ``label`` are the provider's own record and may change.
    """

    agent_no: pulumi.Output[str]
    phoneno: pulumi.Output[str]
    label: pulumi.Output[str]
    registration_id: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: RcsTesterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["phoneno"])
        props: dict[str, object] = {
            "agent_no": args.agent_no,
            "phoneno": pulumi.Output.secret(args.phoneno),
            "label": args.label,
            "registration_id": None,
            "status": None,
        }
        if args.allow_non_mobile:  # only when set: other testers' inputs stay as they were
            props[ALLOW_NON_MOBILE_INPUT] = True
        super().__init__(
            TesterProvider(), resource_name, props, pulumi.ResourceOptions.merge(secret, opts)
        )
