"""The observability HTTP server (observability/http.py): metrics in Prometheus' text format,
liveness, and readiness that is 200 only when every check is true, bound to the host it is given."""

from __future__ import annotations

import asyncio

import httpx

from observability.health import gather_checks, readiness
from observability.http import start_http
from observability.paths import LIVE_PATH, METRICS_PATH, READY_PATH


async def test_serves_metrics_liveness_and_readiness_on_the_given_host() -> None:
    state = {"temporal": True, "kafka": True}

    async def ready() -> dict[str, bool]:
        return dict(state)

    server = await start_http("127.0.0.1", 0, ready)
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=server.url) as http:
            metrics = await http.get(METRICS_PATH)
            assert metrics.status_code == 200
            assert metrics.headers["content-type"].startswith("text/plain")
            assert "# TYPE jiuye_intake_records_total counter" in metrics.text

            live = await http.get(LIVE_PATH)
            assert (live.status_code, live.json()) == (200, {"live": True})

            ok = await http.get(READY_PATH)
            assert (ok.status_code, ok.json()) == (200, {"temporal": True, "kafka": True})
            state["kafka"] = False
            down = await http.get(READY_PATH)
            assert (down.status_code, down.json()) == (503, {"temporal": True, "kafka": False})
    finally:
        await server.stop()


async def test_binds_only_the_given_host() -> None:
    async def ready() -> dict[str, bool]:
        return {}

    server = await start_http("127.0.0.1", 0, ready)
    try:
        sockets = [s.getsockname()[0] for site in server._runner.sites for s in site._server.sockets]  # type: ignore[attr-defined]
        assert sockets == ["127.0.0.1"]
    finally:
        await server.stop()


async def test_a_check_that_raises_or_hangs_means_not_ready() -> None:
    async def broken() -> dict[str, bool]:
        raise RuntimeError("boom")

    assert await readiness(broken) == (503, {"checks": False})

    async def empty() -> dict[str, bool]:
        return {}

    assert (await readiness(empty))[0] == 503, "no check at all is not a ready process"

    async def hangs() -> None:
        await asyncio.Event().wait()

    async def fails() -> None:
        raise ConnectionError("refused")

    async def answers() -> int:
        return 1

    assert await gather_checks({"a": answers, "b": fails, "c": hangs}) == {"a": True, "b": False, "c": False}


async def test_the_api_serves_metrics_and_probes_on_its_own_port_and_is_not_ready_without_postgresql() -> None:
    from console.api.app import create_app
    from console.service import Console
    from contracts.settings import Settings

    settings = Settings(console_secret="unit-secret")
    # No pool: the readiness round trip to PostgreSQL fails, as with a database that is down.
    app = create_app(settings, Console(settings=settings, pool=None, secret="unit-secret"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as http:
        metrics = await http.get(METRICS_PATH)
        assert metrics.status_code == 200 and "# TYPE jiuye_payments_total counter" in metrics.text
        assert (await http.get(LIVE_PATH)).json() == {"live": True}
        ready = await http.get(READY_PATH)
        assert (ready.status_code, ready.json()) == (503, {"postgresql": False})
        schema = (await http.get("/openapi.json")).json()
        assert not {METRICS_PATH, LIVE_PATH, READY_PATH} & set(schema["paths"]), "probes are not part of the API"
