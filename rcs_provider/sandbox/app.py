"""The FastAPI application: Kaleyra routes, inspection API, fault gate, error shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from rcs_provider import __version__
from rcs_provider.sandbox import bodies, inspection, kaleyra
from rcs_provider.sandbox.dispatch import KaleyraDispatch
from rcs_provider.sandbox.faultgate import FaultGate
from rcs_provider.sandbox.loopback import LoopbackHostGuard
from rcs_provider.sandbox.state import SandboxConfig, SandboxState

__all__ = ["create_app"]

_DESCRIPTION = (
    "A local stand-in for Kaleyra's RCS tester API (register a tester, list an agent's "
    "testers) with an inspection and fault-injection API under `/_sandbox/`."
)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Kaleyra-shaped 404/405 under ``/v1/``; FastAPI's usual body elsewhere."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/v1/") and exc.status_code in (404, 405):
        answer = bodies.not_found() if exc.status_code == 404 else bodies.method_not_allowed()
        return answer.response()
    return await http_exception_handler(request, exc)


def create_app(
    config: SandboxConfig | None = None, *, fast_path: bool = True, check_host: bool = True
) -> FastAPI:
    """A sandbox app with its own state; the database closes on lifespan shutdown.

    ``fast_path`` answers the Kaleyra calls before FastAPI's routing (same behaviour, less
    CPU); without it the FastAPI routes serve them. ``check_host`` refuses requests whose
    Host header is not a loopback name (off only with ``--allow-remote``).
    """
    state = SandboxState(config or SandboxConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="Kaleyra RCS tester sandbox",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.sandbox = state
    app.include_router(kaleyra.router)
    app.include_router(inspection.router)
    if fast_path:
        app.add_middleware(KaleyraDispatch, state=state)
    app.add_middleware(FaultGate, state=state)
    if check_host:
        app.add_middleware(LoopbackHostGuard)  # added last: runs first
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app
