"""Fixtures: one sandbox process for the session (reset before each test), stripe-mock style.

Tests that need their own process (flags, restarts, signals) start it with ``running_sandbox``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from rcs_provider.sandbox import SandboxProcess, running_sandbox

AGENT = "48900"
OTHER_AGENT = "20700"
PHONE = "919530000092"


class Kaleyra:
    """Calls the sandbox's Kaleyra paths the way the docs show them."""

    def __init__(self, sandbox: SandboxProcess, http: requests.Session) -> None:
        self.sandbox = sandbox
        self.http = http

    def register(
        self,
        phoneno: Any = PHONE,
        agent_no: Any = AGENT,
        *,
        alias: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """POST the register call (``json=``/``data=`` in kwargs override the body)."""
        if "json" not in kwargs and "data" not in kwargs:
            kwargs["json"] = {"phoneno": phoneno, "agent_no": agent_no}
        return self.http.post(
            self.sandbox.register_url(alias=alias),
            headers=self.sandbox.headers() if headers is None else headers,
            timeout=10,
            **kwargs,
        )

    def list(
        self,
        agent: str | None = AGENT,
        *,
        method: str = "GET",
        alias: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """GET/POST the list call with ``agent_number`` in the query (unless ``agent`` is None)."""
        params = None if agent is None else {"agent_number": agent}
        return self.http.request(
            method,
            self.sandbox.list_url(alias=alias),
            params=params,
            headers=self.sandbox.headers() if headers is None else headers,
            timeout=10,
            **kwargs,
        )


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[SandboxProcess]:
    """The session's sandbox (``:memory:``, port 0, default sid/api-key/agents)."""
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(sandbox_process: SandboxProcess) -> SandboxProcess:
    """The session's sandbox, reset: no registrations, stats, faults or quota use."""
    sandbox_process.reset()
    return sandbox_process


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A requests session, closed after the test."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def kaleyra(sandbox: SandboxProcess, http: requests.Session) -> Kaleyra:
    """Kaleyra-path caller bound to the reset session sandbox."""
    return Kaleyra(sandbox, http)
