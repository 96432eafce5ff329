"""Run a GitHub Actions job's ``run:`` steps for real, as the runner does, outside GitHub.

The steps are read from the workflow file (never copied into a test) and run one after the
other with the runner's bash command line, the GitHub environment variables they read, a
fresh ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` per step, and their ``env:`` and ``if:``
expressions evaluated against the contexts a test gives (``github``, ``needs``) and the step
outputs so far (``steps``). ``uses:`` steps are not run: the test prepares what they would
(the checkout, the virtualenv)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
#: How the runner starts a step with ``shell: bash``, and with no shell given (on Linux).
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
DEFAULT_SHELL = ["bash", "-e"]
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def load_workflow(path: Path) -> dict[str, Any]:
    """A workflow as a dict, its triggers under ``"on"`` (YAML 1.1 reads a bare ``on`` as true)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


# -- expressions ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|!|\(|\))|(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))"
)
STATUS_FUNCTIONS = ("success", "failure", "cancelled", "always")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"expression not understood at {text[pos:]!r}: {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match[kind]))
        pos = match.end()
    return tokens


def _number(value: Any) -> float:
    """GitHub's loose conversion for comparing values of different types."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip() or 0)
    except ValueError:
        return float("nan")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right):
        return bool(left == right)
    return _number(left) == _number(right)


def truthy(value: Any) -> bool:
    if isinstance(value, float) and value != value:
        return False
    return value not in (None, False, 0, "")


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], status: Mapping[str, bool]):
        self.tokens = _tokens(text)
        self.pos = 0
        self.contexts = contexts
        self.status = status
        self.text = text

    def parse(self) -> Any:
        value = self._or()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos][1]!r} in {self.text!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._not()
        while self._peek() == "&&":
            self._take()
            right = self._not()
            value = right if truthy(value) else value
        return value

    def _not(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._not())
        left = self._primary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            same = _equal(left, self._primary())
            return same if op == "==" else not same
        return left

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(" and kind == "op":
            value = self._or()
            if self._take()[1] != ")":
                raise ValueError(f"missing ')' in {self.text!r}")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind == "name" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if kind == "name" and text in STATUS_FUNCTIONS:
            if self._take()[1] != "(" or self._take()[1] != ")":
                raise ValueError(f"{text} takes no arguments in {self.text!r}")
            return self.status[text]
        if kind == "name":
            return self._lookup(text)
        raise ValueError(f"unexpected {text!r} in {self.text!r}")

    def _lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        if head not in self.contexts:
            raise KeyError(f"context {head!r} is not given to the test runner ({path})")
        value: Any = self.contexts[head]
        for part in rest:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


def evaluate(
    text: str, contexts: Mapping[str, Any], status: Mapping[str, bool] | None = None
) -> Any:
    """The value of one expression (without ``${{ }}``)."""
    return _Parser(text, contexts, status or {}).parse()


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def substitute(text: str, contexts: Mapping[str, Any]) -> str:
    """A value with each ``${{ expression }}`` replaced by its result, as the runner does."""
    return EXPRESSION.sub(lambda m: as_text(evaluate(m[1], contexts)), text)


def condition_holds(
    condition: Any, contexts: Mapping[str, Any], status: Mapping[str, bool]
) -> bool:
    """An ``if:``: ``success()`` when absent, and ANDed with it when it names no status
    function, as GitHub does."""
    text = "success()" if condition is None else str(condition).strip()
    full = EXPRESSION.fullmatch(text)
    text = full[1] if full else text
    if not any(f"{name}(" in text for name in STATUS_FUNCTIONS):
        text = f"success() && ({text})"
    return truthy(evaluate(text, contexts, status))


# -- steps and jobs ------------------------------------------------------------------------------


def read_outputs(path: Path) -> dict[str, str]:
    """``GITHUB_OUTPUT``'s ``name=value`` and ``name<<DELIMITER`` ... ``DELIMITER`` entries."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        i += 1
    return outputs


@dataclass
class StepResult:
    name: str
    ran: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobResult:
    """What a run of the job's steps left: did it succeed, its summary and outputs."""

    ran: bool
    succeeded: bool = True
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


def step_name(step: Mapping[str, Any]) -> str:
    return str(step.get("name") or step.get("id") or step.get("uses") or "run")


def _shell(
    workflow: Mapping[str, Any], job: Mapping[str, Any], step: Mapping[str, Any]
) -> list[str]:
    shell = (
        step.get("shell")
        or job.get("defaults", {}).get("run", {}).get("shell")
        or workflow.get("defaults", {}).get("run", {}).get("shell")
    )
    if shell is None:
        return DEFAULT_SHELL
    if shell == "bash":
        return BASH
    raise ValueError(f"the test runner runs bash steps only, not shell {shell!r}")


def run_job(
    workflow: Mapping[str, Any],
    job_id: str,
    step_names: list[str],
    *,
    cwd: Path,
    environ: Mapping[str, str],
    contexts: Mapping[str, Any],
    temp: Path,
) -> JobResult:
    """Run the job's steps named ``step_names`` (in the workflow's order) if the job's ``if:``
    holds. ``environ`` is the runner's environment (PATH, the GITHUB_* variables...);
    ``contexts`` the expression contexts (``github``, ``needs``)."""
    job = workflow["jobs"][job_id]
    needs_ok = all(
        contexts.get("needs", {}).get(n, {}).get("result") == "success"
        for n in ([job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []))
    )
    job_status = {"success": needs_ok, "failure": not needs_ok, "cancelled": False, "always": True}
    if not condition_holds(job.get("if"), contexts, job_status):
        return JobResult(ran=False)
    result = JobResult(ran=True)
    step_outputs: dict[str, dict[str, dict[str, str]]] = {}
    wanted = [s for s in job["steps"] if step_name(s) in step_names]
    missing = set(step_names) - {step_name(s) for s in wanted}
    assert not missing, f"job {job_id} has no step named {sorted(missing)}"
    for index, step in enumerate(wanted):
        scope = {**contexts, "steps": step_outputs, "env": {}}
        status = {
            "success": result.succeeded,
            "failure": not result.succeeded,
            "cancelled": False,
            "always": True,
        }
        name = step_name(step)
        if not condition_holds(step.get("if"), scope, status):
            result.steps.append(StepResult(name, ran=False))
            continue
        script = step["run"]
        assert "${{" not in script, f"step {name!r} puts an expression into its script"
        folder = temp / f"{job_id}-{index}"
        folder.mkdir(parents=True)
        (folder / "script.sh").write_text(script, encoding="utf-8")
        env = dict(environ)
        for level in (workflow.get("env"), job.get("env"), step.get("env")):
            env.update({k: substitute(str(v), scope) for k, v in (level or {}).items()})
        env["GITHUB_OUTPUT"] = str(folder / "output")
        env["GITHUB_STEP_SUMMARY"] = str(folder / "summary")
        proc = subprocess.run(
            [*_shell(workflow, job, step), str(folder / "script.sh")],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        outputs = read_outputs(folder / "output")
        if step.get("id"):
            step_outputs[step["id"]] = {"outputs": outputs}
        summary = folder / "summary"
        result.summary += summary.read_text(encoding="utf-8") if summary.exists() else ""
        result.steps.append(
            StepResult(name, True, proc.returncode, proc.stdout, proc.stderr, outputs)
        )
        if proc.returncode != 0:
            result.succeeded = False
    scope = {**contexts, "steps": step_outputs}
    result.outputs = {k: substitute(str(v), scope) for k, v in job.get("outputs", {}).items()}
    return result
