"""The CloudEvents bindings (contracts/cloudevents_binding.py): a Kafka record in structured or
binary mode, an HTTP request in structured, binary or batch mode, all decode to the event the
intake validates, and every refusal says why, as for a bad structured record. Binary messages
are made by the `cloudevents` SDK, as other systems' producers make them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkEvent

from activities.memory_store import MemoryStore
from activities.store import Origin
from contracts.cloudevents_binding import BATCH_JSON, STRUCTURED_JSON, decode_http, decode_kafka
from contracts.events import InvalidEvent, parse_event
from policy.calendar import SHANGHAI
from policy.pack import load_pack
from streams.intake import Intake
from testkit.events import cloud_event, line

WHEN = datetime(2020, 3, 2, 10, tzinfo=SHANGHAI)
DATA = {"person_id": "P1", "city": "2101", "registered_on": "2020-03-02", "birth_date": "1990-01-01",
        "retirement_date": "2050-01-01"}


def doc(**changes: Any) -> dict[str, Any]:
    event = cloud_event(source="es/2101", id="reg-P1", type="unemployment.registered", subject="person/P1",
                        on=WHEN, data=DATA)
    event.update(changes)
    return event


def sdk_event(data: dict[str, Any] | None = None, **changes: Any) -> SdkEvent:
    attributes = {"id": "reg-P1", "source": "es/2101", "type": "unemployment.registered", "subject": "person/P1",
                  "time": WHEN, "datacontenttype": "application/json", **changes}
    return SdkEvent(attributes=attributes, data=DATA if data is None else data)


def kafka_binary(event: SdkEvent) -> tuple[bytes, list[tuple[str, bytes]]]:
    message = ce_kafka.to_binary(event, JSONFormat())
    value = message.value if isinstance(message.value, bytes) else message.value.encode()
    return value, list(message.headers.items())


def reason(value: bytes, headers: list[tuple[str, bytes]]) -> str:
    with pytest.raises(InvalidEvent) as caught:
        decode_kafka(value, headers)
    return caught.value.reason


# --- Kafka --------------------------------------------------------------------------------------

def test_a_record_without_headers_is_structured_as_before() -> None:
    assert decode_kafka(line(doc()), []) == parse_event(line(doc()))


def test_a_structured_record_of_the_sdk_decodes_to_the_same_event() -> None:
    message = ce_kafka.to_structured(sdk_event(), JSONFormat())
    value = message.value if isinstance(message.value, bytes) else message.value.encode()
    assert dict(message.headers)["content-type"] == STRUCTURED_JSON.encode()
    event = decode_kafka(value, list(message.headers.items()))
    assert (event.id, event.source, event.type, event.subject, event.time, event.data) == (
        "reg-P1", "es/2101", "unemployment.registered", "person/P1", WHEN, DATA)


def test_a_binary_record_of_the_sdk_decodes_to_the_event_its_structured_form_is() -> None:
    value, headers = kafka_binary(sdk_event())
    assert any(name == "ce_specversion" for name, _ in headers)
    binary = decode_kafka(value, headers)
    structured = parse_event(line(doc()))
    assert binary.model_dump(exclude={"time"}) == structured.model_dump(exclude={"time"})
    assert binary.time == structured.time


def test_binary_mode_normalises_ids_and_keeps_extensions_like_structured_mode() -> None:
    value, headers = kafka_binary(sdk_event(data={**DATA, "person_id": "person/P1"},
                                            traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
    event = decode_kafka(value, headers)
    assert event.data["person_id"] == "P1"
    assert event.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_other_headers_are_not_judged_and_content_type_parameters_are_allowed() -> None:
    value, headers = kafka_binary(sdk_event())
    headers = [(n, v) for n, v in headers if n != "content-type"]
    headers += [("content-type", b"application/json; charset=utf-8"), ("x-schema-id", b"\xff\xfe")]
    assert decode_kafka(value, headers).datacontenttype == "application/json; charset=utf-8"


def test_a_binary_record_missing_a_required_attribute_is_refused_like_a_structured_one() -> None:
    value, headers = kafka_binary(sdk_event())
    without_subject = [(n, v) for n, v in headers if n != "ce_subject"]
    structured = {k: v for k, v in doc().items() if k != "subject"}
    assert reason(value, without_subject) == reason(line(structured), [])
    assert reason(value, without_subject).startswith("not a valid CloudEvent: subject:")


def test_a_binary_record_with_bad_data_is_refused_like_a_structured_one() -> None:
    bad = {**DATA, "registered_on": "2020/03/02"}
    value, headers = kafka_binary(sdk_event(data=bad))
    assert reason(value, headers) == reason(line(doc(data=bad)), [])
    assert reason(value, headers).startswith("invalid data for unemployment.registered: data.registered_on")


@pytest.mark.parametrize(("change", "why"), [
    (lambda h: [*h, ("ce_id", b"again")], "header ce_id given twice"),
    (lambda h: [(n, b"\xff" if n == "ce_source" else v) for n, v in h], "header ce_source is not UTF-8"),
    (lambda h: [(n, v) for n, v in h if n != "content-type"] + [("content-type", b"text/plain")],
     "binary mode data must be JSON, not 'text/plain'"),
    (lambda h: [*h, ("ce_data", b"{}")], "binary mode: 'data' is not an attribute (it is the message body)"),
])
def test_bad_binary_headers_are_refused_with_the_reason(change: Any, why: str) -> None:
    value, headers = kafka_binary(sdk_event())
    assert reason(value, change(headers)) == why


def test_binary_data_that_is_not_json_is_refused_like_a_structured_value() -> None:
    _, headers = kafka_binary(sdk_event())
    assert reason(b"not json", headers).startswith("not JSON:")


def test_a_structured_format_other_than_json_is_refused() -> None:
    assert reason(line(doc()), [("content-type", b"application/cloudevents+avro")]) == (
        "unsupported CloudEvents format 'application/cloudevents+avro' (only application/cloudevents+json)")


async def test_a_bad_binary_record_is_dead_lettered_with_its_original_value_and_headers() -> None:
    class Sink:
        def __init__(self) -> None:
            self.sent: list[tuple[bytes, str, Origin]] = []

        async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
            self.sent.append((raw, reason, origin))

    value, headers = kafka_binary(sdk_event())
    headers = [(n, v) for n, v in headers if n != "ce_id"]
    store, sink = MemoryStore(), Sink()
    intake = Intake(store, None, sink, load_pack("liaoning-2020"))
    origin = Origin(topic="registration.unemployment", partition=0, offset=7, headers=tuple(headers))
    outcome = await intake.handle(value, origin)
    assert outcome.status == "dead_letter"
    assert outcome.detail == "not a valid CloudEvent: id: Field required"
    [(raw, why, where)] = sink.sent
    assert (raw, why, where.headers) == (value, outcome.detail, tuple(headers))
    [stored] = store.dead_letters
    assert stored["raw"] == value and stored["origin"].headers == tuple(headers)


# --- HTTP ---------------------------------------------------------------------------------------

def test_http_structured_and_binary_of_the_sdk_decode_to_the_same_event() -> None:
    structured = ce_http.to_structured(sdk_event(), JSONFormat())
    binary = ce_http.to_binary(sdk_event(subject="person/P1"), JSONFormat())
    s_mode, [s] = decode_http(structured.body, structured.headers)
    b_mode, [b] = decode_http(binary.body, binary.headers)
    assert (s_mode, b_mode) == ("structured", "binary")
    assert s.event is not None and b.event is not None
    assert (s.event.id, s.event.subject, s.event.data) == (b.event.id, b.event.subject, b.event.data)
    # Each is produced to Kafka in the mode it came in, and decodes there to the same event.
    assert decode_kafka(s.value, s.headers) == s.event
    assert decode_kafka(b.value, b.headers) == b.event


def test_http_binary_headers_are_percent_decoded() -> None:
    binary = ce_http.to_binary(sdk_event(source="es/沈阳-2101"), JSONFormat())
    assert "%" in binary.headers["ce-source"]
    _, [decoded] = decode_http(binary.body, binary.headers)
    assert decoded.event is not None and decoded.event.source == "es/沈阳-2101"


def test_an_http_batch_gives_one_result_per_event_in_order() -> None:
    bad = {k: v for k, v in doc(id="reg-P2").items() if k != "time"}
    body = line([doc(), bad])  # type: ignore[arg-type]
    mode, [good, refused] = decode_http(body, {"Content-Type": BATCH_JSON})
    assert mode == "batch"
    assert good.event is not None and good.event.id == "reg-P1"
    assert refused.event is None and refused.error == "not a valid CloudEvent: time: Field required"


@pytest.mark.parametrize(("body", "headers", "why"), [
    (b"{}", {"content-type": BATCH_JSON}, "a batch must be a JSON array of CloudEvents"),
    (b"{}", {"content-type": "application/json"}, "neither a structured event"),
    (b"[", {"content-type": BATCH_JSON}, "not JSON:"),
])
def test_an_http_request_that_holds_no_event_is_refused_whole(body: bytes, headers: dict[str, str], why: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_http(body, headers)
    assert caught.value.reason.startswith(why)
