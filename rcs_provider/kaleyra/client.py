"""KaleyraClient: register a tester, list an agent's testers. Nothing else.

The transport (:mod:`.transport`) sends and bounds each call, :mod:`.parsing` reads the bodies
and :mod:`.errors` names what went wrong. The client knows nothing of Pulumi.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import requests

from ..domain import mask_phone, normalize_phone
from .errors import UNCONFIRMED_REGISTRATION_HINT, UnparseableResponseError
from .parsing import (
    NOT_JSON,
    Registration,
    TesterRecord,
    load_json,
    registration_from,
    testers_from,
)
from .settings import CONFIG_KEYS, ClientSettings
from .transport import Transport

__all__ = ["KaleyraClient"]

_log = logging.getLogger("rcs_provider.client")
_HEADER_SAFE = re.compile(r"[!-~]+")  # printable ASCII, no spaces


class KaleyraClient:
    """Registers and lists the testers of Kaleyra RCS agents.

    Errors are :class:`~rcs_provider.kaleyra.errors.KaleyraError` subclasses whose text reads
    ``Unable to <action>: <why>. <what to do>``; invalid phone numbers raise
    :class:`~rcs_provider.domain.PhoneNumberError` before any request. Safe to share between
    threads (up to 8 at once). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self._settings = settings
        self._transport = Transport(settings)

    @property
    def base_url(self) -> str:
        """The resolved base URL, without a trailing ``/``."""
        return self._transport.base_url

    def register_tester(
        self, agent_no: str, phoneno: str, *, label: str | None = None
    ) -> Registration:
        """Register ``phoneno`` as a tester of agent ``agent_no`` (sends an invitation)."""
        phone = normalize_phone(phoneno)
        agent = _check_agent(agent_no)
        action = f"register tester {label or mask_phone(phone)} for agent {agent}"
        _log.debug("registering %s as a tester of agent %s", mask_phone(phone), agent)
        response, body = self._transport.request(
            "POST",
            self._settings.register_path,
            action=action,
            json={"phoneno": phone, "agent_no": agent},
        )
        hint = UNCONFIRMED_REGISTRATION_HINT
        doc = self._json(response, body, action, hint)
        found = registration_from(
            doc, phone, agent, status=response.status_code, secrets=(self._settings.api_key,)
        )
        if isinstance(found, str):
            raise _unparseable(response, action, found, hint)
        return found

    def list_testers(self, agent_no: str, *, label: str | None = None) -> list[TesterRecord]:
        """The testers of agent ``agent_no``; raises rather than guess on an unknown body."""
        agent = _check_agent(agent_no)
        action = (
            f"look up tester {label} in the tester list of agent {agent}"
            if label
            else f"list the testers of agent {agent}"
        )
        method = self._settings.list_method.upper()
        response, body = self._transport.request(
            method,
            self._settings.list_path,
            action=action,
            params={"agent_number": agent},
            json={"agent_number": agent} if method == "POST" else None,
        )
        hint = (
            f"Nothing was concluded from it; check {CONFIG_KEYS['list_path']} and "
            f"{CONFIG_KEYS['list_method']} against Kaleyra's docs, or report the response shape."
        )
        doc = self._json(response, body, action, hint)
        found = testers_from(doc, status=response.status_code, secrets=(self._settings.api_key,))
        if isinstance(found, str):
            raise _unparseable(response, action, found, hint)
        return found

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KaleyraClient(base_url={self.base_url!r})"

    @staticmethod
    def _json(response: requests.Response, body: bytes, action: str, hint: str) -> object:
        doc = load_json(body, NOT_JSON)
        if doc is NOT_JSON:
            why = f"Kaleyra answered {response.status_code} with a body that is not JSON"
            raise _unparseable(response, action, why, hint)
        return doc


def _unparseable(
    response: requests.Response, action: str, why: str, hint: str
) -> UnparseableResponseError:
    request = response.request
    return UnparseableResponseError(
        why,
        hint=hint,
        action=action,
        status=response.status_code,
        method=str(request.method or ""),
        path=urlsplit(str(request.url or "")).path,
    )


def _check_agent(agent_no: str) -> str:
    if not isinstance(agent_no, str | int) or isinstance(agent_no, bool):
        raise ValueError(f"agent number must be a string, not {type(agent_no).__name__}")
    agent = str(agent_no).strip()
    if not agent or not _HEADER_SAFE.fullmatch(agent):
        raise ValueError("agent number must be a non-empty string without spaces")
    return agent
