"""The demo scenario of `jiuye demo` (app/demo_scenario.py): the whole province, every case
kind, and nothing of one run that another run (or another scenario of the same run) shares."""

from __future__ import annotations

import json
from datetime import date, timedelta

from activities.memory_store import MemoryStore
from app.demo_scenario import (
    BUSINESS_DATE,
    EXTRA_INCUBATORS,
    HEADCOUNT_AFTER,
    HEADCOUNT_BEFORE,
    LATE_AFTER_DAYS,
    PROVINCE_FACTS,
    PROVINCE_WIDE,
    committed_scenarios,
    emission_plan,
    event_key,
    generate,
    reported_late,
    retag,
)
from console.service.labels import CITIES as CITY_NAMES
from contracts.events import InvalidEvent, parse_event
from policy.headcount_drop import arrivals, is_drop
from policy.pack import load_pack
from workflows.registry import KINDS

TAG = "D261201120000"


def _events(scenario) -> list[dict]:
    out = []
    for line in scenario.lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_every_case_kind_is_in_the_demo() -> None:
    # The committed scenarios' hand-derived results name the kinds they open; the demo takes
    # every committed scenario, so a kind added with its scenario is in the demo too.
    scenario = generate(6, TAG)
    kinds = {"internship_subsidy"}
    for path in committed_scenarios():
        assert path.stem in scenario.scenarios
        expected = json.loads(path.with_suffix("").with_suffix(".expected.json").read_text())
        cases = expected["cases"]
        kinds |= {c["kind"] for c in (cases.values() if isinstance(cases, dict) else cases)}
    assert kinds == set(KINDS)


def test_ids_carry_the_run_tag_and_a_prefix_per_scenario() -> None:
    scenario = generate(6, TAG)
    events = _events(scenario)
    for event in events:
        assert event["id"].startswith(TAG), event["id"]
        kind, _, rest = event["subject"].partition("/")
        if kind in ("person", "enterprise", "agency", "bank", "incubator"):
            assert rest.startswith(TAG), event["subject"]
    # Two committed scenarios that both speak of a person P101 speak of two people here.
    loans = {e["data"]["loan_id"] for e in events if e["type"] == "loan.granted"}
    assert loans and all(loan.startswith(f"{TAG}S") for loan in loans)


def test_retag_prefixes_ids_and_leaves_cities_dates_and_amounts() -> None:
    event = {"id": "k13-001", "source": "bank/2101", "type": "loan.granted", "subject": "person/P1301",
             "time": "2020-04-01T09:00:00+08:00",
             "data": {"loan_id": "K13-1", "bank_id": "B13", "borrower": "P1301", "city": "2101", "principal": 10000000,
                      "granted_on": "2020-04-01", "groups": ["graduate"], "person_ids": ["P1", "person/P2"],
                      "details": {"applicant": "E1", "year": 2020}}}
    out = retag(event, "X")
    assert out["id"] == "X-k13-001" and out["subject"] == "person/XP1301" and out["source"] == "bank/2101"
    assert out["data"] == {"loan_id": "XK13-1", "bank_id": "XB13", "borrower": "XP1301", "city": "2101", "principal": 10000000,
                           "granted_on": "2020-04-01", "groups": ["graduate"], "person_ids": ["XP1", "person/XP2"],
                           "details": {"applicant": "XE1", "year": 2020}}
    assert retag({"id": "a", "subject": "city/2101", "data": {}}, "X")["subject"] == "city/2101"


def test_only_the_demos_own_province_wide_facts() -> None:
    # The committed scenarios' own policy facts contradict each other; the demo keeps one of each
    # ingredient (PROVINCE_FACTS), under the run's tag.
    facts = [e for e in _events(generate(6, TAG)) if e["type"].startswith(PROVINCE_WIDE)]
    assert [e["type"] for e in facts] == [type_ for _, type_ in PROVINCE_FACTS]
    assert all(e["id"].startswith(f"{TAG}F-") for e in facts)


def test_the_epidemic_is_declared_and_lifted_a_price_linkage_and_a_backdated_change() -> None:
    scenario = generate(6, TAG)
    facts = {e["type"]: e for e in _events(scenario) if e["type"].startswith(PROVINCE_WIDE)}
    declared, lifted = facts["policy.epidemic.declared"], facts["policy.epidemic.lifted"]
    assert declared["subject"] == lifted["subject"] == "province/21"
    assert declared["data"]["on"] < lifted["data"]["on"] < BUSINESS_DATE.isoformat()
    linkage = facts["policy.price_linkage.triggered"]["data"]
    assert linkage["city"] in CITY_NAMES and linkage["amount"] > 0
    change = facts["policy.parameter.changed"]
    # Backdated: announced after the date it takes effect, so the cases it reaches correct.
    assert change["data"]["effective_on"] < change["time"][:10]
    assert scenario.province_facts == [type_ for _, type_ in PROVINCE_FACTS]


