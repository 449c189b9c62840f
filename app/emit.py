"""`jiuye emit`: produce the CloudEvents of a JSONL file to Kafka, the way the source systems do.

Each line's bytes go out unchanged (the intake must see what a producer really sent), keyed by
the event's `subject` and sent to the topic of its `type`. A line that is not JSON or has a type
outside the contract is sent anyway, to `employment.service` unless `topic` overrides it, so
that the intake dead-letters it exactly as it would a real producer's mistake.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.structs import RecordMetadata
from tqdm import tqdm

from contracts.kafka import make_producer
from contracts.settings import Settings
from contracts.topics import TOPIC_OF_TYPE

FALLBACK_TOPIC = "employment.service"
# Deliveries awaited together: enough to keep the producer's batches full, few enough that a
# broker error surfaces close to the line that caused it.
IN_FLIGHT = 2_000


class EmitError(RuntimeError):
    """A line could not be delivered to Kafka."""


@dataclass
class EmitReport:
    """What `emit` sent: records per topic, lines that were not valid contract events, timing."""

    path: Path
    per_topic: Counter[str] = field(default_factory=Counter)
    unroutable: int = 0  # not JSON, or a type outside the contract: sent for the intake to reject
    blank: int = 0
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.per_topic.values())

    def describe(self) -> str:
        """One line for humans: total, rate, per-topic counts."""
        rate = self.sent / self.seconds if self.seconds > 0 else 0.0
        topics = ", ".join(f"{topic} {n}" for topic, n in sorted(self.per_topic.items()))
        extra = f"; {self.unroutable} not routable (sent for dead-lettering)" if self.unroutable else ""
        return f"emitted {self.sent} records from {self.path.name} in {self.seconds:.1f} s ({rate:,.0f}/s): {topics}{extra}"


def route_line(line: bytes, topic: str | None = None) -> tuple[str, bytes | None, bool]:
    """(topic, key, routable) for one line: the topic of its type (or `topic` if given), and its
    subject as the key when there is one."""
    try:
        doc = json.loads(line)
    except ValueError:  # also UnicodeDecodeError
        return topic or FALLBACK_TOPIC, None, False
    if not isinstance(doc, dict):
        return topic or FALLBACK_TOPIC, None, False
    subject, type_ = doc.get("subject"), doc.get("type")
    key = subject.encode() if isinstance(subject, str) else None
    event_topic = TOPIC_OF_TYPE.get(type_) if isinstance(type_, str) else None
    return topic or event_topic or FALLBACK_TOPIC, key, event_topic is not None


async def emit(path: Path | str, settings: Settings, progress: bool = True, topic: str | None = None) -> EmitReport:
    """Send every non-blank line of `path` to Kafka and wait until the broker acknowledged all.

    Sends are queued without waiting for each acknowledgement and awaited in groups, so large
    files go out at the producer's batching speed. Raises EmitError naming the first line that
    could not be delivered.
    """
    path = Path(path)
    report = EmitReport(path=path)
    names = settings.topics  # lines are routed by logical topic, sent under the deployment's prefix
    started = time.monotonic()
    producer = make_producer(settings, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=f"emit {path.name}",
               file=sys.stderr, disable=not progress, leave=False)
    pending: list[tuple[int, asyncio.Future[RecordMetadata]]] = []
    try:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                bar.update(len(line))
                record = line.rstrip(b"\r\n")
                if not record.strip():
                    report.blank += 1
                    continue
                target, key, routable = route_line(record, topic)
                report.unroutable += not routable
                try:
                    pending.append((number, await producer.send(names.physical(target), value=record, key=key)))
                except Exception as exc:
                    raise EmitError(f"{path}:{number}: cannot send to {target}: {type(exc).__name__}: {exc}") from exc
                report.per_topic[target] += 1
                if len(pending) >= IN_FLIGHT:
                    await _delivered(path, pending)
        await producer.flush()
        await _delivered(path, pending)
    finally:
        bar.close()
        await producer.stop()
    report.seconds = time.monotonic() - started
    return report


async def _delivered(path: Path, pending: list[tuple[int, asyncio.Future[RecordMetadata]]]) -> None:
    results = await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
    for (number, _), result in zip(pending, results, strict=True):
        if isinstance(result, BaseException):
            raise EmitError(f"{path}:{number}: not acknowledged: {type(result).__name__}: {result}") from result
    pending.clear()
