"""Keeping the sandbox on this machine: which addresses it may bind, which Host names it
answers, and what it says when told to open up with ``--allow-remote``.

Nothing in the sandbox needs a credential the world does not know: the inspection API under
``/_sandbox/`` has none (it lists full numbers and changes state), and the Kaleyra routes take
the documented demo key by default. So the sandbox listens on loopback only, and answers only
requests addressed to a loopback name: a web page that rebinds its own DNS name to 127.0.0.1
sends its own name as Host and is refused.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from rcs_provider._kaleyra.settings import is_loopback

__all__ = [
    "ALLOW_REMOTE_FLAG",
    "LoopbackHostGuard",
    "bind_refusal",
    "is_loopback_host_header",
    "remote_warning",
]

ALLOW_REMOTE_FLAG = "--allow-remote"
#: ``name[:port]`` or ``[ipv6][:port]``, as a Host header carries them (RFC 9110 7.2).
_HOST_HEADER = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[^:\[\]@/\\\s]+))(?::(?P<port>[0-9]{1,5}))?"
)
_SHOWN_HOST_CHARS = 100


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


def is_loopback_host_header(value: str | None) -> bool:
    """Whether a Host header names this machine: ``localhost``, an address of 127.0.0.0/8 or
    ``[::1]``, with any port. A missing or malformed header is not."""
    if value is None:
        return False
    match = _HOST_HEADER.fullmatch(value.strip())
    if match is None:
        return False
    if match["port"] is not None and int(match["port"]) > 65535:
        return False
    host = match["ipv6"] or match["name"]
    return is_loopback(host) and (match["ipv6"] is None or ":" in host)


def _host_header(scope: Scope) -> str | None:
    values = [raw for key, raw in scope["headers"] if key == b"host"]
    return values[0].decode("latin-1") if len(values) == 1 else None


class LoopbackHostGuard:
    """Answers 403 to any HTTP request whose Host header is not a loopback name.

    It guards every route, the Kaleyra ones included: their api-key is the public demo key
    unless told otherwise, so it does not keep a rebinding web page out. Outermost, so that a
    refused request is neither counted nor faulted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host_header(scope)
        if is_loopback_host_header(host):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "code": 403,
                "message": "Host not allowed",
                "error": {
                    "host": None if host is None else host[:_SHOWN_HOST_CHARS],
                    "reason": (
                        "the sandbox answers only requests addressed to a loopback name "
                        "(127.0.0.1, localhost or [::1], any port), so that a web page cannot "
                        "reach it by DNS rebinding. Call it as http://127.0.0.1:<port>, or "
                        f"start it with {ALLOW_REMOTE_FLAG}."
                    ),
                },
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
        ]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
