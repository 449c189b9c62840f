"""The supervisor console over HTTP (`jiuye api`): a FastAPI app whose routes only translate
HTTP to the service layer (`console.service`) and back. OpenAPI at /openapi.json, docs at
/docs, the web page at /.

Every /api route needs `Authorization: Bearer <token>`; a refused request gets the service's
status (400, 401, 403, 404, 409, 503) and `{"error": reason}`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from console import service
from console.service import Console, Principal, ServiceError
from console.service.tokens import bearer, issue
from contracts.settings import Settings
from observability.health import gather_checks, postgres_probe, readiness
from observability.metrics import exposition
from observability.paths import LIVE_PATH, METRICS_PATH, READY_PATH

STATIC = Path(__file__).resolve().parent / "static"


class Decision(BaseModel):
    decision: dict[str, Any] = Field(description='What the task\'s rule takes, e.g. {"months": 6} (K10) or '
                                                 '{"approve": true, "reason": "..."} (K5)')


class HoldRequest(BaseModel):
    reason: str = Field(description="Why (recorded on the case's timeline and in the audit)")


class RedriveRequest(BaseModel):
    fixed: dict[str, Any] | None = Field(default=None, description="The corrected CloudEvent; omit to re-drive the original bytes")


class DevLogin(BaseModel):
    sub: str
    role: str
    city: str | None = None


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console  # set by the lifespan (Starlette's state is untyped)
    return console


def get_principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The caller, from `Authorization: Bearer <token>` (401 without a valid one)."""
    return get_console(request).authenticate(bearer(authorization))


Ctx = Annotated[Console, Depends(get_console)]
Who = Annotated[Principal, Depends(get_principal)]


