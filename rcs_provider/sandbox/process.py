"""Start a sandbox subprocess and drive its inspection API (stdlib and requests only).

Used by the tests' fixtures, the demo and the benchmarks, stripe-mock style::

    with running_sandbox(error_rate=0.2, seed=7) as sandbox:
        client = KaleyraClient(ClientSettings(sid=sandbox.sid, api_key=sandbox.api_key,
                                              base_url=sandbox.url))
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_AGENTS",
    "DEFAULT_API_KEY",
    "DEFAULT_DB",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_SID",
    "LISTENING_PREFIX",
    "MEMORY",
    "SandboxProcess",
    "SandboxStartError",
    "running_sandbox",
]

# Defaults the server shares with this harness (kept here: the harness needs no server package).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8766
DEFAULT_SID = "SANDBOXSID0001"
DEFAULT_API_KEY = "sandbox-api-key"
#: The environment variable that carries the api-key, out of sight of ``ps``.
API_KEY_ENV = "RCS_SANDBOX_API_KEY"
DEFAULT_AGENTS = ("48900", "20700")
#: Database used when --db is not given, relative to the working directory.
DEFAULT_DB = Path(".sandbox") / "kaleyra.db"
MEMORY = ":memory:"
#: The line printed on stdout once the server accepts connections: ``listening on URL``.
LISTENING_PREFIX = "listening on "

_POLL_S = 0.02
_HTTP_TIMEOUT_S = 30.0  # inspection calls: generous, so a loaded machine is not a failure
_LOG_TAIL = 4000


class SandboxStartError(RuntimeError):
    """The sandbox process exited or stayed silent instead of announcing its URL."""


def _flags(options: Mapping[str, Any]) -> list[str]:
    """``{"error_rate": 0.5, "echo_request_in_errors": True}`` -> CLI flags."""
    flags: list[str] = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif isinstance(value, list | tuple | set | frozenset):
            flags += [flag, ",".join(str(item) for item in value)]
        else:
            flags += [flag, str(value)]
    return flags


class SandboxProcess:
    """One ``python -m rcs_provider.sandbox`` process and a client for its inspection API.

    Keyword options are the CLI flags in snake case (``db``, ``sid``, ``api_key``, ``agents``,
    ``status_clock``, ``auto_approve``, ``personality``, ``log_level`` and every fault, e.g.
    ``error_rate``).
    ``db=None`` leaves the CLI default (``.sandbox/kaleyra.db`` under ``cwd``). The api-key
    goes to the process in its environment (``RCS_SANDBOX_API_KEY``), not on its command
    line, where ``ps`` would show it to every user of the machine.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        db: str | Path | None = MEMORY,
        sid: str = DEFAULT_SID,
        api_key: str = DEFAULT_API_KEY,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 120.0,  # a loaded 2-core machine can take this long to import it
        **options: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.sid = sid
        self.api_key = api_key
        self.db = None if db is None else str(db)
        self.cwd = cwd
        self.env = None if env is None else dict(env)
        self.startup_timeout = startup_timeout
        self.options = options
        self.url = ""
        self.returncode: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._http: requests.Session | None = None
        self._logs = Path(tempfile.mkdtemp(prefix="rcs-sandbox-"))

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def command(self) -> list[str]:
        """The command line that starts the process (the api-key is not on it)."""
        options: dict[str, Any] = {"host": self.host, "port": self.port}
        if self.db is not None:
            options["db"] = self.db
        options |= {"sid": self.sid, **self.options}
        return [sys.executable, "-m", "rcs_provider.sandbox", *_flags(options)]

    @property
    def environ(self) -> dict[str, str]:
        """The process's environment: ``env`` (default: ours) with the api-key."""
        base = os.environ if self.env is None else self.env
        return {**base, API_KEY_ENV: self.api_key}

    @property
    def stdout_path(self) -> Path:
        """Everything the process printed on stdout (across restarts)."""
        return self._logs / "stdout.log"

    @property
    def stderr_path(self) -> Path:
        """Everything the process logged on stderr (across restarts)."""
        return self._logs / "stderr.log"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return None if self._process is None else self._process.pid

    def start(self) -> SandboxProcess:
        """Start the process and wait for its ``listening on URL`` line."""
        if self._process is not None:
            raise RuntimeError("Unable to start the sandbox: it is already running")
        offset = self.stdout_path.stat().st_size if self.stdout_path.exists() else 0
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=self.cwd,
                env=self.environ,
            )
        self.returncode = None
        self.url = self._wait_for_url(offset)
        parts = urlsplit(self.url)
        self.port = parts.port or self.port
        return self

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait (SIGKILL after ``timeout``); the exit code."""
        process, self._process = self._process, None
        if self._http is not None:
            self._http.close()
            self._http = None
        if process is None:
            return -1 if self.returncode is None else self.returncode
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.returncode = process.returncode
        return process.returncode

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the process to exit by itself (e.g. after a signal); the exit code."""
        process = self._process
        if process is None:
            return -1 if self.returncode is None else self.returncode
        process.wait(timeout)
        return self.stop()

    def restart(self) -> SandboxProcess:
        """Stop and start again on the same port with the same database."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop and delete the log folder."""
        self.stop()
        shutil.rmtree(self._logs, ignore_errors=True)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def stdout(self) -> str:
        """What the process printed on stdout so far."""
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        """What the process logged on stderr so far."""
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def _wait_for_url(self, offset: int) -> str:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            with self.stdout_path.open("rb") as out:
                out.seek(offset)
                for line in out.read().decode(errors="replace").splitlines():
                    if line.startswith(LISTENING_PREFIX):
                        return line[len(LISTENING_PREFIX) :].strip()
            if self._process.poll() is not None:
                code = self.stop()
                raise SandboxStartError(
                    f"Unable to start the sandbox: it exited with code {code}\n{self._tail()}"
                )
            time.sleep(_POLL_S)
        self.stop()
        raise SandboxStartError(
            f"Unable to start the sandbox: no '{LISTENING_PREFIX}' line within "
            f"{self.startup_timeout:g}s\n{self._tail()}"
        )

    def _tail(self) -> str:
        return self.stderr()[-_LOG_TAIL:]

    # -- Kaleyra paths -------------------------------------------------------------------------

    def register_url(self, *, alias: bool = False) -> str:
        """URL of the register call (``alias``: ``/rcs/agent/registerTester``)."""
        tail = "agent/registerTester" if alias else "agenttester/register"
        return f"{self.url}/v1/{self.sid}/rcs/{tail}"

    def list_url(self, *, alias: bool = False) -> str:
        """URL of the list call (``alias``: ``/rcs/agent/testersbyagent``)."""
        tail = "agent/testersbyagent" if alias else "agenttester/testersbyagent"
        return f"{self.url}/v1/{self.sid}/rcs/{tail}"

    def headers(self) -> dict[str, str]:
        """The headers Kaleyra wants: JSON content type and the api-key."""
        return {"Content-Type": "application/json", "api-key": self.api_key}

    # -- inspection API ------------------------------------------------------------------------

    def registrations(self, agent_no: str | None = None) -> list[dict[str, Any]]:
        """Every registration (or one agent's): agent_no, phoneno, id, status, created_at."""
        params = None if agent_no is None else {"agent_no": agent_no}
        body = self._call("GET", "/registrations", params=params)
        result: list[dict[str, Any]] = body["registrations"]
        return result

    def stats(self) -> dict[str, Any]:
        """Call counters (register_calls, register_created, list_calls, errors_injected...)."""
        return self._call("GET", "/stats")

    def reset(self, *, keep_registrations: bool = False) -> None:
        """Clear stats, faults, quota counters (and registrations unless kept)."""
        self._call("POST", "/reset", json={"keep_registrations": keep_registrations})

    def faults(self) -> dict[str, Any]:
        """Current fault settings."""
        return self._call("GET", "/faults")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Change the given fault settings (others stay); the resulting settings."""
        return self._call("PUT", "/faults", json=faults)

    def add_registration(
        self, agent_no: str, phoneno: str, status: str | None = None, *, age_seconds: float = 0
    ) -> dict[str, Any]:
        """Add a registration out of band (not counted as a register call)."""
        body: dict[str, Any] = {
            "agent_no": agent_no,
            "phoneno": phoneno,
            "age_seconds": age_seconds,
        }
        if status is not None:
            body["status"] = status
        return self._call("POST", "/registrations", json=body)

    def set_status(self, agent_no: str, phoneno: str, status: str | None) -> dict[str, Any]:
        """Pin a status (``None``: back to the clock)."""
        return self._call("PATCH", f"/registrations/{agent_no}/{phoneno}", json={"status": status})

    def remove(self, agent_no: str, phoneno: str) -> None:
        """Remove one registration."""
        self._call("DELETE", f"/registrations/{agent_no}/{phoneno}")

    def reset_quota(self) -> None:
        """Reset the daily quota counters (simulate the next day)."""
        self._call("POST", "/quota/reset")

    def set_agents(self, agents: list[str]) -> list[str]:
        """Replace the known agent numbers."""
        result: list[str] = self._call("PUT", "/agents", json={"agents": agents})["agents"]
        return result

    def set_clock(self, status_clock: float, auto_approve: float | None = None) -> None:
        """Change the status clock (seconds to Pending; Pending to Approved, None = never)."""
        self._call(
            "PUT", "/clock", json={"status_clock": status_clock, "auto_approve": auto_approve}
        )

    def set_time(self, now: float | None) -> None:
        """Pin the sandbox's time at ``now`` (epoch seconds); ``None``: back to the wall clock."""
        self._call("PUT", "/time", json={"now": now})

    def personality(self) -> str:
        """The API personality being played (``documented``, ``no-list``, ...)."""
        result: str = self._call("GET", "/personality")["personality"]
        return result

    def set_personality(self, personality: str) -> str:
        """Play another API personality from the next call on."""
        result: str = self._call("PUT", "/personality", json={"personality": personality})[
            "personality"
        ]
        return result

    def info(self) -> dict[str, Any]:
        """Sid, agents, database path and journal mode."""
        return self._call("GET", "/info")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if not self.url or self._process is None:
            raise RuntimeError("Unable to reach the sandbox: it is not running")
        if self._http is None:
            self._http = requests.Session()
        with self._http.request(
            method, f"{self.url}/_sandbox{path}", timeout=_HTTP_TIMEOUT_S, **kwargs
        ) as response:
            if response.status_code >= 400:
                raise requests.HTTPError(
                    f"Unable to {method} /_sandbox{path}: {response.status_code} {response.text}",
                    response=response,
                )
            if response.status_code == 204:
                return {}
            body: dict[str, Any] = response.json()
            return body


@contextlib.contextmanager
def running_sandbox(**options: Any) -> Iterator[SandboxProcess]:
    """A started :class:`SandboxProcess` (port 0, ``:memory:`` unless told), stopped on exit."""
    sandbox = SandboxProcess(**options)
    try:
        yield sandbox.start()
    finally:
        sandbox.close()
