"""Run an ASGI app under uvicorn on a socket we bind, announce it, exit 0 on SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import copy
import signal
import socket
import sys
import threading
from collections.abc import Generator
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from rcs_provider.sandbox.defaults import LISTENING_PREFIX

__all__ = ["bind_socket", "format_url", "serve"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def format_url(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 = any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _log_config() -> dict[str, Any]:
    """uvicorn's logging set-up with the access log on stderr: stdout carries only the URL."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


class _AnnouncingServer(uvicorn.Server):
    """Prints ``listening on URL`` once serving; handles signals without re-raising them."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            print(f"{LISTENING_PREFIX}{self.url}", flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn re-raises the captured signal after shutdown, which would end the process
        # with -SIGTERM or KeyboardInterrupt; a sandbox stopped on purpose exits 0 instead.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(
    app: ASGIApp, *, host: str, port: int, log_level: str = "warning", access_log: bool = False
) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit code."""
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        print(
            f"Unable to start the sandbox: cannot listen on {host}:{port}: {exc}", file=sys.stderr
        )
        return 1
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=_log_config(),
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    server = _AnnouncingServer(config, format_url(host, bound_port))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1