def params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def create_app(settings: Settings, console: Console | None = None, *, pool_size: int = 5) -> FastAPI:
    """The app; with `console` given (tests) it uses that one instead of opening its own."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if console is not None:
            app.state.console = console
            yield
            return
        from activities.pg_store import create_pool

        pool = await create_pool(settings.database_url, pool_size)
        app.state.console = Console(settings=settings, pool=pool)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="jiuye supervisor console",
        version="1",
        description="Find cases, read their timelines, decide tasks, hold and release cases, re-drive dead "
        "letters and export the ledger. Every /api call needs a bearer token (`jiuye token issue`); a city "
        "token sees and acts on its city only.",
        lifespan=lifespan,
    )
    if console is not None:
        app.state.console = console

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return _error(exc.status, exc.reason)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = "; ".join(f"{'.'.join(str(x) for x in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
        return _error(400, reasons or "invalid request")

    @app.get("/api/me", tags=["session"], summary="Who the token says you are")
    async def me(who: Who) -> dict[str, Any]:
        return {"sub": who.sub, "role": who.role, "city": who.city, "exp": who.exp,
                "may_act": who.may_act, "sees_personal_data": who.sees_personal_data}

    @app.get("/api/cases", tags=["cases"], summary="Find cases (paged, sortable, with a total)")
    async def cases(
        c: Ctx, who: Who, request: Request,
        kind: str | None = Query(None), city: str | None = Query(None, description="2101..2114"),
        status: str | None = Query(None), person: str | None = Query(None, description="person id (P1 or person/P1)"),
        enterprise: str | None = Query(None), opened_from: str | None = Query(None, description="YYYY-MM-DD"),
        opened_to: str | None = Query(None), closed_from: str | None = Query(None), closed_to: str | None = Query(None),
        deadline_from: str | None = Query(None), deadline_to: str | None = Query(None),
        has_open_task: str | None = Query(None, description="true | false"),
        sort: str | None = Query(None, description="opened_on | next_deadline | case_id, prefix - for descending"),
        limit: str | None = Query(None, description="1..200 (default 50)"), offset: str | None = Query(None),
    ) -> dict[str, Any]:
        return await service.list_cases(c, who, params(request))

    @app.get("/api/cases/{case_id:path}/timeline", tags=["cases"], summary="One case: state, timeline, tasks, payments, links")
    async def case(c: Ctx, who: Who, case_id: str = PathParam(..., description="the business key, e.g. dibao/P1/2020-03")) -> dict[str, Any]:
        return await service.show_case(c, who, case_id)

    @app.post("/api/cases/{case_id:path}/hold", tags=["actions"], summary="Hold a case's payments, with a reason")
    async def hold(c: Ctx, who: Who, body: HoldRequest, case_id: str) -> dict[str, Any]:
        return await service.supervise(c, who, case_id, "hold", body.reason)

    @app.post("/api/cases/{case_id:path}/release", tags=["actions"], summary="Release a held case, with a reason")
    async def release(c: Ctx, who: Who, body: HoldRequest, case_id: str) -> dict[str, Any]:
        return await service.supervise(c, who, case_id, "release", body.reason)

    @app.get("/api/tasks", tags=["tasks"], summary="The task inbox")
    async def tasks(c: Ctx, who: Who, request: Request, state: str | None = Query(None, description="open (default) | decided | expired | withdrawn | any"),
                    kind: str | None = None, city: str | None = None, case_id: str | None = None,
                    limit: str | None = None, offset: str | None = None) -> dict[str, Any]:
        return await service.list_tasks(c, who, params(request))

    @app.post("/api/tasks/{task_id:path}/decide", tags=["tasks"], summary="Decide a task (Temporal update; the case's rule may refuse: 409)")
    async def decide(c: Ctx, who: Who, task_id: str, body: Decision) -> dict[str, Any]:
        return await service.decide_task(c, who, task_id, body.decision)

    @app.get("/api/dashboard", tags=["dashboard"], summary="Counts by city, kind and status; payments by fund and month; open tasks")
    async def dashboard(c: Ctx, who: Who, request: Request, city: str | None = None,
                        from_: str | None = Query(None, alias="from"), to: str | None = None) -> dict[str, Any]:
        return await service.dashboard(c, who, params(request))

    @app.get("/api/alerts", tags=["dashboard"], summary="Monitoring and mass-unemployment alerts")
    async def alerts(c: Ctx, who: Who, request: Request, city: str | None = None, kind: str | None = None,
                     limit: str | None = None) -> dict[str, Any]:
        return await service.list_alerts(c, who, params(request))

    @app.get("/api/ledger.csv", tags=["actions"], summary="The ledger of a city for a month (due_on in the month), CSV")
    async def ledger(c: Ctx, who: Who, city: str | None = None, month: str | None = Query(None, description="YYYY-MM")) -> StreamingResponse:
        rows = await service.export_ledger(c, who, city, month)
        name = f"ledger-{city or who.city}-{month}.csv"
        return StreamingResponse(rows, media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/api/deadletters", tags=["actions"], summary="Rejected input records (province only)")
    async def deadletters(c: Ctx, who: Who, request: Request, pending: str | None = None, limit: str | None = None) -> dict[str, Any]:
        return await service.list_dead_letters(c, who, params(request))

    @app.post("/api/deadletters/{dead_letter_id}/redrive", tags=["actions"], summary="Re-emit a dead letter (optionally corrected) to its topic")
    async def redrive(c: Ctx, who: Who, dead_letter_id: int, body: Annotated[RedriveRequest | None, Body()] = None) -> dict[str, Any]:
        return await service.redrive(c, who, dead_letter_id, body.fixed if body else None)

    @app.get("/api/audit", tags=["session"], summary="Recent audit rows in your scope")
    async def audit_rows(c: Ctx, who: Who) -> dict[str, Any]:
        from console.service import audit
        from console.service.core import plain

        return {"items": shown_audit(who, plain(await audit.recent(c.pool, who.city)))}

    def shown_audit(who: Principal, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from console.service.scope import shown

        return shown(who, rows)

    @app.post("/api/dev/login", tags=["session"], summary="DEV ONLY: issue a token without one (JIUYE_CONSOLE_DEV_LOGIN)")
    async def dev_login(c: Ctx, body: DevLogin) -> dict[str, Any]:
        if not c.settings.console_dev_login or c.settings.env == "production":
            return _error(404, "dev login is off (set JIUYE_CONSOLE_DEV_LOGIN=true on a development machine)")  # type: ignore[return-value]
        return {"token": issue(c.secret, sub=body.sub, role=body.role, city=body.city), "dev_only": True}

    # The probes and the scrape on the api's own port (observability/paths.py). Ready means
    # PostgreSQL answers: every view reads it, while Temporal is needed only by a case's
    # timeline and a task decision, which answer 503 on their own when it is down.
    @app.get(METRICS_PATH, include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @app.get(LIVE_PATH, include_in_schema=False)
    async def live() -> dict[str, bool]:
        return {"live": True}

    @app.get(READY_PATH, include_in_schema=False)
    async def ready(request: Request) -> JSONResponse:
        async def checks() -> dict[str, bool]:
            return await gather_checks({"postgresql": postgres_probe(get_console(request).pool)})

        status, body = await readiness(checks)
        return JSONResponse(body, status_code=status)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def run_api(settings: Settings) -> None:
    """Serve the console with uvicorn on JIUYE_CONSOLE_HOST:JIUYE_CONSOLE_PORT (and its metrics
    and probes on the same port)."""
    import uvicorn

    from observability.tracing import configure_tracing

    configure_tracing(settings, "api")
    uvicorn.run(create_app(settings), host=settings.console_host, port=settings.console_port, log_level="info")
