"""`contracts.events.parse_event`: every bad record raises `InvalidEvent` with a one-line reason
that says what is wrong and where (EVENTS.md: bad records go to the dead letters with the reason)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from contracts.events import MAX_RECORD_BYTES, InternshipAgreementSigned, InvalidEvent, parse_event
from testkit.events import cloud_event

AGREEMENT = cloud_event(
    id="es-2101-0001", source="es/2101", type="internship.agreement_signed", subject="person/P001", on=date(2020, 3, 2),
    data={"person_id": "P001", "unit_id": "U01", "city": "2101", "starts_on": "2020-03-02", "months": 6, "cohort": 2020},
)


def raw(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def with_data(**changes: Any) -> dict[str, Any]:
    return {**AGREEMENT, "data": {**AGREEMENT["data"], **changes}}


def reason_of(record: bytes) -> str:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(record)
    assert caught.value.reason == str(caught.value) and "\n" not in caught.value.reason
    return caught.value.reason


def test_valid_agreement_parses_to_its_typed_data() -> None:
    event = parse_event(raw(AGREEMENT))
    data = event.typed()
    assert isinstance(data, InternshipAgreementSigned)
    assert (data.starts_on, data.months, data.cohort) == (date(2020, 3, 2), 6, 2020)


def test_unknown_extra_fields_are_accepted() -> None:
    """EVENTS.md: adding optional fields is not a breaking change."""
    assert parse_event(raw({**with_data(note="x"), "extension": 1})).type == "internship.agreement_signed"


def test_not_json_is_invalid() -> None:
    assert reason_of(b"this is not json").startswith("not JSON:")


def test_json_that_is_not_a_cloudevent_is_invalid() -> None:
    assert reason_of(raw([1, 2, 3])) == "not a CloudEvent: no specversion"
    assert reason_of(raw({"id": "x", "type": "internship.agreement_signed"})) == "not a CloudEvent: no specversion"


def test_envelope_with_a_bad_field_is_invalid_and_names_it() -> None:
    reason = reason_of(raw({**AGREEMENT, "subject": "P001"}))
    assert reason.startswith("not a valid CloudEvent: subject:")
    missing_id = {k: v for k, v in AGREEMENT.items() if k != "id"}
    assert reason_of(raw(missing_id)).startswith("not a valid CloudEvent: id:")


def test_time_without_offset_is_invalid() -> None:
    assert reason_of(raw({**AGREEMENT, "time": "2020-03-02T09:00:00"})) == "not a valid CloudEvent: time has no UTC offset"


def test_unknown_type_is_invalid() -> None:
    assert reason_of(raw({**AGREEMENT, "type": "internship.cancelled"})) == "unknown type: internship.cancelled"


def test_missing_data_field_is_invalid_and_names_it() -> None:
    data = {k: v for k, v in AGREEMENT["data"].items() if k != "unit_id"}
    reason = reason_of(raw({**AGREEMENT, "data": data}))
    assert reason.startswith("invalid data for internship.agreement_signed: data.unit_id:")
    assert "required" in reason.lower()


@pytest.mark.parametrize("months", ["6", 6.0, True, None])
def test_months_must_be_a_json_integer(months: Any) -> None:
    """contracts/events.py: "numbers must be JSON numbers (not strings)" where they change money."""
    reason = reason_of(raw(with_data(months=months)))
    assert reason.startswith("invalid data for internship.agreement_signed: data.months:")


@pytest.mark.parametrize("starts_on", ["2020-3-2", "02/03/2020", "2020-02-30", "", 20200302])
def test_bad_date_is_invalid(starts_on: Any) -> None:
    """POLICY.md conventions: dates are business dates, as YYYY-MM-DD."""
    assert reason_of(raw(with_data(starts_on=starts_on))).startswith(
        "invalid data for internship.agreement_signed: data.starts_on:"
    )


def test_bad_city_code_is_invalid() -> None:
    """POLICY.md: cities are the tenant key, 2101..2114 (21xx)."""
    assert reason_of(raw(with_data(city="1101"))).startswith("invalid data for internship.agreement_signed: data.city:")


def test_negative_money_is_invalid() -> None:
    """POLICY.md conventions: money is an integer number of fen (never negative on input)."""
    doc = {
        **AGREEMENT,
        "type": "policy.price_linkage.triggered",
        "subject": "city/2101",
        "data": {"city": "2101", "month": "2020-03", "amount": -1},
    }
    reason = reason_of(raw(doc))
    assert reason.startswith("invalid data for policy.price_linkage.triggered: data.amount:")
    assert "greater than or equal to 0" in reason


def test_interruption_reason_outside_the_contract_is_invalid() -> None:
    doc = {
        **AGREEMENT,
        "type": "internship.interrupted",
        "data": {"person_id": "P001", "unit_id": "U01", "on": "2020-03-10", "reason": "holiday"},
    }
    assert reason_of(raw(doc)).startswith("invalid data for internship.interrupted: data.reason:")


def test_oversize_record_is_invalid_before_parsing() -> None:
    record = raw(with_data(padding="x" * MAX_RECORD_BYTES))
    assert reason_of(record) == f"record too large: {len(record)} bytes > {MAX_RECORD_BYTES}"
