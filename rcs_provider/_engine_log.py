"""The dynamic provider's warnings, shown by the engine as warnings.

What a dynamic provider writes on stderr reaches the engine as plain messages: a log prints
them, but the summary counts them as "messages", not warnings. The engine starts every
resource plugin with the address of its own host server as the last argument; that server's
``Log`` call takes a warning exactly as ``pulumi.log.warn`` sends one from a program. With no
engine to reach (the provider called directly, e.g. in tests), warnings go to stderr.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Sequence

import grpc  # type: ignore[import-untyped]  # grpcio ships no type hints
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

__all__ = ["engine_address", "warn"]

#: A loopback ``host:port``, as the engine passes its address to plugins.
_ADDRESS = re.compile(r"(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}")
_TIMEOUT_S = 10.0
_lock = threading.Lock()
_stubs: dict[str, engine_pb2_grpc.EngineStub] = {}


def engine_address(argv: Sequence[str]) -> str | None:
    """The engine's address among a plugin's arguments (the last one), if any."""
    return argv[-1] if len(argv) > 1 and _ADDRESS.fullmatch(argv[-1]) else None


def _stub(address: str) -> engine_pb2_grpc.EngineStub:
    with _lock:
        stub = _stubs.get(address)
        if stub is None:
            stub = _stubs[address] = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        return stub


def warn(message: str, argv: Sequence[str] | None = None) -> None:
    """Show ``message`` as a warning of this run (the engine shows it at the stack)."""
    address = engine_address(sys.argv if argv is None else argv)
    if address is not None:
        request = engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message)
        try:
            _stub(address).Log(request, timeout=_TIMEOUT_S)
            return
        except grpc.RpcError:
            pass  # the engine is gone or deaf: stderr still reaches a person
    print(f"warning: {message}", file=sys.stderr, flush=True)
