"""`jiuye http-intake`: the HTTP intake as its own process (streams/http_intake.py), and
`jiuye http-intake token` to issue a producer's token (streams/producer_tokens.py)."""

from __future__ import annotations

import argparse
import asyncio
import logging

from contracts.settings import Settings

log = logging.getLogger("jiuye.http_intake")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "http-intake",
        help="serve the CloudEvents HTTP intake (structured, binary, batch) for systems that do not speak Kafka",
        description="Serve POST /events on JIUYE_HTTP_INTAKE_HOST:JIUYE_HTTP_INTAKE_PORT (127.0.0.1:6069): "
        "CloudEvents in the HTTP binding's structured (application/cloudevents+json), binary (ce-* headers) and "
        "batch (application/cloudevents-batch+json) modes, each validated like a Kafka record and produced to "
        "the topic of its type keyed by subject. Bearer producer tokens (JIUYE_HTTP_INTAKE_SECRET) scope the "
        "types a producer may send. 202 accepted (a batch: per-event results), 400 invalid (also dead-lettered "
        "to events.dlq and the dead letters), 401 no valid token, 403 type out of scope, 503 Kafka did not take "
        "it. /metrics, /healthz/live and /healthz/ready on the same port.",
    )
    actions = p.add_subparsers(dest="http_intake_command", metavar="ACTION")
    tok = actions.add_parser("token", help="print a producer token (signed with JIUYE_HTTP_INTAKE_SECRET)",
                             description="Print a bearer token for a producing system, allowed to send the "
                             "given types and the types of the given topics (EVENTS.md).")
    tok.add_argument("--sub", required=True, help="the producing system, e.g. es-online-2101")
    tok.add_argument("--type", dest="types", action="append", default=[], metavar="TYPE",
                     help="an event type it may send (repeatable)")
    tok.add_argument("--topic", dest="topics", action="append", default=[], metavar="TOPIC",
                     help="an input topic whose types it may send (repeatable)")
    tok.add_argument("--ttl-days", type=int, default=30, help="days until the token expires (default 30)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from streams import producer_tokens

    if args.http_intake_command == "token":
        try:
            types = producer_tokens.scope(args.types, args.topics)
            print(producer_tokens.issue(producer_tokens.intake_secret(settings), sub=args.sub, types=types,
                                        ttl_seconds=args.ttl_days * 86400))
        except ValueError as exc:
            raise SystemExit(f"http-intake token: {exc}") from None
        return 0
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    """Connect to Kafka and PostgreSQL, then serve until SIGINT/SIGTERM (uvicorn's handlers)."""
    import uvicorn

    from activities.pg_store import PgStore, create_pool
    from contracts.kafka import make_producer
    from contracts.topics import DEAD_LETTERS
    from observability.health import gather_checks, kafka_probe, postgres_probe
    from streams.http_intake import HttpIntake, create_app, store_and_publish
    from streams.kafka_sinks import KafkaDeadLetterSink
    from streams.producer_tokens import intake_secret

    secret = intake_secret(settings)  # before connecting: a missing secret fails at once
    pool = await create_pool(settings.database_url, 4)
    producer = make_producer(settings)
    await producer.start()
    try:
        sink = KafkaDeadLetterSink(producer, settings.topics.physical(DEAD_LETTERS))
        dead_letters = store_and_publish(sink.send, PgStore(pool).dead_letter)
        intake = HttpIntake(secret, producer, dead_letters, settings.topics)

        async def ready() -> dict[str, bool]:
            return await gather_checks({"kafka": kafka_probe(producer.client), "postgres": postgres_probe(pool)})

        config = uvicorn.Config(create_app(intake, ready), host=settings.http_intake_host,
                                port=settings.http_intake_port, log_level="warning")
        log.info("http-intake: POST /events on http://%s:%d", settings.http_intake_host, settings.http_intake_port)
        await uvicorn.Server(config).serve()
    finally:
        await producer.stop()
        await pool.close()
