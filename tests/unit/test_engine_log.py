"""The provider's warnings reach the engine as warnings through its Log call (a real gRPC
server on loopback stands in for the engine), and stderr when there is no engine."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from rcs_provider import _engine_log


class Engine(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.logged: list[tuple[int, str, str]] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.logged.append((request.severity, request.message, request.urn))
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[Engine, str]]:
    servicer = Engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(0)


def test_a_warning_is_sent_to_the_engine_named_by_the_last_plugin_argument(
    engine: tuple[Engine, str], capsys: pytest.CaptureFixture[str]
) -> None:
    servicer, address = engine
    _engine_log.warn("tester qa-a was removed", ["pulumi.dynamic", "-v=9", address])
    assert servicer.logged == [(engine_pb2.WARNING, "tester qa-a was removed", "")]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv", [["pulumi.dynamic"], ["pytest", "tests/unit/test_engine_log.py"], ["x", "10.0.0.1:80"]]
)
def test_without_an_engine_address_the_warning_goes_to_stderr(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _engine_log.warn("tester qa-a was removed", argv)
    assert capsys.readouterr().err == "warning: tester qa-a was removed\n"


def test_an_engine_that_does_not_answer_leaves_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _engine_log.warn("budget exceeded", ["pulumi.dynamic", f"127.0.0.1:{port}"])
    assert capsys.readouterr().err == "warning: budget exceeded\n"