def test_every_city_of_liaoning_is_in_the_demo() -> None:
    cities = {e["data"]["city"] for e in _events(generate(70, TAG)) if e["type"] == "internship.agreement_signed"}
    assert cities >= set(CITY_NAMES) and len(CITY_NAMES) == 14


def test_a_few_hundred_people_and_enterprises() -> None:
    events = _events(generate(70, TAG))
    people = {e["subject"] for e in events if e["subject"].startswith("person/")}
    enterprises = {e["subject"] for e in events if e["subject"].startswith("enterprise/")} | {
        e["data"]["unit_id"] for e in events if e["type"] == "internship.agreement_signed"}
    assert len(people) >= 200 and len(enterprises) >= 20, (len(people), len(enterprises))


def test_the_scenario_is_deterministic_for_a_tag_and_a_seed() -> None:
    # Two runs of `jiuye demo` produce the same records but for the run's tag.
    assert generate(70, TAG).lines == generate(70, TAG).lines
    other = "D261201130000"
    assert [line.replace(other, TAG) for line in generate(70, other).lines] == generate(70, TAG).lines
    assert generate(70, TAG, seed=7).lines != generate(70, TAG).lines


def test_records_are_valid_except_the_bad_ones() -> None:
    scenario = generate(6, TAG)
    refused = []
    for line in scenario.lines:
        try:
            parse_event(line.encode())
        except InvalidEvent as exc:
            refused.append(str(exc))
    assert len(refused) == 2  # the unknown type and the line that is not JSON
    assert scenario.expected_dead_letters == 3  # and the 15-month agreement, refused by K1's route
    # The duplicate is the first event again: one inbox row.
    keys = [k for k in map(event_key, scenario.lines) if k is not None]
    assert len(keys) - len(set(keys)) >= scenario.duplicates
    assert scenario.valid_events() == len(set(keys))


def test_eleven_provincial_applications_of_2020() -> None:
    applications = [e for e in _events(generate(6, TAG))
                    if e["type"] == "application.submitted" and e["data"]["program"] == "incubator_provincial"
                    and e["data"]["details"]["year"] == 2020]
    slots = int(load_pack("liaoning-2020").parameters(None).get("incubator.provincial_slots", date(2020, 1, 1)))
    assert len(applications) == EXTRA_INCUBATORS + 1 == slots + 1


async def test_a_headcount_drop_that_m2_alerts_on() -> None:
    # The demo's contributions, each stored and judged in turn through M2's own store query and rule.
    scenario = generate(6, TAG)
    store, comparisons = MemoryStore(), []
    for e in _events(scenario):
        if e["type"] == "contribution.paid" and e["data"].get("employer_id") == scenario.headcount_enterprise:
            event = parse_event(json.dumps(e).encode())
            await store.store_subject_facts([(event, [])])
            found = await store.headcount_comparisons(arrivals([(e["data"]["employer_id"], e["data"]["month"])]))
            await store.mark_headcount_judged([(c.enterprise_id, c.month) for c in found])
            comparisons += found
    params = load_pack("liaoning-2020").parameters("2103")
    drops = [c for c in comparisons if is_drop(c, params)]
    assert [(c.previous_month, c.previous_headcount, c.month, c.headcount) for c in drops] == [
        ("2020-03", HEADCOUNT_BEFORE, "2020-04", HEADCOUNT_AFTER)]


def test_nothing_after_the_demo_business_date() -> None:
    days = [e["time"][:10] for e in _events(generate(6, TAG))]
    assert max(days) < BUSINESS_DATE.isoformat()


def test_the_plan_sends_every_record_once() -> None:
    scenario = generate(12, TAG)
    plan = emission_plan(scenario)
    sent = plan.first + [line for story in plan.stories for line in story.lines()] + plan.last
    assert sorted(sent) == sorted(scenario.lines)


