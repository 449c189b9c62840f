"""End to end on the real stack: other systems' CloudEvents, made by the `cloudevents` SDK, reach
the cases in every mode the bindings define — Kafka records in binary and structured mode, and
HTTP requests to `jiuye http-intake` (its own process) in binary, structured and batch mode. A
duplicate opens no second case (the inbox), a bad record is dead-lettered with its original
value and headers, whichever way it came."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkEvent

from contracts.cloudevents_binding import BATCH_JSON
from contracts.kafka import make_producer
from contracts.settings import settings_env
from contracts.topics import TOPIC_OF_TYPE
from observability.paths import READY_PATH
from streams import producer_tokens
from testkit.events import line
from testkit.processes import JIUYE, Process, free_port
from tests.e2e._console_fixtures import api, auth, console  # noqa: F401 — fixtures
from tests.e2e.conftest import System, TopicTail
from tests.e2e.helpers import assert_eventually
from tests.e2e.test_intake_e2e import Internship

pytestmark = pytest.mark.e2e

SECRET = "e2e-http-intake-secret"
TOPIC = TOPIC_OF_TYPE["internship.agreement_signed"]


def sdk_event(doc: dict[str, Any]) -> SdkEvent:
    """An EVENTS.md document as the SDK's event (what another system's producer holds)."""
    attributes = {k: v for k, v in doc.items() if k not in ("data", "specversion")}
    attributes["time"] = datetime.fromisoformat(doc["time"])
    return SdkEvent(attributes=attributes, data=doc["data"])


async def case_opened(system: System, internship: Internship) -> str:
    status = await system.pool.fetchval("SELECT status FROM cases WHERE case_id = $1", internship.case_id)
    assert status is not None, f"no case {internship.case_id} yet"
    return str(status)


def opened(system: System, internship: Internship) -> Callable[[], Awaitable[str]]:
    return lambda: case_opened(system, internship)


async def inbox_rows(system: System, internship: Internship) -> list[str]:
    rows = await system.pool.fetch("SELECT event_id FROM inbox WHERE source = $1 AND starts_with(event_id, $2)",
                                   internship.source, f"{internship.person}-")
    return [r["event_id"] for r in rows]


async def dead_letter(system: System, value: bytes) -> dict[str, Any]:
    """The dead-letter row of `value`, once it is also in events.dlq with its original headers."""
    in_topic = [r for r in system.tail.of("events.dlq") if r.value == value]
    assert in_topic, "not in events.dlq yet"
    row = await system.pool.fetchrow(
        "SELECT id, topic, reason, header_names, header_values FROM dead_letters WHERE raw = $1", value)
    assert row is not None, "not in the dead letters yet"
    return {"id": row["id"], "topic": row["topic"], "reason": row["reason"],
            "headers": list(zip(row["header_names"], map(bytes, row["header_values"]), strict=True)),
            "dlq_headers": list(in_topic[0].headers)}


async def produce(system: System, message: ce_kafka.KafkaMessage, key: bytes) -> None:
    producer = make_producer(system.settings)
    await producer.start()
    try:
        value = message.value if isinstance(message.value, bytes) else message.value.encode()
        await producer.send_and_wait(system.settings.topics.physical(TOPIC), value=value, key=key, headers=list(message.headers.items()))
    finally:
        await producer.stop()


async def test_kafka_binary_and_structured_records_of_the_sdk_open_cases(system: System) -> None:
    binary, structured = Internship(system, "B"), Internship(system, "S")
    fmt = JSONFormat()
    as_binary = ce_kafka.to_binary(sdk_event(binary.signed()), fmt)
    assert "ce_specversion" in as_binary.headers  # what SDK producers send by default
    await produce(system, as_binary, binary.subject.encode())
    await produce(system, ce_kafka.to_structured(sdk_event(structured.signed()), fmt), structured.subject.encode())
    # The same event again, in binary mode: the inbox knows its (source, id).
    await produce(system, as_binary, binary.subject.encode())

    assert await assert_eventually(lambda: case_opened(system, binary), timeout=90) == "active"
    assert await assert_eventually(lambda: case_opened(system, structured), timeout=90) == "active"
    await system.settled()
    assert await inbox_rows(system, binary) == [f"{binary.person}-1"]
    assert await system.pool.fetchval("SELECT count(*) FROM cases WHERE subject = $1", binary.subject) == 1


async def test_a_bad_binary_record_is_dead_lettered_with_its_value_and_headers(system: System) -> None:
    internship = Internship(system, "X")
    bad = internship.signed()
    del bad["data"]["unit_id"]
    message = ce_kafka.to_binary(sdk_event(bad), JSONFormat())
    await produce(system, message, internship.subject.encode())

    found = await assert_eventually(lambda: dead_letter(system, message.value), timeout=60)
    assert found["topic"] == TOPIC
    assert found["reason"].startswith("invalid data for internship.agreement_signed: data.unit_id")
    assert found["headers"] == list(message.headers.items())
    # events.dlq: the original headers first, then why and where from.
    dlq = found["dlq_headers"]
    assert dlq[: len(message.headers)] == list(message.headers.items())
    assert dict(dlq)["dlq.reason"].decode() == found["reason"]


async def test_a_binary_dead_letter_is_redriven_with_its_headers(system: System, api: httpx.AsyncClient) -> None:  # noqa: F811 — the fixture
    """A valid binary record that routing refused (an ending with no internship open) is re-driven
    as it came: the same value and ce_ headers on its topic. (The inbox has judged that event
    already, so the intake takes the copy as a duplicate: no second dead letter.)"""
    internship = Internship(system, "R")
    message = ce_kafka.to_binary(sdk_event(internship.ended()), JSONFormat())
    value = message.value if isinstance(message.value, bytes) else message.value.encode()
    await produce(system, message, internship.subject.encode())
    first = await assert_eventually(lambda: dead_letter(system, value), timeout=60)
    assert first["reason"].startswith("internship.ended: no open internship case")

    # The console shows what identifies it, which is in the headers, not in the value.
    province = auth("province", None, "dora")
    [listed] = [i for i in (await api.get("/api/deadletters", headers=province)).json()["items"] if i["id"] == first["id"]]
    assert ["ce_id", f"{internship.person}-2"] in listed["headers"]

    topic = TopicTail(system.settings, [TOPIC])
    await topic.start(system.kafka)
    try:
        sent = await api.post(f"/api/deadletters/{first['id']}/redrive", json={}, headers=province)
        assert sent.status_code == 200, sent.text
        assert sent.json()["topic"] == TOPIC

        async def redriven() -> list[tuple[str, bytes]]:
            copies = [r for r in topic.of(TOPIC) if r.value == value]
            assert copies, "the re-driven record is not on its topic yet"
            return list(copies[0].headers)

        assert await assert_eventually(redriven, timeout=60) == list(message.headers.items())
    finally:
        await topic.stop()
    await system.settled()
    assert await system.pool.fetchval("SELECT count(*) FROM dead_letters WHERE raw = $1", value) == 1


@dataclass
class HttpIntake:
    url: str
    token: str

    async def post(self, body: bytes, headers: dict[str, str], token: str | None = None) -> httpx.Response:
        auth = {"authorization": f"Bearer {token or self.token}"} if token != "" else {}
        async with httpx.AsyncClient() as http:
            return await http.post(self.url + "/events", content=body, headers={**headers, **auth}, timeout=30)


@pytest.fixture
async def http_intake(system: System) -> AsyncIterator[HttpIntake]:
    """`jiuye http-intake` as its own process, on this test's database and Kafka."""
    port = free_port()
    settings = system.settings.model_copy(update={"http_intake_port": port})
    env = settings_env(settings, JIUYE_HTTP_INTAKE_SECRET=SECRET)
    process = Process("http-intake", [str(JIUYE), "-v", "http-intake"], env, system.folder)
    url = f"http://127.0.0.1:{port}"
    try:
        async def ready() -> None:
            assert process.alive(), f"http-intake exited; log:\n{process.tail()}"
            async with httpx.AsyncClient() as http:
                try:
                    answer = await http.get(url + READY_PATH, timeout=5)
                except httpx.TransportError as exc:
                    raise AssertionError(f"not serving yet: {exc}") from None
            assert answer.status_code == 200, answer.text

        await assert_eventually(ready, timeout=90, interval=0.5)
        token = producer_tokens.issue(SECRET, sub="es-online-2101", types=producer_tokens.scope([], [TOPIC]))
        yield HttpIntake(url, token)
    finally:
        process.stop()


