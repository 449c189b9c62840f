"""POLICY.md K15 enterprise_si_subsidy (§2): each rule has a test named after it.

Shipped parameters: enterprise_si.months 36, a stable contract is ≥ 12 months or open-ended,
one settle month after the last counted month."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import ContractSigned, ContributionPaid, parse_event
from policy import difficult, enterprise_si
from policy.pack import load_pack
from streams.routes import enterprise_si as enterprise_si_routes
from streams.routes.commands import Ignore, SignalCase, StartCase
from streams.routing import route, route_fact_types
from testkit.events import cloud_event, line
from tests.unit._enterprise_facts import fact

PACK = load_pack()
PARAMS = PACK.parameters("2101")


def contract(term: int | None = 24, signed: date = date(2020, 3, 5), starts: date = date(2020, 3, 5)) -> ContractSigned:
    return ContractSigned(person_id="P", employer_id="E", signed_on=signed, starts_on=starts, term_months=term)


def registration(on: date, categories: list[str] | None = None) -> Fact:
    data = {"person_id": "P", "city": "2101", "registered_on": on.isoformat(), "birth_date": "1980-01-01",
            "retirement_date": "2045-01-01", "categories": categories or []}
    return fact("unemployment.registered", "person/P", data, on, on)


# -- the period ---------------------------------------------------------------------------------
def test_counted_months_start_in_the_month_of_starts_on_and_run_36_months() -> None:
    months = enterprise_si.counted_months(date(2020, 3, 20), 36, set())
    assert (months[0], months[-1], len(months)) == ("2020-03", "2023-02", 36)


def test_fee_exemption_months_are_not_counted_and_postpone_the_period_end() -> None:
    months = enterprise_si.counted_months(date(2020, 3, 5), 36, {"2020-04", "2020-05", "2020-06"})
    assert months[:2] == ["2020-03", "2020-07"] and months[-1] == "2023-05"
    assert enterprise_si.skipped_months(date(2020, 3, 5), months) == ["2020-04", "2020-05", "2020-06"]
    # Exemption months outside the period do not move it.
    assert enterprise_si.counted_months(date(2020, 3, 5), 36, {"2019-12", "2030-01"})[-1] == "2023-02"


def test_exemption_arriving_mid_case_postpones_the_rest_but_a_paid_month_stays_counted() -> None:
    paid = {"2020-03", "2020-04"}
    # An exemption of 2020-04..2020-05 reported after April was paid: April stays counted, May
    # is skipped, so the end moves by one month only.
    months = enterprise_si.counted_months(date(2020, 3, 5), 36, {"2020-04", "2020-05"}, paid)
    assert months[:3] == ["2020-03", "2020-04", "2020-06"] and months[-1] == "2023-03"


def test_completed_after_the_last_counted_month_and_one_settle_month() -> None:
    months = enterprise_si.counted_months(date(2020, 3, 5), 36, set())
    assert enterprise_si.closing_day(months[-1], PARAMS) == date(2023, 4, 1)


def test_separation_ends_payment_after_its_month() -> None:
    months = enterprise_si.counted_months(date(2020, 6, 1), 36, set())
    assert enterprise_si.payable_months(months, date(2020, 8, 20)) == ["2020-06", "2020-07", "2020-08"]
    assert enterprise_si.payable_months(months, date(2020, 5, 31)) == []
    assert enterprise_si.payable_months(months, None) == months


def test_pays_the_employer_share_actually_paid_due_once_received_and_the_month_begun() -> None:
    c = ContributionPaid(person_id="P", month="2020-07", employer_id="E", base=300000, employer_amount=52000,
                         employee_amount=20000, insurances=["pension"])
    assert enterprise_si.employer_share(c) == 52000
    assert enterprise_si.is_employer_contribution(c, "E", "P") and not enterprise_si.is_employer_contribution(c, "E2", "P")
    assert enterprise_si.due_on("2020-07", date(2020, 8, 3)) == date(2020, 8, 3)
    assert enterprise_si.due_on("2020-07", date(2020, 6, 25)) == date(2020, 7, 1)  # prepaid: due when the month begins


# -- who ----------------------------------------------------------------------------------------
def test_stable_hire_is_12_months_or_open_ended() -> None:
    assert enterprise_si.is_stable_hire(contract(12), PARAMS) and enterprise_si.is_stable_hire(contract(None), PARAMS)
    assert not enterprise_si.is_stable_hire(contract(11), PARAMS)


def test_registered_unemployed_is_judged_the_day_before_signing() -> None:
    assert enterprise_si.registered_before_signing("P", [registration(date(2020, 3, 4))], contract())
    # Registered on the signing day itself: not registered the day before.
    assert not enterprise_si.registered_before_signing("P", [registration(date(2020, 3, 5))], contract())


def test_k12_rejection_a_registered_person_in_no_category_is_not_difficult_to_employ() -> None:
    facts = [registration(date(2020, 1, 10))]
    profile = difficult.profile_from_facts("P", facts, enterprise_si.judged_on(contract()))
    assert not difficult.is_difficult(profile, enterprise_si.judged_on(contract()), PARAMS)
    disabled = difficult.profile_from_facts("P", [registration(date(2020, 1, 10), ["disabled"])], date(2020, 3, 4))
    assert difficult.is_difficult(disabled, date(2020, 3, 4), PARAMS)


# -- routing --------------------------------------------------------------------------------------
def _event(type_: str, data: dict[str, Any], subject: str = "person/P") -> Any:
    return parse_event(line(cloud_event(id=f"x-{type_}", source="lc/2101", type=type_, subject=subject, on=date(2020, 3, 5), data=data)))


def _signed(term: int | None = 24) -> Any:
    return _event("contract.signed", {"person_id": "P", "employer_id": "E", "signed_on": "2020-03-05", "starts_on": "2020-03-05", "term_months": term})


def test_contract_of_a_registered_person_opens_a_case_under_the_person_key_matching_the_employer() -> None:
    assert set(difficult.PERSON_FACT_TYPES) <= set(route_fact_types("contract.signed")["person"])
    commands = route(_signed(), [], PACK, [registration(date(2020, 1, 10))])
    [start] = [c for c in commands if isinstance(c, StartCase)]
    assert start.case_id == "enterprise_si/E/P/2020-03-05" and start.keys == ["person/P"]
    assert start.match == {"employer_id": "E"} and start.city == "2101"


def test_contract_of_an_unregistered_person_or_a_short_contract_opens_nothing() -> None:
    assert isinstance(enterprise_si_routes.contract_signed(_signed(), [], PACK, facts=[])[0], Ignore)
    assert isinstance(enterprise_si_routes.contract_signed(_signed(6), [], PACK, facts=[registration(date(2020, 1, 10))])[0], Ignore)


def test_only_the_hiring_employer_events_reach_the_case() -> None:
    case = OpenCase(case_id="enterprise_si/E/P/2020-03-05", kind=enterprise_si_routes.KIND, key="person/P", match={"employer_id": "E"})
    mine = {"person_id": "P", "month": "2020-04", "employer_id": "E", "base": 1, "employer_amount": 1, "employee_amount": 0, "insurances": ["pension"]}
    assert enterprise_si_routes.about_the_employer(_event("contribution.paid", mine), [case], PACK) == [SignalCase(case.case_id)]
    other = {**mine, "employer_id": "E2"}
    assert isinstance(enterprise_si_routes.about_the_employer(_event("contribution.paid", other), [case], PACK)[0], Ignore)
    own = {k: v for k, v in mine.items() if k != "employer_id"}
    assert isinstance(enterprise_si_routes.about_the_employer(_event("contribution.paid", own), [case], PACK)[0], Ignore)
    left = {"person_id": "P", "employer_id": "E", "on": "2020-08-20", "reason": "resignation"}
    assert enterprise_si_routes.about_the_employer(_event("insured.left", left), [case], PACK) == [SignalCase(case.case_id)]
    ended = {"person_id": "P", "employer_id": "E", "on": "2020-08-20"}
    assert enterprise_si_routes.about_the_employer(_event("contract.terminated", ended), [case], PACK) == [SignalCase(case.case_id)]