def test_province_facts_are_stored_first_and_the_backdated_change_comes_last() -> None:
    plan = emission_plan(generate(6, TAG))
    first = [json.loads(line)["type"] for line in plan.first if line.startswith("{\"")]
    assert [t for t in first if t.startswith(PROVINCE_WIDE)] == [
        "policy.epidemic.declared", "policy.epidemic.lifted", "policy.price_linkage.triggered"]
    assert [json.loads(line)["type"] for line in plan.last] == ["policy.parameter.changed"]
    # The records the intake cannot parse (the unknown type, the line that is not JSON) go with
    # the first: they have no inbox row to wait for.
    assert sum(event_key(line) is None for line in plan.first) == 2


def test_a_generated_internship_is_a_story_of_its_own_and_a_committed_scenario_one_story() -> None:
    scenario = generate(6, TAG)
    stories = {story.name: story for story in emission_plan(scenario).stories}
    person = f"person/{TAG}P002"
    assert {json.loads(line)["subject"] for line in stories[person].lines()} == {person}
    # k1_corrections (S02 among the committed scenarios sorted by name) tells all its people at once.
    k1c = next(story for name, story in stories.items() if name.startswith(f"{TAG}S") and any(
        "k1c-" in line for line in story.lines()))
    assert len({json.loads(line)["subject"] for line in k1c.lines()}) == 5
    # The headcount drop's contributions follow their enterprise's registration, in one story.
    drop = stories[f"enterprise/{scenario.headcount_enterprise}"]
    assert json.loads(drop.rounds[0][0][0])["type"] == "enterprise.registered"


def test_a_story_goes_out_in_date_order_and_generated_internships_in_one_round() -> None:
    for story in emission_plan(generate(12, TAG)).stories:
        for days in story.rounds:
            dates = [json.loads(day[0])["time"][:10] for day in days]
            assert dates == sorted(dates) and len(set(dates)) == len(dates)
        if story.name.startswith(f"person/{TAG}P"):
            assert len(story.rounds) == 1


def test_a_fact_reported_more_than_a_month_after_its_date_is_late_but_a_month_end_contact_is_not() -> None:
    def event(type_: str, time: str, **data: str) -> dict:
        return {"type": type_, "time": f"{time}T09:00:00+08:00", "data": data}

    on = date(2020, 3, 20)
    assert reported_late(event("internship.interrupted", (on + timedelta(days=LATE_AFTER_DAYS + 1)).isoformat(), on=on.isoformat()))
    assert not reported_late(event("internship.interrupted", (on + timedelta(days=LATE_AFTER_DAYS)).isoformat(), on=on.isoformat()))
    assert not reported_late(event("followup.recorded", "2020-03-31", on="2020-03-03"))
    # A month's contribution paid the next month is on time; two months later it is late.
    assert not reported_late(event("contribution.paid", "2020-06-20", month="2020-05"))
    assert reported_late(event("contribution.paid", "2020-05-10", month="2020-03"))


def _subject_types(days: list[list[str]]) -> list[tuple[str, str]]:
    return [(json.loads(line)["subject"].rsplit("P", 1)[-1], json.loads(line)["type"]) for day in days for line in day]


def test_a_late_fact_waits_a_round_with_what_its_subject_reports_after_it_and_nothing_else() -> None:
    # k1_corrections: P105's interruption reported a month after it, then its resumption.
    k1c = next(story for story in emission_plan(generate(6, TAG)).stories if any("k1c-" in line for line in story.lines()))
    late = _subject_types(k1c.rounds[1])
    assert late[:2] == [("105", "internship.interrupted"), ("105", "internship.resumed")]
    assert ("104", "contract.signed") not in late  # reported the day it was signed
    assert ("104", "contract.signed") in _subject_types(k1c.rounds[0])


def test_a_second_claim_of_a_subject_waits_until_the_first_case_decided() -> None:
    # k2_carry_over: P231 claims in January, is hired in April and claims again in October.
    story = next(story for story in emission_plan(generate(6, TAG)).stories if any("k2c-" in line and "P231" in line
                                                                                   for line in story.lines()))
    claims = [n for n, days in enumerate(story.rounds) for t in _subject_types(days) if t == ("231", "ui.claim.filed")]
    assert claims == [0, 1]


def _reg(person: str, registered_on: str, sent: str) -> dict:
    return {"specversion": "1.0", "id": f"r-{person}", "source": "ru/2101", "type": "unemployment.registered",
            "subject": f"person/{person}", "time": f"{sent}T09:00:00+08:00",
            "data": {"person_id": person, "city": "2101", "registered_on": registered_on,
                     "birth_date": "1980-01-01", "retirement_date": "2040-01-01"}}


