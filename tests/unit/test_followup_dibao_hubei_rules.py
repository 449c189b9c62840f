"""K9 unemployed_followup, K10 dibao_taper and K11 hubei_graduate_grant: the pure rules of
POLICY.md, one test named after each, with the shipped parameters."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from contracts.parameters import Parameters
from policy import dibao, followup, hubei
from policy.pack import PolicyPack, load_pack
from streams.routes import dibao as dibao_routes
from streams.routes import followup as followup_routes
from streams.routes import hubei as hubei_routes
from streams.routes.commands import Ignore, Reject, SignalCase, StartCase
from testkit.events import cloud_event


@pytest.fixture(scope="module")
def pack() -> PolicyPack:
    return load_pack()


@pytest.fixture(scope="module")
def params(pack: PolicyPack) -> Parameters:
    return pack.parameters("2101")


R = date(2020, 1, 31)


# -- K9 ---------------------------------------------------------------------------------------
def test_k9_month_n_is_the_registration_month_containing_the_date() -> None:
    # POLICY.md: month n = [R + (n-1) months, R + n months); Jan 31 + 1 month = Feb 29 (2020).
    assert followup.registered_month(R, date(2020, 1, 30)) is None
    assert followup.registered_month(R, R) == 1
    assert followup.registered_month(R, date(2020, 2, 28)) == 1
    assert followup.registered_month(R, date(2020, 2, 29)) == 2
    assert followup.registered_month(R, date(2021, 1, 30)) == 12
    assert followup.registered_month(R, date(2021, 1, 31)) == 13


def test_k9_followup_of_month_n_falls_due_at_its_end() -> None:
    assert followup.due_date(R, 1) == date(2020, 2, 29)
    assert followup.due_date(date(2020, 1, 15), 3) == date(2020, 4, 15)


def test_k9_escalation_falls_followup_grace_days_after_the_due_date(params: Parameters) -> None:
    assert followup.escalation_date(date(2020, 1, 15), 1, params) == date(2020, 2, 22)
    changed = params.with_change("followup.grace_days", 3, date(2020, 1, 1))
    assert followup.escalation_date(date(2020, 1, 15), 1, changed) == date(2020, 2, 18)


def test_k9_long_term_unemployed_after_six_registered_months(params: Parameters) -> None:
    start = date(2020, 1, 15)
    assert not followup.is_long_term_unemployed(start, params, date(2020, 7, 14))
    assert followup.is_long_term_unemployed(start, params, date(2020, 7, 15))
    assert followup.long_term_unemployed_since(start, params, date(2020, 8, 1)) == date(2020, 7, 15)


def test_k9_training_notice_for_a_willing_registrant_under_20_in_the_2020_window(params: Parameters) -> None:
    assert followup.trainee_eligible_on(date(2020, 3, 10), date(2001, 6, 1), True, params) == date(2020, 3, 10)


def test_k9_no_training_notice_without_willingness(params: Parameters) -> None:
    assert followup.trainee_eligible_on(date(2020, 3, 10), date(2001, 6, 1), None, params) is None
    assert followup.trainee_eligible_on(date(2020, 3, 10), date(2001, 6, 1), False, params) is None


def test_k9_no_training_notice_at_20_or_older(params: Parameters) -> None:
    # Under 20: the 20th birthday is the first day of age 20.
    assert followup.trainee_eligible_on(date(2020, 3, 10), date(2000, 3, 10), True, params) is None
    assert followup.trainee_eligible_on(date(2020, 3, 10), date(2000, 3, 11), True, params) == date(2020, 3, 10)


def test_k9_no_training_notice_outside_the_trainee_window(params: Parameters) -> None:
    assert followup.trainee_eligible_on(date(2021, 1, 1), date(2003, 1, 1), True, params) is None


def test_k9_registration_before_the_window_is_judged_when_the_window_opens(params: Parameters) -> None:
    assert followup.trainee_eligible_on(date(2019, 11, 1), date(2000, 3, 1), True, params) == date(2020, 1, 1)
    # 20 by the time the window opens: not covered.
    assert followup.trainee_eligible_on(date(2019, 11, 1), date(1999, 12, 1), True, params) is None


def event(type_: str, data: dict, source: str = "es/2101", subject: str = "person/P1") -> CloudEvent:
    return CloudEvent.model_validate(cloud_event(id="x-1", source=source, type=type_, subject=subject, on=date(2020, 3, 1), data=data))


REGISTRATION = {
    "person_id": "P1", "city": "2101", "registered_on": "2020-03-01", "birth_date": "1990-01-01", "retirement_date": "2050-01-01",
}


def test_k9_opened_by_unemployment_registered_one_case_per_registration(pack: PolicyPack) -> None:
    commands = followup_routes.registered(event("unemployment.registered", REGISTRATION), [], pack)
    assert commands == [
        StartCase(kind="unemployed_followup", case_id="followup/P1/2020-03-01", city="2101", keys=["person/P1"], match={"registered_on": "2020-03-01"})
    ]


def test_k9_a_new_registration_also_reaches_the_open_earlier_one(pack: PolicyPack) -> None:
    earlier = OpenCase(case_id="followup/P1/2019-01-01", kind="unemployed_followup", key="person/P1")
    commands = followup_routes.registered(event("unemployment.registered", REGISTRATION), [earlier], pack)
    assert commands[0] == SignalCase("followup/P1/2019-01-01")
    assert isinstance(commands[1], StartCase)


def test_k9_stores_every_fact_k12_reads() -> None:
    from policy.difficult import PERSON_FACT_TYPES
    from streams.routing import FACT_TYPES

    assert set(PERSON_FACT_TYPES) <= FACT_TYPES


# -- K10 --------------------------------------------------------------------------------------
E = date(2020, 3, 10)


def test_k10_caseworker_decides_3_to_12_months(params: Parameters) -> None:
    assert dibao.decided_months({"months": 3}, params, E) == 3
    assert dibao.decided_months({"months": 12}, params, E) == 12


@pytest.mark.parametrize("decision", [{"months": 2}, {"months": 13}, {"months": "6"}, {"months": True}, {}])
def test_k10_decision_outside_taper_months_min_max_is_refused_with_the_reason(decision: dict, params: Parameters) -> None:
    with pytest.raises(ValueError, match="3..12"):
        dibao.decided_months(decision, params, E)


def test_k10_default_six_months_after_fifteen_days_without_a_decision(params: Parameters) -> None:
    assert dibao.decision_deadline(E, params) == date(2020, 3, 25)
    assert dibao.default_months(params, E) == 6


def test_k10_pays_from_the_month_after_the_employment_at_each_month_start() -> None:
    assert [dibao.taper_month(E, k) for k in (1, 2, 3)] == ["2020-04", "2020-05", "2020-06"]
    assert dibao.payment_due(E, 1) == date(2020, 4, 1)
    assert dibao.payment_due(date(2020, 12, 31), 1) == date(2021, 1, 1)
    assert dibao.taper_end(E, 6) == date(2020, 10, 1)


def test_k10_opened_by_dibao_granted_waiting_for_employment(pack: PolicyPack) -> None:
    data = {"person_id": "P1", "household_id": "H1", "city": "2101", "monthly_amount": 60000, "from_month": "2020-01"}
    assert dibao_routes.granted(event("dibao.granted", data), [], pack) == [
        StartCase(kind="dibao_taper", case_id="dibao/P1/2020-01", city="2101", keys=["person/P1"], match={"from_month": "2020-01"})
    ]
    waiting = OpenCase(case_id="dibao/P1/2020-01", kind="dibao_taper", key="person/P1")
    assert dibao_routes.granted(event("dibao.granted", {**data, "from_month": "2020-05"}), [waiting], pack) == [SignalCase("dibao/P1/2020-01")]
    employed = {"person_id": "P1", "city": "2101", "on": "2020-03-10", "kind": "employee"}
    assert dibao_routes.to_open_case(event("employment.registered", employed), [waiting], pack) == [SignalCase("dibao/P1/2020-01")]
    assert isinstance(dibao_routes.to_open_case(event("employment.registered", employed), [], pack)[0], Ignore)


# -- K11 --------------------------------------------------------------------------------------
ELIGIBLE = {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}


def test_k11_2020_graduate_of_a_liaoning_institution_with_hubei_hukou_is_eligible(params: Parameters) -> None:
    assert hubei.ineligibility(hubei.parse_details(ELIGIBLE), params, date(2020, 4, 1)) is None
    assert hubei.grant_amount(params, date(2020, 4, 1)) == 150000


def test_k11_other_graduation_year_rejected(params: Parameters) -> None:
    reason = hubei.ineligibility(hubei.parse_details({**ELIGIBLE, "graduation_year": 2021}), params, date(2020, 4, 1))
    assert reason is not None and "2021" in reason


def test_k11_institution_outside_liaoning_rejected(params: Parameters) -> None:
    reason = hubei.ineligibility(hubei.parse_details({**ELIGIBLE, "institution_province": "11"}), params, date(2020, 4, 1))
    assert reason is not None and "省内院校" in reason


def test_k11_hukou_outside_hubei_rejected(params: Parameters) -> None:
    reason = hubei.ineligibility(hubei.parse_details({**ELIGIBLE, "hukou_province": 41}), params, date(2020, 4, 1))
    assert reason is not None and "湖北籍" in reason


def test_k11_owes_the_amount_in_force_on_the_application_date_once_or_nothing(params: Parameters) -> None:
    # hubei_grant.amount 200000 from 2020-03-01 (a backdated change as the case would learn it).
    raised = params.with_change("hubei_grant.amount", 200000, date(2020, 3, 1))
    (owed,) = hubei.owed(hubei.parse_details(ELIGIBLE), raised, date(2020, 4, 1), "person/P1", "employment_subsidy_fund")
    assert (owed.program, owed.period, owed.amount, owed.payee, owed.due_on) == (
        "hubei_graduate_grant", "once", 200000, "person/P1", date(2020, 4, 1))
    not_hubei = hubei.parse_details({**ELIGIBLE, "hukou_province": "41"})
    assert hubei.owed(not_hubei, params, date(2020, 4, 1), "person/P1", "employment_subsidy_fund") == []


def test_k11_details_missing_or_mistyped_are_bad_input(pack: PolicyPack) -> None:
    for details in ({}, {**ELIGIBLE, "graduation_year": "2020"}, {**ELIGIBLE, "hukou_province": "Hubei"}):
        data = {"program": "hubei_graduate_grant", "applicant": "P1", "on": "2020-04-01", "details": details}
        commands = hubei_routes.application(event("application.submitted", data), [], pack)
        assert len(commands) == 1 and isinstance(commands[0], Reject)


def test_k11_once_per_person_the_case_id_is_the_persons(pack: PolicyPack) -> None:
    first = {"program": "hubei_graduate_grant", "applicant": "P1", "on": "2020-04-01", "details": ELIGIBLE}
    second = {**first, "on": "2020-06-01"}
    ids = {c.case_id for d in (first, second) for c in hubei_routes.application(event("application.submitted", d), [], pack)}  # type: ignore[union-attr]
    assert ids == {"hubei_grant/P1"}


def test_k11_other_programs_are_not_this_kinds(pack: PolicyPack) -> None:
    data = {"program": "flexible_employment_si", "applicant": "P1", "on": "2020-04-01", "details": {}}
    assert isinstance(hubei_routes.application(event("application.submitted", data), [], pack)[0], Ignore)


def test_k11_city_from_details_or_the_producing_system() -> None:
    assert hubei.application_city("es/2102", {"city": "2105"}) == "2105"
    assert hubei.application_city("es/2102", {}) == "2102"
    assert hubei.application_city("portal", {}) is None
