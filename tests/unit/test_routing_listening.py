"""Routing to closed cases still listening for late facts (POLICY.md part 2): handlers see them
apart from open cases — never as a running case (no duplicate), signalled only with the fact
types their kind lists in `LATE_FACTS` — and the store's keys follow a case through closing,
listening, reopening and the end of its window."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from activities.memory_store import MemoryStore
from contracts.case_index import OpenCase
from contracts.cases import CaseRecord, Fact
from contracts.events import CloudEvent
from policy.pack import load_pack
from streams.routing import Ignore, Reject, SignalCase, StartCase, route

PACK = load_pack()
K5 = "public_welfare_post"
K4 = "flexible_employment_subsidy"
K2 = "unemployment_insurance"


def event(type_: str, data: dict[str, Any], subject: str = "person/P1") -> CloudEvent:
    return CloudEvent(specversion="1.0", id="e-1", source="es/2101", type=type_, subject=subject,
                      time=datetime(2020, 4, 10, 1, tzinfo=timezone.utc), data=data)


def case(case_id: str, kind: str, listening: bool, **match: Any) -> OpenCase:
    return OpenCase(case_id=case_id, kind=kind, key="person/P1", match=match, listening=listening)


REGISTERED = event("unemployment.registered", {"person_id": "P1", "city": "2101", "registered_on": "2020-01-02",
                                               "birth_date": "1975-01-01", "retirement_date": "2035-01-01",
                                               "categories": ["disabled"]})


def placed(post: str) -> CloudEvent:
    return event("welfare_post.placed", {"person_id": "P1", "post_id": post, "city": "2101", "kind": "regular",
                                         "starts_on": "2020-05-01"})


def test_a_late_k12_fact_is_signalled_to_the_listening_k4_and_k5_cases_only() -> None:
    cases = [case("welfare_post/P1/A/2020-03-16", K5, True, post_id="A"), case("flexible/P1/2020-03-01", K4, True),
             case("welfare_post/P1/B/2020-01-01", K5, False, post_id="B")]
    commands = route(REGISTERED, cases, PACK)
    signalled = {c.case_id for c in commands if isinstance(c, SignalCase)}
    assert {"welfare_post/P1/A/2020-03-16", "flexible/P1/2020-03-01"} <= signalled
    assert "welfare_post/P1/B/2020-01-01" not in signalled


def test_a_k12_fact_with_no_listening_case_is_not_news_for_k4_or_k5() -> None:
    other = event("household.updated", {"household_id": "H1", "members": [{"person_id": "P1"}]})
    commands = route(other, [case("welfare_post/P1/B/2020-01-01", K5, False, post_id="B")], PACK)
    assert commands and all(isinstance(c, Ignore) for c in commands)


def test_a_placement_while_a_rejected_case_listens_is_not_a_duplicate() -> None:
    listening = [case("welfare_post/P1/A/2020-03-16", K5, True, post_id="A")]
    assert [type(c) for c in route(placed("C"), listening, PACK)] == [StartCase]
    running = [case("welfare_post/P1/A/2020-03-16", K5, False, post_id="A")]
    assert [type(c) for c in route(placed("C"), running, PACK)] == [Reject]


def test_a_new_claim_while_a_closed_claim_listens_is_taken_and_reemployment_reaches_both() -> None:
    listening = [case("ui/P1/2020-03-15", K2, True, claim_on="2020-03-15")]
    claim = event("ui.claim.filed", {"person_id": "P1", "city": "2101", "claim_on": "2021-01-04", "insured_months": 30,
                                     "involuntary": True, "retirement_date": "2035-01-01"})
    assert [type(c) for c in route(claim, listening, PACK)] == [StartCase]
    both = listening + [case("ui/P1/2021-01-04", K2, False, claim_on="2021-01-04")]
    contribution = event("contribution.paid", {"person_id": "P1", "employer_id": "E7", "month": "2021-02", "base": 400000,
                                               "employer_amount": 3200, "employee_amount": 800, "insurances": ["pension"]})
    assert sorted(route(contribution, both, PACK), key=str) == [SignalCase("ui/P1/2020-03-15"), SignalCase("ui/P1/2021-01-04")]
    # A contribution for the closed claim's own month is no sign of re-employment, listening or not.
    own = event(contribution.type, {**contribution.data, "month": "2020-03"})
    assert all(isinstance(c, Ignore) for c in route(own, listening, PACK))


def test_a_placed_persons_job_reaches_the_agency_cases_that_placed_them_open_or_listening() -> None:
    """K18 (k18-late-jobs): a job confirming a placement corrects a settled quarter, so it
    reaches the agency's case found by the person, also once the year closed and it listens."""
    k18 = "employment_service_subsidy"
    cases = [case("service/A1/2020", k18, True), case("service/A2/2021", k18, False)]
    job = event("employment.registered", {"person_id": "P1", "city": "2101", "on": "2020-05-21", "kind": "employee",
                                          "employer_id": "E7"})
    signalled = {c.case_id for c in route(job, cases, PACK) if isinstance(c, SignalCase)}
    assert signalled == {"service/A1/2020", "service/A2/2021"}
    contract = event("contract.signed", {"person_id": "P1", "employer_id": "E7", "signed_on": "2020-05-21",
                                         "starts_on": "2020-05-21", "term_months": 12})
    assert {"service/A1/2020", "service/A2/2021"} <= {c.case_id for c in route(contract, cases, PACK) if isinstance(c, SignalCase)}


