"""Drive the real Pulumi CLI on a throw-away copy of the project (used by e2e, reliability and
backend tests). Each project gets its own ``file://`` backend in a temporary directory, unless
it is given a backend URL (PostgreSQL, S3, or a shared ``file://``), which it logs in to."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-test-passphrase"


def engine_environ() -> dict[str, str]:
    """The environment with the bootstrapped engine first on PATH (scripts/engine-env)."""
    out = subprocess.run(
        [str(REPO / "scripts" / "engine-env")], check=True, capture_output=True, text=True
    ).stdout
    env = dict(os.environ)
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    return env


@dataclass
class Result:
    """A finished pulumi command: exit code and everything it printed."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def ok(self) -> Result:
        assert self.returncode == 0, f"pulumi {' '.join(self.args)} failed:\n{self.output}"
        return self


class Project:
    """A copy of a Pulumi project (this one by default), a working copy as a CI runner has,
    driven through the CLI. Stack files live in ``stack_config_dir`` (this project's
    ``stackConfigDir``). Without ``backend_url`` it uses its own ``file://`` backend through
    ``PULUMI_BACKEND_URL``; with one, it is logged in to that backend (``pulumi login``, stored
    in its own ``PULUMI_HOME``) and ``backend_env`` carries the backend's credentials."""

    def __init__(
        self,
        root: Path,
        env: dict[str, str],
        backend_url: str | None = None,
        backend_env: dict[str, str] | None = None,
        *,
        stack_config_dir: str = "stacks",
    ) -> None:
        self.root = root
        self.stack_config_dir = root / stack_config_dir
        self.state_dir = root / ".pulumi-state"
        self.backend_url = backend_url
        self.backend_env = dict(backend_env or {})
        self.env = dict(env)
        self.env.update(
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
            VIRTUAL_ENV=str(REPO / ".venv"),
            PULUMI_HOME=str(root / ".pulumi-home"),
            NO_COLOR="1",
            **self.backend_env,
        )
        if backend_url is None:
            # metadata=skip: no .attrs sidecar files, which a SIGKILL can leave truncated.
            self.env["PULUMI_BACKEND_URL"] = f"file://{self.state_dir}?metadata=skip"
        else:
            self.env.pop("PULUMI_BACKEND_URL", None)
        self.env.pop("KALEYRA_API_KEY", None)
        self.env.pop("KALEYRA_SID", None)
        self.env.pop("RCS_TESTERS_TRACEBACKS", None)

    @classmethod
    def create(
        cls,
        root: Path,
        env: dict[str, str],
        backend_url: str | None = None,
        backend_env: dict[str, str] | None = None,
        *,
        login: bool = True,
    ) -> Project:
        root.mkdir(parents=True, exist_ok=True)
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy(REPO / name, root / name)
        (root / "stacks").mkdir(exist_ok=True)
        (root / ".venv").symlink_to(REPO / ".venv")
        (root / ".pulumi-state").mkdir()
        project = cls(root, env, backend_url, backend_env)
        if backend_url is not None and login:
            project.login().ok()
        return project

    def login(self, timeout: float = 300) -> Result:
        """`pulumi login <backend_url>` (kept in this project's PULUMI_HOME)."""
        assert self.backend_url is not None, "a file:// project uses PULUMI_BACKEND_URL"
        return self.pulumi("login", self.backend_url, timeout=timeout)

    def working_copy(self, root: Path) -> Project:
        """A second checkout on the same backend (as another CI runner): its own folder and
        PULUMI_HOME, logged in to the same backend, with this one's stack files."""
        if self.backend_url is None:
            url = f"file://{self.state_dir}?metadata=skip"
        else:
            url = self.backend_url
        other = Project.create(root, self.env, url, self.backend_env)
        for stack_file in (self.root / "stacks").glob("Pulumi.*.yaml"):
            shutil.copy(stack_file, other.root / "stacks" / stack_file.name)
        return other

    @classmethod
    def copy_of(cls, source: Path, root: Path, env: dict[str, str]) -> Project:
        """A copy of another project (e.g. ``examples/...``) whose ``virtualenv: venv`` is this
        repository's ``.venv``, where rcs-testers is installed in editable mode."""
        shutil.copytree(source, root, ignore=shutil.ignore_patterns("venv", "__pycache__"))
        (root / "venv").symlink_to(REPO / ".venv")
        (root / ".pulumi-state").mkdir()
        return cls(root, env, stack_config_dir=".")

    def pulumi(self, *args: str, stack: str | None = None, timeout: float = 300) -> Result:
        argv = list(args) + (["--stack", stack] if stack else [])
        proc = subprocess.run(
            ["pulumi", *argv, "--non-interactive"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Result(argv, proc.returncode, proc.stdout, proc.stderr)

    def stack(self, name: str, sandbox_url: str, *, sid: str, api_key: str) -> Stack:
        self.pulumi("stack", "init", name, "--secrets-provider", "passphrase").ok()
        stack = Stack(self, name)
        stack.set_kaleyra(pod="sandbox", baseUrl=sandbox_url, sid=sid)
        self.pulumi("config", "set", "--secret", "kaleyra:apiKey", api_key, stack=name).ok()
        return stack


class Stack:
    """One stack of a :class:`Project`: its config file and the usual commands."""

    def __init__(self, project: Project, name: str) -> None:
        self.project = project
        self.name = name
        self.file = project.stack_config_dir / f"Pulumi.{name}.yaml"

    def _load(self) -> dict[str, Any]:
        data = yaml.safe_load(self.file.read_text()) if self.file.exists() else None
        return data or {}

    def _save(self, data: dict[str, Any]) -> None:
        self.file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))

    def set_kaleyra(self, **values: str) -> None:
        data = self._load()
        config = data.setdefault("config", {})
        for key, value in values.items():
            config[f"kaleyra:{key}"] = value
        self._save(data)

    def set_config(self, key: str, value: Any) -> None:
        """Write one plain config value (e.g. ``rcs-testers:newTesterBudget``)."""
        data = self._load()
        data.setdefault("config", {})[key] = value
        self._save(data)

    def set_agents(self, agents: Any) -> None:
        """Write ``rcs-testers:agents`` as given (any YAML value, valid or not)."""
        data = self._load()
        data.setdefault("config", {})["rcs-testers:agents"] = agents
        self._save(data)

    def set_secret_phones(self, layout: dict[str, list[tuple[str, int]]]) -> None:
        """Declare ``layout`` with every phone set by ``pulumi config set --secret --path``."""
        from rcs_devtools.fleet_data import formatted

        self.set_agents(
            [
                {"agent": a, "testers": [{"label": label} for label, _ in ts]}
                for a, ts in layout.items()
            ]
        )
        for i, testers in enumerate(layout.values()):
            for j, (_, n) in enumerate(testers):
                path = f"rcs-testers:agents[{i}].testers[{j}].phone"
                self.run("config", "set", "--secret", "--path", path, formatted(n)).ok()

    def set_raw_agents_yaml(self, text: str) -> None:
        """Replace the agents block with raw YAML text (for YAML-level edge cases)."""
        data = self._load()
        data.setdefault("config", {}).pop("rcs-testers:agents", None)
        body = yaml.safe_dump(data, sort_keys=False)
        indented = "\n".join("  " + line for line in text.strip("\n").splitlines())
        self.file.write_text(body + "  rcs-testers:agents:\n" + indented + "\n")

    def run(self, *args: str, timeout: float = 300) -> Result:
        return self.project.pulumi(*args, stack=self.name, timeout=timeout)

    def up(self, *extra: str) -> Result:
        return self.run("up", "--yes", "--skip-preview", *extra)

    def start_up(self, *extra: str, capture: bool = True) -> subprocess.Popen[str]:
        """`pulumi up` started in the background, in its own process group (see kill_up_after)."""
        argv = ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", self.name]
        return subprocess.Popen(
            ["pulumi", *argv, *extra],
            cwd=self.project.root,
            env=self.project.env,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )

    def preview(self, *extra: str) -> Result:
        return self.run("preview", *extra)

    def refresh(self, *extra: str) -> Result:
        """``pulumi refresh --run-program``, as the README advises: without it the engine
        refreshes with the provider settings recorded by the last ``up``, not the stack file's."""
        return self.run("refresh", "--run-program", "--yes", "--skip-preview", *extra)

    def destroy(self, *extra: str) -> Result:
        return self.run("destroy", "--yes", "--skip-preview", *extra)

    def outputs(self) -> dict[str, Any]:
        result = self.run("stack", "output", "--json").ok()
        return dict(json.loads(result.stdout))

    def export(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "export").ok().stdout))

    def recorded(self) -> dict[str, Any]:
        """What the state records, by URN: each resource without its timestamps and with
        secrets (re-encrypted at every checkpoint) as ``[secret]``. Keyed, not listed: the
        engine may write resources in another order (a default provider registered by an
        invoke can come before the stack)."""
        resources = self.export()["deployment"].get("resources") or []
        return {r["urn"]: _scrubbed(r) for r in resources}

    def testers_in_state(self) -> list[dict[str, Any]]:
        """The RcsTester resources in the exported state (outputs, secrets still encrypted)."""
        resources = self.export()["deployment"].get("resources") or []
        return [r for r in resources if r["type"].endswith("kaleyra:RcsTester")]


