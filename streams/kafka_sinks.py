"""Where rejected input records go in production: the `events.dlq` topic."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from activities.store import Origin

# Kafka header values are bytes; a reason is one line, but cap it so a pathological validation
# message cannot make the record too large for the broker.
MAX_REASON_BYTES = 4_000


def dead_letter_headers(reason: str, origin: Origin) -> list[tuple[str, bytes]]:
    """The headers that say why a record was rejected and where it came from."""
    headers = [("dlq.reason", reason.encode()[:MAX_REASON_BYTES])]
    for name, value in (("dlq.topic", origin.topic), ("dlq.partition", origin.partition), ("dlq.offset", origin.offset)):
        if value is not None:
            headers.append((name, str(value).encode()))
    return headers


class KafkaDeadLetterSink:
    """`streams.intake.DeadLetterSink` on Kafka: the original bytes as the value and the original
    headers first (so a fixed consumer can re-drive a record of either CloudEvents mode
    unchanged), then reason and origin in `dlq.*` headers. `topic` is the physical name of
    `events.dlq` (`settings.topics.physical(DEAD_LETTERS)`); the origin header keeps the logical
    name of the input topic."""

    def __init__(self, producer: AIOKafkaProducer, topic: str):
        self.producer = producer
        self.topic = topic

    async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
        """Publish and wait for the broker's acknowledgement: only then may the caller commit
        the input offset, or the rejected record would be gone without a trace."""
        await self.producer.send_and_wait(self.topic, value=raw,
                                         headers=[*origin.headers, *dead_letter_headers(reason, origin)])
