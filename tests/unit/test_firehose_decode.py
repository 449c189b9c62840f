"""The firehose's fast path (contracts/events.py `fast_contribution_bytes` on a record's bytes,
`fast_contribution` on a decoded document; issue 16 item 1): a `contribution.paid` of the plain
shape is validated by msgspec structs, everything else by the models. The
rule: the same documents are accepted, as the same event, and every refused one is refused with
the same dead-letter reason — i.e. the fast path only ever accepts, and only what the full path
accepts identically. Checked over a corpus of good and bad documents and over generated ones."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.events import contribution
from contracts.cloudevents_binding import decode_kafka
from contracts.events import (
    CloudEvent,
    InvalidEvent,
    fast_contribution,
    fast_contribution_bytes,
    load_json,
    parse_event,
    validate_event,
    validate_full,
)


def plain(**data: Any) -> dict[str, Any]:
    """A contribution as producers (and the benchmarks) send it, data fields overridden."""
    doc: dict[str, Any] = json.loads(contribution("P1", 1, "2020-06", "E1")[2])
    doc["data"].update(data)
    return doc


def with_envelope(**fields: Any) -> dict[str, Any]:
    doc = plain()
    for name, value in fields.items():
        if value is _DROP:
            doc.pop(name, None)
        else:
            doc[name] = value
    return doc


def without_data(name: str) -> dict[str, Any]:
    doc = plain()
    del doc["data"][name]
    return doc


_DROP = object()

# Documents the fast path must take (and the full path accepts): it would be dead otherwise.
FAST = [
    plain(),
    plain(employer_id=None),
    without_data("employer_id"),
    plain(insurances=[]),
    plain(person_id="P" * 128),
    with_envelope(id="é" * 128),  # lengths in characters, as the model counts them
    plain(base=0, employer_amount=0, employee_amount=0),
    plain(extra_field={"nested": [1, 2]}),  # optional fields may be added (EVENTS.md)
    with_envelope(datacontenttype=_DROP),
    with_envelope(time="2020-06-01T00:00:00Z"),
    with_envelope(time="2020-06-01T00:00:00.5+08:00"),
    with_envelope(time="2020-06-01T23:59:59.123456-05:30"),
    with_envelope(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate="a=b"),
    with_envelope(traceparent="x" * 600),  # dropped, never a refusal
    with_envelope(traceparent=7),
    with_envelope(unknown_attribute="kept out"),
    with_envelope(subject="enterprise/E1"),
    with_envelope(id="x" * 128, source="s" * 256),
]

# Documents the full path decides (accepted or refused): the fast path must give way.
OTHERS = [
    plain(person_id="person/P1"),  # the subject form: the model normalises it to P1
    plain(employer_id="enterprise/E1"),
    plain(person_id="P" * 129),
    with_envelope(id="é" * 129),
    plain(base=2**63 - 1),
    plain(base=2**64),
    plain(base=-0),
    plain(person_id="enterprise/P1"),
    plain(person_id="P 1"),
    plain(person_id=""),
    plain(person_id=17),
    plain(person_id="P1\n"),
    plain(employer_id="person/E1"),
    plain(employer_id=""),
    plain(employer_id=5),
    plain(month="2020-13"),
    plain(month="2020-6"),
    plain(month="2020-06\n"),
    plain(month=202006),
    plain(base=-1),
    plain(base=1.0),
    plain(base="500000"),
    plain(base=True),
    plain(base=2**63),
    plain(employer_amount=None),
    plain(insurances=["pension", "dental"]),
    plain(insurances="pension"),
    plain(insurances=[None]),
    without_data("person_id"),
    without_data("month"),
    without_data("base"),
    without_data("insurances"),
    with_envelope(specversion="0.3"),
    with_envelope(specversion=1.0),
    with_envelope(id=""),
    with_envelope(id=12),
    with_envelope(id="x" * 129),
    with_envelope(source="s" * 257),
    with_envelope(source=_DROP),
    with_envelope(subject="person/P1\n"),
    with_envelope(subject="someone/P1"),
    with_envelope(subject=_DROP),
    with_envelope(time="2020-06-01T00:00:00"),  # no offset
    with_envelope(time="2020-06-01 00:00:00+08:00"),
    with_envelope(time="2020-06-01T24:00:00+08:00"),
    with_envelope(time="2020-02-30T00:00:00+08:00"),
    with_envelope(time="2020-06-01T00:00:00+24:00"),
    with_envelope(time="2020-06-01T00:00:00+23:59"),
    with_envelope(time="2020-06-01T00:00:00.1234567+08:00"),
    with_envelope(time="2020-06-01"),
    with_envelope(time="٢٠٢٠-06-01T00:00:00+08:00"),  # digits, but not ASCII ones
    with_envelope(time=1591000000),
    with_envelope(time=_DROP),
    with_envelope(datacontenttype=None),
    with_envelope(datacontenttype=3),
    with_envelope(data=[1]),
    with_envelope(data=_DROP),
    with_envelope(type="contribution.paid "),
]


def full_outcome(doc: dict[str, Any]) -> CloudEvent | str:
    try:
        return validate_full(copy.deepcopy(doc))
    except InvalidEvent as exc:
        return exc.reason


def outcome(doc: dict[str, Any]) -> CloudEvent | str:
    try:
        return validate_event(copy.deepcopy(doc))
    except InvalidEvent as exc:
        return exc.reason


def fast_from_document(doc: dict[str, Any]) -> CloudEvent | None:
    return fast_contribution(copy.deepcopy(doc))


def fast_from_bytes(doc: dict[str, Any]) -> CloudEvent | None:
    return fast_contribution_bytes(json.dumps(doc).encode())


# Both entries of the fast path: a record's bytes (the intake's `parse_event`) and a decoded
# document (`validate_event`: binary mode, HTTP batches).
FAST_PATHS = pytest.mark.parametrize("fast_path", [fast_from_document, fast_from_bytes], ids=["document", "bytes"])


def bytes_outcome(doc: dict[str, Any]) -> CloudEvent | str:
    try:
        return parse_event(json.dumps(doc).encode())
    except InvalidEvent as exc:
        return exc.reason


def assert_same_event(fast: CloudEvent, full: CloudEvent) -> None:
    assert fast == full
    assert fast.data == full.data and list(fast.data) == list(full.data)
    assert fast.time.isoformat() == full.time.isoformat() and fast.time.utcoffset() == full.time.utcoffset()
    assert fast.model_fields_set == full.model_fields_set and type(fast.model_fields_set) is type(full.model_fields_set)
    copied = fast.model_copy(update={"data": {**fast.data, "base": 1}})  # what the intake's callers do with events
    assert copied.data["base"] == 1 and copied.model_fields_set == full.model_fields_set
    assert fast.model_dump(mode="json") == full.model_dump(mode="json")


@FAST_PATHS
@pytest.mark.parametrize("doc", FAST, ids=range(len(FAST)))
def test_firehose_fast_path_accepts_the_plain_contribution_as_the_full_path_does(doc: dict[str, Any], fast_path: Any) -> None:
    full = full_outcome(doc)
    assert isinstance(full, CloudEvent), full
    fast = fast_path(doc)
    assert fast is not None, "the plain shape must take the fast path"
    assert_same_event(fast, full)


@FAST_PATHS
@pytest.mark.parametrize("doc", OTHERS, ids=range(len(OTHERS)))
def test_firehose_fast_path_leaves_every_other_document_to_the_full_path(doc: dict[str, Any], fast_path: Any) -> None:
    full = full_outcome(doc)
    fast = fast_path(doc)
    if fast is not None:  # it may take a document only if the full path accepts the same event
        assert isinstance(full, CloudEvent), full
        assert_same_event(fast, full)
    for got in (outcome(doc), bytes_outcome(doc)):
        if isinstance(full, str):
            assert got == full  # the same dead-letter reason
        else:
            assert isinstance(got, CloudEvent)
            assert_same_event(got, full)


def test_firehose_fast_path_refuses_nothing_itself() -> None:
    """Every refusal in the corpus is the full path's: the corpus holds refused documents."""
    refused = [d for d in OTHERS if isinstance(full_outcome(d), str)]
    assert len(refused) > 30
    for doc in refused:
        assert fast_from_document(doc) is None and fast_from_bytes(doc) is None