async def test_http_binary_structured_and_batch_requests_open_cases(system: System, http_intake: HttpIntake) -> None:
    fmt = JSONFormat()
    binary, structured, batched, bad = (Internship(system, s) for s in ("HB", "HS", "HT", "HX"))
    as_binary = ce_http.to_binary(sdk_event(binary.signed()), fmt)
    answer = await http_intake.post(as_binary.body, as_binary.headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["topic"] == TOPIC and answer.json()["id"] == f"{binary.person}-1"
    as_structured = ce_http.to_structured(sdk_event(structured.signed()), fmt)
    assert (await http_intake.post(as_structured.body, as_structured.headers)).status_code == 202

    broken = bad.signed()
    del broken["data"]["unit_id"]
    batch = await http_intake.post(line([batched.signed(), broken]), {"content-type": BATCH_JSON})  # type: ignore[arg-type]
    assert batch.status_code == 202
    results = batch.json()["results"]
    assert [r["code"] for r in results] == [202, 400]
    assert results[1]["status"] == "dead_letter"
    assert results[1]["error"].startswith("invalid data for internship.agreement_signed: data.unit_id")

    # A producer that retries a request it had no answer to: accepted again, deduplicated downstream.
    assert (await http_intake.post(as_binary.body, as_binary.headers)).status_code == 202
    assert (await http_intake.post(as_binary.body, as_binary.headers, token="")).status_code == 401

    for internship in (binary, structured, batched):
        assert await assert_eventually(opened(system, internship), timeout=90) == "active"
    await system.settled()
    assert await inbox_rows(system, binary) == [f"{binary.person}-1"]
    assert await system.pool.fetchval("SELECT count(*) FROM cases WHERE subject = $1", binary.subject) == 1

    found = await assert_eventually(lambda: dead_letter(system, line(broken)), timeout=60)
    assert found["topic"] == "http-intake"
    assert found["reason"] == results[1]["error"]
    assert await system.pool.fetchval("SELECT count(*) FROM cases WHERE subject = $1", bad.subject) == 0
