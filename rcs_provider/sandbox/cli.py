"""Command line of ``python -m rcs_provider.sandbox``: flags into a sandbox config, which hosts
it may listen on (loopback unless ``--allow-remote``), then the server."""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from rcs_provider._kaleyra.settings import is_loopback
from rcs_provider.sandbox.answers import Personality
from rcs_provider.sandbox.faults import FaultSettings
from rcs_provider.sandbox.kaleyra_api import AGENT_PATTERN
from rcs_provider.sandbox.process import (
    API_KEY_ENV,
    DEFAULT_AGENTS,
    DEFAULT_API_KEY,
    DEFAULT_DB,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_SID,
    MEMORY,
)
from rcs_provider.sandbox.store import DEFAULT_STATUS_CLOCK, SandboxConfig, StatusClock

__all__ = [
    "ALLOW_REMOTE_FLAG",
    "bind_refusal",
    "build_parser",
    "main",
    "parse_config",
    "remote_warning",
]

ALLOW_REMOTE_FLAG = "--allow-remote"
_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def bind_refusal(host: str) -> str | None:
    """Why ``--host`` may not be used without ``--allow-remote`` (None for a loopback host)."""
    if is_loopback(host):
        return None
    return (
        f"Unable to listen on {host}: it is not a loopback address, and the sandbox's "
        "inspection API (/_sandbox/) has no authentication: it lists every registration with "
        "its full phone number and accepts write calls from anyone who can reach it. Listen on "
        f"127.0.0.1 (the default), ::1 or localhost, or pass {ALLOW_REMOTE_FLAG} to expose it "
        "anyway."
    )


def remote_warning(host: str) -> str:
    """What ``--allow-remote`` exposes, printed on stderr at start-up."""
    return (
        f"warning: {ALLOW_REMOTE_FLAG}: the sandbox listens on {host} and answers requests "
        "addressed to any host name (no DNS-rebinding check). Its inspection API needs no "
        "credentials: anyone who reaches it reads every registration with its full phone number "
        "(GET /_sandbox/registrations) and changes or wipes the sandbox with unauthenticated "
        "write calls (POST /_sandbox/reset, PUT /_sandbox/faults, POST/PATCH/DELETE "
        "/_sandbox/registrations, PUT /_sandbox/agents and /_sandbox/clock). Use it on a "
        "trusted network, with test numbers only."
    )


def _agents(text: str) -> tuple[str, ...]:
    agents = tuple(part.strip() for part in text.split(",") if part.strip())
    bad = [agent for agent in agents if not AGENT_PATTERN.fullmatch(agent)]
    if not agents or bad:
        raise argparse.ArgumentTypeError(f"expected comma-separated digits, got {text!r}")
    return agents


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also documents every flag in ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m rcs_provider.sandbox",
        description="Local Kaleyra-compatible RCS tester API for demos, tests and dry runs.",
    )
    server = parser.add_argument_group("server")
    server.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default %(default)s); a non-loopback one needs {ALLOW_REMOTE_FLAG}",
    )
    server.add_argument(
        ALLOW_REMOTE_FLAG,
        action="store_true",
        help="accept a non-loopback --host and requests addressed to any host name: the "
        "inspection API (/_sandbox/) then shows full numbers and takes unauthenticated write "
        "calls from anyone who reaches it",
    )
    server.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port; 0 = any free port (default %(default)s)",
    )
    server.add_argument(
        "--db",
        default=str(DEFAULT_DB),
        help=f"SQLite file (folder created) or {MEMORY} (default %(default)s, relative to cwd)",
    )
    server.add_argument("--log-level", choices=_LOG_LEVELS, default="warning")
    server.add_argument("--access-log", action="store_true", help="log every request")
    server.add_argument(
        "--no-fast-path",
        action="store_true",
        help="no effect: the Kaleyra calls have one path (kept so that older command lines run)",
    )

    account = parser.add_argument_group("account")
    account.add_argument("--sid", default=DEFAULT_SID, help="account SID (default %(default)s)")
    key = account.add_mutually_exclusive_group()
    key.add_argument(
        "--api-key",
        help=f"api-key (default: ${API_KEY_ENV}, else {DEFAULT_API_KEY}); visible in `ps`, "
        f"so prefer --api-key-file or ${API_KEY_ENV} for a real secret",
    )
    key.add_argument(
        "--api-key-file", type=Path, metavar="FILE", help="read the api-key from FILE (one line)"
    )
    account.add_argument(
        "--agents",
        type=_agents,
        default=DEFAULT_AGENTS,
        help=f"comma list of known agent numbers (default {','.join(DEFAULT_AGENTS)})",
    )
    account.add_argument(
        "--status-clock",
        type=_seconds,
        default=DEFAULT_STATUS_CLOCK,
        help="seconds from Unverified to Pending (default %(default)s)",
    )
    account.add_argument(
        "--auto-approve",
        type=_seconds,
        default=None,
        help="seconds from Pending to Approved (default: never; 0 with --status-clock 0 = "
        "Approved at once)",
    )

    account.add_argument(
        "--personality",
        choices=[p.value for p in Personality],
        default=Personality.DOCUMENTED.value,
        help="which variant of Kaleyra's API to play (default %(default)s; see "
        "PUT /_sandbox/personality)",
    )

    faults = parser.add_argument_group("faults (Kaleyra paths only; see PUT /_sandbox/faults)")
    for name, info in FaultSettings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        if info.annotation is bool:
            faults.add_argument(flag, action="store_true", help=info.description)
        else:
            kind = float if info.annotation is float else int
            faults.add_argument(flag, type=kind, default=None, help=info.description)
    return parser