def record(change: str, closed_on: date | None, listening_until: date | None, version: int) -> CaseRecord:
    return CaseRecord(case_id="c1", kind=K5, subject="person/P1", city="2101", status="rejected" if closed_on else "active",
                      change=change, version=version, opened_on=date(2020, 3, 16), closed_on=closed_on,
                      listening_until=listening_until)


async def test_the_memory_store_keys_follow_close_listen_reopen_and_the_end_of_the_window() -> None:
    store = MemoryStore()
    await store.register_case("c1", K5, ["person/P1"], {"post_id": "A"})
    assert [c.listening for c in await store.open_cases(["person/P1"])] == [False]
    await store.record_case(record("closed", date(2020, 3, 16), date(2020, 4, 15), 1), {})
    assert [c.listening for c in await store.open_cases(["person/P1"])] == [True]
    assert await store.open_cases_of_kinds([K5], None) == []  # closed everywhere else
    assert await store.listening_cases_of_kinds([K5], "2101") == ["c1"]  # but shared facts still reach it
    await store.record_case(record("reopened", None, None, 2), {})
    assert [c.listening for c in await store.open_cases(["person/P1"])] == [False]
    await store.record_case(record("closed", date(2020, 9, 1), date(2020, 10, 1), 3), {})
    await store.end_listening("c1")
    assert await store.open_cases(["person/P1"]) == [] and await store.listening_cases_of_kinds([K5], None) == []
    # Closed with no window (a case that never paid): its keys route nothing at once.
    await store.register_case("c2", K5, ["person/P2"], {})
    await store.record_case(record("closed", date(2020, 3, 16), None, 1).model_copy(update={"case_id": "c2"}), {})
    assert await store.open_cases(["person/P2"]) == []


def test_k13_an_enterprise_registration_reaches_its_listening_loans_only() -> None:
    """A loan rejected for want of the enterprise's registration is found by the enterprise."""
    grant = event("loan.granted", {"loan_id": "L1", "bank_id": "B1", "borrower": "E1", "borrower_kind": "small_enterprise",
                                   "city": "2101", "principal": 1, "rate_bp": 485, "lpr_bp": 385, "granted_on": "2020-03-10",
                                   "term_months": 24}, subject="enterprise/E1")
    [start] = route(grant, [], PACK)
    assert isinstance(start, StartCase) and start.keys == ["loan/L1", "enterprise/E1"]
    reg = event("enterprise.registered", {"enterprise_id": "E1", "city": "2101", "industry": "catering", "size": "small"},
                subject="enterprise/E1")
    on_file = [OpenCase(case_id="loan/B1/L1", kind="startup_loan_interest", key="enterprise/E1", listening=True),
               OpenCase(case_id="loan/B1/L2", kind="startup_loan_interest", key="enterprise/E1", listening=False)]
    assert route(reg, on_file, PACK) == [SignalCase("loan/B1/L1")]


