"""Ids at intake (EVENTS.md "Ids … are opaque tokens of letters, digits, `-` and `_`"; issue 13
part 4): the subject form in an id field is normalised where the kind is unambiguous, refused
with the reason where it is not, and any other character is bad input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from contracts.events import InvalidEvent, normalise_id, parse_event
from policy.calendar import SHANGHAI
from policy.pack import load_pack
from streams.routing import StartCase, keys_of, route
from testkit.events import cloud_event, line

PACK = load_pack()


def record(type_: str, data: dict[str, Any], subject: str = "person/P1", id_: str = "es-2101-1") -> bytes:
    return line(cloud_event(id=id_, source="es/2101", type=type_, subject=subject,
                            on=datetime(2020, 5, 3, 10, tzinfo=SHANGHAI), data=data))


def reason_of(raw: bytes) -> str:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    return caught.value.reason


HUBEI = {"program": "hubei_graduate_grant", "on": "2020-05-01",
         "details": {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}}


def test_subject_form_in_an_id_field_of_its_kind_is_normalised() -> None:
    event = parse_event(record("contract.signed", {
        "person_id": "person/P1", "employer_id": "enterprise/E1", "signed_on": "2020-05-01",
        "starts_on": "2020-05-01", "term_months": 12, "referred_by_agency": "agency/A1", "note": "kept",
    }))
    assert (event.data["person_id"], event.data["employer_id"], event.data["referred_by_agency"]) == ("P1", "E1", "A1")
    assert event.data["note"] == "kept"  # fields the contract does not know stay
    keys = keys_of(event)
    assert {"person/P1", "enterprise/E1"} <= set(keys)
    assert not any(key.count("/") > 1 for key in keys)


def test_applicant_in_subject_form_reaches_the_persons_case_not_person_person() -> None:
    """The defect of issue 13: `"applicant": "person/P1"` opened `hubei_grant/person/P1` and paid
    the payee `person/person/P1`."""
    event = parse_event(record("application.submitted", {**HUBEI, "applicant": "person/P1"}))
    commands = route(event, [], PACK)
    starts = [c for c in commands if isinstance(c, StartCase)]
    assert [s.case_id for s in starts] == ["hubei_grant/P1"]
    assert starts[0].keys == ["person/P1"]
    assert not any("person/person" in key for key in keys_of(event))


def test_applicant_of_the_wrong_kind_for_the_program_is_refused_with_the_reason() -> None:
    reason = reason_of(record("application.submitted", {**HUBEI, "applicant": "enterprise/E1"}))
    assert "applicant" in reason and "expected a person id" in reason
    reason = reason_of(record("application.submitted", {"program": "job_retention", "applicant": "person/P1",
                                                        "on": "2020-05-01", "details": {"year": 2020}},
                              subject="enterprise/E1"))
    assert "applicant" in reason and "expected an enterprise id" in reason


def test_detail_ids_of_a_hiring_application_are_normalised() -> None:
    event = parse_event(record("application.submitted", {
        "program": "hiring_epidemic", "applicant": "enterprise/E1", "on": "2020-05-01",
        "details": {"enterprise_id": "enterprise/E1", "person_ids": ["person/P2", "P3"]},
    }, subject="enterprise/E1"))
    assert event.data["applicant"] == "E1"
    assert event.data["details"] == {"enterprise_id": "E1", "person_ids": ["P2", "P3"]}


def test_subject_of_another_kind_in_an_id_field_is_refused() -> None:
    reason = reason_of(record("insured.enrolled", {"person_id": "enterprise/E1", "employer_id": "E1", "on": "2020-05-01"}))
    assert reason.startswith("invalid data for insured.enrolled: data.person_id:")
    assert "expected a person id" in reason


def test_an_id_with_a_slash_cannot_forge_another_cases_workflow_id() -> None:
    """`internship/<person>/<unit>/<start>`: a unit id `U1/2020-01-01` would name another case."""
    reason = reason_of(record("internship.interrupted", {
        "person_id": "P1", "unit_id": "U1/2020-01-01", "on": "2020-05-01", "reason": "other"}))
    assert reason.startswith("invalid data for internship.interrupted: data.unit_id:")


@pytest.mark.parametrize("bad", ["P 1", "P.1", "张三", "", "P1;DROP", "x" * 129])
def test_an_id_outside_the_charset_is_bad_input(bad: str) -> None:
    reason = reason_of(record("employment.terminated", {"person_id": bad, "on": "2020-05-01"}))
    assert reason.startswith("invalid data for employment.terminated: data.person_id:")


@pytest.mark.parametrize("subject", ["person/P.1", "person/P/1", "household/H1", "person/"])
def test_a_subject_outside_the_charset_is_bad_input(subject: str) -> None:
    reason = reason_of(record("employment.terminated", {"person_id": "P1", "on": "2020-05-01"}, subject=subject))
    assert reason.startswith("not a valid CloudEvent: subject")


def test_the_subject_kinds_of_part_2_are_accepted() -> None:
    assert parse_event(record("employment.terminated", {"person_id": "P1", "on": "2020-05-01"},
                              subject="incubator/I-1")).subject == "incubator/I-1"


def test_the_event_id_is_a_deduplication_key_not_held_to_the_id_charset() -> None:
    assert parse_event(record("employment.terminated", {"person_id": "P1", "on": "2020-05-01"},
                              id_="si:2101/000123.1")).id == "si:2101/000123.1"


def test_a_bare_id_is_returned_unchanged_and_a_generic_field_refuses_any_subject_form() -> None:
    assert normalise_id("P-1_a") == "P-1_a"
    with pytest.raises(ValueError, match="bare id"):
        normalise_id("person/P1")