def parse_config(argv: Sequence[str] | None = None) -> tuple[argparse.Namespace, SandboxConfig]:
    """Parse flags into the namespace and the sandbox config (exits 2 on bad flags)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = {
        name: getattr(args, name)
        for name in FaultSettings.model_fields
        if getattr(args, name) not in (None, False)
    }
    try:
        faults = FaultSettings.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(
            f"--{str(error['loc'][0]).replace('_', '-')}: {error['msg']}" for error in exc.errors()
        )
        parser.error(problems)
    refusal = None if args.allow_remote else bind_refusal(args.host)
    if refusal is not None:
        parser.error(refusal)
    db = args.db if args.db == MEMORY else str(Path(args.db).expanduser().resolve())
    config = SandboxConfig(
        sid=args.sid,
        api_key=_api_key(args, parser),
        agents=args.agents,
        db=db,
        clock=StatusClock(args.status_clock, args.auto_approve),
        faults=faults,
        personality=Personality(args.personality),
    )
    return args, config


def _api_key(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    """The api-key from --api-key, --api-key-file or the environment, else the demo key."""
    if args.api_key is not None:
        return str(args.api_key)
    if args.api_key_file is None:
        return os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY
    try:
        lines = args.api_key_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        parser.error(
            f"--api-key-file: Unable to read {args.api_key_file}: "
            f"{getattr(err, 'strerror', None) or err}. Pass a readable file holding the api-key."
        )
    key = lines[0].strip() if lines else ""
    if not key:
        parser.error(
            f"--api-key-file: {args.api_key_file} is empty. Write the api-key on its first line."
        )
    return key


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until SIGINT/SIGTERM; the exit code."""
    # A stop request that arrives while still starting up also exits 0; once serving,
    # the server's own handlers take over.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_quietly)
    args, config = parse_config(argv)
    # Imported here so that --help and flag errors do not pay for FastAPI's import.
    from rcs_provider.sandbox import app as sandbox_app

    if args.allow_remote:
        print(remote_warning(args.host), file=sys.stderr, flush=True)
    try:
        app = sandbox_app.create_app(config, check_host=not args.allow_remote)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        print(f"Unable to start the sandbox: database {config.db}: {exc}", file=sys.stderr)
        return 1
    return sandbox_app.serve(
        app, host=args.host, port=args.port, log_level=args.log_level, access_log=args.access_log
    )
