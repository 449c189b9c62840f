"""The supervisor console over HTTP (`jiuye api`): a FastAPI app whose routes
(console/api/routes.py) only translate HTTP to the service layer (`console.service`) and back.
OpenAPI at /openapi.json, docs at /docs, the web page at / (console/api/pages.py, with the
probes and /metrics).

Every /api route needs `Authorization: Bearer <token>`; a refused request gets the service's
status (400, 401, 403, 404, 409, 503) and `{"error": reason}`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import AsyncContextManager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from console.api import pages, routes
from console.api.pages import STATIC
from console.service import Console, ServiceError
from console.service.core import Previewer
from contracts.settings import Settings

__all__ = ["STATIC", "create_app", "run_api"]

DESCRIPTION = ("Find cases, read their timelines, decide tasks, hold and release cases, re-drive dead letters and "
               "export the ledger. Every /api call needs a bearer token (`jiuye token issue`); a city token sees and "
               "acts on its city only.")


def lifespan_for(settings: Settings, pool_size: int,
                 previewer: Previewer | None = None) -> Callable[[FastAPI], AsyncContextManager[None]]:
    """Open the read model's pool for the app's life and build its `Console` on it (with the
    entry point's preview engine, if it handed one in)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from activities.pg_store import create_pool

        pool = await create_pool(settings.database_url, pool_size)
        app.state.console = Console(settings=settings, pool=pool, previewer=previewer)
        try:
            yield
        finally:
            await pool.close()

    return lifespan


async def service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return routes.error(exc.status, exc.reason)


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """A request FastAPI could not read (a body's shape, a parameter's type, an undeclared
    parameter): 400 with every reason, named by the parameter."""
    assert isinstance(exc, RequestValidationError)
    reasons = "; ".join(f"{'.'.join(str(x) for x in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
    return routes.error(400, reasons or "invalid request")


def create_app(settings: Settings, console: Console | None = None, *, pool_size: int = 5,
               previewer: Previewer | None = None) -> FastAPI:
    """The app; with `console` given (tests) it uses that one instead of opening its own."""
    app = FastAPI(title="jiuye supervisor console", version="1", description=DESCRIPTION,
                  lifespan=None if console is not None else lifespan_for(settings, pool_size, previewer))
    if console is not None:
        app.state.console = console
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.include_router(routes.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def run_api(settings: Settings, previewer: Previewer | None = None) -> None:
    """Serve the console with uvicorn on JIUYE_CONSOLE_HOST:JIUYE_CONSOLE_PORT (and its metrics
    and probes on the same port)."""
    import uvicorn

    from observability.tracing import configure_tracing

    configure_tracing(settings, "api")
    uvicorn.run(create_app(settings, previewer=previewer), host=settings.console_host, port=settings.console_port, log_level="info")