def test_s20_every_registered_month_gets_its_contact_while_the_registration_lasts() -> None:
    from app.demo_scenario import CONTACT_DAY, followup_contacts
    from policy.calendar import add_months
    from policy.followup import registered_month

    ended = {"specversion": "1.0", "id": "d-P1", "source": "ru/2101", "type": "unemployment.deregistered",
             "subject": "person/P1", "time": "2020-06-10T09:00:00+08:00",
             "data": {"person_id": "P1", "on": "2020-06-10", "reason": "moved"}}
    contacts = followup_contacts([_reg("P1", "2020-01-15", "2020-01-15"), ended], "T")
    months = [registered_month(date(2020, 1, 15), date.fromisoformat(c["data"]["on"])) for c in contacts]
    # Months 1..4 are reported (at their calendar month's end) before the deregistration of
    # 2020-06-10; month 5's contact (2020-05-18) is reported on 2020-05-31, month 6's would be
    # reported after the registration ended.
    assert months == [1, 2, 3, 4, 5]
    for c, n in zip(contacts, months, strict=True):
        assert c["data"]["on"] == (add_months(date(2020, 1, 15), n - 1) + timedelta(days=CONTACT_DAY)).isoformat()
        assert c["data"]["on"] <= c["time"][:10] < "2020-06-10"
        parse_event(json.dumps(c).encode())


def test_s20_no_contact_is_added_for_a_month_that_has_one_nor_reported_before_the_registration() -> None:
    from app.demo_scenario import BUSINESS_DATE, followup_contacts

    own = {"specversion": "1.0", "id": "f-P2", "source": "es/2101", "type": "followup.recorded", "subject": "person/P2",
           "time": "2020-03-20T09:00:00+08:00", "data": {"person_id": "P2", "on": "2020-03-20", "channel": "visit"}}
    # Registered on 2020-01-02 but reported on 2020-02-15: January's contact would be reported
    # (2020-01-31) before the case exists.
    contacts = followup_contacts([_reg("P2", "2020-01-02", "2020-02-15"), own], "T")
    ons = [c["data"]["on"] for c in contacts]
    assert "2020-01-05" not in ons and "2020-03-05" not in ons and "2020-02-05" in ons
    assert all(c["time"][:10] < BUSINESS_DATE.isoformat() for c in contacts)


def test_the_demo_adds_no_contacts_to_the_followup_story() -> None:
    from app.demo_scenario import FOLLOWUP_STORY

    scenario = generate(14, "DT")
    story = scenario.scenarios.index(FOLLOWUP_STORY)
    added = [json.loads(line)["id"] for line in scenario.lines if '-fu-' in line and "followup.recorded" in line]
    assert len(added) == scenario.followup_contacts > 0
    assert not [i for i in added if i.startswith(f"DTS{story:02d}-")]


def test_an_inbox_outcome_names_the_cases_an_event_reached() -> None:
    from app.demo import reached

    assert reached("→ ui/A/2020-01, followup/A/2020-01 (late for internship/A/U1/2020-02)") == ["ui/A/2020-01", "followup/A/2020-01"]
    assert reached("→ dibao/B/2020-01, shared fact (province)") == ["dibao/B/2020-01"]
    assert reached("late: case closed before the event arrived: x") == []


def test_corrections_are_counted_by_rule_and_the_type_of_the_fact_that_caused_them() -> None:
    from app.demo import correction_causes

    rows = [{"entry": "overpayment", "rule": "§14: only completed months", "cause": "es/2101#e1", "n": 3},
            {"entry": "overpayment", "rule": "§14: only completed months, again", "cause": "es/2101#e2", "n": 2},
            {"entry": "arrears", "rule": "§14: paid", "cause": "policy/2102#p1", "n": 4},
            {"entry": "deduction", "rule": "recovery of the overpayment of month-1 (at most 1/2)", "cause": "es/2101#e1", "n": 1},
            {"entry": "deduction", "rule": "recovery of the overpayment of month-2 (at most 1/2)", "cause": "es/2101#e1", "n": 1}]
    types = {"es/2101#e1": "internship.interrupted", "es/2101#e2": "internship.interrupted", "policy/2102#p1": "policy.parameter.changed"}
    assert correction_causes(rows, types) == [(("overpayment", "§14", "internship.interrupted"), 5),
                                              (("arrears", "§14", "policy.parameter.changed"), 4),
                                              (("deduction", "recovery of an overpayment (at most 1/2)", "internship.interrupted"), 2)]
