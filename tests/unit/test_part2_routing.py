"""The routes of the part-2 kinds (K13, K14, K16, K17, K18): which case each event reaches. A
bank's interest report and a training completion name only their loan or enrolment, so the
intake keys them by it; a report or application of an incubator reaches its case of the year."""

from __future__ import annotations

from typing import Any

from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy.pack import load_pack
from streams.routes.commands import Ignore, SignalCase, StartCase
from streams.routing import keys_of, route

PACK = load_pack()


def event(type_: str, subject: str, data: dict[str, Any], source: str = "bank/2101") -> CloudEvent:
    return CloudEvent(specversion="1.0", id="x-1", source=source, type=type_, subject=subject,
                      time="2020-07-02T09:00:00+08:00", data=data)


def test_a_loans_reports_are_keyed_by_the_loan_and_reach_only_its_case() -> None:
    report = event("loan.interest_charged", "person/P1",
                   {"loan_id": "L1", "period": "2020-Q2", "from": "2020-04-01", "to": "2020-06-30", "interest": 100})
    assert keys_of(report) == ["person/P1", "loan/L1"]
    open_cases = [OpenCase("loan/B1/L1", "startup_loan_interest", "loan/L1"), OpenCase("loan/B1/L2", "startup_loan_interest", "loan/L2")]
    assert route(report, open_cases, PACK) == [SignalCase("loan/B1/L1")]
    assert isinstance(route(report, [], PACK)[0], Ignore)


def test_a_grant_opens_the_loans_case_under_the_loan_key() -> None:
    grant = event("loan.granted", "person/P1", {"loan_id": "L1", "bank_id": "B1", "borrower": "P1", "borrower_kind": "individual",
                                                 "city": "2101", "principal": 1, "rate_bp": 485, "lpr_bp": 385,
                                                 "granted_on": "2020-04-01", "term_months": 24})
    assert route(grant, [], PACK) == [StartCase("startup_loan_interest", "loan/B1/L1", "2101", ["loan/L1"])]


def test_a_training_completion_reaches_its_enrolments_case() -> None:
    done = event("training.completed", "person/P1", {"enrolment_id": "EN1", "person_id": "P1", "on": "2020-06-01",
                                                      "certificate_level": "junior"}, source="es/2101")
    assert "enrolment/EN1" in keys_of(done)
    cases = [OpenCase("training/EN1", "vocational_training_subsidy", "enrolment/EN1"),
             OpenCase("training/EN2", "vocational_training_subsidy", "enrolment/EN2")]
    assert route(done, cases, PACK) == [SignalCase("training/EN1")]


def test_an_incubators_report_or_application_reaches_its_case_of_the_year() -> None:
    relief = event("incubator.rent_relief_reported", "incubator/I1",
                   {"incubator_id": "I1", "month": "2020-03", "tenants": 3, "rent_waived": 10, "on": "2020-04-02"}, source="hrss/2101")
    app = event("application.submitted", "incubator/I1",
                {"program": "incubator_provincial", "applicant": "I1", "on": "2021-02-01", "details": {"year": 2020}}, source="hrss/2101")
    assert [c.case_id for c in route(relief, [], PACK) if isinstance(c, StartCase)] == ["incubator/I1/2020"]
    assert [c.case_id for c in route(app, [], PACK) if isinstance(c, StartCase)] == ["incubator/I1/2020"]


def test_a_service_reaches_its_agencys_case_of_the_services_year() -> None:
    service = event("service.delivered", "agency/A1", {"agency_id": "A1", "city": "2101", "on": "2021-01-04",
                                                        "service": "career_guidance", "person_id": "P1"}, source="es/2101")
    assert route(service, [], PACK) == [StartCase("employment_service_subsidy", "service/A1/2021", "2101", ["agency/A1"])]


def test_a_second_living_allowance_application_while_one_runs_is_a_dead_letter() -> None:
    app = event("application.submitted", "person/P1", {"program": "temporary_living_allowance", "applicant": "P1",
                                                        "on": "2020-05-01"}, source="es/2101")
    assert [type(c).__name__ for c in route(app, [], PACK)] == ["StartCase"]
    running = [OpenCase("tla/P1/2020-04-01", "temporary_living_allowance", "person/P1")]
    assert [type(c).__name__ for c in route(app, running, PACK)] == ["Reject"]
