"""The CloudEvents the cases a parameter change reaches have seen, rebuilt from what the live
system stores, so a proposal's preview needs no events file (POLICY.md part 2, "Parameter
changes with a preview and two pairs of eyes").

Where the documents are: the inbox keeps each received event's ids, type, subject and the Kafka
record it came in (logical topic, partition, offset), not the document; `subject_facts` and
`shared_facts` keep only `data` of the few fact types. The one complete copy of every event is
its Kafka record, so the inbox says WHICH events and Kafka gives them back byte for byte (as the
producer sent them, structured or binary mode, decoded by the intake's own `decode_kafka`). A
record past the topic's retention can no longer be replayed: the rebuild then refuses with the
offsets missing instead of previewing over fewer events than the cases saw.

Which events: the change reaches what the intake's fan-out of `policy.parameter.changed` reaches
(`streams.routing`: the kinds that hold shared facts, in the change's city or the province; the
pack does not say which kind reads which parameter, so no narrower set is knowable). Of those
cases, every event whose subject is one of their relevance keys (`case_keys`, the case's
subject), every shared fact (epidemic dates, earlier parameter changes) the cases read, and the
events that name a case only inside their data (`events_seen`): the facts stored under its keys
from their data, the facts about the employer it is matched on, and whatever the inbox's outcome
says it took. Not found: an event of a type not stored as a fact that names the case only in its
data and that no case took; the live case never read it either.

Contributions (`contribution.paid`) have no inbox row since issue 16 when no case took them, yet
K6/K7/K15/M2 read them as facts (K7 an employer's prior-year sum). They are rebuilt from
`contribution_facts` (activities/contribution_facts.py), which keeps each report's source, id,
time and data: every report of a person who is a key of a reached case, and every report naming
as employer an enterprise that is one. The one envelope field not stored is the subject; the
rebuild gives `person/<person_id>` (the producers' convention, and the key set the routes look
up is the same either way: `keys_of` adds the person and employer keys from the data). The
topic `si.contributions` is therefore never read from Kafka here.

How Kafka is read: only the wanted offsets. They are grouped into runs no more than
`GAP_READ_THROUGH` records apart; each run is one seek and a read to its last offset, so the
records passed over are at most that many per gap, never a partition's firehose. The count of
records read is returned with the events (`Read.records_read`), and a preview reports it."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from activities.contribution_facts import CONTRIBUTION
from contracts.cloudevents_binding import decode_kafka
from contracts.kafka import client_security
from contracts.settings import Settings
from streams.routing import FACT_TYPES, SHARED_FACT_KINDS, SHARED_FACT_TYPES

# How long one fetch from Kafka may wait for records that the inbox says exist.
FETCH_TIMEOUT_MS = 10_000
# Wanted offsets this close are read through in one run instead of a seek each (a seek costs a
# fetch request; a few unwanted records cost less than that).
GAP_READ_THROUGH = 8


class EventsGone(Exception):
    """Some events the cases saw are no longer in Kafka (retention); no honest preview."""


@dataclass(frozen=True)
class Seen:
    """One received event as the inbox records it: where its Kafka record is."""

    topic: str
    partition: int
    offset: int
    time: datetime | None = None


# The cases a change of `$2` (a city, NULL: the province) reaches, and their relevance keys.
_REACHED = """WITH reached AS (SELECT case_id, subject FROM cases
                             WHERE kind = ANY($1::text[]) AND ($2::text IS NULL OR city = $2)),
                keys AS (SELECT key FROM case_keys WHERE case_id IN (SELECT case_id FROM reached)
                         UNION SELECT subject FROM reached),
                employers AS (SELECT DISTINCT 'enterprise/' || (match->>'employer_id') AS key FROM case_keys
                               WHERE case_id IN (SELECT case_id FROM reached) AND match ? 'employer_id')"""


async def events_seen(pool: asyncpg.Pool, city: str | None) -> list[Seen]:
    """The inbox's records of the events the cases a change of `city` (None: province) reaches
    have seen, plus every shared fact, oldest first. An event is theirs when its subject is one
    of their keys; when it is a fact stored under one of their keys from its data
    (`subject_facts`: an enrolment naming the employer, a household's members), whether or not
    a case existed when it came; when it is a fact about the employer a case is matched on
    (`case_keys.match.employer_id`: the registration a hire's case reads under `enterprise/E`);
    or when the inbox's outcome names one of them as having taken it (`→ <case id>, ...`: an
    employer's application naming its hires, a fee exemption reaching its staff's cases)."""
    rows = await pool.fetch(
        _REACHED + """,
                stored AS (SELECT DISTINCT source, event_id FROM subject_facts WHERE key IN (SELECT key FROM keys)),
                took AS (SELECT i.source, i.event_id FROM inbox i
                           CROSS JOIN LATERAL unnest(string_to_array(
                               regexp_replace(substr(i.outcome, 3), ' \\(late for .*\\)$', ''), ', ')) AS t(case_id)
                          WHERE i.outcome LIKE '→ %' AND t.case_id IN (SELECT case_id FROM reached))
           SELECT topic, partition, kafka_offset, event_time FROM inbox i
            WHERE topic IS NOT NULL AND kafka_offset IS NOT NULL AND type <> $4
              AND (subject IN (SELECT key FROM keys) OR type = ANY($3::text[])
                   OR (subject IN (SELECT key FROM employers) AND type = ANY($5::text[]))
                   OR (source, event_id) IN (SELECT source, event_id FROM stored)
                   OR (source, event_id) IN (SELECT source, event_id FROM took))
            ORDER BY event_time, received_at, topic, partition, kafka_offset""",
        list(SHARED_FACT_KINDS), city, list(SHARED_FACT_TYPES), CONTRIBUTION, sorted(FACT_TYPES))
    return [Seen(r["topic"], r["partition"], r["kafka_offset"], r["event_time"]) for r in rows]


async def contribution_reports(pool: asyncpg.Pool, city: str | None) -> list[dict[str, Any]]:
    """The stored contribution reports the reached cases read: of their persons, and of the
    staff of their enterprises (an employer's sum, K7), whether or not a case took them."""
    rows = await pool.fetch(
        _REACHED + """
           SELECT DISTINCT r.value AS report FROM contribution_facts c CROSS JOIN LATERAL jsonb_each(c.reports) r
            WHERE 'person/' || c.person_id IN (SELECT key FROM keys)
               OR (c.employer_id <> '' AND 'enterprise/' || c.employer_id IN (SELECT key FROM keys))""",
        list(SHARED_FACT_KINDS), city)
    return [json.loads(r["report"]) if isinstance(r["report"], str) else r["report"] for r in rows]


def contribution_event(report: dict[str, Any]) -> dict[str, Any]:
    """A stored contribution report as the `contribution.paid` CloudEvent it came from
    (EVENTS.md); the subject, not stored, is the person's."""
    return {"specversion": "1.0", "id": report["id"], "source": report["source"], "type": CONTRIBUTION,
            "subject": f"person/{report['payload']['person_id']}", "time": report["time"],
            "datacontenttype": "application/json", "data": report["payload"]}


def runs(offsets: set[int], gap: int = GAP_READ_THROUGH) -> list[tuple[int, int]]:
    """Sorted offsets as (first, last) runs whose neighbours are at most `gap` apart."""
    out: list[tuple[int, int]] = []
    for o in sorted(offsets):
        if out and o - out[-1][1] <= gap:
            out[-1] = (out[-1][0], o)
        else:
            out.append((o, o))
    return out


@dataclass(frozen=True)
class Read:
    """Events read back from Kafka, and how many records that took (the wanted ones plus those
    passed over inside a run): what a preview reports as `records_read`."""

    lines: list[bytes]
    records_read: int


async def read_records(settings: Settings, seen: list[Seen]) -> Read:
    """The events at those Kafka positions as CloudEvents JSON lines (structured mode), in the
    order given. Each run of nearby wanted offsets is one seek and a read to its end (`runs`)."""
    if not seen:
        return Read([], 0)
    names = settings.topics
    wanted: dict[TopicPartition, set[int]] = defaultdict(set)
    for s in seen:
        wanted[TopicPartition(names.physical(s.topic), s.partition)].add(s.offset)
    found: dict[tuple[TopicPartition, int], bytes] = {}
    records_read = 0
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                                **client_security(settings))
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        firsts = await consumer.beginning_offsets(list(wanted))
        gone = [f"{tp.topic}[{tp.partition}]@{o}" for tp, offsets in wanted.items() for o in offsets if o < firsts[tp]]
        if gone:
            raise EventsGone(f"{len(gone)} events the cases saw are past Kafka's retention: {', '.join(sorted(gone)[:5])}")
        for tp, offsets in wanted.items():
            for first, last in runs(offsets):
                consumer.seek(tp, first)
                position = first
                while position <= last:
                    batch = await consumer.getmany(tp, timeout_ms=FETCH_TIMEOUT_MS, max_records=last - position + 1)
                    records = batch.get(tp, [])
                    if not records:
                        raise EventsGone(f"Kafka returned nothing at {tp.topic}[{tp.partition}]@{position}")
                    for r in records:
                        if r.offset > last:
                            break
                        position = r.offset + 1
                        records_read += 1
                        if r.offset in offsets:
                            found[(tp, r.offset)] = _as_line(r.value or b"", list(r.headers or ()))
    finally:
        await consumer.stop()
    missing = [s for s in seen if (TopicPartition(names.physical(s.topic), s.partition), s.offset) not in found]
    if missing:
        raise EventsGone(f"{len(missing)} events the cases saw are not in Kafka (compacted or deleted), "
                         f"e.g. {missing[0].topic}[{missing[0].partition}]@{missing[0].offset}")
    return Read([found[(TopicPartition(names.physical(s.topic), s.partition), s.offset)] for s in seen], records_read)


def _as_line(value: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    """One Kafka record as a structured-mode CloudEvent line (what `simulate` reads)."""
    event = decode_kafka(value, headers)
    doc: dict[str, Any] = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(doc, ensure_ascii=False).encode()


async def live_events(pool: asyncpg.Pool, settings: Settings, city: str | None) -> Read:
    """The events a change of `city` reaches, rebuilt from the inbox and Kafka, and the
    contributions from contribution_facts, in the order of their event time (with the records
    read from Kafka for them)."""
    seen = await events_seen(pool, city)
    read = await read_records(settings, seen)
    lines = read.lines
    timed: list[tuple[datetime, int, bytes]] = [
        (s.time or datetime.min.replace(tzinfo=timezone.utc), i, line) for i, (s, line) in enumerate(zip(seen, lines, strict=True))]
    for report in await contribution_reports(pool, city):
        doc = contribution_event(report)
        line = json.dumps(doc, ensure_ascii=False).encode()
        timed.append((datetime.fromisoformat(doc["time"]), len(timed), line))
    return Read([line for _, _, line in sorted(timed, key=lambda t: (t[0], t[1]))], read.records_read)
