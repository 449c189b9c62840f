"""What the api serves besides /api: the probes and the scrape on its own port
(observability/paths.py) and the web page. Ready means PostgreSQL answers: every view reads
it, while Temporal is needed only by a case's timeline and a task decision, which answer 503
on their own when it is down."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response

from console.api.deps import Ctx
from observability.health import gather_checks, postgres_probe, readiness
from observability.metrics import exposition
from observability.paths import LIVE_PATH, METRICS_PATH, READY_PATH

STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get(METRICS_PATH)
async def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


@router.get(LIVE_PATH)
async def live() -> dict[str, bool]:
    return {"live": True}


@router.get(READY_PATH)
async def ready(c: Ctx) -> JSONResponse:
    async def checks() -> dict[str, bool]:
        return await gather_checks({"postgresql": postgres_probe(c.pool)})

    status, body = await readiness(checks)
    return JSONResponse(body, status_code=status)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html")