def test_k14_a_registration_or_a_flexible_employment_reaches_listening_enrolments_an_employee_one_does_not() -> None:
    enrolments = [OpenCase(case_id="training/EN1", kind="vocational_training_subsidy", key="person/P1", listening=True)]
    assert SignalCase("training/EN1") in route(REGISTERED, enrolments, PACK)
    flexible = event("employment.registered", {"person_id": "P1", "city": "2101", "on": "2020-02-10", "kind": "flexible"})
    assert SignalCase("training/EN1") in route(flexible, enrolments, PACK)
    employee = event("employment.registered", {"person_id": "P1", "city": "2101", "on": "2020-02-10", "kind": "employee"})
    assert SignalCase("training/EN1") not in route(employee, enrolments, PACK)


def test_k15_a_late_k12_fact_reaches_the_listening_hire_not_the_running_one() -> None:
    hires = [case("enterprise_si/E1/P1/2020-03-05", "enterprise_si_subsidy", True, employer_id="E1"),
             case("enterprise_si/E2/P1/2020-01-05", "enterprise_si_subsidy", False, employer_id="E2")]
    signalled = {c.case_id for c in route(REGISTERED, hires, PACK) if isinstance(c, SignalCase)}
    assert signalled == {"enterprise_si/E1/P1/2020-03-05"}


def test_k1_a_late_hire_or_interruption_at_the_unit_reaches_the_listening_internship_only() -> None:
    internships = [case("internship/P1/U1/2020-03-02", "internship_subsidy", True, unit_id="U1"),
                   case("internship/P1/U2/2019-09-02", "internship_subsidy", True, unit_id="U2")]
    hired = event("contract.signed", {"person_id": "P1", "employer_id": "U1", "signed_on": "2020-05-25",
                                      "starts_on": "2020-05-26", "term_months": 12})
    assert SignalCase("internship/P1/U1/2020-03-02") in route(hired, internships, PACK)
    assert SignalCase("internship/P1/U2/2019-09-02") not in route(hired, internships, PACK)
    interrupted = event("internship.interrupted", {"person_id": "P1", "unit_id": "U1", "on": "2020-04-01", "reason": "other"})
    assert route(interrupted, internships, PACK) == [SignalCase("internship/P1/U1/2020-03-02")]
    assert [type(c) for c in route(interrupted, internships[1:], PACK)] == [Reject]


def dibao_grant(from_month: str, amount: int = 70000) -> CloudEvent:
    return event("dibao.granted", {"person_id": "P1", "household_id": "H1", "city": "2101", "monthly_amount": amount,
                                   "from_month": from_month})


def employment_fact(on: str) -> Fact:
    return Fact(key="person/P1", type="employment.registered", on_date=date.fromisoformat(on),
                payload={"person_id": "P1", "on": on}, event_time=datetime(2020, 3, 10, 1, tzinfo=timezone.utc), event_key="es/2101#e-0")


def test_k10_a_grant_covering_the_closed_tapers_employment_corrects_it_a_later_one_opens_a_new_case() -> None:
    """The taper of a grant from 2020-01 began on the employment of 03-10 (the one of 2019 its grant
    does not cover is not it): a grant from 2020-02 or 2020-03 restates what the person received
    when employed and reaches the listening taper; one from 2020-04 is a new 低保 period."""
    tapers = [case("dibao/P1/2020-01", "dibao_taper", True, from_month="2020-01")]
    facts = [employment_fact("2019-06-01"), employment_fact("2020-03-10")]
    for from_month in ("2020-02", "2020-03"):
        assert route(dibao_grant(from_month), tapers, PACK, facts) == [SignalCase("dibao/P1/2020-01")]
    [new] = route(dibao_grant("2020-04"), tapers, PACK, facts)
    assert isinstance(new, StartCase) and new.case_id == "dibao/P1/2020-04"
    [waiting] = route(dibao_grant("2020-03"), [case("dibao/P1/2020-01", "dibao_taper", False, from_month="2020-01")], PACK, facts)
    assert waiting == SignalCase("dibao/P1/2020-01")
