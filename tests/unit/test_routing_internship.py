"""`streams.routing.route` for K1 events: pure, given the open cases of the event's keys."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy.pack import load_pack
from streams.routing import FanOut, Ignore, Reject, SignalCase, StartCase, keys_of, route

PACK = load_pack()
KIND = kinds.INTERNSHIP_SUBSIDY
CASE = "internship/P001/U01/2020-03-02"
OPEN = [OpenCase(case_id=CASE, kind=KIND, key="person/P001", match={"unit_id": "U01"})]


def event(type_: str, data: dict[str, Any], subject: str = "person/P001") -> CloudEvent:
    return CloudEvent(
        specversion="1.0",
        id="e-1",
        source="es/2101",
        type=type_,
        subject=subject,
        time=datetime(2020, 3, 2, 1, tzinfo=timezone.utc),
        data=data,
    )


def agreement(months: int = 6, city: str = "2101") -> CloudEvent:
    return event(
        "internship.agreement_signed",
        {"person_id": "P001", "unit_id": "U01", "city": city, "starts_on": "2020-03-02", "months": months, "cohort": 2020},
    )


def test_agreement_opens_one_case_keyed_by_person_and_matched_by_unit() -> None:
    """POLICY.md K1: "Opened by `internship.agreement_signed` (graduate, unit, start date, agreed months P)"."""
    assert route(agreement(), [], PACK) == [
        StartCase(kind=KIND, case_id=CASE, city="2101", keys=["person/P001"], match={"unit_id": "U01"})
    ]


def test_agreement_with_months_outside_3_to_12_is_rejected_as_bad_input() -> None:
    """POLICY.md K1: "P outside 3..12 is bad input" (a dead letter, no case)."""
    for months in (2, 13):
        commands = route(agreement(months), [], PACK)
        assert len(commands) == 1 and isinstance(commands[0], Reject)
        assert f"months {months} outside 3..12" in commands[0].reason
    for months in (3, 12):
        assert isinstance(route(agreement(months), [], PACK)[0], StartCase)


def test_rejected_cohort_still_opens_a_case_that_closes_rejected() -> None:
    """POLICY.md K1: an ineligible cohort is not bad input: the case closes `rejected` (with its reason)."""
    ev = agreement()
    ev = event(ev.type, {**ev.data, "cohort": 2019})
    assert isinstance(route(ev, [], PACK)[0], StartCase)


def test_interruption_resumption_and_end_reach_the_open_case_at_that_unit() -> None:
    for type_, extra in (
        ("internship.interrupted", {"on": "2020-03-10", "reason": "epidemic"}),
        ("internship.resumed", {"on": "2020-03-20"}),
        ("internship.ended", {"on": "2020-04-20", "reason": "quit"}),
    ):
        assert route(event(type_, {"person_id": "P001", "unit_id": "U01", **extra}), OPEN, PACK) == [SignalCase(CASE)]


def test_follow_up_without_an_open_case_at_that_unit_is_rejected() -> None:
    ev = event("internship.interrupted", {"person_id": "P001", "unit_id": "U99", "on": "2020-03-10", "reason": "other"})
    for open_cases in ([], OPEN):
        commands = route(ev, open_cases, PACK)
        assert len(commands) == 1 and isinstance(commands[0], Reject) and "U99" in commands[0].reason


def test_contract_with_the_unit_reaches_the_internship_case() -> None:
    """POLICY.md K1: "Hired by the unit (`contract.signed`, employer = the unit)"."""
    data = {"person_id": "P001", "employer_id": "U01", "signed_on": "2020-07-01", "starts_on": "2020-07-01", "term_months": 12}
    assert route(event("contract.signed", data), OPEN, PACK) == [SignalCase(CASE)]


def test_contract_with_another_employer_is_ignored_by_k1() -> None:
    data = {"person_id": "P001", "employer_id": "E77", "signed_on": "2020-07-01", "starts_on": "2020-07-01", "term_months": 12}
    commands = route(event("contract.signed", data), OPEN, PACK)
    assert all(isinstance(c, Ignore) for c in commands) and SignalCase(CASE) not in commands


def test_epidemic_facts_fan_out_to_internship_cases_by_scope() -> None:
    """POLICY.md shared facts: epidemic declared/lifted reach running cases (a city's or the province's)."""
    for type_ in ("policy.epidemic.declared", "policy.epidemic.lifted"):
        (city,) = route(event(type_, {"on": "2020-01-25"}, subject="city/2101"), [], PACK)
        (province,) = route(event(type_, {"on": "2020-01-25"}, subject="province/21"), [], PACK)
        assert isinstance(city, FanOut) and KIND in city.kinds and city.scope == "2101"
        assert isinstance(province, FanOut) and KIND in province.kinds and province.scope == "province"


def test_parameter_change_of_a_k1_parameter_fans_out_and_an_unknown_one_is_rejected() -> None:
    data = {"city": "2101", "name": "internship.monthly_subsidy", "value": 150000, "effective_on": "2020-07-01"}
    (command,) = route(event("policy.parameter.changed", data, subject="city/2101"), [], PACK)
    assert isinstance(command, FanOut) and KIND in command.kinds and command.scope == "2101"
    (bad,) = route(event("policy.parameter.changed", {**data, "name": "internship.nope"}, subject="city/2101"), [], PACK)
    assert isinstance(bad, Reject)


def test_keys_of_a_k1_event_are_its_subject_and_its_person_and_employer() -> None:
    data = {"person_id": "P001", "employer_id": "U01", "signed_on": "2020-07-01", "starts_on": "2020-07-01", "term_months": 12}
    assert keys_of(event("contract.signed", data)) == ["person/P001", "enterprise/U01"]
    assert keys_of(agreement()) == ["person/P001"]
