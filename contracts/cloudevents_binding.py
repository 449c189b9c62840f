"""The CloudEvents protocol bindings the intake accepts: one home for turning what arrived (a Kafka
record, an HTTP request) into the CloudEvent `contracts.events` validates.

Kafka (CloudEvents Kafka protocol binding 1.0):
- structured mode: the value is the event as JSON (`application/cloudevents+json`); a record
  without a `content-type` header and without `ce_specversion` is structured too (what EVENTS.md
  producers and `jiuye emit` send);
- binary mode: the attributes are `ce_<name>` headers (UTF-8), `content-type` is
  `datacontenttype`, the value is `data`, which must be JSON (EVENTS.md: every `data` is an object).
HTTP (CloudEvents HTTP protocol binding 1.0): the same two modes with `ce-<name>` headers
(percent-decoded), and batch mode (`application/cloudevents-batch+json`, a JSON array of
structured events), which Kafka has not.

Every refusal is an `InvalidEvent` with the reason, as for a bad structured record, so a bad
record in either mode gets the same dead letter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from contracts.events import CloudEvent, InvalidEvent, check_size, load_json, parse_event, validate_event

# Kafka header values are bytes; aiokafka gives them as (name, value) pairs, in order.
Headers = tuple[tuple[str, bytes], ...]

STRUCTURED_JSON = "application/cloudevents+json"
BATCH_JSON = "application/cloudevents-batch+json"
_CLOUDEVENTS_FORMATS = "application/cloudevents"
CONTENT_TYPE = "content-type"
KAFKA_PREFIX = "ce_"
HTTP_PREFIX = "ce-"
# The attribute a binary message must carry to be one (both bindings).
_SPECVERSION = "specversion"


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` → `application/json` (lower case), '' for none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media in ("", "application/json", "text/json") or media.endswith("+json")


def _structured_format(media: str) -> None:
    """Refuse a structured event in a format other than JSON (`application/cloudevents+avro`)."""
    if media != STRUCTURED_JSON:
        raise InvalidEvent(f"unsupported CloudEvents format {media!r} (only {STRUCTURED_JSON})")


def _binary(attributes: dict[str, str], content_type: str | None, data: bytes) -> CloudEvent:
    """A binary-mode message's attributes, datacontenttype and data as the validated event."""
    media = media_type(content_type)
    if not _is_json(media):
        raise InvalidEvent(f"binary mode data must be JSON, not {media!r}")
    if "data" in attributes:
        raise InvalidEvent("binary mode: 'data' is not an attribute (it is the message body)")
    doc: dict[str, Any] = dict(attributes)
    if content_type is not None:
        doc["datacontenttype"] = content_type
    doc["data"] = load_json(data)
    return validate_event(doc)


def decode_kafka(value: bytes, headers: Sequence[tuple[str, bytes]]) -> CloudEvent:
    """A Kafka record (value, headers) in structured or binary mode as the validated event, or
    `InvalidEvent` with the reason."""
    check_size(len(value) + sum(len(name) + len(v) for name, v in headers))
    content_type: str | None = None
    attributes: dict[str, str] = {}
    for name, raw in headers:
        lowered = name.lower()
        if lowered != CONTENT_TYPE and not lowered.startswith(KAFKA_PREFIX):
            continue  # other systems' headers (tracing, schema ids) are not ours to judge
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent(f"header {name} is not UTF-8") from None
        if lowered == CONTENT_TYPE:
            content_type = text
            continue
        attribute = lowered.removeprefix(KAFKA_PREFIX)
        if attribute in attributes:
            raise InvalidEvent(f"header {name} given twice")
        attributes[attribute] = text
    media = media_type(content_type)
    if media.startswith(_CLOUDEVENTS_FORMATS) or _SPECVERSION not in attributes:
        if media.startswith(_CLOUDEVENTS_FORMATS):
            _structured_format(media)
        return parse_event(value)
    return _binary(attributes, content_type, value)


@dataclass(frozen=True)
class HttpEvent:
    """One event of an HTTP request, decoded (`event`) or refused (`error`), with the Kafka record
    it is produced as: the same mode it arrived in, so the intake sees what the producer sent."""

    value: bytes
    headers: Headers
    event: CloudEvent | None = None
    error: str | None = None


def _as_kafka_binary(attributes: dict[str, str], content_type: str | None) -> Headers:
    kafka = [(KAFKA_PREFIX + name, value.encode()) for name, value in attributes.items()]
    if content_type is not None:
        kafka.append((CONTENT_TYPE, content_type.encode()))
    return tuple(kafka)


def decode_http(body: bytes, headers: Mapping[str, str]) -> tuple[str, list[HttpEvent]]:
    """An HTTP request's events: ("structured" | "binary" | "batch", one HttpEvent each; one for
    the first two modes). A refusal of the whole request (a batch that is not a JSON array, a
    body too large) raises `InvalidEvent`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    content_type = lowered.get(CONTENT_TYPE)
    media = media_type(content_type)
    if media == BATCH_JSON:
        check_size(len(body))
        docs = load_json(body)
        if not isinstance(docs, list):
            raise InvalidEvent("a batch must be a JSON array of CloudEvents")
        return "batch", [_structured_one(_batch_element(doc)) for doc in docs]
    if media.startswith(_CLOUDEVENTS_FORMATS):
        _structured_format(media)
        return "structured", [_structured_one(body)]
    try:
        # The HTTP binding percent-encodes header values (so non-ASCII text survives HTTP/1.1).
        attributes = {
            name.removeprefix(HTTP_PREFIX): unquote(value, errors="strict")
            for name, value in lowered.items() if name.startswith(HTTP_PREFIX)
        }
    except UnicodeDecodeError:
        raise InvalidEvent("a ce- header is not percent-encoded UTF-8") from None
    if _SPECVERSION not in attributes:
        raise InvalidEvent(f"neither a structured event ({STRUCTURED_JSON}), a batch ({BATCH_JSON}) "
                           "nor a binary one (no ce-specversion header)")
    kafka_headers = _as_kafka_binary(attributes, content_type)
    try:
        check_size(len(body) + sum(len(n) + len(v) for n, v in kafka_headers))
        event = _binary(attributes, content_type, body)
    except InvalidEvent as exc:
        return "binary", [HttpEvent(body, kafka_headers, error=exc.reason)]
    return "binary", [HttpEvent(body, kafka_headers, event=event)]


def _batch_element(doc: Any) -> bytes:
    """One element of a batch as the bytes of a structured record (compact, UTF-8)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _structured_one(value: bytes) -> HttpEvent:
    headers: Headers = ((CONTENT_TYPE, STRUCTURED_JSON.encode()),)
    try:
        return HttpEvent(value, headers, event=parse_event(value))
    except InvalidEvent as exc:
        return HttpEvent(value, headers, error=exc.reason)
