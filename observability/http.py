"""The observability HTTP server of a process that has no web server of its own (the worker, the
streams process): Prometheus metrics, liveness and readiness on one port, bound to exactly the
host it is given (settings' `observability_host`, 127.0.0.1 unless configured).

aiohttp is here already (faust serves its web views with it), so this adds no web framework.
"""

from __future__ import annotations

import logging

from aiohttp import web

from observability.health import ReadyCheck, readiness
from observability.metrics import exposition
from observability.paths import LIVE_PATH, METRICS_PATH, READY_PATH

__all__ = ["HttpServer", "ReadyCheck", "start_http"]

log = logging.getLogger(__name__)


class HttpServer:
    """A running server; `stop()` closes its socket and waits for requests in hand."""

    def __init__(self, runner: web.AppRunner, host: str, port: int):
        self._runner = runner
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self._runner.cleanup()


async def start_http(host: str, port: int, ready: ReadyCheck) -> HttpServer:
    """Serve METRICS_PATH (the default registry, text format), LIVE_PATH (200 while the event loop
    answers) and READY_PATH (200 with the checks as JSON when all are true, 503 otherwise) on
    `host:port`; port 0 picks a free one (`HttpServer.port` says which)."""

    async def metrics(_: web.Request) -> web.Response:
        body, content_type = exposition()
        # aiohttp wants the charset apart from the media type.
        media, _sep, params = content_type.partition(";")
        charset = params.partition("charset=")[2].strip() or None
        return web.Response(body=body, content_type=media.strip(), charset=charset)

    async def live(_: web.Request) -> web.Response:
        return web.json_response({"live": True})

    async def ready_view(_: web.Request) -> web.Response:
        status, checks = await readiness(ready)
        return web.json_response(checks, status=status)

    app = web.Application()
    app.router.add_get(METRICS_PATH, metrics)
    app.router.add_get(LIVE_PATH, live)
    app.router.add_get(READY_PATH, ready_view)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("observability on http://%s:%d (%s, %s, %s)", host, bound, METRICS_PATH, LIVE_PATH, READY_PATH)
    return HttpServer(runner, host, bound)
