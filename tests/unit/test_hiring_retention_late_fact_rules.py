"""K6 and K7 late facts across topics (POLICY.md part 2), as rules and routes: which rejections
wait for a fact that may still come, how a late fact is taken "as if it had come first", and
where the routes send it (a K6a case rejected for the employer's registration listens under
`enterprise/E`; a registration after an ignored contract opens the K6b case)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import CloudEvent
from policy import enterprise_profile, hiring, retention
from policy.calendar import start_of_day
from policy.pack import load_pack
from streams.routes import hiring as hiring_routes
from streams.routing import Ignore, SignalCase, StartCase

PACK = load_pack()
PARAMS = PACK.parameters("2101")
APPLIED = date(2020, 3, 10)


def fact(type_: str, payload: dict[str, Any], when: datetime, key: str, n: int = 1, on: date | None = None) -> Fact:
    return Fact(key=key, type=type_, on_date=on, payload=payload, event_time=when, event_key=f"t#{type_}-{n}")


def registration(e: str, when: datetime, n: int = 1) -> Fact:
    return fact(enterprise_profile.REGISTERED, {"enterprise_id": e, "city": "2101", "industry": "catering", "size": "small"}, when, f"enterprise/{e}", n)


def enrolled(e: str, person: str, on: date, when: datetime, n: int = 1) -> Fact:
    return fact(enterprise_profile.ENROLLED, {"person_id": person, "employer_id": e, "on": on.isoformat()}, when, f"enterprise/{e}", n, on)


# -- K7 ------------------------------------------------------------------------------------------
def test_k7_rejections_for_want_of_a_fact_are_the_ones_a_late_fact_can_reverse() -> None:
    staff = [enrolled("E1", f"P{i}", date(2019, 10, 2), start_of_day(date(2019, 10, 2)), i) for i in (1, 2, 3)]
    unregistered = retention.assess("E1", 2020, APPLIED, staff, PARAMS)
    assert not unregistered.eligible and unregistered.without_fact
    nobody = retention.assess("E1", 2020, APPLIED, [registration("E1", start_of_day(date(2019, 10, 2)))], PARAMS)
    assert not nobody.eligible and nobody.without_fact and "insures nobody" in nobody.reason
    everything = [registration("E1", start_of_day(date(2019, 10, 2))), *staff]
    not_begun = retention.assess("E1", 2021, APPLIED, everything, PARAMS)
    assert not not_begun.eligible and not not_begun.without_fact
    too_late = retention.assess("E1", 2020, PARAMS.day("retention.until", APPLIED) + timedelta(days=1), everything, PARAMS)
    assert not too_late.eligible and not too_late.without_fact
    assert retention.assess("E1", 2020, APPLIED, everything, PARAMS).eligible


def test_k7_a_late_registration_counts_as_reported_on_the_application_date() -> None:
    late = registration("E1", start_of_day(date(2020, 3, 25)))
    assert enterprise_profile.registration("E1", [late], APPLIED) is None  # a correction never makes it count
    taken = retention.taken_as_first(late, APPLIED)
    assert taken.event_time == start_of_day(APPLIED) and enterprise_profile.registration("E1", [taken], APPLIED) is not None
    # A fact with a date of its own keeps it; a registration reported in time is unchanged.
    enrolment = enrolled("E1", "P1", date(2019, 10, 2), start_of_day(date(2020, 3, 25)))
    assert retention.taken_as_first(enrolment, APPLIED) == enrolment
    early = registration("E1", start_of_day(date(2020, 1, 2)))
    assert retention.taken_as_first(early, APPLIED) == early


def test_k7_judges_again_on_its_own_registration_or_a_fact_bearing_on_the_application() -> None:
    when = start_of_day(date(2020, 3, 20))
    assert retention.judged_again_on(registration("E1", when), "E1", 2020, APPLIED)
    assert not retention.judged_again_on(registration("E2", when), "E1", 2020, APPLIED)
    assert retention.judged_again_on(enrolled("E1", "P1", date(2019, 12, 1), when), "E1", 2020, APPLIED)
    assert not retention.judged_again_on(enrolled("E1", "P1", date(2020, 3, 11), when), "E1", 2020, APPLIED)


# -- K6 ------------------------------------------------------------------------------------------
SIGNED = date(2020, 7, 1)
CONTRACT = {"person_id": "P1", "employer_id": "E1", "signed_on": SIGNED.isoformat(), "starts_on": SIGNED.isoformat(), "term_months": 12}


def unemployed(registered_on: date, when: datetime, n: int = 1) -> Fact:
    payload = {"person_id": "P1", "city": "2101", "registered_on": registered_on.isoformat(), "birth_date": "1990-01-01",
               "retirement_date": "2050-01-01"}
    return fact(hiring.REGISTRATION, payload, when, "person/P1", n, registered_on)


def test_k6_rejudges_k6a_on_the_contract_or_the_employers_registration_and_k6b_on_the_persons() -> None:
    assert hiring.rejudged_on(hiring.EPIDEMIC) == {"contract.signed", "enterprise.registered"}
    assert hiring.rejudged_on(hiring.PRIORITY) == {"contract.signed", "unemployment.registered"}


def test_k6b_a_late_registration_opens_the_case_within_late_fact_days_of_the_contract() -> None:
    seen = start_of_day(SIGNED) + timedelta(hours=10)
    long_ago = unemployed(date(2019, 12, 1), start_of_day(date(2020, 7, 20)))
    assert hiring.opened_by_late_registration("P1", CONTRACT, seen, long_ago.event_time, [], [long_ago], PARAMS)
    # intake.late_fact_days 30 after the contract came on 07-01: 07-31 is the last day.
    assert hiring.opened_by_late_registration("P1", CONTRACT, seen, start_of_day(date(2020, 7, 31)), [], [long_ago], PARAMS)
    assert not hiring.opened_by_late_registration("P1", CONTRACT, seen, start_of_day(date(2020, 8, 1)), [], [long_ago], PARAMS)


def test_k6b_a_late_registration_opens_nothing_it_does_not_change() -> None:
    seen = start_of_day(SIGNED)
    when = start_of_day(date(2020, 7, 10))
    recent = unemployed(date(2020, 4, 1), when)  # three months on the hire date
    assert not hiring.opened_by_late_registration("P1", CONTRACT, seen, when, [], [recent], PARAMS)
    # Already in a group when the contract came: the contract's route opened the case then.
    earlier = unemployed(date(2019, 12, 1), start_of_day(date(2020, 1, 2)), n=2)
    again = unemployed(date(2019, 12, 1), when, n=3)
    assert not hiring.opened_by_late_registration("P1", CONTRACT, seen, when, [earlier], [earlier, again], PARAMS)
    short = {**CONTRACT, "term_months": 6}
    assert not hiring.opened_by_late_registration("P1", short, seen, when, [], [again], PARAMS)
    after_window = {**CONTRACT, "signed_on": "2021-01-05", "starts_on": "2021-01-05"}
    assert not hiring.opened_by_late_registration("P1", after_window, start_of_day(date(2021, 1, 5)), start_of_day(date(2021, 1, 10)), [],
                                              [again], PARAMS)


def event(type_: str, data: dict[str, Any], subject: str, when: datetime, event_id: str = "x-1") -> CloudEvent:
    return CloudEvent(specversion="1.0", id=event_id, source="t/2101", type=type_, subject=subject, time=when, data=data)


def listening(case_id: str, key: str, **match: Any) -> OpenCase:
    return OpenCase(case_id=case_id, kind=hiring_routes.KIND, key=key, match=match, listening=True)


def test_k6_the_employers_registration_reaches_the_cases_listening_under_its_key_only() -> None:
    reg = event("enterprise.registered", {"enterprise_id": "E1", "city": "2101", "industry": "retail", "size": "small",
                                          "epidemic_supplies": True}, "enterprise/E1", datetime(2020, 5, 10, 1, tzinfo=timezone.utc))
    waiting = listening("hiring/epidemic/E1/P1", "enterprise/E1")
    assert hiring_routes.employer_registered(reg, [], PACK, listening=[waiting]) == [SignalCase("hiring/epidemic/E1/P1")]
    assert [type(c) for c in hiring_routes.employer_registered(reg, [], PACK, listening=[])] == [Ignore]


def test_k6_a_contract_reaches_the_pairs_listening_case_instead_of_starting_it() -> None:
    signed = event("contract.signed", CONTRACT, "person/P1", datetime(2020, 4, 25, 2, tzinfo=timezone.utc))
    flagged = fact("enterprise.registered", {"enterprise_id": "E1", "city": "2101", "industry": "retail", "size": "small",
                                             "epidemic_supplies": True}, datetime(2020, 1, 2, tzinfo=timezone.utc), "enterprise/E1")
    waiting = listening("hiring/epidemic/E1/P1", "person/P1", employer_id="E1")
    other = listening("hiring/epidemic/E2/P1", "person/P1", employer_id="E2")
    assert hiring_routes.contract_signed(signed, [], PACK, facts=[flagged], listening=[waiting, other]) == [SignalCase("hiring/epidemic/E1/P1")]
    assert [type(c) for c in hiring_routes.contract_signed(signed, [], PACK, facts=[flagged], listening=[])] == [StartCase]


def test_k6_a_late_registration_starts_the_k6b_case_of_a_contract_it_would_have_opened() -> None:
    contract_fact = fact("contract.signed", CONTRACT, start_of_day(SIGNED) + timedelta(hours=10), "person/P1", n=7)
    reg = event(hiring.REGISTRATION, dict(unemployed(date(2019, 12, 1), start_of_day(date(2020, 7, 20))).payload), "person/P1",
                start_of_day(date(2020, 7, 20)), "reg-1")
    stored = fact(hiring.REGISTRATION, reg.data, reg.time, "person/P1", on=date(2019, 12, 1))
    stored = stored.model_copy(update={"event_key": "t/2101#reg-1"})
    [start] = hiring_routes.person_registered(reg, [], PACK, facts=[contract_fact, stored])
    assert isinstance(start, StartCase) and start.case_id == "hiring/priority/E1/P1" and start.match == {"employer_id": "E1"}
    # Not twice: a case of the pair that is open or listening takes it instead.
    waiting = listening("hiring/priority/E1/P1", "person/P1", employer_id="E1")
    assert hiring_routes.person_registered(reg, [], PACK, facts=[contract_fact, stored], listening=[waiting]) == [SignalCase("hiring/priority/E1/P1")]
