"""K6 hiring_subsidy (§10): the pure rules of policy/hiring.py and the routes of
streams/routes/hiring.py, each test named after the rule it guards."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import CloudEvent, parse_event
from policy import hiring
from policy.pack import load_pack
from streams.routes import hiring as hiring_routes
from streams.routing import Ignore, Reject, SignalCase, StartCase, route

PACK = load_pack()
PARAMS = PACK.parameters("2101")
S, L = date(2020, 1, 25), date(2020, 5, 15)


def fact(type_: str, payload: dict[str, Any], on: date | None = None, n: int = 1, key: str = "person/P1") -> Fact:
    return Fact(
        key=key,
        type=type_,
        on_date=on,
        payload=payload,
        event_time=datetime(2020, 1, 1, n, tzinfo=timezone.utc),
        event_key=f"t#{type_}-{n}",
    )


def enterprise(flag: bool | None, n: int = 1, enterprise_id: str = "E1") -> Fact:
    payload: dict[str, Any] = {"enterprise_id": enterprise_id, "city": "2102", "industry": "retail", "size": "small"}
    if flag is not None:
        payload["epidemic_supplies"] = flag
    return fact("enterprise.registered", payload, n=n, key=f"enterprise/{enterprise_id}")


def registration(person: str, registered_on: date, n: int = 1) -> Fact:
    return fact(
        "unemployment.registered",
        {"person_id": person, "city": "2101", "registered_on": registered_on.isoformat(), "birth_date": "1990-01-01", "retirement_date": "2050-01-01"},
        on=registered_on,
        n=n,
    )


# -- both programs ------------------------------------------------------------------------------
@pytest.mark.parametrize(("term", "stable"), [(None, True), (12, True), (36, True), (11, False), (6, False)])
def test_k6_only_a_contract_of_1_year_or_more_or_open_ended_counts(term: int | None, stable: bool) -> None:
    assert hiring.stable_hire(term, date(2020, 3, 1), PARAMS) is stable


def test_k6_case_ids_are_one_per_enterprise_person_and_program() -> None:
    assert kinds.hiring_case_id(hiring.EPIDEMIC, "E1", "P1") == "hiring/epidemic/E1/P1"
    assert kinds.hiring_case_id(hiring.PRIORITY, "E1", "P1") == "hiring/priority/E1/P1"
    assert kinds.hiring_case_parts("hiring/epidemic/E1/P1") == (hiring.EPIDEMIC, "E1", "P1")
    assert kinds.hiring_case_parts("hiring/priority/E1/P1") == (hiring.PRIORITY, "E1", "P1")


# -- K6a ----------------------------------------------------------------------------------------
def test_k6a_epidemic_supplies_flag_is_the_employers_latest_registration() -> None:
    assert hiring.makes_epidemic_supplies("E1", [enterprise(True)])
    assert not hiring.makes_epidemic_supplies("E1", [enterprise(None)])
    assert not hiring.makes_epidemic_supplies("E1", [enterprise(False)])
    assert not hiring.makes_epidemic_supplies("E1", [])
    assert not hiring.makes_epidemic_supplies("E1", [enterprise(True), enterprise(False, n=2)])
    assert hiring.makes_epidemic_supplies("E1", [enterprise(False), enterprise(True, n=2)])
    # Another enterprise's flag says nothing about this one.
    assert not hiring.makes_epidemic_supplies("E1", [enterprise(True, enterprise_id="E2")])


@pytest.mark.parametrize(
    ("signed_on", "lifted", "inside"),
    [
        (S, None, True),  # the first day of the epidemic period
        (date(2020, 1, 24), None, False),  # before S
        (date(2021, 6, 1), None, True),  # L unknown: the epidemic is not over
        (L, L, True),  # the last day
        (date(2020, 5, 16), L, False),  # after L
    ],
)
def test_k6a_hire_must_be_signed_within_the_epidemic_period_s_to_l(signed_on: date, lifted: date | None, inside: bool) -> None:
    assert (hiring.outside_epidemic_period(signed_on, S, lifted) is None) is inside


def test_k6a_a_hire_is_judged_inside_only_once_the_epidemic_is_declared() -> None:
    assert not hiring.epidemic_period_known(None)
    assert hiring.epidemic_period_known(S)


def test_k6a_application_deadline_is_l_plus_3_months_inclusive() -> None:
    assert hiring.application_deadline(None, PARAMS) is None
    assert hiring.application_deadline(L, PARAMS) == date(2020, 8, 15)
    assert hiring.application_in_time(date(2020, 8, 15), L, PARAMS)
    assert not hiring.application_in_time(date(2020, 8, 16), L, PARAMS)
    # L unknown: every application is in time so far.
    assert hiring.application_in_time(date(2030, 1, 1), None, PARAMS)
    # A month-end lift: L + 3 months clamps to the shorter month (2020-11-30 + 3 → 2021-02-28).
    assert hiring.application_deadline(date(2020, 11, 30), PARAMS) == date(2021, 2, 28)


def test_k6a_pays_epidemic_per_hire_in_force_on_the_hire_date() -> None:
    assert hiring.epidemic_subsidy(date(2020, 3, 1), PARAMS) == 100000
    changed = PARAMS.with_change("hiring.epidemic_per_hire", 80000, date(2020, 4, 1))
    assert hiring.epidemic_subsidy(date(2020, 3, 31), changed) == 100000
    assert hiring.epidemic_subsidy(date(2020, 4, 1), changed) == 80000


def test_k6a_agency_gets_agency_per_hire() -> None:
    assert hiring.agency_subsidy(date(2020, 3, 1), PARAMS) == 20000
    assert hiring.agency_cap(date(2020, 3, 1), PARAMS) == 10000000


@pytest.mark.parametrize(
    ("amount", "cap", "used", "paid"),
    [(20000, 10000000, 0, 20000), (20000, 10000000, 9990000, 10000), (20000, 10000000, 10000000, 0), (20000, 100000, 150000, 0)],
)
def test_k6a_agency_total_is_capped_at_agency_cap(amount: int, cap: int, used: int, paid: int) -> None:
    assert hiring.within_cap(amount, cap, used) == paid


# -- K6b ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("registered_on", "long_term"),
    [(date(2019, 11, 10), True), (date(2019, 11, 11), False), (date(2019, 1, 1), True), (None, False)],
)
def test_k6b_long_term_unemployed_is_registered_6_months_on_the_hire_date_inclusive(registered_on: date | None, long_term: bool) -> None:
    assert hiring.long_term_unemployed(registered_on, date(2020, 5, 10), PARAMS) is long_term


def test_k6b_long_term_unemployed_month_end_boundary() -> None:
    # 2020-08-31 - 6 months = 2020-02-29 (clamped): registered that day is exactly six months.
    assert hiring.long_term_unemployed(date(2020, 2, 29), date(2020, 8, 31), PARAMS)
    assert not hiring.long_term_unemployed(date(2020, 3, 1), date(2020, 8, 31), PARAMS)


def test_k6b_registration_is_judged_the_day_before_the_hire() -> None:
    """The deregistration the hire causes (dated the hire day) does not end the registration
    the rule looks at."""
    facts = [
        registration("P1", date(2019, 11, 10)),
        fact("unemployment.deregistered", {"person_id": "P1", "on": "2020-05-10", "reason": "employed"}, on=date(2020, 5, 10), n=2),
    ]
    assert hiring.priority_groups("P1", None, date(2020, 5, 10), facts, PARAMS) == [hiring.LONG_TERM_UNEMPLOYED]
    # Deregistered earlier: no longer registered on the hire date.
    earlier = [facts[0], fact("unemployment.deregistered", {"person_id": "P1", "on": "2020-04-01", "reason": "other"}, on=date(2020, 4, 1), n=2)]
    assert hiring.priority_groups("P1", None, date(2020, 5, 10), earlier, PARAMS) == []


def test_k6b_graduating_year_graduate_is_hired_in_the_year_of_graduation() -> None:
    assert hiring.graduating_year_graduate(2020, date(2020, 7, 1))
    assert not hiring.graduating_year_graduate(2019, date(2020, 7, 1))
    assert not hiring.graduating_year_graduate(None, date(2020, 7, 1))
    assert hiring.priority_groups("P1", 2020, date(2020, 7, 1), [], PARAMS) == [hiring.GRADUATING_YEAR_GRADUATE]


def test_k6b_contract_signed_on_or_before_priority_until() -> None:
    assert hiring.within_priority_window(date(2020, 12, 31), PARAMS)
    assert not hiring.within_priority_window(date(2021, 1, 1), PARAMS)


def test_k6b_pays_the_employer_share_of_the_first_si_months_paid_once() -> None:
    months = [
        hiring.CountedMonth("2020-05", 60000, date(2020, 6, 5)),
        hiring.CountedMonth("2020-06", 61000, date(2020, 7, 5)),
    ]
    assert hiring.priority_subsidy(months, 3) is None
    months.append(hiring.CountedMonth("2020-07", 62000, date(2020, 8, 5)))
    months.append(hiring.CountedMonth("2020-08", 99999, date(2020, 9, 5)))
    subsidy = hiring.priority_subsidy(months, 3)
    assert subsidy == hiring.PrioritySubsidy(months=("2020-05", "2020-06", "2020-07"), amount=183000, completed_on=date(2020, 8, 5))


def test_k6b_si_months_is_a_city_parameter_3_to_6() -> None:
    months = [hiring.CountedMonth(f"2020-0{m}", 10000, date(2020, m + 1, 5)) for m in range(3, 9)]
    assert hiring.priority_subsidy(months, 6) == hiring.PrioritySubsidy(
        months=tuple(f"2020-0{m}" for m in range(3, 9)), amount=60000, completed_on=date(2020, 9, 5)
    )


def test_k6b_only_months_from_the_contract_start_count() -> None:
    assert hiring.counts_for_priority("2020-05", date(2020, 5, 11))
    assert not hiring.counts_for_priority("2020-04", date(2020, 5, 11))


def test_k6b_waits_si_wait_months_from_the_start() -> None:
    assert hiring.priority_deadline(date(2020, 8, 1), PARAMS) == date(2021, 8, 1)


# -- routes -------------------------------------------------------------------------------------
def event(type_: str, data: dict[str, Any], subject: str = "person/P1", source: str = "lc/2101") -> CloudEvent:
    return CloudEvent(
        specversion="1.0", id="x-1", source=source, type=type_, subject=subject,
        time=datetime(2020, 3, 2, 1, tzinfo=timezone.utc), data=data,
    )


def contract(term: int | None = 12, signed_on: str = "2020-03-02", **more: Any) -> CloudEvent:
    data = {"person_id": "P1", "employer_id": "E1", "signed_on": signed_on, "starts_on": signed_on, "term_months": term, **more}
    return event("contract.signed", data)


def test_k6_route_stable_contract_with_epidemic_supplies_employer_opens_k6a() -> None:
    commands = hiring_routes.contract_signed(contract(), [], PACK, facts=[enterprise(True)])
    assert commands == [StartCase(kind="hiring_subsidy", case_id="hiring/epidemic/E1/P1", city="2102", keys=["person/P1"], match={"employer_id": "E1"})]


def test_k6_route_short_contract_opens_nothing() -> None:
    commands = hiring_routes.contract_signed(contract(term=6), [], PACK, facts=[enterprise(True), registration("P1", date(2019, 1, 1))])
    assert len(commands) == 1 and isinstance(commands[0], Ignore)


def test_k6_route_employer_without_the_flag_opens_no_k6a() -> None:
    commands = hiring_routes.contract_signed(contract(), [], PACK, facts=[enterprise(None)])
    assert len(commands) == 1 and isinstance(commands[0], Ignore)


def test_k6_route_long_term_unemployed_hire_opens_k6b_and_both_may_start() -> None:
    facts = [enterprise(True), registration("P1", date(2019, 9, 2))]
    commands = hiring_routes.contract_signed(contract(), [], PACK, facts=facts)
    assert [c.case_id for c in commands if isinstance(c, StartCase)] == ["hiring/epidemic/E1/P1", "hiring/priority/E1/P1"]
    one_day_short = hiring_routes.contract_signed(contract(), [], PACK, facts=[registration("P1", date(2019, 9, 3))])
    assert isinstance(one_day_short[0], Ignore)


def test_k6_route_graduate_of_the_hire_year_opens_k6b_until_priority_until() -> None:
    opened = hiring_routes.contract_signed(contract(graduation_year=2020), [], PACK, facts=[])
    assert [c.case_id if isinstance(c, StartCase) else c for c in opened] == ["hiring/priority/E1/P1"]
    late = hiring_routes.contract_signed(contract(graduation_year=2021, signed_on="2021-01-01"), [], PACK, facts=[])
    assert isinstance(late[0], Ignore)


def test_k6_route_application_starts_or_reaches_one_k6a_case_per_person() -> None:
    app = event(
        "application.submitted",
        {"program": "hiring_epidemic", "applicant": "E1", "on": "2020-04-01", "details": {"enterprise_id": "E1", "person_ids": ["P1", "P2", "P1"]}},
        subject="enterprise/E1", source="es/2101",
    )
    commands = hiring_routes.application(app, [], PACK)
    assert [(c.case_id, c.keys, c.match) for c in commands if isinstance(c, StartCase)] == [
        ("hiring/epidemic/E1/P1", ["person/P1"], {"employer_id": "E1"}),
        ("hiring/epidemic/E1/P2", ["person/P2"], {"employer_id": "E1"}),
    ]


def test_k6_route_application_for_other_programs_is_not_ours_and_bad_details_are_dead_letters() -> None:
    other = event("application.submitted", {"program": "job_retention", "applicant": "E1", "on": "2020-04-01", "details": {"year": 2020}},
                  subject="enterprise/E1")
    assert isinstance(hiring_routes.application(other, [], PACK)[0], Ignore)
    bad = event("application.submitted", {"program": "hiring_epidemic", "applicant": "E1", "on": "2020-04-01", "details": {"enterprise_id": "E1"}},
                subject="enterprise/E1")
    assert isinstance(hiring_routes.application(bad, [], PACK)[0], Reject)


def test_k6_route_contributions_reach_only_the_cases_of_their_pair() -> None:
    cases = [
        OpenCase("hiring/epidemic/E1/P1", "hiring_subsidy", "person/P1", {"employer_id": "E1"}),
        OpenCase("hiring/priority/E2/P1", "hiring_subsidy", "person/P1", {"employer_id": "E2"}),
    ]
    paid = event("contribution.paid", {"person_id": "P1", "month": "2020-03", "employer_id": "E1", "base": 1, "employer_amount": 1,
                                       "employee_amount": 1, "insurances": []}, source="si/2101")
    assert hiring_routes.of_the_pair(paid, cases, PACK) == [SignalCase("hiring/epidemic/E1/P1")]
    own = event("contribution.paid", {"person_id": "P1", "month": "2020-03", "base": 1, "employer_amount": 1, "employee_amount": 1, "insurances": []},
                source="si/2101")
    assert isinstance(hiring_routes.of_the_pair(own, cases, PACK)[0], Ignore)


def test_k6_contract_graduation_year_is_an_optional_field_of_the_contract() -> None:
    raw = contract(graduation_year=2020).model_dump_json().encode()
    assert parse_event(raw).typed().graduation_year == 2020  # type: ignore[attr-defined]
    assert parse_event(contract().model_dump_json().encode()).typed().graduation_year is None  # type: ignore[attr-defined]


def test_k6_route_is_reached_through_the_router_with_its_facts() -> None:
    commands = route(contract(), [], PACK, [enterprise(True)])
    assert any(isinstance(c, StartCase) and c.case_id == "hiring/epidemic/E1/P1" for c in commands)