def test_firehose_fast_path_is_what_the_kafka_decode_takes() -> None:
    raw = contribution("P2", 2, "2020-07", None)[2]
    event = decode_kafka(raw, ())
    assert_same_event(event, validate_full(json.loads(raw)))


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["P1", "person/P1", "enterprise/E1", "2020-06", "2020-06-01T00:00:00+08:00",
                                            "1.0", "pension", "contribution.paid", ""]),
    st.lists(st.sampled_from(["pension", "unemployment", "medical", "injury", "x"]), max_size=3),
)
_FIELDS = st.sampled_from(["person_id", "month", "employer_id", "base", "employer_amount", "employee_amount",
                           "insurances", "specversion", "id", "source", "subject", "time", "datacontenttype",
                           "traceparent", "data"])


@settings(max_examples=300, deadline=None)
@given(changes=st.lists(st.tuples(_FIELDS, st.one_of(st.just(_DROP), _VALUES)), min_size=1, max_size=3))
def test_firehose_fast_path_same_outcome_as_the_full_path_for_generated_documents(changes: list[tuple[str, Any]]) -> None:
    doc = plain()
    for name, value in changes:
        where = doc if name in ("specversion", "id", "source", "subject", "time", "datacontenttype", "traceparent",
                                "data") else doc.get("data")
        if not isinstance(where, dict):
            continue
        if value is _DROP:
            where.pop(name, None)
        else:
            where[name] = value
    full = full_outcome(doc)
    for fast in (fast_from_document(doc), fast_from_bytes(doc)):
        if fast is not None:
            assert isinstance(full, CloudEvent), full
            assert_same_event(fast, full)
    for got in (outcome(doc), bytes_outcome(doc)):
        if isinstance(full, str):
            assert got == full
        else:
            assert isinstance(got, CloudEvent)
            assert_same_event(got, full)