#: Pulumi's marker of an encrypted value in an exported state.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _scrubbed(value: Any) -> Any:
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return "[secret]"
        return {k: _scrubbed(v) for k, v in value.items() if k not in ("created", "modified")}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def finished(proc: subprocess.Popen[str], args: list[str], timeout: float = 300) -> Result:
    """Wait for a process from :meth:`Stack.start_up` and collect what it printed."""
    stdout, stderr = proc.communicate(timeout=timeout)
    return Result(args, proc.returncode, stdout or "", stderr or "")


#: Every answer drips for ~3 s after its registration is stored (a slow body), so a kill
#: triggered by the sandbox's count always lands while a stored registration is not yet in
#: the state: the window a crash test must hit, held open whatever the scheduling.
HOLD_ANSWERS_BYTES_PER_SEC = 60


def kill_up_after(stack: Stack, sandbox: Any, created: int) -> None:
    """Start `pulumi up` and SIGKILL its whole process group (engine, language host, provider:
    a CI runner that dies) once the sandbox has stored ``created`` registrations."""
    proc = stack.start_up(capture=False)
    deadline = time.monotonic() + 120
    while sandbox.stats()["register_created"] < created:
        assert proc.poll() is None, "pulumi up ended before the kill"
        assert time.monotonic() < deadline, "too slow to reach the kill point"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def wait_until_every_call_is_answered(sandbox: Any) -> None:
    """The sandbox answers (and stores) a request even when its client was killed; its own
    counters say when every call it received has been answered."""
    deadline = time.monotonic() + 60
    while True:
        stats = sandbox.stats()
        answered = sum(stats["responses_by_status"].values()) + stats["errors_injected"]["dropped"]
        if answered >= stats["register_calls"] + stats["list_calls"]:
            return
        assert time.monotonic() < deadline, f"calls still unanswered after 60 s: {stats}"
        time.sleep(0.02)
