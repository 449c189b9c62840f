"""The HTTP intake (`jiuye http-intake`): CloudEvents over HTTP for systems that do not speak Kafka
(§19: online registration and applications), produced to the topic of their type.

`POST /events` takes the three modes of the CloudEvents HTTP binding (contracts/cloudevents_binding.py):
structured (`application/cloudevents+json`), binary (`ce-*` headers, JSON body) and batch
(`application/cloudevents-batch+json`). Each event is validated with the code the Kafka intake
runs (`contracts.events`), then produced to `TOPIC_OF_TYPE[type]` (its physical name under the
deployment's topic prefix, `Settings.topics`) keyed by its subject (EVENTS.md:
ordering per subject), in the mode it came in (a binary event as a binary-mode record), and
acknowledged by every in-sync replica before the answer. The Kafka intake then handles it like any
record: the inbox deduplicates by (source, id), so a producer that retries a request it got no
answer for opens no second case.

Answers: 202 with where the event went (a batch: 202 with one result per event, in order); 400
with the validation error; 401 without a valid producer token; 403 for a type outside the
token's scope (streams/producer_tokens.py); 503 when Kafka did not take it (the producer retries).

A bad record gets the Kafka intake's treatment as well as its 400: it goes to `events.dlq` (the
original bytes and headers, `dlq.*` headers saying why) and to the dead letters a supervisor sees
and re-drives (`jiuye deadletter`), its origin `http-intake` where a Kafka record's is its topic. An event of a type
outside the token's scope is not a bad record but a refused request: only the 403.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from activities.store import Origin
from contracts.cloudevents_binding import HttpEvent, decode_http
from contracts.events import InvalidEvent
from contracts.signed_tokens import InvalidToken, bearer_token
from contracts.topics import TOPIC_OF_TYPE, Topics
from observability.health import ReadyCheck, readiness
from observability.metrics import HTTP_INTAKE_EVENTS, exposition
from observability.paths import LIVE_PATH, METRICS_PATH, READY_PATH
from streams.producer_tokens import Producer, verify

log = logging.getLogger("jiuye.http_intake")

EVENTS_PATH = "/events"
# Where a bad record came from, in place of a Kafka topic (the dead letters' `topic`, `dlq.topic`):
# it reached no topic, and a re-drive sends it to the topic of its type.
ORIGIN = "http-intake"


class EventProducer(Protocol):
    """What the intake produces with: an aiokafka producer (`send_and_wait`)."""

    async def send_and_wait(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                            partition: int | None = None, timestamp_ms: int | None = None,
                            headers: list[tuple[str, bytes]] | None = None) -> Any: ...


# Where a bad record goes: `events.dlq` and the dead-letter table (`store_and_publish`).
DeadLetters = Callable[[HttpEvent, str, Origin], Awaitable[None]]


@dataclass(frozen=True)
class Result:
    status: int
    body: dict[str, Any]


class HttpIntake:
    """Validates, authorises and produces the events of one request."""

    def __init__(self, secret: str, producer: EventProducer, dead_letters: DeadLetters, topics: Topics):
        self.secret = secret
        self.producer = producer
        self.dead_letters = dead_letters
        self.topics = topics  # the deployment's physical names; answers name the logical topic

    def authenticate(self, authorization: str | None) -> Producer:
        return verify(self.secret, bearer_token(authorization))

    async def accept(self, producer: Producer, record: HttpEvent, mode: str) -> Result:
        """One decoded event: refused (400, dead-lettered), forbidden (403) or produced (202)."""
        if record.event is None:
            reason = record.error or "invalid"
            await self.dead_letters(record, reason, Origin(topic=ORIGIN, headers=record.headers))
            HTTP_INTAKE_EVENTS.labels(mode, "dead_letter").inc()
            return Result(400, {"status": "dead_letter", "error": reason})
        event = record.event
        if not producer.may_send(event.type):
            HTTP_INTAKE_EVENTS.labels(mode, "forbidden").inc()
            return Result(403, {"status": "forbidden", "id": event.id,
                                "error": f"{producer.sub} may not send {event.type}"})
        topic = TOPIC_OF_TYPE.get(event.type)
        if topic is None:
            # A valid type that no input topic carries (none today): bad input, as on Kafka.
            reason = f"no input topic carries {event.type}"
            await self.dead_letters(record, reason, Origin(topic=ORIGIN, headers=record.headers))
            HTTP_INTAKE_EVENTS.labels(mode, "dead_letter").inc()
            return Result(400, {"status": "dead_letter", "id": event.id, "error": reason})
        sent = await self.producer.send_and_wait(self.topics.physical(topic), value=record.value, key=event.subject.encode(),
                                                 headers=list(record.headers))
        HTTP_INTAKE_EVENTS.labels(mode, "accepted").inc()
        return Result(202, {"status": "accepted", "id": event.id, "source": event.source, "topic": topic,
                            "partition": sent.partition, "offset": sent.offset})

    async def handle(self, body: bytes, headers: dict[str, str]) -> Result:
        """A request to EVENTS_PATH, authenticated first (401 before anything is read)."""
        producer = self.authenticate(headers.get("authorization"))
        try:
            mode, records = decode_http(body, headers)
        except InvalidEvent as exc:
            # Not even one event to judge (a batch that is not an array, an unknown content type):
            # dead-lettered whole, as an unreadable Kafka record is.
            await self.dead_letters(HttpEvent(body, ()), exc.reason, Origin(topic=ORIGIN))
            HTTP_INTAKE_EVENTS.labels("unknown", "dead_letter").inc()
            return Result(400, {"status": "dead_letter", "error": exc.reason})
        if mode != "batch":
            return await self.accept(producer, records[0], mode)
        results = [await self.accept(producer, r, mode) for r in records]
        return Result(202, {"results": [{"code": r.status, **r.body} for r in results]})


def create_app(intake: HttpIntake, ready: ReadyCheck) -> FastAPI:
    """The ASGI app: EVENTS_PATH, and the shared metrics and health paths."""
    app = FastAPI(title="jiuye HTTP intake (CloudEvents HTTP binding)", docs_url=None, redoc_url=None)

    @app.post(EVENTS_PATH, status_code=202)
    async def events(request: Request) -> JSONResponse:
        try:
            result = await intake.handle(await request.body(), dict(request.headers))
        except InvalidToken as exc:
            return JSONResponse({"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        except Exception as exc:  # noqa: BLE001 — Kafka or PostgreSQL did not take it: the producer retries
            log.warning("http-intake: could not take a request: %s: %s", type(exc).__name__, exc)
            return JSONResponse({"error": "the intake could not take the event now; retry"}, status_code=503,
                                headers={"Retry-After": "5"})
        return JSONResponse(result.body, status_code=result.status)

    @app.get(METRICS_PATH, include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @app.get(LIVE_PATH, include_in_schema=False)
    async def live() -> dict[str, bool]:
        return {"live": True}

    @app.get(READY_PATH, include_in_schema=False)
    async def ready_view() -> JSONResponse:
        status, checks = await readiness(ready)
        return JSONResponse(checks, status_code=status)

    return app


def store_and_publish(publish: Callable[[bytes, str, Origin], Awaitable[None]],
                      record: Callable[[Origin, str, bytes], Awaitable[None]]) -> DeadLetters:
    """Dead letters as the Kafka intake writes them: `events.dlq` first, then the table."""

    async def dead_letter(event: HttpEvent, reason: str, origin: Origin) -> None:
        await publish(event.value, reason, origin)
        await record(origin, reason, event.value)

    return dead_letter