def _raw_variants() -> list[bytes]:
    """Record bytes no document can stand for: keys given twice, odd bytes and escapes, numbers
    beyond 64 bits in fields no model reads, whitespace around the document."""
    good = contribution("P1", 1, "2020-06", "E1")[2]
    text = good.decode()
    return [
        good,
        b"  " + good + b"\n\n",
        good.replace(b'"data":', b'"data":{"person_id":"X"},"data":', 1),  # the last one counts
        good.replace(b'"type":', b'"type":"other.type","type":', 1),
        good.replace(b'"id":', b'"id":"first","id":', 1),
        text.replace('"month"', '"note":"\\u00e9\\ud83d\\ude00","month"', 1).encode(),
        text.replace('"month"', '"note":"\\ud800","month"', 1).encode(),  # a lone surrogate: json's, not orjson's
        text.replace('"month"', '"huge":123456789012345678901234567890,"month"', 1).encode(),
        text.replace('"month"', '"ratio":1.10,"month"', 1).encode(),
        good.replace(b'"P1"', b'"P\xff"', 1),  # not UTF-8
        good.replace(b"500000", b"5e5", 1),
        good.replace(b"500000", b"NaN", 1),
        b"\xef\xbb\xbf" + good,  # a byte order mark
        good + b"{}",
        good[:-2],
    ]


@pytest.mark.parametrize("raw", _raw_variants(), ids=range(len(_raw_variants())))
def test_firehose_fast_path_on_bytes_agrees_with_the_full_path(raw: bytes) -> None:
    """`parse_event` (the bytes fast path first) against the full path on the same bytes."""
    try:
        full: CloudEvent | str = validate_full(load_json(raw))
    except InvalidEvent as exc:
        full = exc.reason
    fast = fast_contribution_bytes(raw)
    if fast is not None:
        assert isinstance(full, CloudEvent), full
        assert_same_event(fast, full)
    try:
        got: CloudEvent | str = parse_event(raw)
    except InvalidEvent as exc:
        got = exc.reason
    if isinstance(full, str):
        assert got == full
    else:
        assert isinstance(got, CloudEvent)
        assert_same_event(got, full)
